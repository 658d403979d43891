#!/usr/bin/env bash
# run_bench.sh — `make bench`: stage 5 against nginx on this machine, side by side.
#
# Builds stage 5 optimised into build/bench, serves one docroot with both servers (127.0.0.1
# only), drives them with wrk run by run (ABAB...), counts system calls per keep-alive request
# (strace -c), memory per idle connection (RSS), runs the Google Benchmark timer comparison, and
# writes notes/performance.md and its Chinese edition notes/zh/performance.md (+
# notes/figures/bench-rps.svg). First, the ceiling (issue 17): stage 4, stage 4 with lab
# open-file-cache's answer key, a null responder (stage 4 answering from memory) and stage 4 before
# --trace existed (what tracing costs when off), beside nginx.
#
# Knobs (environment): BENCH_DURATION seconds per wrk run (default 3), BENCH_RUNS runs per
# server and case (default 4), BENCH_CEILING_RUNS rounds of the ceiling rows (default 5),
# BENCH_IDLE idle connections (default 10000), BENCH_STRACE_N requests under strace (default
# 2000), BENCH_TRACE_BASELINE the commit of stage 4 before --trace (default b70facf).
# BENCH_ONLY=ceiling measures the ceiling rows alone and prints their table (no page is
# written). Every load is bounded in count and time.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT_DIR"
OUT="$ROOT_DIR/build/bench"
TOOL="python3 $ROOT_DIR/tests/bench/benchtool.py"
DURATION="${BENCH_DURATION:-3}"
RUNS="${BENCH_RUNS:-4}"
IDLE="${BENCH_IDLE:-10000}"
STRACE_N="${BENCH_STRACE_N:-2000}"
CEILING_RUNS="${BENCH_CEILING_RUNS:-5}"
ONLY="${BENCH_ONLY:-}"
[[ -z "$ONLY" || "$ONLY" == ceiling ]] || { echo "bench: BENCH_ONLY is ceiling or unset" >&2; exit 2; }
NOTE="$ROOT_DIR/notes/performance.md"
SVG="$ROOT_DIR/notes/figures/bench-rps.svg"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
START_TIME=$SECONDS

log() { echo "bench: $*" >&2; }

