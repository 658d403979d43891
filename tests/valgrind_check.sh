#!/usr/bin/env bash
# Runs a subset of the stage-5 integration tests against the stage-5 server, twice:
#   1. under LeakSanitizer (the server built with SANITIZE=1): the production code path, real
#      openat2 included; every server process must exit without a leak report;
#   2. under valgrind: no leak and no memory error (uninitialised reads, which ASan does not see)
#      in any server process (parent and each worker).
#   tests/valgrind_check.sh [GTEST_FILTER]
# Every server process gets its own log. The harness stops servers with SIGTERM before its usual
# SIGKILL (HARNESS_STOP_WITH_SIGTERM), so each process exits cleanly and can report; a process
# that a test kills on purpose (a worker SIGKILLed to test the pool) has no report and is listed
# as such, not as a leak.
# Exit status: 0 no leak and no valgrind error; 1 a leak or error; 2 cannot run.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# Tests that start servers and end them normally; the timing-window tests (Timeout.*, the signal
# flood) and the big bursts are left out: valgrind makes the server 20-50x slower. So is the
# stray-signal test: valgrind takes signals itself first (it reserves real-time ones).
filter=${1:-'Http.*:*HostileRequest*:Faults.ClientResetting*:Faults.ClientClosing*:Faults.FileTruncated*:Faults.WorkerKilled*:Signals.*:Pool.Sig*:Pool.Ctrl*:Pool.Every*:RoundRobin.*:Timeout.IdleConnectionIsClosed:Graceful.*-Signals.ASigusr1Flood*:Signals.StraySignals*'}
server="$root/stage5_timer_wheel/server"
tests="$root/build/tests/stage5/tests"

command -v valgrind >/dev/null || { echo "valgrind_check: valgrind not installed"; exit 2; }
make --no-print-directory -s -C "$root/stage5_timer_wheel" >/dev/null || exit 2
make --no-print-directory -s -C "$root/tests" build STAGES=5 >/dev/null || exit 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/logs"

# --- 1. LeakSanitizer, the production path -------------------------------------------------------
mkdir "$work/asan" "$work/lsan"
cp -r "$root/stage5_timer_wheel" "$work/asan/stage5"
make --no-print-directory -s -C "$work/asan/stage5" clean >/dev/null
make --no-print-directory -s -C "$work/asan/stage5" SANITIZE=1 >/dev/null || exit 2
echo "valgrind_check: $tests --gtest_filter='$filter' (SERVER built with ASan, leaks checked at exit)"
SERVER="$work/asan/stage5/server" HARNESS_STOP_WITH_SIGTERM=1 \
  ASAN_OPTIONS="detect_leaks=1:log_path=$work/lsan/report" \
  "$tests" --gtest_filter="$filter" --gtest_brief=1 >"$work/asan.log" 2>&1
asan_status=$?
grep -E '^\[  (PASSED|FAILED)  \]|tests? ran' "$work/asan.log"
if [[ $asan_status -ne 0 ]]; then
  grep -B5 -A20 'Failure' "$work/asan.log" | head -100
  echo "valgrind_check: FAILED: tests failed with the server built with ASan"
  exit 1
fi
if ! grep -q -E '^\[  PASSED  \] [1-9]' "$work/asan.log"; then
  echo "valgrind_check: no test ran"
  exit 2
fi
if grep -l -E 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error' "$work"/lsan/report.* 2>/dev/null; then
  grep -h -A30 -E 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error' "$work"/lsan/report.* | head -120
  echo "valgrind_check: FAILED: a server process reported a leak or an error under ASan"
  exit 1
fi
echo "valgrind_check: no leak under LeakSanitizer (real openat2)"

