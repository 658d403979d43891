# The liveness work (chapters 2-5): worker 1 is frozen with SIGSTOP. Round robin hands it the
# second connection; it leaves the wake-up unanswered, so 200 ms later the parent marks it silent
# and wakes worker 0 instead, which takes the connection. After SIGCONT worker 1 reads its old
# wake-up, answers, and is back in the turn.
source "$REPO/tools/trace_scenarios/common.bash"
serve_pool 2 stage3_round_robin -p 0 -w 2 --trace "$TRACE"
kill -STOP "$W1"
for i in 1 2 3; do "$REPO/notes/scripts/ch2-connect.sh" "$PORT"; done
kill -CONT "$W1"
wait_log 'worker 1 answers again'
"$REPO/notes/scripts/ch2-connect.sh" "$PORT"
wait_for 5 traced close 4
kill -TERM "$P"
wait_exit
