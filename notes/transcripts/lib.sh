# lib.sh: sourced by every transcript script; tools/transcripts.py runs them (make transcripts).
#
# A script prints what a student would see, in order: `cmd` shows a command and runs it, `say`
# prints a line as it is, `server_log` prints what the server logged since the last call. The
# runner then replaces each value registered with `name` (pids, ports) by its name, applies the
# `mask` rules (what legitimately varies: client ports, dates, timings), and writes the result
# into every notes block marked `<!-- transcript: NAME -->`.
#
# Commands are written with the registered names as shell variables ('nc -N 127.0.0.1 $PORT')
# and shown with the bare name ('nc -N 127.0.0.1 PORT'). Every server started here is killed,
# with its whole process group, when the script exits.
set -euo pipefail
: "${TRANSCRIPT_DIR:?run transcripts through tools/transcripts.py (make transcripts)}"
: "${REPO:?}"
export LC_ALL=C

_groups=()    # process groups of the servers started here
_log_shown=0  # lines of the server log already printed by server_log
LOG="$TRANSCRIPT_DIR/server.log"
STATUS=0      # exit status of the last cmd, or of the server after stop

_cleanup() {
    local g
    for g in "${_groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
}
trap _cleanup EXIT

# name VALUE NAME: set $NAME to VALUE, and show VALUE as NAME (a pid as P) wherever it appears.
name() {
    printf -v "$2" '%s' "$1"
    printf '%s=%s\n' "$2" "$1" >>"$TRANSCRIPT_DIR/vars"
}

# mask REGEX REPLACEMENT: a Python regular expression, applied to every line before the names.
mask() { printf '%s\t%s\n' "$1" "$2" >>"$TRANSCRIPT_DIR/masks"; }

# part NAME: what follows goes to the block `SCRIPT/NAME` instead (a second terminal, say).
part() { echo "@@part $1"; }

# say TEXT...: print a line as it is.
say() { printf '%s\n' "$*"; }

# cmd 'COMMAND': show `$ COMMAND` and run it in this shell, stdout and stderr together.
cmd() {
    echo "@@cmd $1"
    set +e
    eval "$1" 2>&1
    STATUS=$?
    set -e
}

# wait_for SECONDS TEST...: poll TEST every 20 ms until it succeeds; fail after SECONDS.
wait_for() {
    local seconds="$1" i
    shift
    for ((i = 0; i < seconds * 50; i++)); do
        "$@" && return 0
        sleep 0.02
    done
    echo "transcript: gave up after ${seconds}s waiting for: $*" >&2
    exit 1
}

_log_has() { grep -qE -- "$1" "$LOG"; }
_log_count_at_least() { (($(grep -cE -- "$1" "$LOG") >= $2)); }

# wait_log REGEX [COUNT]: wait (5 s at most) until the server log has COUNT lines matching.
wait_log() { wait_for 5 _log_count_at_least "$1" "${2:-1}"; }

# serve STAGE_DIR ARGS...: start that chapter's ./server ARGS in its directory, in its own
# process group, logging to $LOG; wait for the ready line; name its pid P and its port PORT.
serve() {
    local dir="$1"
    shift
    : >"$LOG"
    _log_shown=0
    (cd "$REPO/$dir" && exec setsid ./server "$@") >"$LOG" 2>&1 &
    name $! P
    _groups+=("$P")
    wait_log '^listening on '
    name "$(sed -nE 's/^listening on [0-9.]+:([0-9]+)$/\1/p' "$LOG" | head -n1)" PORT
}

# name_workers: name each worker's pid W0, W1, ... from its `[worker I PID] started` line.
name_workers() {
    local i pid
    while read -r i pid; do
        name "$pid" "W$i"
    done < <(sed -nE 's/^\[worker ([0-9]+) ([0-9]+)\] started$/\1 \2/p' "$LOG")
}

# server_log: print the lines the server logged since the last call.
server_log() {
    local total
    total=$(wc -l <"$LOG")
    tail -n "+$((_log_shown + 1))" "$LOG" | head -n "$((total - _log_shown))"
    _log_shown=$total
}

