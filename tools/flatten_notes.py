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
title. Anchors are per page on GitHub but global in Doxygen: every `<a id>` gets its page's name
as a prefix, and every heading gets the anchor GitHub would give it, so `page.md#slug` links
work in the site too.
"""

import os
import re
import sys

LAB_PAGE_RE = re.compile(r"^labs/([\w-]+/)?README(\.zh)?\.md$")
LINK_RE = re.compile(r"(\]\()([^)#\s]*)(#[^)\s]*)?\)")
ANCHOR_RE = re.compile(r'<a id="([^"]+)"></a>')
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def flat_name(rel):
    """`deep/01-x.md` -> `deep-01-x.md`; `01-x.md` stays."""
    return rel.replace("/", "-")


def page_stem(flat):
    """The name Doxygen gives a page's HTML, without md_notes_ and .html."""
    return re.sub(r"[^A-Za-z0-9_]", "_", flat[:-3])


def anchor_id(stem, fragment):
    """Doxygen's anchors share one namespace across pages, and it wants them ASCII: prefix the
    page, spell other characters (a Chinese heading's slug) in hex."""
    safe = "".join(c if re.match(r"[A-Za-z0-9_-]", c) else "_%x" % ord(c) for c in fragment)
    return f"{stem}-{safe}"


def slug(heading):
    """The anchor GitHub makes for a heading: lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"<[^>]+>", "", heading).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def rewrite_link(target, page_dir, notes_dir):
    """The link as the flat folder needs it, or unchanged (absolute, mail)."""
    if re.match(r"^[a-z]+:", target) or target.startswith("/"):
        return target
    full = os.path.normpath(os.path.join(page_dir, target))
    rel = os.path.relpath(full, notes_dir)
    if not rel.startswith(".."):
        if rel.endswith(".md"):
            return flat_name(rel)
        return rel  # figures/x.svg and the like: copied beside the pages
    repo_rel = os.path.relpath(full, os.path.dirname(notes_dir))
    if LAB_PAGE_RE.match(repo_rel):
        return flat_name(repo_rel)  # a lab's handout is a page of the site too
    return "../" + repo_rel


def link(match, page_dir, notes_dir, own_flat):
    """One Markdown link, rewritten; `page.md#x` goes to the HTML page Doxygen makes and its
    prefixed anchor (Doxygen would leave the .md link as it is)."""
    target, fragment = match.group(2), match.group(3)
    if target:
        target = rewrite_link(target, page_dir, notes_dir)
    if not fragment:
        return f"]({target})"
    flat = target if target else own_flat
    if not flat.endswith(".md"):
        return f"]({target}{fragment})"
    stem = page_stem(flat)
    page = f"md_notes_{stem}.html" if target else ""
    return f"]({page}#{anchor_id(stem, fragment[1:])})"


def with_anchors(text, own_flat):
    """Explicit anchors prefixed, and one before every heading with GitHub's slug for it."""
    stem = page_stem(own_flat)
    out, fence, seen = [], None, set(ANCHOR_RE.findall(text))
    for line in text.split("\n"):
        m = FENCE_RE.match(line)
        if fence:
            fence = None if m and m.group(1).startswith(fence) else fence
        elif m:
            fence = m.group(1)
        else:
            line = ANCHOR_RE.sub(lambda a: f'<a id="{anchor_id(stem, a.group(1))}"></a>', line)
            h = HEADING_RE.match(line)
            if h and len(h.group(1)) > 1 and slug(h.group(2)) not in seen:
                seen.add(slug(h.group(2)))
                out.append(f'<a id="{anchor_id(stem, slug(h.group(2)))}"></a>')
        out.append(line)
    return "\n".join(out)


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


STRONG_RE = re.compile(r"\*\*(\S(?:[^*]*?\S)?)\*\*")
EM_RE = re.compile(r"(?<![*\\])\*(\S(?:[^*]*?\S)?)\*(?!\*)")


