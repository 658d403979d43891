#!/usr/bin/env python3
"""Put each paragraph of a Chinese page on one line.

    tools/zh_unwrap.py PAGE...       rewrite the pages
    tools/zh_unwrap.py --check PAGE...  list the line breaks that would show as spaces

A browser shows a line break inside a paragraph as a space, which is right between two English
words and wrong between two Chinese characters. So in notes/zh/ a paragraph (or a list item) is
one line. Code blocks, tables, headings, HTML comments and blank lines are left as they are.
"""

import re
import sys

FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
BLOCK_START = re.compile(r"^\s*([-*+]\s|\d+\.\s|#|\||<|>|!\[)")


def joins(prev, line):
    """True if `line` continues the paragraph (or list item) that `prev` is part of."""
    if not prev.strip() or not line.strip():
        return False
    if BLOCK_START.match(line) or prev.lstrip().startswith(("#", "|", "<!--")):
        return False
    if FENCE_RE.match(prev):
        return False  # the line after a (closing) fence starts a paragraph of its own
    if prev.rstrip().endswith("  ") or prev.rstrip().endswith("<br>"):
        return False  # a hard line break the author meant
    return True


def unwrap(text):
    """The page with its paragraphs joined; and the number of joins made."""
    out, fence, count = [], None, 0
    for line in text.split("\n"):
        m = FENCE_RE.match(line)
        if fence:
            if m and m.group(1).startswith(fence):
                fence = None
            out.append(line)
            continue
        if m:
            fence = m.group(1)
            out.append(line)
            continue
        if out and joins(out[-1], line):
            left, right = out[-1].rstrip(), line.strip()
            glue = "" if CJK.match(left[-1:]) or CJK.match(right[:1]) else " "
            out[-1] = left + glue + right
            count += 1
        else:
            out.append(line)
    return "\n".join(out), count


def breaks_between_cjk(text):
    """Line numbers where a paragraph breaks between two Chinese characters."""
    found, fence, lines = [], None, text.split("\n")
    for i, line in enumerate(lines[:-1]):
        m = FENCE_RE.match(line)
        if fence:
            fence = None if m and m.group(1).startswith(fence) else fence
            continue
        if m:
            fence = m.group(1)
            continue
        nxt = lines[i + 1]
        if joins(line, nxt) and CJK.match(line.rstrip()[-1:]) and CJK.match(nxt.strip()[:1]):
            found.append(i + 1)
    return found


def main(argv):
    check = argv[:1] == ["--check"]
    pages = argv[1:] if check else argv
    bad = 0
    for page in pages:
        text = open(page, encoding="utf-8").read()
        if check:
            for n in breaks_between_cjk(text):
                print(f"{page}:{n}: a line break between two Chinese characters shows as a "
                      "space: run tools/zh_unwrap.py on the page", file=sys.stderr)
                bad += 1
        else:
            new, count = unwrap(text)
            if new != text:
                open(page, "w", encoding="utf-8").write(new)
                print(f"zh_unwrap: {page}: {count} line breaks joined")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
