#!/usr/bin/env python3
"""Copy notes/**/*.md into one flat folder for Doxygen, links rewritten to match.

    tools/flatten_notes.py NOTES_DIR OUT_DIR
    tools/flatten_notes.py --self-test     each pass on fixed inputs (make docs runs it)

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
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selftest  # noqa: E402

LAB_PAGE_RE = re.compile(r"^labs/([\w-]+/)?README(\.zh)?\.md$")
LINK_RE = re.compile(r"(\]\()([^)#\s]*)(#[^)\s]*)?\)")
ANCHOR_RE = re.compile(r'<a id="([^"]+)"></a>')
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def fenced_chunks(text):
    """A page cut into its fenced code blocks and the prose between them, in order: ("code",
    [line]) for each line of a block and its fences, ("text", lines) for prose (maybe empty).
    Joining the non-empty chunks' lines with newlines gives the page back."""
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
    return chunks


def map_prose(text, rewrite):
    """The page with rewrite(lines) -> text applied to each run of lines outside code blocks."""
    return "\n".join("\n".join(lines) if kind == "code" else rewrite(lines)
                     for kind, lines in fenced_chunks(text) if lines)


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
    """Pass 1, anchors: explicit anchors prefixed with the page, and one before every heading
    (but the title) with GitHub's slug for it, unless the page has that anchor already."""
    stem = page_stem(own_flat)
    seen = set(ANCHOR_RE.findall(text))

    def prose(lines):
        out = []
        for line in lines:
            line = ANCHOR_RE.sub(lambda a: f'<a id="{anchor_id(stem, a.group(1))}"></a>', line)
            h = HEADING_RE.match(line)
            if h and len(h.group(1)) > 1 and slug(h.group(2)) not in seen:
                seen.add(slug(h.group(2)))
                out.append(f'<a id="{anchor_id(stem, slug(h.group(2)))}"></a>')
            out.append(line)
        return "\n".join(out)

    return map_prose(text, prose)


def with_links(text, page_dir, notes_dir, own_flat):
    """Pass 2, links: every Markdown link of the page, as the flat folder needs it (link())."""
    return LINK_RE.sub(lambda m: link(m, page_dir, notes_dir, own_flat), text)


def language_link(text, rel, notes_dir):
    """Pass 3, language: below the title, a link to the same page in the other language, if it
    exists."""
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
    """Pass 5, code spans: those Doxygen would break, as HTML (see html_code). A span may run
    over lines of one paragraph, so each run of prose is matched as a whole."""
    return map_prose(text, lambda lines: CODE_SPAN_RE.sub(html_code, "\n".join(lines)))


def emphasis_line(line):
    """One line's `**x**` and `*x*` as <strong> and <em>, its code spans kept as they are."""
    pieces = re.split(r"(`+[^`]*`+)", line)
    for i in range(0, len(pieces), 2):
        pieces[i] = EM_RE.sub(r"<em>\1</em>", STRONG_RE.sub(r"<strong>\1</strong>", pieces[i]))
    return "".join(pieces)


def cjk_emphasis(text):
    """Pass 4 (Chinese pages), emphasis: `**粗体**` and `*强调*` as HTML: Doxygen, like
    CommonMark, does not take a `*` next to a Chinese character or full-width punctuation for
    emphasis. Code spans and blocks are kept."""
    return map_prose(text, lambda lines: "\n".join(emphasis_line(line) for line in lines))


def note_pages(notes_dir):
    """(path, flat name) of every notes/**/*.md but the transcripts', scripts' and figures'."""
    found = []
    for folder, dirs, files in os.walk(notes_dir):
        dirs[:] = sorted(d for d in dirs if d not in ("transcripts", "scripts", "figures"))
        for name in sorted(files):
            if name.endswith(".md"):
                path = os.path.join(folder, name)
                found.append((path, flat_name(os.path.relpath(path, notes_dir))))
    return found


def lab_pages(root):
    """(path, flat name) of the labs' handouts, pages of the site too: labs/README.md and
    labs/X/README.md (and their .zh.md) as labs-README.md, labs-X-README.md; not a student's
    copy (work/), the answer keys or the graders."""
    found = []
    for folder, dirs, files in os.walk(os.path.join(root, "labs")):
        dirs[:] = sorted(d for d in dirs if d not in ("work", "solutions", "tests"))
        for name in sorted(files):
            repo_rel = os.path.relpath(os.path.join(folder, name), root)
            if LAB_PAGE_RE.match(repo_rel):
                found.append((os.path.join(root, repo_rel), flat_name(repo_rel)))
    return found


def pages(notes_dir):
    """(path, flat name) of every page of the site: the notes, then the labs' handouts."""
    return note_pages(notes_dir) + lab_pages(os.path.dirname(notes_dir))


def flatten(text, path, notes_dir, flat):
    """One page through the passes, in order: anchors, links, language link, emphasis (Chinese
    pages only), code spans."""
    rel = os.path.relpath(path, notes_dir)
    text = with_anchors(text, flat)
    text = with_links(text, os.path.dirname(path), notes_dir, flat)
    text = language_link(text, rel, notes_dir)
    if rel.startswith("zh/") or path.endswith(".zh.md"):
        text = cjk_emphasis(text)
    return code_spans(text)


