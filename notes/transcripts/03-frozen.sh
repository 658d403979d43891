# Chapter 3, deep dive: a frozen worker (SIGSTOP) loses its turn once it has left a wake-up
# unanswered for 200 ms, and is back in the turn once it answers. Only the parent's lines are
# shown (one process, in order).
source "$REPO/notes/transcripts/lib.sh"
cd "$REPO/stage3_round_robin"

shown=0
# parent_log: the parent's lines among those logged since the last call.
parent_log() {
    local total
    total=$(wc -l <"$LOG")
    sed -n "$((shown + 1)),${total}p" "$LOG" >"$TRANSCRIPT_DIR/new"
    shown=$total
    grep '^\[parent ' "$TRANSCRIPT_DIR/new" || true
}

# stats_twice PID: a worker that has answered SIGUSR1 twice has finished the loop turn that read
# any wake-up written before the first signal (RoundRobin.DeadWorkerIsSkipped waits the same way).
stats_twice() {
    local before
    before=$(grep -c "^\[worker [0-9]* $1\] stats:" "$LOG" || true)
    kill -USR1 "$1"
    wait_log "^\[worker [0-9]* $1\] stats:" $((before + 1))
    kill -USR1 "$1"
    wait_log "^\[worker [0-9]* $1\] stats:" $((before + 2))
}

serve stage3_round_robin -p 0 -w 3 -v
wait_log '\] started$' 3
name_workers
shown=$(wc -l <"$LOG")

cmd 'kill -STOP $W1'
cmd 'for i in 1 2 3 4 5; do nc -N 127.0.0.1 $PORT </dev/null; done'
wait_log '\] connection -> worker' 5

part log
parent_log

part thawed
cmd 'kill -CONT $W1'
wait_log 'worker 1 answers again'
wait_log '\] connection -> worker' 6   # the spare wake-up that goes with the change
stats_twice "$W1"
cmd 'for i in 1 2 3 4 5; do nc -N 127.0.0.1 $PORT </dev/null; done'
wait_log '\] connection -> worker' 11

part thawed-log
parent_log
