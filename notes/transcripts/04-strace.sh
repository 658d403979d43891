# Chapter 4: the life cycle of a keep-alive connection as the worker's system calls. The server
# starts with only fds 0-2 open, as from a plain shell, so the numbers are those a student sees.
# The first request may reach the worker before or after its first epoll_wait (a race between
# curl and the worker), so the block shows the accept batch and the second request, whose
# timing is fixed. CLIENT_PORT is curl's ephemeral port, 0xADDR a stack address, DATE the date.
source "$REPO/notes/transcripts/lib.sh"
mask 'htons\(\d+\)' 'htons(CLIENT_PORT)'
mask '0x[0-9a-f]+' '0xADDR'
mask 'Date: [^"]*"' 'Date: DATE"'

serve stage4_http -p 0 -w 1 -r www
wait_log '\] started$'
name_workers
say '$ ./server -p 0 -w 1 -r www'
grep '^listening on ' "$LOG"
grep '^\[parent ' "$LOG"
grep '\] started$' "$LOG"

part trace
calls=read,accept4,epoll_ctl,epoll_wait,sendto,sendfile,close
say "\$ strace -p $W0 -o trace.txt -e trace=$calls &"
strace -p "$W0" -o trace.txt -e trace="$calls" 2>strace.err &
tracer=$!
strace_attached() { grep -q attached strace.err; }
wait_for 5 strace_attached
cat strace.err
cmd 'curl -s -o /dev/null -o /dev/null http://127.0.0.1:$PORT/ http://127.0.0.1:$PORT/style.css'
connection_closed() { grep -qzP 'read\((\d+), "", \d+\) += 0\nclose\(\1\)' trace.txt; }
wait_for 5 connection_closed   # curl has gone and the worker has closed its end
say '$ kill %1'
kill -INT "$tracer"
wait "$tracer" || true
tail -n +2 strace.err
cmd "grep -E '^(accept4|epoll_ctl)' trace.txt"
cmd "grep -B1 -A6 'GET /style.css' trace.txt"
