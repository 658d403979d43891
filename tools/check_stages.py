#!/usr/bin/env python3
"""Keep the chapters honest: `make check-stages`.

Three checks, each of which names the file at fault:

1. Manifest.  Every stage `stageN_name/` has notes `notes/NN-*.md` (NN = N, two digits) that hold
   a manifest: a marker line followed by a Markdown table of the files the chapter adds, changes
   and removes compared with the previous stage::

       <!-- manifest: stage2_processpool from stage1_signal_pipe -->
       | file | change |
       |---|---|
       | `processpool.h` | added |
       | `main.cpp` | changed |

   The first stage's marker has no `from` part and all its files are `added`.  The real change
   (source files only, compared byte for byte) must equal the manifest, row for row.

2. Self-contained build.  Each stage's source files are copied alone into a temporary directory
   and built there with `make -C <copy>`, which must produce `server`.

3. Excerpts.  A fenced code block in `notes/*.md` whose first line is a comment naming a repo
   file, `// stage1_signal_pipe/sig_pipe.cpp` or `# stage1_signal_pipe/Makefile`, optionally
   followed by `: name`, quotes that file: its other lines must appear in the file as contiguous
   lines (trailing whitespace ignored).  A line `// ...` or `# ...` separates chunks that must
   each appear, in this order.  A given name must occur in the excerpt.

4. Quoted diffs.  A fenced block whose first line is `diff -ruN stageA_x/FILE stageB_y/FILE`
   quotes `make diff FROM=A TO=B` (its `---`/`+++` lines without timestamps): it must be that
   diff, whole and exact, for the stages as they are now.

"Source files" are the files git tracks or would track (untracked but not ignored) under the
stage directory; build outputs (`server`, `*.o`, `*.d`, `build/`, ...) never count, even when the
tree is not a git checkout.

Usage: check_stages.py [--root DIR] [--self-test] [--no-build]
Prints one line per problem and exits 1 if there is any; otherwise prints
`check-stages: OK (N stages, M excerpts)`.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lecture_words  # noqa: E402  (tools/lecture_words.py: words of prose per lecture)
import selftest  # noqa: E402  (tools/selftest.py: the shape of every tool's --self-test)

# ---------------------------------------------------------------------------------------------
# Formats.  Kept in one place: notes/adding-a-chapter.md documents exactly these.

STAGE_DIR_RE = re.compile(r"^stage(\d+)_[A-Za-z0-9_]+$")
STAGE_NAME = r"stage\d+_[A-Za-z0-9_]+"
# The strict marker.  `<!-- manifest: stage2_x from stage1_y -->`; the first stage has no `from`.
MARKER_RE = re.compile(
    r"^\s*<!--\s*manifest:\s*(" + STAGE_NAME + r")(?:\s+from\s+(" + STAGE_NAME + r"))?\s*-->\s*$")
# Anything that looks like an attempt at a marker, so a typo is reported instead of ignored.
LOOSE_MARKER_RE = re.compile(r"<!--\s*manifest\b", re.IGNORECASE)
TABLE_HEADER_RE = re.compile(r"^\|\s*file\s*\|\s*change\s*\|\s*$")
TABLE_RULE_RE = re.compile(r"^\|\s*:?-{3,}:?\s*\|\s*:?-{3,}:?\s*\|\s*$")
TABLE_ROW_RE = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*(added|changed|removed)\s*\|\s*$")
CHANGES = ("added", "changed", "removed")

# Excerpt header: `// PATH` or `# PATH`, optionally `: NAME`.  PATH is relative to the repository
# root and contains a `/`, so an ordinary comment such as `# build it` is never taken for one.
EXCERPT_HEADER_RE = re.compile(
    r"^(//|#)\s*([A-Za-z0-9_.\-]*/[A-Za-z0-9_.\-/]+?)(?::\s*(\S.*?))?\s*$")
EXCERPT_GAP_LINES = ("// ...", "# ...")
FENCE_RE = re.compile(r"^( *)(`{3,}|~{3,})(.*)$")
# A quoted `make diff`: its first line names the two stages.
DIFF_HEADER_RE = re.compile(
    r"^diff -ruN (" + STAGE_NAME + r")/\S+ (" + STAGE_NAME + r")/\S+$")

# Build outputs that never count as source, even outside git (the repo's .gitignore says more).
OUTPUT_NAMES = {"server", ".build-flags", ".DS_Store"}
OUTPUT_SUFFIXES = (".o", ".d", ".a", ".so", ".gcda", ".gcno", ".pyc", "~", ".swp")
OUTPUT_DIRS = {"build", ".git", "__pycache__"}

BUILD_TIMEOUT_S = 600
BUILD_LOG_TAIL = 15


# ---------------------------------------------------------------------------------------------
# Small helpers


class Report:
    """Collects problems (one line each) and counts what was checked."""

    def __init__(self):
        self.problems = []
        self.excerpts = 0

    def add(self, where, message, detail=None):
        """Record one problem: `where: message`, with optional indented detail lines."""
        self.problems.append((f"{where}: {message}", detail or []))


def is_build_output(relpath):
    """True for paths that a build produces (never compared, copied or diffed)."""
    parts = relpath.split("/")
    if any(p in OUTPUT_DIRS for p in parts[:-1]):
        return True
    name = parts[-1]
    return name in OUTPUT_NAMES or name.endswith(OUTPUT_SUFFIXES) or name.startswith(".#")


def git_toplevel(root):
    """The root of the git work tree if `root` is exactly that root, else None."""
    if shutil.which("git") is None:
        return None
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
    except (subprocess.CalledProcessError, OSError):
        return None
    return root if os.path.realpath(out) == os.path.realpath(root) else None


def source_files(root, stage, use_git):
    """Sorted paths (relative to the stage dir) of the stage's source files.

    With git: tracked files plus untracked files that are not ignored.  Without git: every file.
    Build outputs are dropped in both cases.
    """
    stage_dir = os.path.join(root, stage)
    found = set()
    if use_git:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
             "--", stage + "/"], capture_output=True, check=True).stdout
        for path in out.decode("utf-8", "surrogateescape").split("\0"):
            if path and os.path.lexists(os.path.join(root, path)):  # skip deleted-but-tracked
                found.add(path[len(stage) + 1:])
    else:
        for dirpath, dirnames, filenames in os.walk(stage_dir):
            dirnames[:] = [d for d in dirnames if d not in OUTPUT_DIRS]
            for name in filenames:
                rel = os.path.relpath(os.path.join(dirpath, name), stage_dir)
                found.add(rel.replace(os.sep, "/"))
    return sorted(p for p in found if not is_build_output(p))


def file_bytes(path):
    """The bytes that make a file what it is: a symlink's target, or a file's contents."""
    if os.path.islink(path):
        return b"link:" + os.readlink(path).encode()
    with open(path, "rb") as f:
        return f.read()


def read_lines(path):
    """A text file's lines without line ends (undecodable bytes kept as escapes)."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read().splitlines()


