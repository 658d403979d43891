# Chapter 1: the server on a terminal, where fd numbers are what a student sees: strace of one
# connection and two signals, the fd table, running out of fds.
source "$REPO/notes/transcripts/lib.sh"

# serve_tty STAGE_DIR COMMAND...: run COMMAND in that stage's directory on a terminal of its own
# (a pty made by script(1)), with fds 0-2 on the terminal and no other fd open, as in a plain
# shell; the terminal's output goes to $LOG. Names the server's pid P (from its first log line)
# and PORT. The server and script(1) are killed when the script ends.
serve_tty() {
    local dir="$1"
    shift
    : >"$LOG"
    _log_shown=0
    local inner="stty -onlcr; for f in /proc/\$\$/fd/*; do f=\${f##*/}; ((f > 2)) && eval \"exec \$f>&-\"; done; exec $*"
    (cd "$REPO/$dir" && SHELL=/bin/bash exec setsid script -qefc "$inner" /dev/null) </dev/null >"$LOG" 2>&1 &
    TTY_PID=$!
    _groups+=("$TTY_PID")
    wait_log '^\[(pid|parent) [0-9]+\] listening on '
    name "$(sed -nE 's/^\[(pid|parent) ([0-9]+)\] listening on .*/\2/p' "$LOG" | head -n1)" P
    _groups+=("$(ps -o pgid= -p "$P" | tr -d ' ')")  # its session: strace too, when traced
    name "$(sed -nE 's/^listening on [0-9.]+:([0-9]+)$/\1/p' "$LOG" | head -n1)" PORT
}

# asleep: the server sleeps (state S): in epoll_wait, for this server.
asleep() { [[ $(awk '{print $3}' "/proc/$P/stat" 2>/dev/null) == S ]]; }
# traced COUNT REGEX: trace.txt has at least COUNT lines matching REGEX.
traced() { (($(grep -cE -- "$2" trace.txt) >= $1)); }
# tty_exit: wait until the server and script(1) have exited; STATUS is the server's status.
tty_exit() {
    wait_for 10 _exited
    set +e
    wait "$TTY_PID"
    STATUS=$?
    set -e
}

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
