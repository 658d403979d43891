# Chapter 5, deep dive: a worker stopped past an idle connection's deadline closes it as soon as
# it is continued (the wheel follows the clock, not the alarms). The lecture's server: -t 2 -v.
source "$REPO/notes/transcripts/lib.sh"

serve_chapter5 -v
server_log >/dev/null  # shown by 05-idle

cmd '../notes/scripts/idle.sh $PORT 4 &'
wait_log 'accepted from port'  # what a student's typing takes: the worker holds the connection
# One command line, so that the background client's report comes after it, as on a terminal.
cmd 'kill -STOP $W0; sleep 4; kill -CONT $W0; wait $!'
wait_log ': closed$'
part log
server_log_parent_first  # the hand-off and the accept race: see lib.sh