# --- 2. valgrind ----------------------------------------------------------------------------------
# Valgrind 3.19 (Debian 12, also in its backports) does not implement openat2 (syscall 437): it
# returns ENOSYS, and the server would refuse to start. This preloaded shim takes the kernel's
# place only then: openat() from the root, then the same "beneath the root" rule checked on the
# path the kernel actually opened. The server's own code is unchanged; part 1 ran it with the
# real openat2. A valgrind that knows openat2 never reaches the shim's emulation.
cat >"$work/openat2_shim.c" <<'SHIM'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fd_path(int fd, char* out) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, out, PATH_MAX - 1);
  if (n < 0) return -1;
  out[n] = '\0';
  return 0;
}

long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (int i = 0; i < 6; ++i) a[i] = va_arg(ap, long);
  va_end(ap);
  static long (*real)(long, ...);
  if (real == NULL) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  const long result = real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (number != SYS_openat2 || result != -1 || errno != ENOSYS) return result;
  const int dir = (int)a[0];
  const char* path = (const char*)a[1];
  const struct open_how* how = (const struct open_how*)a[2];
  if (path[0] == '/') return errno = EXDEV, -1;
  const int fd = openat(dir, path, (int)how->flags);
  if (fd < 0) return -1;
  char root[PATH_MAX], opened[PATH_MAX];
  const size_t len = fd_path(dir, root) == 0 ? strlen(root) : 0;
  if (len == 0 || fd_path(fd, opened) != 0 || strncmp(opened, root, len) != 0 ||
      (opened[len] != '/' && opened[len] != '\0')) {
    close(fd);
    return errno = EXDEV, -1;
  }
  return fd;
}
SHIM
cc -shared -fPIC -O1 -o "$work/openat2_shim.so" "$work/openat2_shim.c" -ldl || exit 2
cat >"$work/server" <<WRAPPER
#!/bin/sh
LD_PRELOAD="$work/openat2_shim.so" exec valgrind --leak-check=full --error-exitcode=99 \\
  --trace-children=yes --child-silent-after-fork=no --log-file="$work/logs/vg.%p.log" \\
  "$server" "\$@"
WRAPPER
chmod +x "$work/server"

echo "valgrind_check: $tests --gtest_filter='$filter' (SERVER under valgrind)"
SERVER="$work/server" HARNESS_STOP_WITH_SIGTERM=1 "$tests" --gtest_filter="$filter" \
  --gtest_brief=1 >"$work/tests.log" 2>&1
tests_status=$?
grep -E '^\[  (PASSED|FAILED)  \]|tests? ran' "$work/tests.log"
if [[ $tests_status -ne 0 ]]; then
  grep -B5 -A20 'Failure' "$work/tests.log" | head -100
  echo "valgrind_check: FAILED: tests failed with the server under valgrind"
  exit 1
fi

reports=0
unreported=0
bad=0
for log in "$work"/logs/vg.*.log; do
  [[ -e "$log" ]] || continue
  if ! grep -q 'ERROR SUMMARY' "$log"; then
    unreported=$((unreported + 1))  # killed (SIGKILL) before valgrind could report
    continue
  fi
  reports=$((reports + 1))
  leaked=$(grep -E '(definitely|indirectly|possibly) lost: [1-9]' "$log")
  errors=$(grep -E 'ERROR SUMMARY: [1-9]' "$log")
  if [[ -n "$leaked$errors" ]]; then
    bad=$((bad + 1))
    echo "--- $(basename "$log")"
    sed -n '/LEAK SUMMARY/,/suppressed/p' "$log"
    grep -E 'ERROR SUMMARY' "$log"
    grep -m20 -A8 -E 'are (definitely|possibly|indirectly) lost|Invalid (read|write)|uninitialised' "$log"
  fi
done

echo "valgrind_check: $reports process reports, $unreported processes killed before reporting"
if [[ $reports -eq 0 ]]; then
  echo "valgrind_check: no valgrind report at all"
  exit 2
fi
if [[ $bad -eq 0 ]]; then
  echo "no leaks"
  exit 0
fi
echo "valgrind_check: $bad processes with leaks or errors"
exit 1
