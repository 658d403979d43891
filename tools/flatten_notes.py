#!/usr/bin/env python3
"""Copy notes/**/*.md into one flat folder for Doxygen, links rewritten to match.

    tools/flatten_notes.py NOTES_DIR OUT_DIR

Doxygen's Markdown pages resolve links by file name, so `deep/01-signal-pipe.md` and
`01-signal-pipe.md` would clash: a page in a subfolder becomes `deep-01-signal-pipe.md`. Every
relative link is resolved against its page's folder and written again as the docs script
expects: another page by its flat name (by its HTML page when the link has an anchor,
which Doxygen would not resolve), a figure as `figures/...`, anything else in the
repository as `../path/from/the/root` (the rules in build_docs.sh then take it from there).
A page that exists in both languages (notes/X.md, notes/zh/X.md) links to the other under its
title.
"""

import os
import re
import sys

LINK_RE = re.compile(r"(\]\()([^)#\s]+)((?:#[^)\s]*)?\))")


def flat_name(rel):
    """`deep/01-x.md` -> `deep-01-x.md`; `01-x.md` stays."""
    return rel.replace("/", "-")


def rewrite_link(target, page_dir, notes_dir):
    """The link as the flat folder needs it, or unchanged (absolute, mail, anchors)."""
    if re.match(r"^[a-z]+:", target) or target.startswith("/"):
        return target
    full = os.path.normpath(os.path.join(page_dir, target))
    rel = os.path.relpath(full, notes_dir)
    if not rel.startswith(".."):
        if rel.endswith(".md"):
            return flat_name(rel)
        return rel  # figures/x.svg and the like: copied beside the pages
    return "../" + os.path.relpath(full, os.path.dirname(notes_dir))


def page_with_anchor(target, anchor):
    """Doxygen leaves `page.md#anchor` as it is: link the HTML page it makes instead."""
    if anchor and target.endswith(".md"):
        stem = re.sub(r"[^A-Za-z0-9_]", "_", target[:-3])
        return "md_notes_" + stem + ".html"
    return target


def language_link(text, rel, notes_dir):
    """Below the title, a link to the same page in the other language, if it exists."""
    if rel.startswith("zh/"):
        other, label = rel[3:], "English"
    else:
        other, label = "zh/" + rel, "中文"
    if not os.path.exists(os.path.join(notes_dir, other)):
        return text
    lines = text.split("\n")
    title = next((i for i, l in enumerate(lines) if l.startswith("# ")), None)
    if title is None:
        return text
    lines.insert(title + 1, f"\n<p align=\"right\">[{label}]({flat_name(other)})</p>")
    return "\n".join(lines)


def main(notes_dir, out_dir):
    notes_dir = os.path.abspath(notes_dir)
    os.makedirs(out_dir, exist_ok=True)
    for folder, dirs, files in os.walk(notes_dir):
        dirs[:] = sorted(d for d in dirs if d not in ("transcripts", "scripts", "figures"))
        for name in sorted(files):
            if not name.endswith(".md"):
                continue
            path = os.path.join(folder, name)
            text = open(path, encoding="utf-8").read()
            text = LINK_RE.sub(lambda m: m.group(1) + page_with_anchor(
                rewrite_link(m.group(2), folder, notes_dir), m.group(3) != ")") + m.group(3), text)
            rel = os.path.relpath(path, notes_dir)
            text = language_link(text, rel, notes_dir)
            open(os.path.join(out_dir, flat_name(rel)), "w", encoding="utf-8").write(text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
