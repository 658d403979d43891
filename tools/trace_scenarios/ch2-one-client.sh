# Chapter 2: one client through the pool. The parent hands the connection to worker 0 (the first
# available), which accepts it, acknowledges, sends its banner; the client closes; SIGTERM stops
# the pool and the parent reaps both workers.
source "$REPO/tools/trace_scenarios/common.bash"
serve_pool 2 stage2_processpool -p 0 -w 2 --trace "$TRACE"
"$REPO/notes/scripts/ch2-connect.sh" "$PORT"
wait_for 5 traced close 1
kill -TERM "$P"
wait_exit
