# Chapter 3, deep dive: a frozen worker (SIGSTOP) loses its turn once it has left a wake-up
# unanswered for 200 ms, and is back in the turn once it answers. Only the parent's lines are
# shown (one process, in order).
source "$REPO/notes/transcripts/lib.sh"
cd "$REPO/stage3_round_robin"

serve_pool 3 stage3_round_robin -p 0 -w 3 -v
server_log >/dev/null

cmd 'kill -STOP $W1'
cmd 'for i in 1 2 3 4 5; do nc -N 127.0.0.1 $PORT </dev/null; done'
wait_log '\] connection -> worker' 5

part log
server_log_of '^\[parent '

part thawed
cmd 'kill -CONT $W1'
wait_log 'worker 1 answers again'
wait_log '\] connection -> worker' 6   # the spare wake-up that goes with the change
stats_twice "$W1"
cmd 'for i in 1 2 3 4 5; do nc -N 127.0.0.1 $PORT </dev/null; done'
wait_log '\] connection -> worker' 11

part thawed-log
server_log_of '^\[parent '
