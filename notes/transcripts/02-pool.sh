# Chapter 2: three workers; the process tree; every connection on worker 0; stats per process.
source "$REPO/notes/transcripts/lib.sh"

serve stage2_processpool -p 0 -w 3
# The ready line comes after the forks; the four log lines race (each process writes its own):
# wait for all of them and print them sorted, the parent first.
wait_log '^\[worker [0-9]+ [0-9]+\] started$' 3
wait_log '^\[parent [0-9]+\] listening on '
name_workers
say '$ ./server -p 0 -w 3'
grep '^listening on ' "$LOG"
grep '^\[' "$LOG" | sort
server_log >/dev/null

# ps --forest, with each pid shown by its name: the columns are re-aligned for the names, and the
# workers listed in the order of their numbers.
label() {
    case "$1" in
        "$P") echo P ;; "$W0") echo W0 ;; "$W1") echo W1 ;; "$W2") echo W2 ;; "$$") echo SHELL ;;
        *) echo "$1" ;;
    esac
}
tree() {
    say '$ ps --forest -o pid,ppid,cmd --ppid P -p P'
    printf '%7s %7s %s\n' PID PPID CMD
    ps --forest -o pid=,ppid=,args= --ppid "$P" -p "$P" | while IFS= read -r line; do
        [[ $line =~ ^\ *([0-9]+)\ +([0-9]+)\ (.*)$ ]]
        printf '%7s %7s %s\n' "$(label "${BASH_REMATCH[1]}")" "$(label "${BASH_REMATCH[2]}")" \
            "${BASH_REMATCH[3]}"
    done | sort -k1,1
}
part tree
tree

# Three idle clients (one per terminal); each waits for its banner before the next connects.
clients=()
for i in 1 2 3; do
    nc -d 127.0.0.1 "$PORT" >"client$i" &
    clients+=($!)
    wait_for 5 grep -q hello "client$i"
done
part client
say '$ nc -d 127.0.0.1 PORT'
cat client1

part signals
for pid in P W0 W1 W2; do
    cmd "kill -USR1 \$$pid"
    wait_log "^\[(parent|worker [0-9]) ${!pid}\] stats:"
done
part stats
server_log


# Kill worker 0: its three clients lose their connections (their nc return), the parent reaps it,
# the next client goes to worker 1.
part kill-worker
cmd 'kill -9 $W0'
wait_log 'killed by SIGKILL'
wait "${clients[@]}" || true
tree
cmd "printf 'hi\\n' | nc -N 127.0.0.1 \$PORT"
part kill-worker-log
server_log

# Kill the parent with an idle client connected (to worker 1): both workers see EOF on their
# channels and leave, in any order (sorted here); the client's nc returns.
nc -d 127.0.0.1 "$PORT" >orphan &
orphan=$!
wait_for 5 grep -q hello orphan
part kill-parent
cmd 'kill -9 $P'
wait_exit
wait_log 'parent gone' 2
set +e
wait "$orphan"
orphan_status=$?
set -e
part kill-parent-log
server_log | sort
part orphan
say '$ nc -d 127.0.0.1 PORT'
cat orphan
say '$ echo $?'
say "$orphan_status"
