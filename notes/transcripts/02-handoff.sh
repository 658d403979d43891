# Chapter 2: the hand-off under strace -ff (one file per process), on a terminal so that the fd
# numbers are the ones a student sees.
source "$REPO/notes/transcripts/lib.sh"

serve_tty stage2_processpool strace -ff -o "$TRANSCRIPT_DIR/trace" -s 100 \
    -e trace=epoll_wait,read,write,accept4 ./server -p 0 -w 2
wait_log '\] started' 2
name_workers
wait_for 5 asleep "$P"
wait_for 5 asleep "$W0"
wait_for 5 asleep "$W1"
nc -d 127.0.0.1 "$PORT" >client &
client=$!
wait_for 5 grep -q hello client
wait_for 5 grep -q '^read(9, .*EAGAIN' "trace.$W0"
wait_for 5 grep -q '^read(4, "T"' "trace.$P"
wait_for 5 asleep "$W0"
wait_for 5 asleep "$P"

mask '^(write\(\d+, "[^"]*(?:pid|parent|worker) \d+[^"]*", )\d+\) += \d+$' '\1N) = N'
mask '0x[0-9a-f]{6,}' 'ADDR'
mask 'sin_port=htons\([0-9]+\)' 'sin_port=htons(CPORT)'
mask '(epoll_wait\(6, .*\], 64, )(?:1[0-9][0-9]|200)\)' '\1T)'
mask '\) {2,}= ' ') = '
part parent
cmd "sed -n '/listening on/,\$p' trace.\$P"
echo
part worker
cmd "sed -n '/started/,\$p' trace.\$W0"
echo

kill -TERM "$P"
wait_for 10 _exited
wait "$client" || true

# The fd table of worker 1 of three, on a terminal (no strace).
serve_tty stage2_processpool ./server -p 0 -w 3
wait_log '\] started' 3
name_workers
mask '^(l[-rwx]{9} \d+) \S+ \S+ +(\d+) \w{3} +\d+ +[0-9:]{4,5} ' '\1 USER USER \2 DATE '
mask '/dev/pts/\d+' '/dev/pts/N'
mask '(socket|pipe):\[\d+\]' '\1:[INODE]'
part worker-fds
cmd 'ls -l /proc/$W1/fd'
kill -TERM "$P"
wait_for 10 _exited
