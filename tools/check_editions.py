#!/usr/bin/env python3
"""The Chinese edition (notes/zh/, README.zh.md, labs/*/README.zh.md) cannot drift from the
English one.

    tools/check_editions.py                check every page that exists in both languages
    tools/check_editions.py --stamp PAGE   after translating, record which English text PAGE
                                           (a Chinese page) now says the same as
    tools/check_editions.py --self-test    prove that each check can fail

For each pair (notes/X.md and notes/zh/X.md; README.md and README.zh.md, also of each lab) it
requires:
  - the same code excerpts and quoted diffs, in the same order, byte for byte;
  - the same manifest (marker and table);
  - the same transcripts (markers, in the same order: tools/transcripts.py fills both);
  - the same figures, in the same order;
  - one line per Chinese paragraph (tools/zh_unwrap.py): a line break between two Chinese
    characters shows as a space in a browser;
  - the same sections: every heading of the Chinese page is followed by a stamp
    `<!-- en: HASH -->`, the hash of the English section it translates (its prose, tables and
    plain blocks; excerpts and transcripts are compared above). When the English section
    changes, its hash changes, and the check names both pages until the Chinese one is updated
    and stamped again.
"""

import contextlib
import hashlib
import io
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selftest  # noqa: E402
from check_stages import (DIFF_HEADER_RE, EXCERPT_HEADER_RE, MARKER_RE,  # noqa: E402
                          fenced_blocks)
from zh_unwrap import breaks_between_cjk  # noqa: E402

HEADING_RE = re.compile(r"^(#{1,6})\s+\S")
STAMP_RE = re.compile(r"^<!-- en: ([0-9a-f]{12}) -->\s*$")
IMAGE_RE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")
TRANSCRIPT_RE = re.compile(r"^<!-- transcript: ([\w./-]+) -->\s*$")


def pairs(root):
    """(English page, Chinese page), both relative to root, for every Chinese page."""
    found = []
    if os.path.exists(os.path.join(root, "README.zh.md")):
        found.append(("README.md", "README.zh.md"))
    labs = os.path.join(root, "labs")
    for lab in sorted(os.listdir(labs)) if os.path.isdir(labs) else []:
        if os.path.exists(os.path.join(labs, lab, "README.zh.md")):
            found.append((f"labs/{lab}/README.md", f"labs/{lab}/README.zh.md"))
    zh_dir = os.path.join(root, "notes", "zh")
    for folder, _, names in sorted(os.walk(zh_dir)):
        for name in sorted(names):
            if name.endswith(".md"):
                rel = os.path.relpath(os.path.join(folder, name), zh_dir)
                found.append((os.path.join("notes", rel), os.path.join("notes", "zh", rel)))
    return found


class Page:
    """What the editions must share, read from one page."""

    def __init__(self, root, rel):
        self.rel = rel
        self.lines = open(os.path.join(root, rel), encoding="utf-8").read().split("\n")
        blocks, self.inside = fenced_blocks(self.lines)
        self.checked = []   # (line, body) of excerpts and quoted diffs
        checked_lines = set()
        for line_no, body in blocks:
            header = body[0].strip() if body else ""
            if EXCERPT_HEADER_RE.match(header) or DIFF_HEADER_RE.match(header):
                self.checked.append((line_no, body))
                checked_lines.update(range(line_no, line_no + len(body) + 1))
        outside = [(i, l) for i, l in enumerate(self.lines) if i not in self.inside]
        self.transcripts = [(i + 1, m.group(1)) for i, l in outside
                            for m in [TRANSCRIPT_RE.match(l)] if m]
        transcript_bodies = set()
        for i, _ in self.transcripts:  # the block after a marker is generated: not prose
            j = i
            while j < len(self.lines) and j in self.inside:
                transcript_bodies.add(j)
                j += 1
        # Figures by the file they show (a Chinese page links ../figures/x.svg for figures/x.svg).
        folder = os.path.dirname(rel)
        self.figures = [(i + 1, os.path.normpath(os.path.join(folder, t)))
                        for i, l in outside for t in IMAGE_RE.findall(l)]
        self.manifest = self.read_manifest()
        self.headings = [(i, len(HEADING_RE.match(l).group(1))) for i, l in outside
                         if HEADING_RE.match(l)]
        # Each section's text for the hash: prose, tables and plain blocks, not generated ones.
        self.sections = []
        bounds = [h[0] for h in self.headings] + [len(self.lines)]
        for k, (start, level) in enumerate(self.headings):
            text = [self.lines[i].rstrip() for i in range(start, bounds[k + 1])
                    if i not in transcript_bodies and (i + 1) not in checked_lines
                    and not STAMP_RE.match(self.lines[i])]
            digest = hashlib.sha256("\n".join(text).strip().encode()).hexdigest()[:12]
            self.sections.append((start + 1, level, self.lines[start].strip(), digest))

    def read_manifest(self):
        for i, line in enumerate(self.lines):
            if i not in self.inside and MARKER_RE.match(line):
                j = i + 1
                while j < len(self.lines) and self.lines[j].startswith("|"):
                    j += 1
                return (i + 1, self.lines[i:j])
        return None

    def stamps(self):
        """The stamp after each heading (or None), by heading."""
        found = []
        for start, _ in self.headings:
            nxt = self.lines[start + 1] if start + 1 < len(self.lines) else ""
            m = STAMP_RE.match(nxt)
            found.append(m.group(1) if m else None)
        return found


