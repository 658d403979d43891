# Chapter 5, class demo: a hundred idle connections, counted by the worker's stats line before
# and after the timeout. A fresh server without -v (one log line per connection is too many).
source "$REPO/notes/transcripts/lib.sh"

serve_chapter5
part server
say '$ ./server -p 0 -w 1 -t 2 -r www'
server_log >"$TRANSCRIPT_DIR/start"
grep -v '^\[' "$TRANSCRIPT_DIR/start"
grep '^\[parent' "$TRANSCRIPT_DIR/start"
grep '^\[worker' "$TRANSCRIPT_DIR/start"

part client
fds() { find "/proc/$W0/fd" -mindepth 1 | wc -l; }
before=$(fds)
_accepted_all() { (($(fds) >= before + 100)); }
cmd '../notes/scripts/idle.sh -n 100 $PORT 2 &'
wait_for 5 _accepted_all  # what a student's typing takes: the worker has accepted all 100
# One command line, so that the background client's report comes after it, however slow the
# machine: the stats are asked for at once, long before the 2 s timeout.
cmd 'kill -USR1 $W0; wait $!'
wait_log 'stats:' 1
cmd 'kill -USR1 $W0'
wait_log 'stats:' 2
part server
server_log