_exited() { [[ ! -e /proc/$P ]] || [[ $(awk '{print $3}' "/proc/$P/stat" 2>/dev/null) == Z ]]; }

# wait_exit: wait (10 s at most) until the server exits; its exit status goes to STATUS.
wait_exit() {
    wait_for 10 _exited
    set +e
    wait "$P"
    STATUS=$?
    set -e
}

# serve_tty STAGE_DIR COMMAND...: run COMMAND in that stage's directory on a terminal of its own
# (a pty made by script(1)), with fds 0-2 on the terminal and no other fd open, as in a plain
# shell, so that fd numbers are the ones a student sees; the terminal's output goes to $LOG.
# Names the server's pid P (from its first log line) and PORT; TTY_PID is script(1)'s pid.
serve_tty() {
    local dir="$1"
    shift
    : >"$LOG"
    _log_shown=0
    local inner="stty -onlcr; for f in /proc/\$\$/fd/*; do f=\${f##*/}; ((f > 2)) && eval \"exec \$f>&-\"; done; exec $*"
    (cd "$REPO/$dir" && SHELL=/bin/bash exec setsid script -qefc "$inner" /dev/null) </dev/null >"$LOG" 2>&1 &
    TTY_PID=$!
    _groups+=("$TTY_PID")
    wait_log '^\[(pid|parent) [0-9]+\] listening on '
    name "$(sed -nE 's/^\[(pid|parent) ([0-9]+)\] listening on .*/\2/p' "$LOG" | head -n1)" P
    _groups+=("$(ps -o pgid= -p "$P" | tr -d ' ')")  # its session: strace too, when traced
    name "$(sed -nE 's/^listening on [0-9.]+:([0-9]+)$/\1/p' "$LOG" | head -n1)" PORT
}

# tty_exit: wait until the server and script(1) have exited; STATUS is the server's status.
tty_exit() {
    wait_for 10 _exited
    set +e
    wait "$TTY_PID"
    STATUS=$?
    set -e
}

# asleep [PID]: that process (default: the server) sleeps (state S), for our servers: waits in
# epoll_wait, its turn done.
asleep() { [[ $(awk '{print $3}' "/proc/${1:-$P}/stat" 2>/dev/null) == S ]]; }

# server_log_of REGEX: like server_log, but only the lines that match (one process's lines come
# in order; several processes' lines interleave differently on every run).
server_log_of() {
    server_log >"$TRANSCRIPT_DIR/new"  # not in a pipeline: server_log must count what it showed
    grep -E -- "$1" "$TRANSCRIPT_DIR/new" || true
}

# server_log_parent_first: like server_log, the parent's lines first, then the workers' (each
# process's lines in their order). The parent logs a hand-off just after writing its byte, so the
# worker's "accepted" may come first on a loaded machine; shown in the order things happened.
server_log_parent_first() {
    server_log >"$TRANSCRIPT_DIR/new"  # not in a pipeline: server_log must count what it showed
    grep -v '^\[worker ' "$TRANSCRIPT_DIR/new" || true
    grep '^\[worker ' "$TRANSCRIPT_DIR/new" || true
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

# serve_pool WORKERS STAGE_DIR ARGS...: serve, then wait until the WORKERS workers have started
# and name them W0, W1, ...
serve_pool() {
    local workers="$1"
    shift
    serve "$@"
    wait_log '\] started$' "$workers"
    name_workers
}

# serve_chapter5 [ARGS...]: chapter 5's demo server, started as in the lecture: from
# stage5_timer_wheel/ (the script goes on there), one worker W0, a 2 s timeout, the chapter's
# www/, and ARGS (-v logs each connection; its client port is masked, it varies).
serve_chapter5() {
    cd "$REPO/stage5_timer_wheel"
    mask 'accepted from port [0-9]+' 'accepted from port N'
    serve_pool 1 stage5_timer_wheel -p 0 -w 1 -t 2 "$@" -r www
}
