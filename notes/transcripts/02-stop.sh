# Chapter 2: the graceful stop, a worker that will not stop, and a parent left without workers.
# Each on a fresh server. Lines that different processes write race: the workers' lines are
# grouped by worker here, the parent's reaping lines sorted.
source "$REPO/notes/transcripts/lib.sh"

# by_process: the log lines on stdin, grouped: the parent's "got SIG..." line, then each worker's
# lines (a worker's own lines keep their order), then the rest of the parent's lines in their
# order, except that a run of reaping lines ("worker N (pid W) ...") is sorted: waitpid's order
# varies.
by_process() {
    local lines parent
    lines=$(cat)
    parent=$(grep '^\[parent' <<<"$lines" || true)
    if [[ $parent == *"] got SIG"* ]]; then
        head -n1 <<<"$parent"
        parent=$(sed 1d <<<"$parent")
    fi
    grep '^\[worker' <<<"$lines" | sort -s -t' ' -k2,2n || true
    awk '
        / worker [0-9]+ \(pid / { run[++n] = $0; next }
        { flush(); print }
        function flush(  i, j, t) {
            for (i = 2; i <= n; i++) for (j = i; j > 1 && run[j-1] > run[j]; j--) {
                t = run[j]; run[j] = run[j-1]; run[j-1] = t
            }
            for (i = 1; i <= n; i++) print run[i]
            n = 0
        }
        END { flush() }' <<<"$parent"
}

# SIGQUIT with one idle client (on worker 0).
serve stage2_processpool -p 0 -w 3
wait_log '\] started' 3
name_workers
server_log >/dev/null
nc -d 127.0.0.1 "$PORT" >client &
client=$!
wait_for 5 grep -q hello client
part quit
cmd 'kill -QUIT $P'
wait_exit
wait "$client" || true
part quit-log
server_log | by_process
say '$ echo $?'
say "$STATUS"

# SIGTERM with worker 1 frozen: SIGKILL after the 3 s deadline.
serve stage2_processpool -p 0 -w 2
wait_log '\] started' 2
name_workers
server_log >/dev/null
part stuck
cmd 'kill -STOP $W1'
wait_for 5 eval '[[ $(awk "{print \$3}" /proc/$W1/stat) == T ]]'
start=$EPOCHREALTIME
cmd 'kill -TERM $P'
wait_exit
end=$EPOCHREALTIME
part stuck-log
server_log | by_process
say '$ echo $?'
say "$STATUS"
say "(the parent exited $(( (10#${end//[.,]/} - 10#${start//[.,]/}) / 1000000 )) s after the SIGTERM)"

# Every worker killed while the parent is stopped: three deaths, one SIGCHLD (standard signals do
# not queue), one waitpid loop that reaps all three. The parent is left alone and exits 1.
# (Killed while the parent runs, the workers may be reaped in two turns, and the nudge of the
# first turn may meet a dead, unreaped worker: "notify worker 1: Broken pipe".)
serve stage2_processpool -p 0 -w 3
wait_log '\] started' 3
name_workers
server_log >/dev/null
zombie() { [[ $(awk '{print $3}' "/proc/$1/stat") == Z ]]; }
part all
cmd 'kill -STOP $P'
cmd 'kill -9 $W0 $W1 $W2'
wait_for 5 zombie "$W0"
wait_for 5 zombie "$W1"
wait_for 5 zombie "$W2"
cmd 'kill -CONT $P'
wait_exit
part all-log
server_log | by_process
say '$ echo $?'
say "$STATUS"
