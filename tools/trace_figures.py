#!/usr/bin/env python3
"""The traced figures of the notes: notes/figures/trace/NAME.svg, drawn from NAME.jsonl beside it.

    tools/trace_figures.py update          make trace-figures: copy build/trace/NAME.jsonl (from
                                           `make trace`) for every scenario, and draw its SVG
    tools/trace_figures.py check           make check-trace: every committed SVG is what
                                           tools/trace2svg draws from its committed trace today,
                                           and every event in a committed trace is one the
                                           servers still record
    tools/trace_figures.py check --fresh   make check-transcripts: also, each scenario run again
                                           by `make trace` records the same kinds of events as
                                           its committed trace

A committed trace is one real run, so its times are not reproducible; what must not drift is
the drawing (the renderer) and the events (the servers and the scenarios).
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGURES = os.path.join(ROOT, "notes", "figures", "trace")
FRESH = os.path.join(ROOT, "build", "trace")
TRACE2SVG = os.path.join(ROOT, "tools", "trace2svg")
EMITTED = re.compile(r'\b(?:TRACE|trace_event)\("(\w+)"|"ev\\":\\"(\w+)\\"')


def scenarios():
    return sorted(os.path.basename(p)[:-3] for p in glob.glob(
        os.path.join(ROOT, "tools", "trace_scenarios", "*.sh")))


def draw(trace, svg):
    subprocess.run([TRACE2SVG, trace, "-o", svg], check=True)


def kinds(trace):
    with open(trace, encoding="utf-8") as f:
        return {json.loads(line)["ev"] for line in f if line.strip()}


def emitted_events():
    """Every event name some stage records: TRACE("x", ...), trace_event("x", ...), and the
    signal handler's hand-built line."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "stage*", "*.[ch]*")):
        with open(path, encoding="utf-8") as f:
            for match in EMITTED.finditer(f.read()):
                names.add(match.group(1) or match.group(2))
    return names


def update():
    os.makedirs(FIGURES, exist_ok=True)
    for name in scenarios():
        fresh = os.path.join(FRESH, name + ".jsonl")
        if not os.path.isfile(fresh):
            print(f"trace-figures: no {os.path.relpath(fresh, ROOT)}: run make trace first")
            return 1
        target = os.path.join(FIGURES, name + ".jsonl")
        with open(fresh, encoding="utf-8") as src, open(target, "w", encoding="utf-8") as dst:
            dst.write(src.read())
        draw(target, os.path.join(FIGURES, name + ".svg"))
        print(f"trace-figures: notes/figures/trace/{name}.svg")
    return 0


def check(fresh):
    problems = []
    known = emitted_events()
    names = scenarios()
    committed = sorted(os.path.basename(p)[:-6] for p in glob.glob(os.path.join(FIGURES, "*.jsonl")))
    if committed != names:
        problems.append(f"notes/figures/trace/ has {committed}, the scenarios are {names}: "
                        "make trace-figures")
    with tempfile.TemporaryDirectory() as tmp:
        for name in committed:
            trace = os.path.join(FIGURES, name + ".jsonl")
            drawn = os.path.join(tmp, name + ".svg")
            draw(trace, drawn)
            with open(drawn, "rb") as a, open(os.path.join(FIGURES, name + ".svg"), "rb") as b:
                if a.read() != b.read():
                    problems.append(f"notes/figures/trace/{name}.svg is not what tools/trace2svg "
                                    "draws from its trace today: make trace-figures")
            unknown = kinds(trace) - known
            if unknown:
                problems.append(f"notes/figures/trace/{name}.jsonl has events no server records "
                                f"any more: {sorted(unknown)}: make trace trace-figures")
            run = os.path.join(FRESH, name + ".jsonl")
            if fresh and os.path.isfile(run) and kinds(run) != kinds(trace):
                problems.append(f"scenario {name} now records {sorted(kinds(run))}, its committed "
                                f"trace {sorted(kinds(trace))}: make trace-figures")
            elif fresh and not os.path.isfile(run):
                problems.append(f"scenario {name}: no fresh trace (make trace)")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"trace-figures: {'FAILED' if problems else 'OK'} ({len(committed)} figures)")
    return 1 if problems else 0


def main(argv):
    if argv == ["update"]:
        return update()
    if argv in (["check"], ["check", "--fresh"]):
        return check(argv == ["check", "--fresh"])
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
