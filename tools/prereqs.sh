#!/usr/bin/env bash
# prereqs.sh WHAT — are the tools for `make WHAT` installed?
# WHAT is one or more of build|test|check|docs|bench|fuzz|class|labs (class: the notes' demos;
# labs: what the labs' graders start besides the course's server).
#
# Fast when everything is there (no apt call). When something is missing it names the Debian
# packages to install; as root it installs them itself (apt-get update + apt-get install -y),
# otherwise it prints the `sudo apt-get install ...` line and exits 1.
set -euo pipefail

# Missing Debian packages, collected by the need_* checks below (no duplicates, in order).
missing=()
# What was missing, for the message: "doxygen (doxygen)".
why=()

# want PACKAGE WHAT: record that PACKAGE provides the missing WHAT.
want() {
    local pkg="$1"
    why+=("$2 ($pkg)")
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
}

# need_cmd PACKAGE CMD...: the package provides these commands (looked up in PATH and sbin).
need_cmd() {
    local pkg="$1" cmd
    shift
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || [[ -x "/usr/sbin/$cmd" || -x "/sbin/$cmd" ]] ||
            want "$pkg" "$cmd"
    done
}

# need_glob PACKAGE WHAT GLOB...: the package provides a file matching one of the globs.
need_glob() {
    local pkg="$1" what="$2" pattern
    shift 2
    for pattern in "$@"; do
        compgen -G "$pattern" >/dev/null && return 0
    done
    want "$pkg" "$what"
}

# need_libfuzzer: clang++ and its libFuzzer runtime (libclang_rt.fuzzer-ARCH.a).
need_libfuzzer() {
    if ! command -v clang++ >/dev/null 2>&1; then
        want clang clang++
        want libclang-rt-14-dev "libFuzzer runtime"
        return
    fi
    # Debian's usual place first (no process to start), then ask clang where its runtime lives.
    compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-$(uname -m).a" \
        >/dev/null && return 0
    local dir
    dir="$(clang++ --print-resource-dir 2>/dev/null || true)"
    need_glob libclang-rt-14-dev "libFuzzer runtime" \
        "$dir/lib/linux/libclang_rt.fuzzer-$(uname -m).a" "$dir/lib/*/libclang_rt.fuzzer*.a"
}

# check WHAT: run the checks for one make target.
check() {
    case "$1" in
        build)
            need_cmd g++ g++
            need_cmd make make ;;
        test)
            need_cmd g++ g++
            need_cmd make make
            need_cmd python3 python3  # tools/shard_plan.py balances the shards
            need_glob libgtest-dev "GoogleTest headers" /usr/include/gtest/gtest.h
            need_glob libgtest-dev "GoogleTest library" /usr/lib/*/libgtest.a /usr/lib/libgtest.a ;;
        check)
            need_cmd python3 python3
            need_cmd g++ g++
            need_cmd gcc cc
            need_cmd make make ;;
        docs)
            need_cmd doxygen doxygen
            need_cmd graphviz dot
            need_cmd python3 python3
            # The figures' labels are English and 中文: without a CJK font Graphviz measures
            # Chinese text wrongly and the boxes do not fit it.
            need_glob fonts-noto-cjk "a CJK font (Noto Sans CJK)" \
                /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ;;
        bench)
            need_cmd g++ g++
            need_cmd make make
            need_cmd nginx nginx
            need_cmd wrk wrk
            need_cmd gnuplot-nox gnuplot
            need_cmd strace strace
            # run_bench.sh and benchtool.py: not all in a minimal Debian 12 image (no ps there).
            need_cmd python3 python3
            need_cmd procps ps
            need_cmd util-linux taskset
            need_cmd mawk awk
            # perf counts system calls under load; without it (or without tracepoint access)
            # that one figure reads "n/a" and the rest of the bench runs.
            need_cmd linux-perf perf
            need_glob libbenchmark-dev "Google Benchmark headers" /usr/include/benchmark/benchmark.h
            need_glob libbenchmark-dev "Google Benchmark library" \
                /usr/lib/*/libbenchmark.so /usr/lib/*/libbenchmark.a ;;
        fuzz)
            need_cmd make make
            need_libfuzzer ;;
        labs)
            # Lab load-balancer puts nginx in front of three of our servers.
            need_cmd nginx nginx ;;
        class)
            # The clients and tools of the notes' demos. Only netcat-openbsd has -N and -q
            # (Debian 12 has no package called netcat); setsid and prlimit are util-linux's.
            need_glob netcat-openbsd "nc with -N (netcat-openbsd)" /bin/nc.openbsd /usr/bin/nc.openbsd
            need_cmd curl curl
            need_cmd strace strace
            need_cmd gdb gdb
            need_cmd procps ps
            need_cmd util-linux setsid prlimit
            need_cmd python3 python3 ;;
        *)
            echo "usage: tools/prereqs.sh WHAT... (build|test|check|docs|bench|fuzz|class|labs)" >&2
            exit 2 ;;
    esac
}

[[ $# -ge 1 ]] || { echo "usage: tools/prereqs.sh WHAT... (build|test|check|docs|bench|fuzz|class|labs)" >&2; exit 2; }
what="$*"
for one in "$@"; do check "$one"; done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "prereqs: 'make $what' needs: ${why[*]}" >&2
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "prereqs: install them with:  sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "prereqs: running as root, installing: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
# Check again: an install that "succeeded" without providing the tool must not pass silently.
missing=()
why=()
for one in "$@"; do check "$one"; done
if [[ ${#missing[@]} -ne 0 ]]; then
    echo "prereqs: still missing after the install: ${why[*]}" >&2
    exit 1
fi
echo "prereqs: installed; 'make $what' can go on" >&2
