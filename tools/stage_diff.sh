#!/usr/bin/env bash
# stage_diff.sh FROM TO — `make diff FROM=2 TO=3`: what a chapter changed.
#
# Prints `diff -ruN` between two stage directories chosen by number (`3` or `stage3_round_robin`),
# over their source files only: what git tracks or would track (not ignored), never build outputs
# (`server`, `*.o`, `*.d`, `build/`, ...). TO alone means FROM=TO-1; FROM alone means TO=FROM+1.
# Coloured when stdout is a terminal, plain when piped (`make diff TO=3 > ch3.patch`).
# Exit status: 0 (whether or not the stages differ), 2 on a usage error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# usage MESSAGE: print the problem, how to call us and which stages exist; exit 2.
usage() {
    echo "make diff: $1" >&2
    echo "usage: make diff FROM=a TO=b  (stage numbers; TO alone: FROM is the stage before)" >&2
    local stages="" dir
    for dir in "$ROOT"/stage[0-9]*_*/; do
        [[ -d "$dir" ]] && stages+=" $(basename "$dir")"
    done
    echo "stages here:${stages:- none}" >&2
    exit 2
}

# stage_dir ARG: the directory name for a stage given as `3`, `stage3` or `stage3_round_robin`.
stage_dir() {
    local arg="$1" num name matches
    if [[ "$arg" =~ ^(stage)?0*([0-9]+)(_[A-Za-z0-9_]+)?/?$ ]]; then
        num="${BASH_REMATCH[2]}"
    else
        usage "'$arg' is not a stage number"
    fi
    shopt -s nullglob
    matches=("$ROOT"/stage"$num"_*/)
    shopt -u nullglob
    [[ ${#matches[@]} -eq 1 ]] || usage "there is no stage $num"
    name="$(basename "${matches[0]}")"
    # A full name must name that very directory, not just its number.
    if [[ -n "${BASH_REMATCH[3]:-}" && "${arg%/}" != "$name" ]]; then
        usage "there is no stage '$arg' (did you mean $name?)"
    fi
    echo "$name"
}

# is_build_output PATH: true for files a build produces (same list as tools/check_stages.py).
is_build_output() {
    case "/$1" in
        */build/* | */.git/* | */__pycache__/*) return 0 ;;
    esac
    case "${1##*/}" in
        server | .build-flags | .DS_Store | .#* | *~ | *.swp | \
            *.o | *.d | *.a | *.so | *.gcda | *.gcno | *.pyc)
            return 0 ;;
    esac
    return 1
}

# source_files STAGE: the stage's source files, one per line, relative to the repo root.
source_files() {
    local stage="$1" path
    if git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null | grep -qxF "$ROOT"; then
        git -C "$ROOT" ls-files --cached --others --exclude-standard -- "$stage/"
    else
        (cd "$ROOT" && find "$stage" -type f -o -type l)
    fi | sort -u | while IFS= read -r path; do
        [[ -e "$ROOT/$path" || -L "$ROOT/$path" ]] || continue   # tracked but deleted
        is_build_output "$path" || printf '%s\n' "$path"
    done
}

from="${1:-}"
to="${2:-}"
if [[ -z "$from" && -z "$to" ]]; then
    usage "say which stages, e.g. FROM=2 TO=3 (or TO=3 alone)"
fi
# Work out the missing end from the other one: TO alone means the chapter that made stage TO.
if [[ -z "$from" ]]; then
    to_dir="$(stage_dir "$to")"
    n="${to_dir#stage}"; n="${n%%_*}"
    [[ "$n" -gt 1 ]] || usage "stage $n is the first stage; there is nothing before it"
    from="$((n - 1))"
elif [[ -z "$to" ]]; then
    from_dir="$(stage_dir "$from")"
    n="${from_dir#stage}"; n="${n%%_*}"
    to="$((n + 1))"
fi
from_dir="$(stage_dir "$from")"
to_dir="$(stage_dir "$to")"

# Copy the two file sets into a scratch directory and diff there, so the diff never sees build
# outputs or ignored files and its headers read `stage2_x/main.cpp` as in the repo.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/stage-diff.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
for dir in "$from_dir" "$to_dir"; do
    mkdir -p "$scratch/$dir"
    source_files "$dir" | (cd "$ROOT" && xargs -r -d '\n' cp -P -p --parents -t "$scratch")
done

status=0
if [[ -t 1 ]]; then
    # diff repeats its options in each `diff ...` header line; keep that line as `diff -ruN`.
    (cd "$scratch" && diff -ruN --color=always "$from_dir" "$to_dir" |
        sed -E "s/ '?--color=always'? / /") || status=$?
else
    (cd "$scratch" && diff -ruN "$from_dir" "$to_dir") || status=$?
fi
# diff: 0 = same, 1 = different (both fine for us), 2 = trouble; 141 = the reader (`| head`)
# stopped reading, which is fine too.
if [[ $status -eq 0 && -t 1 ]]; then
    echo "make diff: $from_dir and $to_dir have the same source files" >&2
fi
[[ $status -le 1 || $status -eq 141 ]] || exit "$status"
exit 0
