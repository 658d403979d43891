# Chapter 1: start the server, echo two lines; then stats, an idle client, a clean stop.
source "$REPO/notes/transcripts/lib.sh"
serve stage1_signal_pipe -p 0       # its ./server, own process group, ready line awaited
say '$ ./server -p 0'               # a line as it is
server_log                          # what the server logged since the last call
part client                         # what follows is the block 01-echo/client
cmd "printf 'hi there\nsecond line\n' | nc -N 127.0.0.1 \$PORT"

# The same server (so the counts include the client above): stats, an idle client in a third
# terminal, stats again, stop. nc -d reads nothing from its terminal and returns when the server
# closes the connection.
part signals
cmd 'kill -USR1 $P'
wait_log 'stats:'
nc -d 127.0.0.1 "$PORT" >idle.out &
idle=$!
wait_for 5 grep -q hello idle.out
cmd 'kill -USR1 $P'
wait_log 'stats:' 2
cmd 'kill -TERM $P'
wait_exit
part log
server_log
say '$ echo $?'
say "$STATUS"
set +e
wait "$idle"
idle_status=$?
set -e
part idle
say '$ nc -d 127.0.0.1 PORT'
cat idle.out
say '$ echo $?'
say "$idle_status"
