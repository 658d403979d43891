"""The shape of the tools' --self-test: for each case, build a fake repository in a fresh
temporary directory, break it, run the check, print ok or FAIL (run_cases: check_stages.py,
check_editions.py, transcripts.py); or run a pure function on a fixed input and compare
(run_examples: flatten_notes.py).

A check that is never seen to fail may be checking nothing; each case proves one way it fails.
"""

import os
import shutil
import tempfile


def run_cases(label, cases, build, check):
    """Runs the cases; returns 1 when any failed, else 0 (an exit status).

    cases: (title, breaker, expected) triples. breaker(root) breaks the fake repository (None:
    leave it whole); expected is None when the check must report nothing, else a piece of text
    that one of its problems must contain. build(root) makes the fake repository in the empty
    directory root; check(root) returns the problems found, a list of strings.
    """
    failed = 0
    for title, breaker, expected in cases:
        root = tempfile.mkdtemp(prefix=f"{label}-self-test-")
        try:
            build(root)
            if breaker:
                breaker(root)
            problems = check(root)
            ok = not problems if expected is None else any(expected in p for p in problems)
            if not ok:
                print("\n".join(problems) or "(no problem reported)")
        finally:
            shutil.rmtree(root)
        failed += not report(label, title, ok)
    return 1 if failed else 0


def run_examples(label, examples):
    """Runs fixed examples of pure functions; returns 1 when any failed, else 0.

    examples: (title, compute, expected) triples; compute() returns what the code makes of the
    example's input, which must equal expected. A difference is shown, both sides in repr().
    """
    failed = 0
    for title, compute, expected in examples:
        got = compute()
        if got != expected:
            print(f"  expected {expected!r}\n  got      {got!r}")
        failed += not report(label, title, got == expected)
    return 1 if failed else 0


def report(label, title, ok):
    """Prints one case's line, "LABEL self-test: ok   TITLE" or "... FAIL TITLE"; returns ok."""
    print(f"{label} self-test: {'ok  ' if ok else 'FAIL'} {title}")
    return ok


def replace_once(path, old, new):
    """Replaces the first old in the file at path with new; old must be there (a case that
    breaks nothing would pass for the wrong reason)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert old in text, (path, old)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new, 1))


def write(path, text):
    """Writes text to the file at path, making its directory."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
