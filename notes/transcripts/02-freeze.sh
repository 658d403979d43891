# Chapter 2: a frozen worker is skipped after 200 ms of silence, and served again once it answers.
source "$REPO/notes/transcripts/lib.sh"

serve stage2_processpool -p 0 -w 2
wait_log '\] started' 2
name_workers
stopped() { [[ $(awk '{print $3}' "/proc/$W0/stat") == T ]]; }

cd "$REPO/stage2_processpool"
part clients
cmd 'kill -STOP $W0'
wait_for 5 stopped
# The stated tolerance: a loaded machine adds up to 0.2 s to each time (see the lecture's text).
mask '^took 0\.[2-4] s$' 'took 0.2 s'
mask '^took 0\.[01] s$' 'took 0.0 s'
cmd '../notes/scripts/ch2-connect.sh $PORT'
wait_log 'has not answered'
cmd '../notes/scripts/ch2-connect.sh $PORT'
cmd 'kill -CONT $W0'
wait_log 'answers again'
cmd '../notes/scripts/ch2-connect.sh $PORT'
part log
server_log | grep -v 'listening on\|started$'

kill -TERM "$P"
wait_exit
