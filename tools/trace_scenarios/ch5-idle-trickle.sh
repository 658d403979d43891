# Chapter 5: two clients at once on a worker with a 2 s timeout: one that sends nothing and one
# that sends its request one byte a second. Neither makes progress (a request is progress only
# once complete), so the wheel closes both on a tick, about 2 s after each was accepted.
source "$REPO/tools/trace_scenarios/common.bash"
serve_pool 1 stage5_timer_wheel -p 0 -w 1 -t 2 --trace "$TRACE"
"$REPO/notes/scripts/idle.sh" "$PORT" 2 &
idle=$!
"$REPO/notes/scripts/trickle.sh" "$PORT" 2
wait "$idle"
kill -TERM "$P"
wait_exit
