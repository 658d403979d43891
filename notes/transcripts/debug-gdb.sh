# debug-gdb.sh: notes/debugging.md, a gdb session on chapter 2's pool.
# Parts: start, bt (attach), signal and signal-log (the handler), held and held-log (a worker
# held in gdb while the pool serves), fork and fork-client (the server started under gdb).
source "$REPO/notes/transcripts/lib.sh"

# gdb as the page's commands run it, minus what differs between machines: no ~/.gdbinit, no
# libc debug symbols (libc6-dbg, debuginfod), so libc's frames read `epoll_wait () from LIB/...`
# everywhere. The page says so.
gdb() {
    # timeout: a session that never stops (a breakpoint that is not hit) fails the script instead
    # of hanging it; a tracer that dies lets its process go.
    timeout -k 2 20 gdb -nx -iex 'set debug-file-directory /nonexistent' \
        -iex 'set debuginfod enabled off' "$@"
}
unset DEBUGINFOD_URLS
mask '0x[0-9a-f]{4,}' 'ADDR'
mask '/(usr/)?lib/[a-z0-9_]+-linux-gnu/' 'LIB/'
# ps pads its PID column to the width of the largest pid: show it unpadded.
mask '^ +(PID S COMMAND|\d+ \w \S+)$' '\1'

serve stage2_processpool -p 0 -w 2
wait_log '^\[worker [0-9]+ [0-9]+\] started$' 2
name_workers
say '$ ./server -p 0 -w 2'
grep '^listening on' "$LOG"
grep '^\[' "$LOG" | sort   # three processes start at once: their lines come in any order
server_log >/dev/null

part bt
cmd "gdb -q -batch -p \$W0 -ex 'bt -frame-arguments presence' -ex 'frame 2' -ex 'print *this'"

part signal
cmd "gdb -q -batch -p \$W0 -ex 'break sig_handler' -ex \"shell kill -USR1 \$W0\" -ex continue -ex continue -ex 'print sig' -ex 'print g_waiting[sig]' -ex next -ex next -ex next -ex next -ex 'print g_waiting[sig]' -ex next -ex detach"
part signal-log
wait_log 'stats:'
server_log

part held
cmd "gdb -q -batch -p \$W0 -ex \"shell printf 'one\\n' | nc -N 127.0.0.1 \$PORT\" -ex \"shell printf 'two\\n' | nc -N 127.0.0.1 \$PORT\" -ex \"shell ps -o pid,state,comm -p \$W0\" -ex detach"
wait_log 'answers again'
cmd "printf 'three\\n' | nc -N 127.0.0.1 \$PORT"
part held-log
server_log

# The server started under gdb, which follows the fork into worker 0. gdb runs in the background
# (the client must connect while gdb waits for the worker to stop); its output is printed after.
# The page runs it in stage2_processpool/; here ./server is a link to that binary in a scratch
# directory of the same name, so that the server's log does not land in the stage.
part fork
_gdb_groups=()
trap '_cleanup; for g in "${_gdb_groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done' EXIT
mkdir stage2_processpool
cd stage2_processpool
ln -s "$REPO/stage2_processpool/server" server
fork_cmd="gdb -q -batch -ex 'set follow-fork-mode child' -ex 'break ProcessPool::run_child' -ex 'run -p 0 -w 1 >server.log 2>&1' -ex 'print process_id_' -ex 'catch syscall read' -ex continue -ex 'print \$rdi' -ex continue -ex 'print \$rax' -ex 'x/1xb \$rsi' -ex up -ex 'print channel_' -ex 'print bytes[0]' -ex 'print n' -ex detach ./server"
(eval "$fork_cmd") >gdb.out 2>&1 &
gdb_job=$!
wait_for 10 grep -qs '^listening on ' server.log
name "$(sed -nE 's/^listening on [0-9.]+:([0-9]+)$/\1/p' server.log)" PORT
name "$(sed -nE 's/^\[parent ([0-9]+)\] .*/\1/p' server.log | head -n1)" P
printf 'hi\n' | nc -N 127.0.0.1 "$PORT" >client.out 2>&1 &
client_job=$!
wait "$gdb_job"
wait "$client_job"
name "$(sed -nE 's/^\[New inferior 2 \(process ([0-9]+)\)\]$/\1/p' gdb.out)" W0
say "\$ $fork_cmd"
cat gdb.out
part fork-client
say "\$ printf 'hi\\n' | nc -N 127.0.0.1 $PORT"
cat client.out
kill -TERM "$P"
wait_for 10 _exited
