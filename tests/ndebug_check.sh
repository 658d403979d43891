#!/usr/bin/env bash
# Every stage built with -DNDEBUG (asserts compiled out, as in a release build or `make bench`)
# must pass its own suite. This is the test of the classic side effect inside assert():
# `assert(sigaction(...) != -1)` installs no handler at all under NDEBUG, and the server then
# dies of its first SIGUSR1 or never stops on SIGTERM.
#   tests/ndebug_check.sh            (CI runs it; ~1 min)
# Each stage is copied to build/ndebug/ and built there, so the normal build is left alone.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/build/ndebug"
make --no-print-directory -s -C "$root/tests" build >/dev/null || exit 2

stages=""
for dir in "$root"/stage[0-9]_*; do
  name=$(basename "$dir")
  n=${name#stage}
  n=${n%%_*}
  rm -rf "${out:?}/$name"
  mkdir -p "$out"
  cp -r "$dir" "$out/$name"
  make --no-print-directory -s -C "$out/$name" clean >/dev/null
  make --no-print-directory -s -C "$out/$name" CXXFLAGS='-O2 -DNDEBUG' || exit 2
  stages+=" $n"
done

status=0
for n in $stages; do
  server=$(echo "$out"/stage"$n"_*/server)
  # run_tests.sh prints each failing test's output, and a summary line per stage.
  "$root/tools/run_tests.sh" "$n" "$server" || status=1
done
[[ $status -eq 0 ]] && echo "ndebug_check: every stage passes its suite with asserts compiled out"
exit $status