def find_stages(root):
    """Stage directories under root as (number, name), sorted by number; duplicates reported."""
    stages = []
    for name in os.listdir(root):
        m = STAGE_DIR_RE.match(name)
        if m and os.path.isdir(os.path.join(root, name)):
            stages.append((int(m.group(1)), name))
    return sorted(stages)


def fenced_blocks(lines):
    """Yield (start_line_number, body_lines) for each fenced code block, and the set of
    line indexes inside fences (so manifest markers in code blocks are ignored).

    Follows CommonMark closely enough for notes: a fence is 3+ backticks or tildes, closed by
    the same character at least as long; the fence's indentation is removed from the body.
    An unclosed fence runs to the end of the file.
    """
    blocks, inside = [], set()
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m or (m.group(2)[0] == "`" and "`" in m.group(3)):
            i += 1
            continue
        indent, fence = len(m.group(1)), m.group(2)
        start = i
        body = []
        i += 1
        while i < len(lines):
            close = FENCE_RE.match(lines[i])
            if (close and close.group(2)[0] == fence[0] and len(close.group(2)) >= len(fence)
                    and not close.group(3).strip()):
                break
            line = lines[i]
            strip = len(line) - len(line.lstrip(" "))
            body.append(line[min(strip, indent):])
            i += 1
        inside.update(range(start, i + 1))
        blocks.append((start + 1, body))
        i += 1
    return blocks, inside


# ---------------------------------------------------------------------------------------------
# Check 1: manifests


