# Chapter 5, class demo: a client that sends its request one byte per second, on the server of
# 05-idle (a 2 s timeout, -v).
source "$REPO/notes/transcripts/lib.sh"
cd "$REPO/stage5_timer_wheel"
mask 'accepted from port [0-9]+' 'accepted from port N'

serve_pool 1 stage5_timer_wheel -p 0 -w 1 -t 2 -v -r www
server_log >/dev/null  # shown by 05-idle

cmd '../notes/scripts/trickle.sh $PORT 2'
wait_log ': closed$'
part log
server_log
