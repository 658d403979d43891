# Chapter 5, class demo: a client that sends its request one byte per second, on the server of
# 05-idle (a 2 s timeout, -v).
source "$REPO/notes/transcripts/lib.sh"

serve_chapter5 -v
server_log >/dev/null  # shown by 05-idle

cmd '../notes/scripts/trickle.sh $PORT 2'
wait_log ': closed$'
part log
server_log_parent_first  # the hand-off and the accept race: see lib.sh
