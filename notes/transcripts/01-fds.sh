# Chapter 1: the server on a terminal, where fd numbers are what a student sees: strace of one
# connection and two signals, the fd table, running out of fds.
source "$REPO/notes/transcripts/lib.sh"

# traced COUNT REGEX: trace.txt has at least COUNT lines matching REGEX.
traced() { (($(grep -cE -- "$2" trace.txt) >= $1)); }

# --- strace: a connection typed by hand (emulated with a fifo into nc), then two signals.
serve_tty stage1_signal_pipe strace -o "$TRANSCRIPT_DIR/trace.txt" -s 100 \
    -e trace=epoll_wait,read,write,accept4 ./server -p 0
say '$ strace -o trace.txt -s 100 -e trace=epoll_wait,read,write,accept4 ./server -p 0'
wait_for 5 asleep
mkfifo typed
nc -N 127.0.0.1 "$PORT" <typed >received &
client=$!
exec 3>typed
wait_for 5 grep -q hello received
wait_for 5 traced 1 '^read\(8, .*EAGAIN'
wait_for 5 asleep
printf 'ping\n' >&3
wait_for 5 traced 2 '^read\(8, .*EAGAIN'
wait_for 5 asleep
exec 3>&-
wait "$client"
wait_for 5 traced 1 '^read\(8, "", '
wait_for 5 asleep
kill -USR1 "$P"
wait_log 'stats:'
wait_for 5 asleep
kill -TERM "$P"
tty_exit
server_log
mask '^(write\(\d+, "[^"]*pid \d+[^"]*", )\d+\) += \d+$' '\1N) = N'
mask '0x[0-9a-f]{6,}' 'ADDR'
mask '\) {2,}= ' ') = '
mask 'sin_port=htons\([0-9]+\)' 'sin_port=htons(CPORT)'
mask 'si_pid=[0-9]+, si_uid=[0-9]+' 'si_pid=SHELL, si_uid=UID'
part strace
cmd "sed -n '/listening on/,\$p' trace.txt"

# --- the fd table of a fresh server, and the flags of its fds.
serve_tty stage1_signal_pipe ./server -p 0
part fdtable
mask '^(l[-rwx]{9} \d+) \S+ \S+ +(\d+) \w{3} +\d+ +[0-9:]{4,5} ' '\1 USER USER \2 DATE '
mask '/dev/pts/\d+' '/dev/pts/N'
mask '(socket|pipe):\[\d+\]' '\1:[INODE]'
cmd 'ls -l /proc/$P/fd'
cmd 'grep flags /proc/$P/fdinfo/{2,5,6,7}'
kill -TERM "$P"
tty_exit

# --- out of fds: room for one connection.
serve_tty stage1_signal_pipe prlimit --nofile=9 ./server -p 0 -v
part emfile
say '$ prlimit --nofile=9 ./server -p 0 -v'
nc -d 127.0.0.1 "$PORT" >first &
first=$!
wait_log 'fd 8: accepted'
wait_for 5 grep -q hello first
nc -d 127.0.0.1 "$PORT" >second &
second=$!
wait_log 'pausing until a connection closes'
kill "$first"
wait "$first" || true
wait_for 5 grep -q hello second
wait_log 'pausing until a connection closes' 2
kill "$second"
wait "$second" || true
wait_log 'fd 8: closed' 2
mask 'from port \d+' 'from port CPORT'
server_log
kill -TERM "$P"
tty_exit
