#!/usr/bin/env bash
# trace_scenarios.sh [NAME...]: `make trace`. Runs each scenario of tools/trace_scenarios/ (all
# of them by default) against its chapter's real server with --trace, on 127.0.0.1 only, and
# draws each trace with tools/trace2svg: build/trace/NAME.jsonl, NAME.svg and NAME.json (Chrome
# trace-event JSON for Perfetto). A scenario is a short bash script that sources
# notes/transcripts/lib.sh (which starts servers in their own process group, waits with
# deadlines, and kills every group it started on exit); it gets the trace's path in $TRACE.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$REPO/build/trace"
mkdir -p "$OUT"
names=("$@")
if ((${#names[@]} == 0)); then
    for script in "$REPO"/tools/trace_scenarios/*.sh; do names+=("$(basename "$script" .sh)"); done
fi
for name in "${names[@]}"; do
    script="$REPO/tools/trace_scenarios/$name.sh"
    [[ -f $script ]] || { echo "trace_scenarios.sh: no scenario $name" >&2; exit 2; }
    work=$(mktemp -d)
    rm -f "$OUT/$name.jsonl"
    if ! REPO="$REPO" TRANSCRIPT_DIR="$work" TRACE="$OUT/$name.jsonl" \
        timeout 60 bash "$script" >"$work/output" 2>&1; then
        echo "trace: scenario $name failed:" >&2
        tail -n 20 "$work/output" "$work/server.log" >&2 || true
        rm -rf "$work"
        exit 1
    fi
    rm -rf "$work"
    "$REPO/tools/trace2svg" "$OUT/$name.jsonl" -o "$OUT/$name.svg" --chrome "$OUT/$name.json"
    echo "build/trace/$name.svg: $(wc -l <"$OUT/$name.jsonl") events"
done
