#!/usr/bin/env bash
# Runs the GoogleTest suite of each stage given and prints one final line over all of them:
# "N passed, N failed" (test cases). Exits non-zero when anything failed.
#   tools/run_tests.sh "1 2 3" [SERVER]
set -uo pipefail

stages=$1
server=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/tests"
[[ "${SANITIZE:-}" == 1 ]] && build="$root/build/tests-sanitize"

passed=0
failed=0
for n in $stages; do
  binary="$build/stage$n/tests"
  report=$(mktemp)
  echo "=== stage $n: $binary${server:+ (SERVER=$server)}"
  # A whole suite must finish well within this; a hang is a failure, not a stuck CI job.
  SERVER="$server" timeout --kill-after=5 120 "$binary" --gtest_output="xml:$report" --gtest_brief=1
  status=$?
  if [[ -s "$report" ]]; then
    tests=$(grep -m1 -o '<testsuites tests="[0-9]*"' "$report" | grep -o '[0-9]*')
    failures=$(grep -m1 -o '<testsuites [^>]*failures="[0-9]*"' "$report" | grep -o 'failures="[0-9]*"' | grep -o '[0-9]*')
    disabled=$(grep -m1 -o '<testsuites [^>]*disabled="[0-9]*"' "$report" | grep -o 'disabled="[0-9]*"' | grep -o '[0-9]*')
    passed=$((passed + tests - failures - disabled))
    failed=$((failed + failures))
    [[ $status -ne 0 && $failures -eq 0 ]] && failed=$((failed + 1))  # crashed after the report
  else
    echo "stage $n: the suite did not finish (exit $status)"
    failed=$((failed + 1))
  fi
  rm -f "$report"
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
