"""The shape of the tools' --self-test (check_editions.py, transcripts.py): for each case, build a
fake repository in a fresh temporary directory, break it, run the check, print ok or FAIL.

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
        print(f"{label} self-test: {'ok  ' if ok else 'FAIL'} {title}")
        failed += not ok
    return 1 if failed else 0


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
