# Chapter 5, class demo: the server with a 2 s timeout, and an idle client it hangs up on.
source "$REPO/notes/transcripts/lib.sh"

serve_chapter5 -v
say '$ ./server -p 0 -w 1 -t 2 -v -r www'
# The worker's "started" may come before the parent's line: shown in one order.
server_log >"$TRANSCRIPT_DIR/start"
grep -v '^\[' "$TRANSCRIPT_DIR/start"
grep '^\[parent' "$TRANSCRIPT_DIR/start"
grep '^\[worker' "$TRANSCRIPT_DIR/start"

part idle
cmd '../notes/scripts/idle.sh $PORT 2'
wait_log ': closed$'
part log
server_log_parent_first  # the hand-off and the accept race: see lib.sh