def parse_manifest(note_rel, lines, inside_fences, report):
    """Find the manifest in a chapter's notes.

    Returns (stage, from_stage, {file: change}) or None (after reporting why).
    """
    markers = []
    for idx, line in enumerate(lines):
        if idx in inside_fences or not LOOSE_MARKER_RE.search(line):
            continue
        m = MARKER_RE.match(line)
        if not m:
            report.add(f"{note_rel}:{idx + 1}", "malformed manifest marker (expected "
                       "`<!-- manifest: stageN_name from stageM_name -->`)")
            return None
        markers.append((idx, m))
    if not markers:
        report.add(note_rel, "no manifest (expected a line `<!-- manifest: ... -->` and a table)")
        return None
    if len(markers) > 1:
        report.add(f"{note_rel}:{markers[1][0] + 1}", "a second manifest marker (one per chapter)")
        return None
    idx, m = markers[0]
    stage, from_stage = m.group(1), m.group(2)
    rows = {}
    j = idx + 1
    if not (j + 1 < len(lines) and TABLE_HEADER_RE.match(lines[j])
            and TABLE_RULE_RE.match(lines[j + 1])):
        report.add(f"{note_rel}:{j + 1}", "manifest marker must be followed by the table header "
                   "`| file | change |` and `|---|---|`")
        return None
    j += 2
    while j < len(lines) and lines[j].lstrip().startswith("|"):
        row = TABLE_ROW_RE.match(lines[j].strip())
        if not row:
            report.add(f"{note_rel}:{j + 1}", "malformed manifest row (expected "
                       "`| `path` | added|changed|removed |`): " + lines[j].strip())
        else:
            path, change = row.group(1).strip(), row.group(2)
            if path in rows:
                report.add(f"{note_rel}:{j + 1}", f"`{path}` is listed twice in the manifest")
            rows[path] = change
        j += 1
    return stage, from_stage, rows


def compare_stages(root, prev, stage, use_git):
    """The real change from stage `prev` (None for the first stage) to `stage`:
    {file: 'added'|'changed'|'removed'}, plus the set of identical files."""
    new_files = set(source_files(root, stage, use_git))
    old_files = set(source_files(root, prev, use_git)) if prev else set()
    changes, same = {}, set()
    for path in sorted(new_files | old_files):
        if path not in old_files:
            changes[path] = "added"
        elif path not in new_files:
            changes[path] = "removed"
        elif (file_bytes(os.path.join(root, prev, path))
              != file_bytes(os.path.join(root, stage, path))):
            changes[path] = "changed"
        else:
            same.add(path)
    return changes, same


def check_manifests(root, stages, use_git, report):
    """Compare every stage with its predecessor and with the manifest in its notes."""
    notes_dir = os.path.join(root, "notes")
    notes = sorted(os.listdir(notes_dir)) if os.path.isdir(notes_dir) else []
    numbers = {num for num, _ in stages}
    # A chapter marker outside a chapter's notes is a mistake (e.g. in README.md).
    for name in notes:
        m = re.match(r"^(\d+)-.*\.md$", name)
        if name.endswith(".md") and not (m and int(m.group(1)) in numbers):
            lines = read_lines(os.path.join(notes_dir, name))
            _, inside = fenced_blocks(lines)
            for idx, line in enumerate(lines):
                if idx not in inside and MARKER_RE.match(line):
                    report.add(f"notes/{name}:{idx + 1}", "manifest marker in a note that is not "
                               "a stage's chapter (chapter notes are notes/NN-*.md for stageN_*)")
    prev = None
    for num, stage in stages:
        candidates = [n for n in notes if re.match(rf"^0*{num}-.+\.md$", n)]
        expected = f"notes/{num:02d}-*.md"
        if not candidates:
            report.add(stage, f"stage has no notes ({expected} not found)")
        elif len(candidates) > 1:
            report.add(stage, f"more than one notes file matches {expected}: "
                       + ", ".join(candidates))
        else:
            check_one_manifest(root, prev, stage, "notes/" + candidates[0], use_git, report)
        prev = stage