def main(notes_dir, out_dir):
    notes_dir = os.path.abspath(notes_dir)
    os.makedirs(out_dir, exist_ok=True)
    for path, flat in pages(notes_dir):
        with open(path, encoding="utf-8") as f:
            text = flatten(f.read(), path, notes_dir, flat)
        with open(os.path.join(out_dir, flat), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


# ---------------------------------------------------------------------------------------------
# Self-test: each pass on fixed inputs, against the output it must make.

NOTES = "/repo/notes"  # the passes but language_link and the page lists only compute paths


def in_tree(files, compute):
    """compute(root) run on a temporary tree holding the (empty) files named, relative paths."""
    root = tempfile.mkdtemp(prefix="flatten-notes-self-test-")
    try:
        for rel in files:
            selftest.write(os.path.join(root, rel), "")
        return compute(root)
    finally:
        shutil.rmtree(root)


def self_test():
    lab_tree = ["labs/README.md", "labs/respawn/README.md", "labs/respawn/README.zh.md",
                "labs/work/README.md", "labs/solutions/README.md", "labs/tests/README.md",
                "notes/01-a.md", "notes/zh/01-a.md",
                "notes/02-b.md"]
    examples = [
        ("anchors: a heading gets GitHub's slug, prefixed with its page; the title none",
         lambda: with_anchors("# Title\n\n## Two words, here!\n", "deep-01-x.md"),
         '# Title\n\n<a id="deep_01_x-two-words-here"></a>\n## Two words, here!\n'),
        ("anchors: an explicit anchor is prefixed, and not given twice",
         lambda: with_anchors('<a id="two"></a>\n## Two\n', "01-x.md"),
         '<a id="01_x-two"></a>\n## Two\n'),
        ("anchors: a Chinese heading's slug is spelt in hex",
         lambda: with_anchors("## 示意图\n", "zh-01-x.md"),
         '<a id="zh_01_x-_793a_610f_56fe"></a>\n## 示意图\n'),
        ("anchors: nothing inside a code block",
         lambda: with_anchors('```\n## not a heading\n<a id="x"></a>\n```\n', "01-x.md"),
         '```\n## not a heading\n<a id="x"></a>\n```\n'),
        ("links: a page in a subfolder by its flat name",
         lambda: with_links("[a](deep/01-x.md)", NOTES, NOTES, "README.md"),
         "[a](deep-01-x.md)"),
        ("links: another page's anchor through its HTML page",
         lambda: with_links("[b](../02-y.md#a-part)", NOTES + "/deep", NOTES, "deep-01-x.md"),
         "[b](md_notes_02_y.html#02_y-a-part)"),
        ("links: the page's own anchor, prefixed",
         lambda: with_links("[c](#local)", NOTES + "/deep", NOTES, "deep-01-x.md"),
         "[c](#deep_01_x-local)"),
        ("links: a lab's handout is a page; code, figures and the web are not",
         lambda: with_links("[d](../../labs/respawn/README.md) [e](../../stage2_x/pool.h) "
                            "[f](../figures/a.svg) [g](https://example.org/#x)",
                            NOTES + "/deep", NOTES, "deep-01-x.md"),
         "[d](labs-respawn-README.md) [e](../stage2_x/pool.h) [f](figures/a.svg) "
         "[g](https://example.org/#x)"),
        ("language: a page in both languages links to the other under its title",
         lambda: in_tree(lab_tree, lambda root: (
             language_link("# One\ntext", "01-a.md", os.path.join(root, "notes")),
             language_link("# 一\n", "zh/01-a.md", os.path.join(root, "notes")),
             language_link("# Two\n", "02-b.md", os.path.join(root, "notes")))),
         ('# One\n\n<p align="right">[中文](zh-01-a.md)</p>\ntext',
          '# 一\n\n<p align="right">[English](01-a.md)</p>\n', "# Two\n")),
        ("emphasis: ** and * by Chinese characters as HTML, not in code",
         lambda: cjk_emphasis("这是**粗体**和*强调*，`*代码*`不变\n```\n**原样**\n```"),
         "这是<strong>粗体</strong>和<em>强调</em>，`*代码*`不变\n```\n**原样**\n```"),
        ("code spans: one with a quote as <code>, others as they are",
         lambda: code_spans("Run `printf 'x'` and `ls`."),
         "Run <code>printf 'x'</code> and `ls`."),
        ("code spans: HTML and Doxygen's command characters escaped, lines joined",
         lambda: code_spans("`a 'b' <c> \\ @d e_f*\ng`"),
         "<code>a 'b' &lt;c&gt; \\\\ \\@d e\\_f\\* g</code>"),
        ("code spans: none in a code block",
         lambda: code_spans("```\n`printf 'x'`\n```"), "```\n`printf 'x'`\n```"),
        ("lab pages: the handouts, not a copy, an answer key or a grader",
         lambda: in_tree(lab_tree, lambda root: [flat for _, flat in lab_pages(root)]),
         ["labs-README.md", "labs-respawn-README.md", "labs-respawn-README.zh.md"]),
    ]
    return selftest.run_examples("flatten-notes", examples)


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