def compare(root, en_rel, zh_rel):
    """Problems of one pair, each naming both pages."""
    en, zh = Page(root, en_rel), Page(root, zh_rel)
    both = f"{zh_rel} (Chinese of {en_rel})"
    problems = []

    def same_sequence(what, en_items, zh_items, show):
        for k in range(max(len(en_items), len(zh_items))):
            a = en_items[k] if k < len(en_items) else None
            b = zh_items[k] if k < len(zh_items) else None
            if a is None or b is None or a[1] != b[1]:
                where = f"{zh_rel}:{b[0]}" if b else zh_rel
                other = f"{en_rel}:{a[0]}" if a else en_rel
                problems.append(f"{where}: {what} {k + 1} differs from {other}: "
                                f"{show(b) if b else 'missing'} vs {show(a) if a else 'none'} "
                                f"in English")
                return

    same_sequence("code excerpt", en.checked, zh.checked, lambda x: repr(x[1][0]))
    same_sequence("transcript", en.transcripts, zh.transcripts, lambda x: x[1])
    same_sequence("figure", en.figures, zh.figures, lambda x: x[1])
    if (en.manifest and en.manifest[1]) != (zh.manifest and zh.manifest[1]):
        problems.append(f"{zh_rel}: the manifest differs from {en_rel}'s (copy it as it is)")
    en_levels = [s[1] for s in en.sections]
    zh_levels = [s[1] for s in zh.sections]
    if en_levels != zh_levels:
        problems.append(f"{both}: the sections differ: {len(en.sections)} headings in English "
                        f"(levels {''.join(map(str, en_levels))}), {len(zh.sections)} in Chinese "
                        f"(levels {''.join(map(str, zh_levels))}); each English heading needs "
                        "its Chinese heading, in the same order")
        return problems
    for (line, _, title, digest), (zline, _, ztitle, _), stamp in zip(
            en.sections, zh.sections, zh.stamps()):
        if stamp is None:
            problems.append(f"{zh_rel}:{zline}: section `{ztitle}` has no stamp; after "
                            f"translating {en_rel}:{line} run tools/check_editions.py --stamp "
                            f"{zh_rel}")
        elif stamp != digest:
            problems.append(f"{zh_rel}:{zline}: section `{ztitle}` translates an older "
                            f"{en_rel}:{line} `{title}`: bring the Chinese up to date, then "
                            f"run tools/check_editions.py --stamp {zh_rel}")
    return problems