def check_one_manifest(root, prev, stage, note_rel, use_git, report):
    """Check one chapter's manifest against the real change from `prev` to `stage`."""
    lines = read_lines(os.path.join(root, note_rel))
    _, inside = fenced_blocks(lines)
    parsed = parse_manifest(note_rel, lines, inside, report)
    if parsed is None:
        return
    m_stage, m_from, declared = parsed
    if m_stage != stage:
        report.add(note_rel, f"manifest names {m_stage}, but this is the notes of {stage}")
        return
    if m_from != prev:
        want = f"`from {prev}`" if prev else "no `from` (it is the first stage)"
        report.add(note_rel, f"manifest says from {m_from or 'nothing'}; expected {want}")
        return
    actual, same = compare_stages(root, prev, stage, use_git)
    for path in sorted(set(actual) | set(declared)):
        real, said = actual.get(path), declared.get(path)
        shown = f"{stage}/{path}" if real != "removed" else f"{prev}/{path}"
        if real == said:
            continue
        if said is None:
            report.add(note_rel, f"{shown}: {real} but not declared in the manifest")
        elif path in same:
            report.add(note_rel, f"{stage}/{path}: declared {said} but identical to {prev}/{path}")
        elif real is None:
            report.add(note_rel, f"{stage}/{path}: manifest row for a file that exists in neither "
                       f"{stage}" + (f" nor {prev}" if prev else ""))
        else:
            report.add(note_rel, f"{shown}: declared {said} but it is {real}")


# ---------------------------------------------------------------------------------------------
# Check 2: every stage builds alone