CODE_SPAN_RE = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n\s*\n).)+?)(?<!`)\1(?!`)", re.S)


def html_code(match):
    """A code span that holds a quote, as <code>: Doxygen ends such a span early
    (`printf 'x'`). In HTML it would read \\ and @ as its commands, so those are escaped."""
    body = " ".join(match.group(2).split("\n")) if "'" in match.group(2) else None
    if body is None:
        return match.group(0)
    body = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char, escaped in (("\\", "\\\\"), ("@", "\\@"), ("*", "\\*"), ("_", "\\_")):
        body = body.replace(char, escaped)
    return f"<code>{body}</code>"


def code_spans(text):
    """The code spans of a page that Doxygen would break, as HTML (see html_code)."""
    chunks, fence, current = [], None, []
    for line in text.split("\n"):
        m = FENCE_RE.match(line)
        if fence or m:
            if not fence:
                chunks.append(("text", current))
                current = []
                fence = m.group(1)
            elif m and m.group(1).startswith(fence):
                fence = None
            chunks.append(("code", [line]))
        else:
            current.append(line)
    chunks.append(("text", current))
    out = []
    for kind, lines in chunks:
        block = "\n".join(lines)
        out.append(CODE_SPAN_RE.sub(html_code, block) if kind == "text" else block)
    return "\n".join(part for (_, lines), part in zip(chunks, out) if lines)


def cjk_emphasis(text):
    """`**粗体**` and `*强调*` as HTML: Doxygen, like CommonMark, does not take a `*` next to a
    Chinese character or full-width punctuation for emphasis. Code spans and blocks are kept."""
    out, fence = [], None
    for line in text.split("\n"):
        m = FENCE_RE.match(line)
        if fence or m:
            if fence:
                fence = None if m and m.group(1).startswith(fence) else fence
            elif m:
                fence = m.group(1)
            out.append(line)
            continue
        pieces = re.split(r"(`+[^`]*`+)", line)
        for i in range(0, len(pieces), 2):
            pieces[i] = EM_RE.sub(r"<em>\1</em>", STRONG_RE.sub(r"<strong>\1</strong>",
                                                                  pieces[i]))
        out.append("".join(pieces))
    return "\n".join(out)


def pages(notes_dir):
    """(path, flat name) of every page: notes/**/*.md, and the labs' handouts (labs-x-README.md)."""
    found = []
    for folder, dirs, files in os.walk(notes_dir):
        dirs[:] = sorted(d for d in dirs if d not in ("transcripts", "scripts", "figures"))
        for name in sorted(files):
            if name.endswith(".md"):
                path = os.path.join(folder, name)
                found.append((path, flat_name(os.path.relpath(path, notes_dir))))
    root = os.path.dirname(notes_dir)
    for folder, dirs, files in os.walk(os.path.join(root, "labs")):
        dirs[:] = sorted(d for d in dirs if d not in ("work", "solutions", "tests"))
        for name in sorted(files):
            repo_rel = os.path.relpath(os.path.join(folder, name), root)
            if LAB_PAGE_RE.match(repo_rel):
                found.append((os.path.join(root, repo_rel), flat_name(repo_rel)))
    return found


def main(notes_dir, out_dir):
    notes_dir = os.path.abspath(notes_dir)
    os.makedirs(out_dir, exist_ok=True)
    for path, flat in pages(notes_dir):
        folder = os.path.dirname(path)
        text = open(path, encoding="utf-8").read()
        rel = os.path.relpath(path, notes_dir)
        text = with_anchors(text, flat)
        text = LINK_RE.sub(lambda m: link(m, folder, notes_dir, flat), text)
        text = language_link(text, rel, notes_dir)
        if rel.startswith("zh/") or path.endswith(".zh.md"):
            text = cjk_emphasis(text)
        text = code_spans(text)
        open(os.path.join(out_dir, flat), "w", encoding="utf-8").write(text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
