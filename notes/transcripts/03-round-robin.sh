# Chapter 3's class demo: sequential clients land on workers 0, 1, 2, 0, 1; a killed worker is
# skipped. Only the parent's log lines are shown: they come from one process, in order, while
# the workers' lines interleave with them differently on every run.
source "$REPO/notes/transcripts/lib.sh"
mask 'from port \d+' 'from port N'   # the client's ephemeral port
cd "$REPO/stage3_round_robin"

serve_pool 3 stage3_round_robin -p 0 -w 3 -v
say '$ ./server -p 0 -w 3 -v'
grep '^listening on ' "$LOG"
grep '^\[parent ' "$LOG"
grep '\] started$' "$LOG" | sort   # the workers start in any order
server_log >/dev/null

part clients
cmd 'for i in 1 2 3 4 5; do nc -N 127.0.0.1 $PORT </dev/null; done'

part choices
wait_log '\] connection -> worker' 5   # the parent logs after its write: maybe after the banner
server_log_of '^\[parent '

part worker0
wait_log "^\[worker 0 $W0\] fd [0-9]+: closed" 2   # logged after the close that ends nc
grep "^\[worker 0 $W0\] fd" "$LOG"

part killed
cmd 'kill -9 $W1'
wait_log 'killed by SIGKILL'
wait_log '\] connection -> worker' 6   # the nudge to a survivor
stats_twice "$W2"                      # worker 2 has read the nudge: the turn is strict again
cmd 'for i in 1 2 3 4 5; do nc -N 127.0.0.1 $PORT </dev/null; done'
cmd 'kill -USR1 $P'
wait_log '^\[parent [0-9]+\] stats:'

part killed-log
server_log_of '^\[parent '
