#!/usr/bin/env bash
# Runs the GoogleTest suite of each stage given and prints one final line over all of them:
# "N passed, N failed" (test cases). Exits non-zero when anything failed.
#   tools/run_tests.sh "1 2 3" [SERVER]
# Each suite runs as four shards in parallel: most tests wait on a server (a timeout, a grace
# period, a client's pace), so four shards on two cores quarter the wall time. The shards are
# balanced by how long each test took in the last run (tools/shard_plan.py).
set -uo pipefail

stages=$1
server=${2:-}
shards=${TEST_SHARDS:-4}
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/tests"
[[ "${SANITIZE:-}" == 1 ]] && build="$root/build/tests-sanitize"
build="${TEST_BUILD:-$build}"  # make test SRC=...: the suite built against a copy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# attribute NAME FILE: the value of NAME="..." on the <testsuites> element of a report.
attribute() { grep -m1 -o "<testsuites [^>]*" "$2" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }

passed=0
failed=0
for n in $stages; do
  binary="$build/stage$n/tests"
  echo "=== stage $n: $binary${server:+ (SERVER=$server)}"
  start=$SECONDS
  # Shards balanced by the durations of the last run (tools/shard_plan.py); the first run, with
  # no durations yet, deals tests out by index (GoogleTest's own sharding).
  durations="$(dirname "$binary")/durations"
  mapfile -t filters < <(python3 "$root/tools/shard_plan.py" plan "$binary" "$durations" "$shards")
  for ((i = 0; i < shards; i++)); do
    if [[ ${#filters[@]} -eq $shards ]]; then
      how=(env "GTEST_FILTER=${filters[i]}")
    else
      how=(env GTEST_TOTAL_SHARDS="$shards" GTEST_SHARD_INDEX="$i")
    fi
    # A whole shard must finish well within this; a hang is a failure, not a stuck CI job.
    SERVER="$server" "${how[@]}" \
      timeout --kill-after=5 120 "$binary" --gtest_output="xml:$work/$n-$i.xml" --gtest_brief=1 \
      >"$work/$n-$i.log" 2>&1 &
  done
  wait
  reports=()
  for ((i = 0; i < shards; i++)); do reports+=("$work/$n-$i.xml"); done
  python3 "$root/tools/shard_plan.py" record "$durations" "${reports[@]}"
  for ((i = 0; i < shards; i++)); do
    report="$work/$n-$i.xml"
    grep -v -e '^\[==========\]' -e '^\[  PASSED  \]' "$work/$n-$i.log"
    if [[ -s "$report" ]]; then
      tests=$(attribute tests "$report")
      failures=$(attribute failures "$report")
      disabled=$(attribute disabled "$report")
      passed=$((passed + tests - failures - disabled))
      failed=$((failed + failures))
    else
      echo "stage $n shard $i: did not finish (see above)"
      failed=$((failed + 1))
    fi
  done
  echo "stage $n: $((SECONDS - start)) s"
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