def build_alone(root, stage, use_git, tmp_root):
    """Copy the stage's source files alone into a temp dir and run `make` there.

    Returns None on success, else (message, log tail lines).
    """
    copy = os.path.join(tmp_root, stage)
    for rel in source_files(root, stage, use_git):
        src, dst = os.path.join(root, stage, rel), os.path.join(copy, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)
    os.makedirs(copy, exist_ok=True)
    # A fresh make, not a sub-make of `make check-stages`: no inherited jobserver or flags.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    try:
        proc = subprocess.run(["make", "--no-print-directory", "-C", copy], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"build did not finish within {BUILD_TIMEOUT_S} s", []
    log = proc.stdout.decode("utf-8", "replace").splitlines()
    if proc.returncode != 0:
        return (f"does not build alone (`make` exit {proc.returncode} in a copy)",
                log[-BUILD_LOG_TAIL:])
    if not os.access(os.path.join(copy, "server"), os.X_OK):
        return "builds alone but produces no executable `server`", log[-BUILD_LOG_TAIL:]
    return None


def check_builds(root, stages, use_git, report):
    """Build every stage alone, in parallel (one stage per core)."""
    with tempfile.TemporaryDirectory(prefix="check-stages-") as tmp:
        jobs = max(1, min(len(stages), os.cpu_count() or 1))
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            results = {}
            for _, stage in stages:
                results[stage] = pool.submit(build_alone, root, stage, use_git,
                                             tempfile.mkdtemp(dir=tmp))
            for _, stage in stages:
                failure = results[stage].result()
                if failure:
                    message, tail = failure
                    report.add(stage, message, ["    | " + line for line in tail])


# ---------------------------------------------------------------------------------------------
# Check 3: excerpts in notes


def find_chunk(chunk, text, start):
    """Index of the first occurrence of `chunk` (list of lines) in `text` at or after `start`,
    or -1."""
    n = len(chunk)
    for i in range(start, len(text) - n + 1):
        if text[i:i + n] == chunk:
            return i
    return -1


def longest_prefix(chunk, text, start):
    """How many leading lines of `chunk` occur contiguously somewhere at or after `start`
    (used to point at the first line that no longer matches)."""
    best = 0
    for i in range(start, len(text)):
        k = 0
        while k < len(chunk) and i + k < len(text) and text[i + k] == chunk[k]:
            k += 1
        best = max(best, k)
    return best


def split_chunks(body):
    """Split an excerpt body at `// ...` / `# ...` lines; trim blank lines at chunk edges.

    Returns a list of (offset_in_body, lines) with empty chunks dropped."""
    chunks, current, offset = [], [], 0
    for idx, line in enumerate(body + ["// ..."]):
        if line.strip() in EXCERPT_GAP_LINES:
            while current and not current[0].strip():
                current.pop(0)
                offset += 1
            while current and not current[-1].strip():
                current.pop()
            if current:
                chunks.append((offset, current))
            current, offset = [], idx + 1
        else:
            current.append(line.rstrip())
    return chunks


def name_occurs(name, body):
    """True if the excerpt's `: name` occurs in its text (for `A::f`, `f` suffices)."""
    text = "\n".join(body)
    if name in text:
        return True
    last = name.split("::")[-1]
    return "::" in name and re.search(r"\b" + re.escape(last) + r"\b", text) is not None


def check_excerpt(root, note_rel, line_no, header, body, report):
    """Check one excerpt block (header already matched)."""
    m = EXCERPT_HEADER_RE.match(header)
    path, name = m.group(2), m.group(3)
    where = f"{note_rel}:{line_no}"
    norm = os.path.normpath(path)
    if norm.startswith("..") or os.path.isabs(norm):
        report.add(where, f"excerpt of {path}: path must stay inside the repository")
        return
    full = os.path.join(root, norm)
    if not os.path.isfile(full):
        report.add(where, f"excerpt of {path}: no such file")
        return
    chunks = split_chunks(body)
    if not chunks:
        report.add(where, f"excerpt of {path}: the block quotes nothing")
        return
    if name and not name_occurs(name, body):
        report.add(where, f"excerpt of {path}: the name `{name}` does not occur in the excerpt")
    text = [line.rstrip() for line in read_lines(full)]
    pos = 0
    for number, (offset, chunk) in enumerate(chunks, 1):
        found = find_chunk(chunk, text, pos)
        if found < 0:
            k = longest_prefix(chunk, text, pos)
            bad_line = line_no + 2 + offset + k  # fence line, header line, then the body
            label = f"chunk {number} " if len(chunks) > 1 else ""
            if find_chunk(chunk, text, 0) >= 0:
                why = f"{label}is out of order (it appears before the previous chunk)"
            else:
                why = f"{label}is stale: line {bad_line} `{chunk[k].strip()}` " + (
                    f"differs from {path} (the {k} line(s) above it match)" if k else
                    f"is not in {path}")
            report.add(where, f"excerpt of {path}{': ' + name if name else ''}: {why}")
            return
        pos = found + len(chunk)


def stage_diff(root, old, new, use_git):
    """The lines of `make diff FROM=old TO=new` (as tools/stage_diff.sh makes it: the source
    files copied alone, `diff -ruN` run beside them), with the timestamps of `---`/`+++` removed."""
    with tempfile.TemporaryDirectory(prefix="check-stages-diff-") as tmp:
        for stage in (old, new):
            os.makedirs(os.path.join(tmp, stage), exist_ok=True)
            for rel in source_files(root, stage, use_git):
                dst = os.path.join(tmp, stage, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(os.path.join(root, stage, rel), dst, follow_symlinks=False)
        out = subprocess.run(["diff", "-ruN", old, new], cwd=tmp, capture_output=True).stdout
    text = re.sub(r"^(---|\+\+\+) (\S+)\t.*$", r"\1 \2", out.decode("utf-8", "replace"),
                  flags=re.M)
    return [line.rstrip() for line in text.splitlines()]


def check_quoted_diff(root, note_rel, line_no, body, use_git, report):
    """Check one quoted `make diff` block against the diff of the stages as they are."""
    old, new = DIFF_HEADER_RE.match(body[0].strip()).groups()
    where = f"{note_rel}:{line_no}"
    for stage in (old, new):
        if not os.path.isdir(os.path.join(root, stage)):
            report.add(where, f"quoted diff of {old} -> {new}: no stage {stage}")
            return
    quoted = [line.rstrip() for line in body]
    real = stage_diff(root, old, new, use_git)
    if quoted == real:
        return
    same = [a == b for a, b in zip(quoted, real)]
    k = same.index(False) if False in same else len(same)  # first line that differs
    what = f"line {line_no + 1 + k} `{quoted[k].strip()}`" if k < len(quoted) else "its end"
    report.add(where, f"quoted diff of {old} -> {new} is stale: {what} differs from "
               f"`make diff` (the {k} line(s) above it match)")


def check_excerpts(root, report):
    """Check every excerpt and every quoted diff in the notes (notes/**/*.md)."""
    notes_dir = os.path.join(root, "notes")
    if not os.path.isdir(notes_dir):
        return
    use_git = git_toplevel(root) is not None
    pages = []
    for folder, _, names in os.walk(notes_dir):
        pages += [os.path.join(folder, n) for n in names if n.endswith(".md")]
    for path in sorted(pages):
        note_rel = os.path.relpath(path, root)
        blocks, _ = fenced_blocks(read_lines(path))
        for line_no, body in blocks:
            if body and EXCERPT_HEADER_RE.match(body[0].strip()):
                report.excerpts += 1
                check_excerpt(root, note_rel, line_no, body[0].strip(), body[1:], report)
            elif body and DIFF_HEADER_RE.match(body[0].strip()):
                report.excerpts += 1
                check_quoted_diff(root, note_rel, line_no, body, use_git, report)


# ---------------------------------------------------------------------------------------------
# Driver


ASSERT_CALL = re.compile(r"\bassert\s*\(")
SIDE_EFFECT = [
    (re.compile(r"\b(?!sizeof\b|alignof\b|decltype\b)[A-Za-z_]\w*\s*\("), "a call"),
    (re.compile(r"(?<![=!<>])=(?!=)"), "an assignment"),
    (re.compile(r"\+\+|--"), "an increment or decrement"),
]


def assert_argument(text, start):
    """The text between the parentheses of the assert( whose '(' ends at `start`."""
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return text[start:]


def check_asserts(root, stages, use_git, report):
    """Under NDEBUG an assert's expression is not evaluated: it must not do anything."""
    for _, stage in stages:
        for rel in source_files(root, stage, use_git):
            if not rel.endswith((".h", ".cpp", ".c")):
                continue
            text = "\n".join(read_lines(os.path.join(root, stage, rel)))
            code = re.sub(r"//[^\n]*|/\*.*?\*/", lambda m: " " * len(m.group()), text,
                          flags=re.S)
            for match in ASSERT_CALL.finditer(code):
                argument = assert_argument(code, match.end())
                for pattern, what in SIDE_EFFECT:
                    if pattern.search(argument):
                        line = code.count("\n", 0, match.start()) + 1
                        report.add(f"{stage}/{rel}:{line}",
                                   f"assert({argument.strip()}) has a side effect ({what}): "
                                   "under NDEBUG it is not evaluated")
                        break


def run_checks(root, build=True):
    """Run every check on the repository at `root`; returns (report, number of stages)."""
    report = Report()
    stages = find_stages(root)
    seen = {}
    for num, stage in stages:
        if num in seen:
            report.add(stage, f"two directories for stage {num}: {seen[num]} and {stage}")
        seen[num] = stage
    if not stages:
        report.add(root, "no stage directories (stageN_name/) found")
    use_git = git_toplevel(root) is not None
    check_manifests(root, stages, use_git, report)
    check_asserts(root, stages, use_git, report)
    if build and stages:
        check_builds(root, stages, use_git, report)
    check_excerpts(root, report)
    check_lecture_length(root, report)
    return report, len(stages)


def check_lecture_length(root, report):
    """A lecture (notes/NN-*.md) has at most lecture_words.LIMIT words of prose."""
    for path, words in lecture_words.lectures(root):
        if re.match(r"notes/\d\d-", path) and words > lecture_words.LIMIT:
            report.add(path, f"{words} words of prose, more than a lecture's "
                       f"{lecture_words.LIMIT} (tools/lecture_words.py): move the rest to "
                       f"notes/deep/{os.path.basename(path)}")


def main_check(root, build):
    """Run the checks and print the result; return the exit status."""
    report, n_stages = run_checks(root, build)
    for line, detail in report.problems:
        print(line, file=sys.stderr)
        for extra in detail:
            print(extra, file=sys.stderr)
    if report.problems:
        print(f"check-stages: FAILED ({len(report.problems)} problem(s))", file=sys.stderr)
        return 1
    print(f"check-stages: OK ({n_stages} stages, {report.excerpts} excerpts)")
    return 0


# ---------------------------------------------------------------------------------------------
# Self-test: tiny fake repositories, each broken in one way, must fail naming the file.

FAKE_MAKEFILE = "server: main.c\n\t$(CC) -o server main.c\n"
FAKE_MAIN_1 = "#include <stdio.h>\n\nint main(void) {\n  puts(\"one\");\n  return 0;\n}\n"
FAKE_MAIN_2 = "#include <stdio.h>\n\nint main(void) {\n  puts(\"two\");\n  return 0;\n}\n"
FAKE_NOTE_1 = """# Chapter 1: one

<!-- manifest: stage1_one -->
| file | change |
|---|---|
| `Makefile` | added |
| `main.c` | added |

```c
// stage1_one/main.c: main
int main(void) {
  puts("one");
// ...
}
```
"""
FAKE_NOTE_2 = """# Chapter 2: two

<!-- manifest: stage2_two from stage1_one -->
| file | change |
|---|---|
| `main.c` | changed |

```c
// stage2_two/main.c
  puts("two");
```

```sh
# an ordinary block, not an excerpt
make -C stage2_two
```
"""


write = selftest.write  # a file and its directories
edit = selftest.replace_once  # the self-test's way of breaking a tree


def make_fake_repo(root):
    """A clean two-stage repository that passes every check."""
    write(os.path.join(root, "stage1_one/Makefile"), FAKE_MAKEFILE)
    write(os.path.join(root, "stage1_one/main.c"), FAKE_MAIN_1)
    write(os.path.join(root, "stage2_two/Makefile"), FAKE_MAKEFILE)
    write(os.path.join(root, "stage2_two/main.c"), FAKE_MAIN_2)
    write(os.path.join(root, "notes/01-one.md"), FAKE_NOTE_1)
    write(os.path.join(root, "notes/02-two.md"), FAKE_NOTE_2)
    write(os.path.join(root, "notes/README.md"), "# Course map\n")


def break_undeclared(root):
    """(a) a stray edit in stage 2's Makefile that the manifest does not declare."""
    edit(os.path.join(root, "stage2_two/Makefile"), "server:", "# reformatted\nserver:")


def break_identical(root):
    """(b) the manifest declares a change to a file that is byte-identical."""
    edit(os.path.join(root, "notes/02-two.md"), "| `main.c` | changed |",
         "| `main.c` | changed |\n| `Makefile` | changed |")


def break_excerpt(root):
    """(c) the code changed (the manifest still right), the quoted line did not follow."""
    edit(os.path.join(root, "stage2_two/main.c"), 'puts("two");', 'puts("TWO");')


def break_build(root):
    """(d) stage 2 only builds inside the repo: its Makefile includes ../common.mk."""
    write(os.path.join(root, "common.mk"), "CC = cc\n")
    edit(os.path.join(root, "stage2_two/Makefile"), "server:", "include ../common.mk\nserver:")
    edit(os.path.join(root, "notes/02-two.md"), "| `main.c` | changed |",
         "| `main.c` | changed |\n| `Makefile` | changed |")


def break_kind(root):
    """(e) a file declared `added` that the previous stage already had."""
    edit(os.path.join(root, "notes/02-two.md"), "| `main.c` | changed |", "| `main.c` | added |")


def break_ghost_row(root):
    """(f) a manifest row for a file that exists in neither stage."""
    edit(os.path.join(root, "notes/02-two.md"), "| `main.c` | changed |",
         "| `main.c` | changed |\n| `gone.c` | removed |")


def quote_diff(root):
    """Quotes `make diff TO=2` in the course map, as notes/03 does: must pass."""
    diff = "\n".join(stage_diff(root, "stage1_one", "stage2_two", False))
    with open(os.path.join(root, "notes/README.md"), "a") as f:
        f.write("\n```diff\n" + diff + "\n```\n")


def break_quoted_diff(root):
    """(j) a quoted `make diff` that the code has left behind."""
    quote_diff(root)
    edit(os.path.join(root, "notes/README.md"), '+  puts("two");', '+  puts("2");')


def break_no_notes(root):
    """(g) a stage without notes."""
    os.remove(os.path.join(root, "notes/02-two.md"))


def break_outputs_ignored(root):
    """(h) build outputs in a stage dir are not source: must still pass."""
    write(os.path.join(root, "stage2_two/server"), "not a real binary\n")
    write(os.path.join(root, "stage2_two/main.o"), "junk\n")


def break_git_ignored(root):
    """(i) in a git checkout, files that .gitignore names are not source: must still pass."""
    subprocess.run(["git", "init", "-q", root], check=True)
    write(os.path.join(root, ".gitignore"), "*.log\n")
    write(os.path.join(root, "stage2_two/run.log"), "output of a run\n")


def break_assert(root):
    """(k) a side effect inside assert(): gone under NDEBUG."""
    write(os.path.join(root, "stage2_two/check.h"),
          "#include <assert.h>\n#include <stdio.h>\n\n"
          "static inline void check(void) {\n  assert(puts(\"x\") >= 0);\n}\n")
    edit(os.path.join(root, "notes/02-two.md"), "| `main.c` | changed |",
         "| `main.c` | changed |\n| `check.h` | added |")


def break_long_lecture(root):
    """(l) a lecture with more prose than a lecture can hold."""
    edit(os.path.join(root, "notes/02-two.md"), "# Chapter 2: two\n", "# Chapter 2: two\n\n" + "word " * 2001 + "\n")


SELF_TEST_CASES = [
    # (description, breaker, the one problem it must cause; None: the tree must pass)
    ("clean tree passes", None, None),
    ("build outputs are ignored", break_outputs_ignored, None),
    ("git-ignored files are ignored", break_git_ignored, None),
    ("a current quoted diff passes", quote_diff, None),
    ("(a) undeclared change fails", break_undeclared,
     "notes/02-two.md: stage2_two/Makefile: changed but not declared"),
    ("(b) declared change that is identical fails", break_identical,
     "notes/02-two.md: stage2_two/Makefile: declared changed but identical"),
    ("(c) stale excerpt fails", break_excerpt,
     "notes/02-two.md:8: excerpt of stage2_two/main.c: is stale"),
    ("(d) stage that does not build alone fails", break_build,
     "stage2_two: does not build alone"),
    ("(e) added/changed mismatch fails", break_kind,
     "notes/02-two.md: stage2_two/main.c: declared added but it is changed"),
    ("(f) row for a missing file fails", break_ghost_row,
     "stage2_two/gone.c: manifest row for a file that exists in neither"),
    ("(g) stage without notes fails", break_no_notes,
     "stage2_two: stage has no notes"),
    ("(j) stale quoted diff fails", break_quoted_diff,
     "notes/README.md:3: quoted diff of stage1_one -> stage2_two is stale"),
    ("(k) side effect inside assert fails", break_assert,
     "stage2_two/check.h:5: assert(puts(\"x\") >= 0) has a side effect (a call)"),
    ("(l) lecture over 2,000 words of prose fails", break_long_lecture,
     "words of prose, more than a lecture's 2000"),
]


def check_fake_repo(root):
    """Runs the checker on a fake tree as `make check-stages` does (a separate process); returns
    its problems. A broken tree must give exactly the one problem its case made, so more than
    one is reported as a problem of its own (printed, and matching no case)."""
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--root", root],
                          capture_output=True, text=True)
    problems = [line for line in proc.stderr.splitlines()
                if line and not line.startswith(("    ", "check-stages:"))]
    if proc.returncode == 0 and "check-stages: OK (2 stages, " in proc.stdout + proc.stderr:
        return []
    if proc.returncode != 1 or len(problems) != 1:
        print((proc.stdout + proc.stderr).rstrip())
        return [f"exit {proc.returncode} with {len(problems)} problems (above), not exactly one"]
    return problems


def self_test():
    """Proves on fake trees that each kind of drift is caught; returns an exit status."""
    return selftest.run_cases("check-stages", SELF_TEST_CASES, make_fake_repo, check_fake_repo)


def main():
    """Parse the command line and run the checks or the self-test."""
    parser = argparse.ArgumentParser(description="Check the chapters: manifests, "
                                     "self-contained builds, and code excerpts in notes.")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--root", default=repo,
                        help="repository root (default: the repo containing this script)")
    parser.add_argument("--self-test", action="store_true",
                        help="prove on temporary trees that each kind of drift is caught")
    parser.add_argument("--no-build", action="store_true",
                        help="skip the build-alone check (quicker while writing notes)")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if not os.path.isdir(args.root):
        parser.error(f"--root {args.root}: no such directory")
    return main_check(os.path.abspath(args.root), build=not args.no_build)


if __name__ == "__main__":
    sys.exit(main())
