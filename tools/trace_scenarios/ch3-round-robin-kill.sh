# Chapter 3: round robin over three workers, one after the other; worker 1 is killed after the
# third connection. The parent reaps it, nudges worker 0 (the dead one may have taken wake-ups
# with it), and the next two connections go to workers 2 and 0.
source "$REPO/tools/trace_scenarios/common.bash"
serve_pool 3 stage3_round_robin -p 0 -w 3 --trace "$TRACE"
for i in 1 2 3; do "$REPO/notes/scripts/ch2-connect.sh" "$PORT"; done
kill -KILL "$W1"
wait_log 'worker 1 .* killed by SIGKILL'
for i in 1 2; do "$REPO/notes/scripts/ch2-connect.sh" "$PORT"; done
wait_for 5 traced close 5
kill -TERM "$P"
wait_exit