def stamp(root, zh_rel):
    """Write the current English hashes after the Chinese page's headings."""
    en_rel = dict((z, e) for e, z in pairs(root)).get(zh_rel)
    if en_rel is None:
        print(f"check-editions: {zh_rel} is not a Chinese page", file=sys.stderr)
        return 2
    en, zh = Page(root, en_rel), Page(root, zh_rel)
    if [s[1] for s in en.sections] != [s[1] for s in zh.sections]:
        print("\n".join(compare(root, en_rel, zh_rel)), file=sys.stderr)
        return 1
    lines = list(zh.lines)
    for (start, _), (_, _, _, digest), old in reversed(list(zip(zh.headings, en.sections,
                                                                 zh.stamps()))):
        if old is None:
            lines.insert(start + 1, f"<!-- en: {digest} -->")
        else:
            lines[start + 1] = f"<!-- en: {digest} -->"
    open(os.path.join(root, zh_rel), "w", encoding="utf-8").write("\n".join(lines))
    print(f"check-editions: stamped {zh_rel} with {len(en.sections)} sections of {en_rel}")
    return 0


def check(root):
    problems = []
    for en_rel, zh_rel in pairs(root):
        if not os.path.exists(os.path.join(root, en_rel)):
            problems.append(f"{zh_rel}: no English page {en_rel}")
            continue
        problems += compare(root, en_rel, zh_rel)
        text = open(os.path.join(root, zh_rel), encoding="utf-8").read()
        problems += [f"{zh_rel}:{n}: a line break between two Chinese characters shows as a "
                     f"space: run tools/zh_unwrap.py {zh_rel}" for n in breaks_between_cjk(text)]
    return problems


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if argv[:1] == ["--self-test"]:
        return self_test()
    if argv[:1] == ["--stamp"] and len(argv) == 2:
        return stamp(root, os.path.relpath(os.path.abspath(argv[1]), root))
    if argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    problems = check(root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check-editions: FAILED ({len(problems)} problem(s))", file=sys.stderr)
        return 1
    print(f"check-editions: OK ({len(pairs(root))} pages in both languages)")
    return 0


# ---------------------------------------------------------------------------------------------
# Self-test: a fake English page and its translation; each drift must be reported.

EN = """# Chapter 9: nine

<!-- manifest: stage9_nine from stage8_eight -->
| file | change |
|---|---|
| `main.c` | changed |

## The picture

![the loop](figures/09.svg)

```c
// stage9_nine/main.c: main
int main(void) {
```

<!-- transcript: 09-demo -->
```
$ ./server
```
"""

ZH = """# 第九章

<!-- manifest: stage9_nine from stage8_eight -->
| file | change |
|---|---|
| `main.c` | changed |

## 示意图

![循环](../figures/09.svg)

```c
// stage9_nine/main.c: main
int main(void) {
```

<!-- transcript: 09-demo -->
```
$ ./server
```
"""


def self_test():
    en, zh = "notes/09-nine.md", "notes/zh/09-nine.md"

    def edit(rel, old, new):
        return lambda root: selftest.replace_once(os.path.join(root, rel), old, new)

    cases = [
        ("a stamped translation passes", None, None),
        ("an English section changed since fails, naming both pages",
         edit(en, "## The picture\n", "## The picture\n\nA new sentence.\n"),
         "notes/zh/09-nine.md:9: section `## 示意图` translates an older notes/09-nine.md:8"),
        ("a missing stamp fails", edit(zh, "## 示意图\n<!-- en:", "## 示意图\n<!-- xx:"),
         "has no stamp"),
        ("a missing section fails", edit(en, "## The picture\n", "## The picture\n\n### More\n"),
         "the sections differ"),
        ("a different excerpt fails", edit(zh, "int main(void) {", "int main() {"),
         "code excerpt 1 differs from notes/09-nine.md"),
        ("a different transcript fails", edit(zh, "09-demo", "09-other"), "transcript 1 differs"),
        ("a different figure fails", edit(zh, "figures/09.svg", "figures/10.svg"),
         "figure 1 differs"),
        ("a different manifest fails", edit(zh, "| changed |", "| added |"),
         "the manifest differs"),
        ("a paragraph broken between two Chinese characters fails",
         edit(zh, "# 第九章\n", "# 第九章\n\n第一行\n第二行\n"), "shows as a space"),
    ]

    def build(root):
        selftest.write(os.path.join(root, en), EN)
        selftest.write(os.path.join(root, zh), ZH)
        with contextlib.redirect_stdout(io.StringIO()):
            stamp(root, zh)

    return selftest.run_cases("check-editions", cases, build, check)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
