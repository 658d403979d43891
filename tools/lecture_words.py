#!/usr/bin/env python3
"""Words of prose in each lecture (notes/0N-*.md): what a student reads, not what they run.

    tools/lecture_words.py           a table of every lecture and deep dive
    tools/lecture_words.py --check   fail when a lecture has more than LIMIT words of prose

Prose is what is left after removing fenced code blocks, tables (lines that begin with `|`),
HTML comments and link targets; a word is a run of non-blank characters with a letter or digit.
"""

import os
import re
import sys

LIMIT = 2000  # words of prose per lecture (DESIGN.md: a lecture fits a lecture)
EXTRA_PAGES = ["notes/cpp-primer.md", "notes/debugging.md"]  # read before or beside a lecture
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
WORD_RE = re.compile(r"\S*[^\W_]\S*")


def prose_words(text):
    """The number of words of prose in a markdown page."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # [label](target): count the label only
    words, fence = 0, None
    for line in text.split("\n"):
        m = FENCE_RE.match(line)
        if fence:
            if m and m.group(1).startswith(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        if line.lstrip().startswith("|"):
            continue
        words += len(WORD_RE.findall(line))
    return words


def lectures(root):
    """(path relative to root, words) of every lecture and deep dive, in course order."""
    found = []
    for folder in ("notes", "notes/deep"):
        full = os.path.join(root, folder)
        if os.path.isdir(full):
            for name in sorted(os.listdir(full)):
                if re.match(r"\d\d-.*\.md$", name):
                    text = open(os.path.join(full, name), encoding="utf-8").read()
                    found.append((f"{folder}/{name}", prose_words(text)))
    for extra in EXTRA_PAGES:
        if os.path.exists(os.path.join(root, extra)):
            found.append((extra, prose_words(open(os.path.join(root, extra),
                                                   encoding="utf-8").read())))
    return found


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    over = [(p, n) for p, n in lectures(root)
            if re.match(r"notes/\d\d-", p) and n > LIMIT]
    if argv[:1] == ["--check"]:
        for path, n in over:
            print(f"{path}: {n} words of prose, more than a lecture's {LIMIT}: move the rest "
                  f"to notes/deep/", file=sys.stderr)
        return 1 if over else 0
    for path, n in lectures(root):
        print(f"{n:6d}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
