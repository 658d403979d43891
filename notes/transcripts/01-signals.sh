# Chapter 1: signals nobody asked for, the graceful stop, and errors at start-up.
source "$REPO/notes/transcripts/lib.sh"

# A fresh server with one idle client (nc -d: reads nothing from its terminal).
serve stage1_signal_pipe -p 0
nc -d 127.0.0.1 "$PORT" >idle.out &
idle=$!
wait_for 5 grep -q hello idle.out
part stray
cmd 'kill -HUP $P'
wait_log 'got SIGHUP'
cmd 'kill -TSTP $P'
cmd 'kill -USR2 $P'
cmd 'kill -QUIT $P'
wait_exit
wait "$idle" || true
part log
say '$ ./server -p 0'
server_log
say '$ echo $?'
say "$STATUS"

# Errors at start-up: a usage error (exit 2), and a port that is taken (exit 1).
serve stage1_signal_pipe -p 0
part errors
cd "$REPO/stage1_signal_pipe"
cmd './server --port 70000'
say '$ echo $?'
say "$STATUS"
cmd './server -p $PORT'
say '$ echo $?'
say "$STATUS"