# Every process this script starts is recorded here by PID and ended by PID on exit.
OUR_PID=""
NGINX_PID=""
CEILING_PIDS=()  # the ceiling's three builds of stage 4
stop_ours() {
    if [[ -n "$OUR_PID" ]]; then
        kill -TERM "$OUR_PID" 2>/dev/null || true
        wait "$OUR_PID" 2>/dev/null || true
        OUR_PID=""
    fi
}
stop_nginx() {
    if [[ -n "$NGINX_PID" ]]; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true   # graceful stop, master reaps its workers
        for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -TERM "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
        NGINX_PID=""
    fi
}
stop_ceiling() {
    local pid
    for pid in "${CEILING_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    CEILING_PIDS=()
}
cleanup() { stop_ours; stop_nginx; stop_ceiling; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# 10 000 idle connections and wrk -c 1000 need more fds than the usual 1024 (servers inherit it).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[[ $(ulimit -n) -ge $((IDLE + 2000)) ]] || { log "ulimit -n is $(ulimit -n): too low"; exit 1; }

# --- build directory (the servers are built below: stage 4's three builds, then stage 5) -------
rm -rf "$OUT"
mkdir -p "$OUT/src" "$OUT/wrk" "$OUT/tmp" "$OUT/ceiling" "$ROOT_DIR/notes/figures"

# --- docroot: nginx's classic 612-byte welcome page size, 10 KiB, 1 MiB ----------------------
WWW="$OUT/www"
mkdir -p "$WWW"
python3 - "$WWW" <<'EOF'
import sys
root = sys.argv[1]
page = "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome</title>\n</head>\n<body>\n<h1>Welcome</h1>\n"
tail = "</body>\n</html>\n"
filler = "<p>" + "x" * (612 - len(page) - len(tail) - 8) + "</p>\n"
open(f"{root}/index.html", "w").write(page + filler + tail)
open(f"{root}/10k.bin", "wb").write(bytes(i % 251 for i in range(10 * 1024)))
open(f"{root}/1m.bin", "wb").write(bytes(i % 251 for i in range(1024 * 1024)))
EOF
[[ $(stat -c %s "$WWW/index.html") -eq 612 ]] || { log "index.html is not 612 bytes"; exit 1; }
truncate -s 4G "$WWW/4g.bin"  # sparse: the fairness case reads zeros from the page cache
declare -A FILE_PATH=([612B]=/index.html [10KiB]=/10k.bin [1MiB]=/1m.bin)

# --- servers ---------------------------------------------------------------------------------
OUR_PORT=""
NGINX_PORT=""
# ready_port FILE: the port named by our server's ready line in FILE, waiting up to 5 s for it
# (nothing when it never came).
ready_port() {
    for _ in $(seq 100); do
        grep -q '^listening on' "$1" 2>/dev/null && break
        sleep 0.05
    done
    sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$1"
}
# start_ours WORKERS [taskset-prefix...]: starts our server, waits for its ready line.
start_ours() {
    local workers="$1"
    shift
    "$@" "$SERVER" --host 127.0.0.1 --port 0 --workers "$workers" --root "$WWW" \
        > "$OUT/ours.out" 2>> "$OUT/ours.err" &
    OUR_PID=$!
    OUR_PORT="$(ready_port "$OUT/ours.out")"
    [[ -n "$OUR_PORT" ]] || { log "our server did not start"; cat "$OUT/ours.err" >&2; exit 1; }
}
# start_nginx WORKERS [taskset-prefix...]
start_nginx() {
    local workers="$1"
    shift
    NGINX_PORT="$($TOOL freeport)"
    sed -e "s|@WORKERS@|$workers|" -e "s|@DIR@|$OUT|g" -e "s|@PORT@|$NGINX_PORT|" \
        -e "s|@ROOT@|$WWW|" tests/bench/nginx.conf.in > "$OUT/nginx.conf"
    "$@" "$NGINX" -p "$OUT/" -e "$OUT/nginx-error.log" -c "$OUT/nginx.conf" &
    NGINX_PID=$!
    $TOOL wait-port "$NGINX_PORT" 10
    # Wait until every worker is forked (the master is up before its workers).
    for _ in $(seq 100); do
        [[ $(worker_pids "$NGINX_PID" | wc -w) -ge $workers ]] && break
        sleep 0.05
    done
}
# worker_pids PARENT: the worker processes (children) of a server, comma-separated.
worker_pids() { ps -o pid= --ppid "$1" | tr -d ' ' | paste -sd, -; }

# --- the ceiling: a null responder (issue 17) ---------------------------------------------------
# Three builds of stage 4 that differ only in where a request's 612 bytes come from: the file
# system (stage 4 as it is), the same files kept open by lab open-file-cache's answer key, and
# memory (tests/bench/null-responder.patch, the null responder: the ceiling). Pinned as the pinned
# rows are (1 worker on CPU 0, wrk -t 1 on CPU 1), nginx too; CEILING_RUNS rounds of one wrk run
# each, the order rotated every round so that no server always runs first.
CEILING=(null stage4 cache nginx untraced)
# Stage 4 before --trace existed (issue 18): with it in the same rounds, what tracing costs when off.
TRACE_BASELINE_REV="${BENCH_TRACE_BASELINE:-b70facf}"
declare -A CEILING_PORT
# build_stage4 NAME [PATCH]: stage 4 in $OUT/NAME; with PATCH, a patched copy of $OUT/stage4,
# so that make recompiles only what the patch touched.
build_stage4() {
    if [[ $# -eq 1 ]]; then
        mkdir -p "$OUT/$1"
        cp stage4_http/*.cpp stage4_http/*.h stage4_http/Makefile "$OUT/$1/"
    else
        cp -a "$OUT/stage4" "$OUT/$1"
        patch -s -p1 -d "$OUT/$1" -i "$ROOT_DIR/$2"
    fi
    make -s -j"$(nproc)" -C "$OUT/$1" CXXFLAGS='-O2 -g -DNDEBUG' >&2
}
# start_ceiling NAME: $OUT/NAME/server, 1 worker on CPU 0; its port goes to CEILING_PORT[NAME].
start_ceiling() {
    taskset -c 0 "$OUT/$1/server" --host 127.0.0.1 --port 0 --workers 1 --root "$WWW" \
        > "$OUT/$1.out" 2> "$OUT/$1.err" &
    CEILING_PIDS+=("$!")
    CEILING_PORT[$1]="$(ready_port "$OUT/$1.out")"
    [[ -n "${CEILING_PORT[$1]}" ]] || { log "$1 did not start"; cat "$OUT/$1.err" >&2; exit 1; }
}
# run_ceiling: CEILING_RUNS rounds; round r starts with server r mod 5.
run_ceiling() {
    local run i name
    for run in $(seq "$CEILING_RUNS"); do
        for i in "${!CEILING[@]}"; do
            name="${CEILING[(run + i) % ${#CEILING[@]}]}"
            taskset -c 1 wrk -t 1 -c 100 -d "${DURATION}s" --timeout 5s --latency \
                "http://127.0.0.1:${CEILING_PORT[$name]}/index.html" \
                > "$OUT/ceiling/${name}__run$run.txt"
        done
    done
}
log "ceiling: building stage 4, with the open-file cache, and the null responder"
build_stage4 stage4
build_stage4 cache labs/solutions/open-file-cache/solution.patch
build_stage4 null tests/bench/null-responder.patch
mkdir -p "$OUT/untraced"
git -C "$ROOT_DIR" archive "$TRACE_BASELINE_REV" stage4_http | tar -x -C "$OUT/untraced" --strip-components=1
make -s -j"$(nproc)" -C "$OUT/untraced" CXXFLAGS='-O2 -g -DNDEBUG' >&2
for name in null stage4 cache untraced; do start_ceiling "$name"; done
start_nginx 1 taskset -c 0
CEILING_PORT[nginx]="$NGINX_PORT"
log "wrk ceiling: $CEILING_RUNS x (null, stage 4, cache, nginx, stage 4 untraced), ${DURATION} s each"
run_ceiling
stop_ceiling
stop_nginx
CEILING_TABLE="$(python3 tests/bench/ceiling.py "$OUT/ceiling" en)"
CEILING_TABLE_ZH="$(python3 tests/bench/ceiling.py "$OUT/ceiling" zh)"
if [[ "$ONLY" == ceiling ]]; then
    echo "$CEILING_TABLE"
    log "BENCH_ONLY=ceiling: done in $((SECONDS - START_TIME)) s; no page written"
    exit 0
fi

# --- build -----------------------------------------------------------------------------------
log "building stage 5 with -O2 -DNDEBUG into $OUT/src"
cp stage5_timer_wheel/*.cpp stage5_timer_wheel/*.h stage5_timer_wheel/Makefile "$OUT/src/"
make -s -C "$OUT/src" CXXFLAGS='-O2 -g -DNDEBUG' >&2
SERVER="$OUT/src/server"
g++ -O2 -DNDEBUG -std=c++17 -Wall -Wextra -Wpedantic -Wshadow -Itests -Istage5_timer_wheel \
    tests/bench/timer_bench.cpp stage5_timer_wheel/time_wheel.cpp -lbenchmark -lpthread \
    -o "$OUT/timer_bench"

# --- wrk -------------------------------------------------------------------------------------
CASES="$OUT/cases.txt"
: > "$CASES"
# run_case WORKERS CONNS FILE PINNED: RUNS x (ours, nginx), servers already running.
run_case() {
    local workers="$1" conns="$2" file="$3" pinned="$4" run key threads=2 prefix=()
    key="w${workers}_c${conns}_${file}"
    if [[ "$pinned" == 1 ]]; then
        key+="_pinned"
        threads=1
        prefix=(taskset -c 1)
    fi
    echo "case:$workers:$conns:$file:$pinned" >> "$CASES"
    log "wrk $key: $RUNS x (ours, nginx), ${DURATION} s each"
    for run in $(seq "$RUNS"); do
        "${prefix[@]}" wrk -t "$threads" -c "$conns" -d "${DURATION}s" --timeout 5s --latency \
            "http://127.0.0.1:$OUR_PORT${FILE_PATH[$file]}" > "$OUT/wrk/${key}__ours__run$run.txt"
        "${prefix[@]}" wrk -t "$threads" -c "$conns" -d "${DURATION}s" --timeout 5s --latency \
            "http://127.0.0.1:$NGINX_PORT${FILE_PATH[$file]}" > "$OUT/wrk/${key}__nginx__run$run.txt"
    done
}

# 100 and 1000 connections for each file (issue 7). Run time: 15 cases x RUNS x 2 servers x
# ~3.1 s per wrk run (default 4 x 3 s: ~372 s), plus ~50 s for the build, the server restarts,
# strace, perf, the fairness runs, the idle connections and the timers: ~420 s. The ceiling before
# it adds ~140 s (four builds of stage 4, 5 x CEILING_RUNS wrk runs): ~560 s estimated, 572 and
# 606 s measured on a clean clone, at issue 7's 10 minutes (4 runs a case, not 5, to make room for
# the ceiling's rounds).
for workers in 1 2; do
    start_ours "$workers"
    start_nginx "$workers"
    for file in 612B 10KiB 1MiB; do run_case "$workers" 100 "$file" 0; done
    for file in 612B 10KiB 1MiB; do run_case "$workers" 1000 "$file" 0; done
    stop_ours
    stop_nginx
done
# Pinned: one worker each, servers on CPU 0 (taskset is inherited by the workers), wrk on CPU 1.
start_ours 1 taskset -c 0
start_nginx 1 taskset -c 0
for file in 612B 10KiB 1MiB; do run_case 1 100 "$file" 1; done

# --- system calls per keep-alive request (strace -c on the one worker) -------------------------
# count_syscalls NAME PORT WORKER_PID FILE: writes $OUT/strace-NAME-FILE.txt
count_syscalls() {
    local name="$1" port="$2" pid="$3" file="$4" out="$OUT/strace-$1-$4.txt" strace_pid
    strace -c -f -p "$pid" -o "$out" 2> "$OUT/strace-$name.err" &
    strace_pid=$!
    for _ in $(seq 100); do grep -q attached "$OUT/strace-$name.err" && break; sleep 0.05; done
    timeout 120 $TOOL requests "$port" "${FILE_PATH[$file]}" "$STRACE_N"
    kill -INT "$strace_pid"
    wait "$strace_pid" || true
}
log "strace -c: $STRACE_N keep-alive requests on one connection, per server and file"
for file in 612B 10KiB; do
    count_syscalls ours "$OUR_PORT" "$(worker_pids "$OUR_PID")" "$file"
    count_syscalls nginx "$NGINX_PORT" "$(worker_pids "$NGINX_PID")" "$file"
done

# --- the parent's system calls per new connection (the acknowledged hand-off, issue 12) -------
# Same count for the baseline: stage 5 as it was before the hand-off was acknowledged, built from
# git (BENCH_BASELINE_REV; skipped when the checkout lacks that commit).
BASELINE_REV="${BENCH_BASELINE_REV:-3beff40}"
PARENT_N=1000
# count_parent_syscalls NAME BINARY: strace -c on the parent of BINARY (2 workers) over PARENT_N
# new connections, one request each; writes $OUT/strace-parent-NAME.txt
count_parent_syscalls() {
    local name="$1" binary="$2" pid port strace_pid
    "$binary" --host 127.0.0.1 --port 0 --workers 2 --root "$WWW" > "$OUT/parent-$name.out" \
        2> "$OUT/parent-$name.err" &
    pid=$!
    port="$(ready_port "$OUT/parent-$name.out")"
    strace -c -p "$pid" -o "$OUT/strace-parent-$name.txt" 2> "$OUT/strace-parent-$name.err" &
    strace_pid=$!
    for _ in $(seq 100); do grep -q attached "$OUT/strace-parent-$name.err" && break; sleep 0.05; done
    timeout 120 $TOOL connections "$port" /index.html "$PARENT_N"
    kill -INT "$strace_pid"
    wait "$strace_pid" || true
    kill -TERM "$pid"
    wait "$pid" || true
}
log "strace -c: the parent over $PARENT_N new connections"
count_parent_syscalls now "$SERVER"
PARENT_BEFORE=""
if git -C "$ROOT_DIR" cat-file -e "$BASELINE_REV^{commit}" 2>/dev/null; then
    mkdir -p "$OUT/baseline"
    git -C "$ROOT_DIR" archive "$BASELINE_REV" stage5_timer_wheel | tar -x -C "$OUT/baseline"
    make -s -C "$OUT/baseline/stage5_timer_wheel" CXXFLAGS='-O2 -g -DNDEBUG' >&2
    count_parent_syscalls before "$OUT/baseline/stage5_timer_wheel/server"
    PARENT_BEFORE=1
fi

# --- fairness: small requests beside a download as fast as the client can read -----------------
# (pinned servers, 1 worker: both connections land on the same worker)
log "fairness: /index.html on one connection while another downloads /4g.bin, 2 x (ours, nginx)"
FAIR_OURS=()
FAIR_NGINX=()
# The clients on CPU 1, the servers alone on CPU 0 (unpinned, they took turns on one core). The
# whole file goes into the page cache first: a run that reads pages for the first time waits on
# them (a 5 s download warmed half the file, and the first run of each server missed p99).
cat "$WWW/4g.bin" >/dev/null
for run in 1 2; do
    FAIR_OURS+=("$(timeout 60 taskset -c 1 $TOOL fairness "$OUR_PORT" /4g.bin /index.html 5)")
    FAIR_NGINX+=("$(timeout 60 taskset -c 1 $TOOL fairness "$NGINX_PORT" /4g.bin /index.html 5)")
done
# fair_cell NAME: "p99 ms | max ms | requests | MB downloaded" of each run, runs separated by " / ".
fair_cell() {
    local -n runs="$1"
    local run out=()
    for run in "${runs[@]}"; do out+=("$(echo "$run" | awk '{print $1 " / " $2 " / " $3 " / " $4}')"); done
    local IFS=";"
    echo "${out[*]}"
}

# --- the same under load: perf counts every system call of the worker during one wrk run -------
# (optional: needs perf with tracepoints; epoll_wait is then shared by many ready connections)
# load_syscalls NAME PORT WORKER_PID: prints "calls per request", or "n/a".
load_syscalls() {
    local name="$1" port="$2" pid="$3" calls requests
    if ! perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then echo "n/a"; return; fi
    perf stat -x, -e raw_syscalls:sys_enter -o "$OUT/perf-$name.txt" -p "$pid" -- \
        taskset -c 1 wrk -t 1 -c 100 -d "${DURATION}s" "http://127.0.0.1:$port/index.html" \
        > "$OUT/perf-wrk-$name.txt"
    calls="$(grep raw_syscalls "$OUT/perf-$name.txt" | cut -d, -f1)"
    requests="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$OUT/perf-wrk-$name.txt")"
    python3 -c "print(f'{$calls / $requests:.2f}')"
}
log "perf stat: system calls per request under wrk -c 100 (612B)"
LOAD_OURS="$(load_syscalls ours "$OUR_PORT" "$(worker_pids "$OUR_PID")")"
LOAD_NGINX="$(load_syscalls nginx "$NGINX_PORT" "$(worker_pids "$NGINX_PID")")"

# --- memory per idle connection (1 worker each, so the sum is one process) --------------------
# Three times each: connections that sent nothing, one small request (~100 bytes), or one of
# ~16 KiB (two 7.9 KiB header lines: nginx refuses a line over 8 KiB), each then left idle.
declare -A MEM
for request in 0 100 16000; do
    log "memory: $IDLE idle connections per server, request of $request bytes first"
    MEM[ours_$request]="$(timeout 180 $TOOL idle "$OUR_PORT" "$IDLE" "$(worker_pids "$OUR_PID")" 170 "$request")"
    MEM[nginx_$request]="$(timeout 180 $TOOL idle "$NGINX_PORT" "$IDLE" "$(worker_pids "$NGINX_PID")" 170 "$request")"
done
stop_ours
stop_nginx

# --- timers ----------------------------------------------------------------------------------
log "Google Benchmark: timers"
timeout 300 "$OUT/timer_bench" --benchmark_format=console --benchmark_counters_tabular=true \
    > "$OUT/timer_bench.txt" 2> "$OUT/timer_bench.err"

# --- report ----------------------------------------------------------------------------------
log "writing $NOTE"
WRK_TABLE="$($TOOL report "$OUT")"
gnuplot <<EOF
set terminal svg size 640,400 dynamic font "sans,12"
set output "$SVG"
set title "Requests/s by file size, 2 workers, 100 keep-alive connections (median of $RUNS)"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set ylabel "requests/s"
set yrange [0:*]
set grid ytics
set key top right
plot "$OUT/chart.dat" using 2:xtic(1) title "stage 5", "" using 3 title "nginx"
EOF

# syscall_summary NAME FILE: "calls/request | top calls" from strace -c output.
syscall_summary() { syscall_summary_n "$OUT/strace-$1-$2.txt" "$STRACE_N"; }
# syscall_summary_n PATH N: the same for any strace -c output over N requests or connections.
syscall_summary_n() {
    python3 - "$1" "$2" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
rows, total = [], None
for line in open(path):
    parts = line.split()
    if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
        calls = int(parts[3])
        rows.append((calls, parts[-1]))
    elif parts and parts[-1] == "total":
        total = int(parts[3])
rows.sort(reverse=True)
top = ", ".join(f"{name} {calls / n:.2f}" for calls, name in rows if calls / n >= 0.01)
print(f"{total / n:.2f} | {top}")
EOF
}

mem_row() {
    local before after
    read -r before after <<< "$1"
    echo "$before | $after | $(( (after - before) * 1024 / IDLE ))"
}

NPROC="$(nproc)"
CPU="$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
KERNEL="$(uname -r)"
NGINX_VERSION="$("$NGINX" -v 2>&1)"
WRK_VERSION="$( (wrk -v 2>&1 || true) | head -1 | sed "s/ Copyright.*//")"
GXX_VERSION="$(g++ --version | head -1)"
ELAPSED=$((SECONDS - START_TIME))
TIMER_RAW="$(grep -E '^(add|remove|refresh|tick)/' "$OUT/timer_bench.txt" | sed 's|/iterations:[0-9]*/manual_time||' | awk '{printf "%-22s %12s %s\n", $1, $2, $3}')"
TIMER_TABLE="$(python3 - "$OUT/timer_bench.txt" <<'EOF'
import re, sys
t = {}
for line in open(sys.argv[1]):
    m = re.match(r"^(\w+)/(\w+)/(\d+)/\S*\s+([\d.]+) ns", line)
    if m:
        t[(m.group(1), m.group(2), int(m.group(3)))] = float(m.group(4))
print("| op | n | wheel ns | heap ns | list ns | list / wheel |")
print("|---|---|---|---|---|---|")
for op in ("add", "remove", "refresh", "tick"):
    for n in (1000, 10000, 100000, 1000000):
        w, h, l = (t.get((op, s, n), float("nan")) for s in ("wheel", "heap", "list"))
        r = l / w
        print(f"| {op} | {n:,} | {w:,.1f} | {h:,.1f} | {l:,.1f} | {r:,.0f}x |" if r >= 10 else
              f"| {op} | {n:,} | {w:,.1f} | {h:,.1f} | {l:,.1f} | {r:.2f}x |")
for op in ("add", "remove", "refresh"):
    lo, hi = t.get((op, "wheel", 1000)), t.get((op, "wheel", 1000000))
    if lo and hi:
        print(f"\nWheel {op}: {lo:.1f} ns at 1k, {hi:.1f} ns at 1M ({hi / lo:.1f}x); ", end="")
        r = t[(op, 'list', 100000)] / t[(op, 'wheel', 100000)]
        print(f"list/wheel at 100k: {r:,.0f}x." if r >= 10 else f"list/wheel at 100k: {r:.2f}x.")
EOF
)"

# --- the pages: notes/performance.md and its Chinese edition, from the same figures -------
# write_pages writes $NOTE, then $NOTE_ZH (the same interpolated figures, tables and code blocks;
# prose and table headers in Chinese, tests/bench/performance-notes.zh.md appended), then stamps
# the Chinese page. A function so that the page-writing can be tried alone with stub figures.
BENCH_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"   # once, so both pages show the same date
NOTE_ZH="$ROOT_DIR/notes/zh/performance.md"
# shellcheck disable=SC1111  # the Chinese page's quotation marks “” are text, not shell quotes
write_pages() {
# The generated tables in Chinese: the same rows, Chinese headers (a format benchtool.py or the
# TIMER_TABLE python no longer prints is left as it is, in English).
local wrk_head_en="| case | workers | conns | file | ours req/s | nginx req/s | ratio req/s | ours p99 ms | nginx p99 ms | runs | target | verdict |"
local wrk_head_zh="| 场景 | 工作进程 | 连接数 | 文件 | 我们 req/s | nginx req/s | 比值 req/s | 我们 p99 ms | nginx p99 ms | 各次运行 | 目标 | 结论 |"
local WRK_TABLE_ZH="${WRK_TABLE/"$wrk_head_en"/"$wrk_head_zh"}"
local TIMER_TABLE_ZH
TIMER_TABLE_ZH="$(sed -E \
    -e 's/^\| op \| n \| wheel ns \| heap ns \| list ns \| list \/ wheel \|$/| 操作 | n | 时间轮 ns | 时间堆 ns | 链表 ns | 链表 \/ 时间轮 |/' \
    -e 's/^Wheel (add|remove|refresh): ([0-9.,]+) ns at 1k, ([0-9.,]+) ns at 1M \(([0-9.,]+x)\); list\/wheel at 100k: ([0-9.,]+x)\.$/时间轮的 \1：1k 个定时器时 \2 ns，1M 个时 \3 ns（\4）；100k 时链表与时间轮之比为 \5。/' \
    <<< "$TIMER_TABLE")"
# The stamps of the hand-written sections before this run (see stamp_zh_page).
local before="$OUT/performance.zh.before.md"
rm -f "$before"
if [[ -f "$NOTE_ZH" ]]; then cp "$NOTE_ZH" "$before"; fi

{
cat <<NOTE_EOF
# Performance: stage 5 against nginx

This page is written by \`make bench\` (tests/bench/run_bench.sh); the figures below are one real
run, as measured, hits and misses alike. Run it again on your machine: the absolute numbers will
differ, the method will not.

## How to read these numbers

- **Two cores, shared.** wrk runs on the same machine and competes with the server for the two
  CPUs; the machine is also shared with other work, so two runs a minute apart can differ by 10 %
  or more. Absolute requests/s are therefore only comparable *within one run*. The figure that
  means something is the **ratio ours/nginx**, measured run by run, interleaved (ours, nginx,
  ours, nginx, ...) so that both servers see the same noise: run i of ours is divided by run i
  of nginx (the run right after it), and the "ratio req/s" column is the median of these $RUNS
  per-pair ratios (runs of ${DURATION} s each), not the ratio of the two median columns, which
  can differ from it a little. The p99 verdict is judged the same way (median of the per-pair
  p99 ratios <= 1).
- **2 workers on 2 cores** means the servers' workers and wrk's two threads fight for the same
  two cores: that case measures CPU efficiency (work per request) more than parallelism.
- The **pinned** rows give the cleanest comparison: the server (1 worker) on CPU 0, wrk (1 thread)
  on CPU 1, with \`taskset\`.
- p99 is wrk's 99th percentile latency (\`--latency\`). With 100 connections and a saturated
  server it is mostly queueing: a server that answers more requests per second also has lower p99.
- System calls per request come from \`strace -c\` on the (only) worker over $STRACE_N requests sent
  one at a time on one keep-alive connection; strace slows the server down, but counts are exact.
  The count includes the few calls of the 1 s SIGALRM tick and the connection's accept.
- Memory per idle connection: the worker's RSS before and after $IDLE idle connections are opened
  (and accepted), divided by $IDLE. Kernel socket buffers are not in RSS and are the same for both.

## Machine and versions

| | |
|---|---|
| CPUs (nproc) | $NPROC |
| CPU model | $CPU |
| kernel | $KERNEL |
| nginx | $NGINX_VERSION |
| wrk | $WRK_VERSION |
| g++ | $GXX_VERSION |
| date | $BENCH_DATE |
| \`make bench\` run time | ${ELAPSED} s (without the \`make all\` before it) |

## Commands

\`\`\`
# stage 5, built with: make -C build/bench/src CXXFLAGS='-O2 -g -DNDEBUG'
build/bench/src/server --host 127.0.0.1 --port 0 --workers W --root build/bench/www
# nginx, config generated from tests/bench/nginx.conf.in (worker_processes W, access_log off,
# sendfile on, keepalive_requests 100000000, worker_rlimit_nofile 65536, daemon off)
nginx -p build/bench/ -e build/bench/nginx-error.log -c build/bench/nginx.conf
# load, per case: RUNS x (ours, nginx), W = 1 then 2
wrk -t 2 -c 100 -d ${DURATION}s --timeout 5s --latency http://127.0.0.1:PORT/index.html   # also /10k.bin, /1m.bin
wrk -t 2 -c 1000 -d ${DURATION}s --timeout 5s --latency http://127.0.0.1:PORT/index.html  # also /10k.bin, /1m.bin
# pinned: server started under taskset -c 0 with 1 worker, and
taskset -c 1 wrk -t 1 -c 100 -d ${DURATION}s --timeout 5s --latency http://127.0.0.1:PORT/FILE
# system calls: strace -c -f -p WORKER_PID while
tests/bench/benchtool.py requests PORT /index.html $STRACE_N
# memory: tests/bench/benchtool.py idle PORT $IDLE WORKER_PID 100
# timers: g++ -O2 -DNDEBUG ... tests/bench/timer_bench.cpp stage5_timer_wheel/time_wheel.cpp -lbenchmark
build/bench/timer_bench --benchmark_counters_tabular=true
\`\`\`

Docroot (build/bench/www): \`index.html\` 612 bytes, \`10k.bin\` 10 240 bytes, \`1m.bin\`
1 048 576 bytes.

<a id="rps"></a>
## Requests per second and p99 latency (median of $RUNS runs)

Targets (issue 7): ours/nginx >= 1.0 for 612 B and 10 KiB, >= 0.9 for 1 MiB, with 1 and 2
workers and 100 connections; p99 no worse than nginx's. The 1000-connection and pinned rows are
reported without a target. "runs" lists every run's req/s in run order: the i-th figure of
each list is one interleaved pair, and "ratio req/s" is the median of their ratios.

$WRK_TABLE

![req/s by file size, 2 workers, 100 connections](figures/bench-rps.svg)

<a id="ceiling"></a>
## The ceiling: a null responder

Target (issue 17): stage 4 with lab open-file-cache's answer key reaches at least 0.9x the
requests/s of a null responder. The null responder is stage 4 with its file lookup replaced by
one fixed 612-byte page held in memory (\`tests/bench/null-responder.patch\`): the same process
pool, loop, parser and response head, but no file system, one \`send\` per response. No build
of ours that reads the page from a file can beat it, so it is the ceiling they are measured
against; nginx is there for scale. Per keep-alive request (strace -c, one connection), besides epoll_wait and read: stage 4
calls openat2, fstat, send, sendfile and close; with the cache, a file of at most 16 KiB is
answered from memory, send only (and one fstatat per second to check it), as the null responder is. All of them serve the 612B page pinned as in the pinned rows (1 worker on CPU
0, \`taskset -c 1 wrk -t 1 -c 100 -d ${DURATION}s\` on CPU 1), in $CEILING_RUNS rounds of one run
each, the order rotated every round; "ratio to the null responder" is the median of the
per-round ratios, and "runs" lists each server's req/s round by round. The fifth row is stage 4
as it was before \`--trace\` existed (git $TRACE_BASELINE_REV), run in the same rounds: the line
under the table says what the trace call sites cost when tracing is off (issue 18).

$CEILING_TABLE

<a id="syscalls-per-request"></a>
## System calls per keep-alive request

Target: ours <= nginx.

| server | file | calls/request | per request, by call |
|---|---|---|---|
| stage 5 | 612B | $(syscall_summary ours 612B) |
| nginx | 612B | $(syscall_summary nginx 612B) |
| stage 5 | 10KiB | $(syscall_summary ours 10KiB) |
| nginx | 10KiB | $(syscall_summary nginx 10KiB) |

Under load (pinned server, 1 worker, \`taskset -c 1 wrk -t 1 -c 100 -d ${DURATION}s\` on 612B,
every system call of the worker counted by \`perf stat -e raw_syscalls:sys_enter -p WORKER\`,
divided by the requests wrk completed): stage 5 **$LOAD_OURS**, nginx **$LOAD_NGINX** calls per
request. Here one epoll_wait serves many ready connections, so both counts drop below the
single-connection figure above.

<a id="parent-syscalls"></a>
## The parent's system calls per new connection

The parent never accepts: per connection it wakes a worker with one byte, and since the hand-off
is acknowledged (a worker answers every wake-up so that a frozen worker is noticed and skipped)
it also reads the answer. \`strace -c -p PARENT\` (2 workers, the parent only) over $PARENT_N new
connections made one after another, one request each; "before" is stage 5 at $BASELINE_REV,
before the acknowledgement.

| parent | calls/connection | per connection, by call |
|---|---|---|
| stage 5 now | $(syscall_summary_n "$OUT/strace-parent-now.txt" "$PARENT_N") |
$( [[ -n "$PARENT_BEFORE" ]] && echo "| stage 5 at $BASELINE_REV | $(syscall_summary_n "$OUT/strace-parent-before.txt" "$PARENT_N") |" )

<a id="fairness"></a>
## Fairness: small requests beside a fast download

Target (issue 13): while one client downloads a 4 GiB file as fast as it can, small requests on
another connection of the same worker: p99 <= 10 ms, max <= 50 ms. One worker each (pinned to
CPU 0, as above), \`taskset -c 1 tests/bench/benchtool.py fairness PORT /4g.bin /index.html 5\`
(the clients on CPU 1, after the whole file has been read into the page cache): a Python
client downloads on one connection while another sends \`GET /index.html\` on a keep-alive
connection every 2 ms; two runs each, interleaved. The downloader is a process of its own, so the two
clients do not share Python's interpreter lock. We send at most 1 MiB of a file per connection
and loop turn; nginx 1.22 sends at most 2 MiB (\`sendfile_max_chunk\`'s default).

| server | p99 ms / max ms / requests / MB downloaded, per run |
|---|---|
| stage 5 | $(fair_cell FAIR_OURS) |
| nginx | $(fair_cell FAIR_NGINX) |

<a id="memory-per-connection"></a>
## Memory per idle connection

Target: ours <= nginx, whatever the connection's last request was (issue 13: a connection must
not keep what a large request grew). RSS of the one worker in KiB, bytes per connection =
(after - before) x 1024 / $IDLE. Each connection first sent nothing, one small GET, or one GET of
about 16 KiB (read its answer), then stayed idle.

| server | request before idling | RSS before (KiB) | RSS with $IDLE idle (KiB) | bytes per idle connection |
|---|---|---|---|---|
| stage 5 | none | $(mem_row "${MEM[ours_0]}") |
| nginx | none | $(mem_row "${MEM[nginx_0]}") |
| stage 5 | ~100 bytes | $(mem_row "${MEM[ours_100]}") |
| nginx | ~100 bytes | $(mem_row "${MEM[nginx_100]}") |
| stage 5 | ~16 KiB | $(mem_row "${MEM[ours_16000]}") |
| nginx | ~16 KiB | $(mem_row "${MEM[nginx_16000]}") |

<a id="timers"></a>
## Timers (Google Benchmark)

Nanoseconds per operation ("Time" column; per tick for tick), n timers already armed, every
timer due 2..61 ticks ahead. The iteration counts are fixed per structure and size
(tests/bench/timer_bench.cpp), so the sorted list runs at every size, 1M included, in bounded
time (few iterations there: its figures at 100k and 1M rest on 20..100 batches). Targets:
add/remove flat from 1k to 1M for the wheel; wheel >= 50x faster than the sorted list at 100k.

\`\`\`
$TIMER_RAW
\`\`\`

$TIMER_TABLE
NOTE_EOF
cat "$ROOT_DIR/tests/bench/performance-notes.md" 2>/dev/null || true
} > "$NOTE"
mkdir -p "$(dirname "$NOTE_ZH")"
{
cat <<NOTE_ZH_EOF
# 性能：第 5 章对比 nginx

本页由 \`make bench\`（tests/bench/run_bench.sh）生成，与英文版 performance.md 在同一次运行中写出；
下面的数字来自一次真实的运行，照实记录，达标的和没达标的都在。在你自己的机器上再跑一次：绝对数值会不同，
方法不会变。

## 如何解读这些数字

- **两个核，而且是共享的。** wrk 和服务器运行在同一台机器上，和服务器争抢这两个 CPU；这台机器还同时在做
  别的工作，所以相隔一分钟的两次运行可能相差 10 % 甚至更多。因此，每秒请求数的绝对值只有在*同一次运行之
  内*才能比较。有意义的数字是**我们与 nginx 的比值**（ours/nginx），它是一次一次交替测出来的（我
  们、nginx、我们、nginx……），好让两个服务器经受同样的噪声：我们的第 i 次运行除以 nginx 的第 i 次运行
  （紧跟其后的那次），“比值 req/s”一列是这 $RUNS 对比值的中位数（每次运行 ${DURATION} s），
  而不是两个中位数列之比，后者可能与它略有差别。p99 的结论也按同样的方法判定（各对 p99 比值的中位
  数 <= 1）。
- **2 个工作进程跑在 2 个核上**，意味着服务器的工作进程（worker）和 wrk 的两个线程在争抢同样的两个核：
  这个场景衡量的更多是 CPU 效率（每个请求的工作量），而不是并行能力。
- **绑核**（pinned）的几行给出最干净的比较：用 \`taskset\` 把服务器（1 个工作进程）
  绑在 CPU 0 上，wrk（1 个线程）绑在 CPU 1 上。
- p99 是 wrk 给出的第 99 百分位延迟（\`--latency\`）。在 100 个连接、服务器满载的情况下，
  它主要是排队时间：每秒能给出更多响应（response）的服务器，p99 也更低。
- 每个请求的系统调用数来自对（唯一的）工作进程运行的 \`strace -c\`，期间在一个长连接（keep-alive）
  上一个接一个地发送 $STRACE_N 个请求；strace 会拖慢服务器，但计数是精确的。计数里包括每秒一次
  的 SIGALRM 滴答（tick）产生的少量调用，以及接受这个连接时的 accept。
- 每个非活动连接（idle connection）的内存：打开（并被接受）$IDLE 个非活动连接之前和之后工作进程的 RSS 之
  差，除以 $IDLE。内核（kernel）的 socket 缓冲区不计入 RSS，而且对两个服务器是一样的。

## 机器与版本

| | |
|---|---|
| CPU 数（nproc） | $NPROC |
| CPU 型号 | $CPU |
| 内核 | $KERNEL |
| nginx | $NGINX_VERSION |
| wrk | $WRK_VERSION |
| g++ | $GXX_VERSION |
| 日期 | $BENCH_DATE |
| \`make bench\` 运行时间 | ${ELAPSED} s（不含它之前的 \`make all\`） |

## 命令

\`\`\`
# 第 5 章，构建命令：make -C build/bench/src CXXFLAGS='-O2 -g -DNDEBUG'
build/bench/src/server --host 127.0.0.1 --port 0 --workers W --root build/bench/www
# nginx，配置由 tests/bench/nginx.conf.in 生成（worker_processes W, access_log off,
# sendfile on, keepalive_requests 100000000, worker_rlimit_nofile 65536, daemon off）
nginx -p build/bench/ -e build/bench/nginx-error.log -c build/bench/nginx.conf
# 负载，每个场景：RUNS x (ours, nginx)，W 先取 1 再取 2
wrk -t 2 -c 100 -d ${DURATION}s --timeout 5s --latency http://127.0.0.1:PORT/index.html   # 还有 /10k.bin、/1m.bin
wrk -t 2 -c 1000 -d ${DURATION}s --timeout 5s --latency http://127.0.0.1:PORT/index.html  # 还有 /10k.bin、/1m.bin
# 绑核：服务器在 taskset -c 0 下以 1 个工作进程启动，然后
taskset -c 1 wrk -t 1 -c 100 -d ${DURATION}s --timeout 5s --latency http://127.0.0.1:PORT/FILE
# 系统调用：strace -c -f -p WORKER_PID，同时运行
tests/bench/benchtool.py requests PORT /index.html $STRACE_N
# 内存：tests/bench/benchtool.py idle PORT $IDLE WORKER_PID 100
# 定时器：g++ -O2 -DNDEBUG ... tests/bench/timer_bench.cpp stage5_timer_wheel/time_wheel.cpp -lbenchmark
build/bench/timer_bench --benchmark_counters_tabular=true
\`\`\`

网站根目录（document root，build/bench/www）：\`index.html\` 612 字节，\`10k.bin\` 10 240 字
节，\`1m.bin\` 1 048 576 字节。

<a id="rps"></a>
## 每秒请求数与 p99 延迟（$RUNS 次运行的中位数）

目标（issue 7）：1 个和 2 个工作进程、100 个连接
时，612 B 和 10 KiB 的 ours/nginx >= 1.0，1 MiB 的 >= 0.9；p99 不比 nginx 差。1000 个连接的几行和绑核的
几行只报告，不设目标。“各次运行”一列按运行顺序列出每次运行的 req/s：每个列表的第 i 个数构成交替运行的一
对，“比值 req/s”是这些对的比值的中位数。表中由工具生成的标签保持英文：shared 表示共享两个核，pinned 表示
绑核，ours 是我们的服务器，met 表示达标，MISSED 表示未达标并给出差距。

$WRK_TABLE_ZH

![按文件大小的 req/s，2 个工作进程，100 个连接](../figures/bench-rps.svg)

<a id="ceiling"></a>
## 上限：空响应器（null responder）

目标（issue 17）：第 4 章加上实验 open-file-cache 的参考答案，每秒请求数至少达到空响应器的 0.9 倍。
空响应器是把第 4 章的文件查找换成内存里一个固定的 612 字节页面的版本（\`tests/bench/null-responder.patch\`）：
进程池、事件循环、解析器和响应头都一样，只是不碰文件系统，每个响应一次 \`send\`。我们从文件读页面的各个版本都不可能比它快，
所以它是衡量它们的上限；nginx 列在这里作为参照。每个长连接请求的系统调用（strace -c，一个连接），除了 epoll_wait 和 read 之外：
第 4 章要调用 openat2、fstat、send、sendfile 和 close；加上缓存后，不超过 16 KiB 的文件直接从内存回答，只有 send（外加每秒一次检查用的 fstatat），和空响应器一样。
这些服务器都按绑核那几行的方式提供 612B 页面
（1 个工作进程绑在 CPU 0 上，\`taskset -c 1 wrk -t 1 -c 100 -d ${DURATION}s\` 绑在 CPU 1 上），跑 $CEILING_RUNS 轮，每轮每个服务器一次，每轮轮换顺序；“与空响应器之比”是各轮比值的中位数，
“各次运行”一列按轮次列出每个服务器的 req/s。表中由工具生成的 met 表示达标，MISSED 表示未达标并给出差距。
第五行是加入 \`--trace\` 之前的第 4 章（git $TRACE_BASELINE_REV），在同样的几轮里运行：表下那一行给出关闭跟踪时各个跟踪调用点的代价（issue 18）。

$CEILING_TABLE_ZH

<a id="syscalls-per-request"></a>
## 每个长连接请求的系统调用

目标：我们的 <= nginx 的。

| 服务器 | 文件 | 每个请求的调用次数 | 每个请求，按调用分 |
|---|---|---|---|
| 第 5 章 | 612B | $(syscall_summary ours 612B) |
| nginx | 612B | $(syscall_summary nginx 612B) |
| 第 5 章 | 10KiB | $(syscall_summary ours 10KiB) |
| nginx | 10KiB | $(syscall_summary nginx 10KiB) |

有负载时（服务器绑核、1 个工作进程，\`taskset -c 1 wrk -t 1 -c 100 -d ${DURATION}s\` 请求 612B，
用 \`perf stat -e raw_syscalls:sys_enter -p WORKER\` 统计工作进程的每一次系统调用，再除以 wrk 完成的请求
数）：第 5 章每个请求 **$LOAD_OURS** 次调用，nginx **$LOAD_NGINX** 次。这时一次 epoll_wait 服务许多个就
绪的连接，所以两个数都低于上面单连接的数字。

<a id="parent-syscalls"></a>
## 父进程在每个新连接上的系统调用

父进程（parent）从不 accept：每来一个连接，它用一个字节唤醒一个工作进程；而自从分派（hand-off）
改为带应答（acknowledgement）（工作进程对每次唤醒都给出应答，这样被冻结的工作进程（frozen worker）
会被发现并跳过）之后，它还要读回这个应答。\`strace -c -p PARENT\`（2 个工作进程，只跟踪父进程），
一个接一个地建立 $PARENT_N 个新连接，每个连接一个请求；“之前”指 $BASELINE_REV 时的第 5 章，
即加入应答之前。

| 父进程 | 每个连接的调用次数 | 每个连接，按调用分 |
|---|---|---|
| 第 5 章（现在） | $(syscall_summary_n "$OUT/strace-parent-now.txt" "$PARENT_N") |
$( [[ -n "$PARENT_BEFORE" ]] && echo "| 第 5 章（$BASELINE_REV 时） | $(syscall_summary_n "$OUT/strace-parent-before.txt" "$PARENT_N") |" )

<a id="fairness"></a>
## 公平性（fairness）：快速下载旁边的小请求

目标（issue 13）：一个客户端（client）以最快速度下载一个 4 GiB 的文件时，同一个工作进程上另一个连接的小
请求：p99 <= 10 ms，最大值 <= 50 ms。两边各 1 个工作进程（和上面一样绑在 CPU 0 上），
运行 \`taskset -c 1 tests/bench/benchtool.py fairness PORT /4g.bin /index.html 5\`（客户端绑在 CPU 1 上，
之前先把整个文件读进页缓存）：一个 Python 客户端在一个连接上下
载，另一个每 2 ms 在一个长连接上发一次 \`GET /index.html\`；两边各跑两次，交替进行。下载方是一个单独的进
程，所以两个客户端不共用 Python 的解释器锁。我们每个连接每轮循环（loop turn）
最多发送一个文件的 1 MiB；nginx 1.22 最多发送 2 MiB（\`sendfile_max_chunk\` 的默认值）。

| 服务器 | 每次运行的 p99 ms / 最大值 ms / 请求数 / 下载 MB |
|---|---|
| 第 5 章 | $(fair_cell FAIR_OURS) |
| nginx | $(fair_cell FAIR_NGINX) |

<a id="memory-per-connection"></a>
## 每个非活动连接的内存

目标：无论连接的最后一个请求是什么，我们的 <= nginx 的（issue 13：连接不能一直占着大请求撑大的内存）。
数据是那一个工作进程的 RSS，单位 KiB；每个连接的字节数 = (after - before) x 1024 / $IDLE。
每个连接先什么都不发、发一个小 GET，或者发一个约 16 KiB 的 GET（并读完响应），然后保持空闲。

| 服务器 | 空闲前的请求 | 之前的 RSS（KiB） | $IDLE 个非活动连接时的 RSS（KiB） | 每个非活动连接的字节数 |
|---|---|---|---|---|
| 第 5 章 | 无 | $(mem_row "${MEM[ours_0]}") |
| nginx | 无 | $(mem_row "${MEM[nginx_0]}") |
| 第 5 章 | 约 100 字节 | $(mem_row "${MEM[ours_100]}") |
| nginx | 约 100 字节 | $(mem_row "${MEM[nginx_100]}") |
| 第 5 章 | 约 16 KiB | $(mem_row "${MEM[ours_16000]}") |
| nginx | 约 16 KiB | $(mem_row "${MEM[nginx_16000]}") |

<a id="timers"></a>
## 定时器（Google Benchmark）

每次操作的纳秒数（“Time”一列；tick 按每次滴答计），n 为事先已经设置（arm）好的定时器（timer）个数，
每个定时器在 2..61 个滴答之后到期。迭代次数按数据结构和规模固定（tests/bench/timer_bench.cpp），
所以升序定时器链表（ascending timer list）在每种规模下都能在有限的时间内跑完，包括 1M（那里迭代很少：
它在 100k 和 1M 的数据只基于 20..100 批）。目标：时间轮（time wheel）的 add/remove 从 1k 到 1M 保持平
坦；100k 时时间轮比升序定时器链表快 >= 50 倍。

\`\`\`
$TIMER_RAW
\`\`\`

$TIMER_TABLE_ZH
NOTE_ZH_EOF
cat "$ROOT_DIR/tests/bench/performance-notes.zh.md" 2>/dev/null || true
} > "$NOTE_ZH"
# One line per paragraph: a line break between two Chinese characters shows as a space.
python3 "$ROOT_DIR/tools/zh_unwrap.py" "$NOTE_ZH" >/dev/null
stamp_zh_page "$before"
}

# stamp_zh_page BEFORE: both pages come from one run, so the generated sections of the Chinese
# page say what the English ones say: stamp them (tools/check_editions.py --stamp). The
# hand-written sections (performance-notes.zh.md) keep the stamps they had in BEFORE (the Chinese
# page as it was): only a translator can say that they follow tests/bench/performance-notes.md,
# so when that file changed, tools/check_editions.py names the section to translate (in
# performance-notes.zh.md and in the page, then `tools/check_editions.py --stamp` the page). A
# hand-written section that BEFORE lacks is left unstamped; with no BEFORE, all are stamped.
stamp_zh_page() {
    if ! python3 "$ROOT_DIR/tools/check_editions.py" --stamp "$NOTE_ZH" >&2; then
        log "$NOTE_ZH: not stamped (see above): bring tests/bench/performance-notes.zh.md up to date"
        return 0
    fi
    [[ -f "$1" ]] || return 0
    python3 - "$ROOT_DIR" "$NOTE_ZH" "$1" "$ROOT_DIR/tests/bench/performance-notes.zh.md" <<'EOF'
import os, sys
root, page, before, notes = sys.argv[1:]
sys.path.insert(0, os.path.join(root, "tools"))
from check_editions import Page
if not os.path.exists(notes):
    sys.exit(0)
hand = len(Page("/", notes).headings)
new, old = Page("/", page), Page("/", before)
old_stamps = {old.lines[i].strip(): s for (i, _), s in zip(old.headings, old.stamps())}
lines = list(new.lines)
for i, _ in reversed(new.headings[len(new.headings) - hand:]):
    kept = old_stamps.get(lines[i].strip())
    if kept:
        lines[i + 1] = f"<!-- en: {kept} -->"
    else:
        del lines[i + 1]
open(page, "w", encoding="utf-8").write("\n".join(lines))
EOF
}

write_pages
cat "$NOTE"
log "done in $((SECONDS - START_TIME)) s; wrote $NOTE, $NOTE_ZH and $SVG"
