#!/usr/bin/env python3
"""Transcripts: the command-and-output blocks of the notes, produced by running them.

    tools/transcripts.py check [NAME...]   fail, naming the block, when a transcript is stale
    tools/transcripts.py update [NAME...]  rewrite the blocks from what the code does now
    tools/transcripts.py --self-test       prove that the check can fail

A block marked `<!-- transcript: NAME -->` on the line before its opening fence is produced by
`notes/transcripts/SCRIPT.sh` (NAME is SCRIPT, or SCRIPT/PART for a script's later parts). The
scripts use `notes/transcripts/lib.sh`; see there for the commands they have. Every part a script
prints must be used by some page, and every marker must name a part: nothing is shown unchecked.
"""

import concurrent.futures
import difflib
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selftest  # noqa: E402

MARKER_RE = re.compile(r"^<!-- transcript: ([\w./-]+) -->\s*$")
FENCE_RE = re.compile(r"^(`{3,}|~{3,})")
SCRIPT_TIMEOUT = 90  # seconds, per script
PARALLEL = 4
QUIET = False  # the self-test's fake pages are rewritten without a word


class Failure(Exception):
    """A script that could not run, or notes that name what no script makes."""


def scripts_dir(root):
    return os.path.join(root, "notes", "transcripts")


def all_scripts(root):
    """Script stems under notes/transcripts/, sorted (lib.sh is the library, not a script)."""
    names = os.listdir(scripts_dir(root)) if os.path.isdir(scripts_dir(root)) else []
    return sorted(n[:-3] for n in names if n.endswith(".sh") and n != "lib.sh")


def read_rules(scratch):
    """The names (NAME=VALUE lines) and masks (REGEX<TAB>REPLACEMENT lines) a script left."""
    names, masks = [], []
    path = os.path.join(scratch, "vars")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8").read().splitlines():
            key, _, value = line.partition("=")
            if value:
                names.append((key, value))
    path = os.path.join(scratch, "masks")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8").read().splitlines():
            regex, _, replacement = line.partition("\t")
            masks.append((re.compile(regex), replacement))
    return names, masks


def normalise(line, root, names, masks):
    """The ways to show an output line: masks applied, then each registered value (a whole
    number) replaced by its name. Pids repeat numbers (pid_max is often 32768): a `1286` in the
    output may be a byte count that equals a pid by chance. So every choice of replacing or
    keeping each such number is a right way to show the line; the first replaces them all."""
    line = line.replace(root, "REPO")
    for regex, replacement in masks:
        line = regex.sub(replacement, line)
    if not names:
        return [line]
    by_value = {value: key for key, value in names}
    alternation = "|".join(re.escape(v) for v in sorted(by_value, key=len, reverse=True))
    pieces = re.split(r"(?<![\w.])(" + alternation + r")(?![\w])", line)
    choices = [[piece] if i % 2 == 0 else [by_value[piece], piece]
               for i, piece in enumerate(pieces)]
    if len(pieces) // 2 > 6:  # too many to try: replace them all
        return ["".join(c[0] for c in choices)]
    return ["".join(combo) for combo in itertools.product(*choices)]


def agree(shown, produced):
    """The block to show: the notes' own lines when each is a right way to show what the
    script printed (see normalise), else the script's output with every value replaced."""
    if len(shown) == len(produced) and all(a in b for a, b in zip(shown, produced)):
        return shown
    return [ways[0] for ways in produced]


def shown_command(text, names):
    """`$ COMMAND` with each registered shell variable shown as its bare name."""
    for key in sorted({k for k, _ in names}, key=len, reverse=True):
        text = re.sub(r"\$\{" + key + r"\}|\$" + key + r"(?![\w])", key, text)
    return "$ " + text


def run_script(root, stem):
    """Run one script; return {part name: list of lines}."""
    with tempfile.TemporaryDirectory(prefix="transcript-") as scratch:
        env = dict(os.environ, TRANSCRIPT_DIR=scratch, REPO=root)
        try:
            done = subprocess.run(["bash", os.path.join(scripts_dir(root), stem + ".sh")],
                                  cwd=scratch, env=env, capture_output=True, text=True,
                                  timeout=SCRIPT_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure(f"notes/transcripts/{stem}.sh: still running after "
                          f"{SCRIPT_TIMEOUT} s")
        if done.returncode != 0:
            tail = "\n".join(done.stderr.splitlines()[-8:])
            raise Failure(f"notes/transcripts/{stem}.sh: exit status {done.returncode}\n{tail}")
        names, masks = read_rules(scratch)
    parts, current = {stem: []}, stem
    for raw in done.stdout.splitlines():
        if raw.startswith("@@part "):
            current = stem + "/" + raw[len("@@part "):].strip()
            parts.setdefault(current, [])
        elif raw.startswith("@@cmd "):
            parts[current].append(normalise(shown_command(raw[6:], names), root, names,
                                            masks))
        else:
            parts[current].append(normalise(raw.rstrip(), root, names, masks))
    if not parts[stem]:
        del parts[stem]
    return parts


def find_blocks(root):
    """Every marked block: list of (page, marker line index, name, body start, body end)."""
    blocks = []
    for folder, _, files in sorted(os.walk(os.path.join(root, "notes"))):
        for fname in sorted(files):
            if not fname.endswith(".md"):
                continue
            path = os.path.join(folder, fname)
            lines = open(path, encoding="utf-8").read().split("\n")
            outer = None  # the fence we are inside of: a marker there is an example, not a block
            for i, line in enumerate(lines):
                fence_here = FENCE_RE.match(line)
                if outer:
                    closing = line.strip()
                    if closing.startswith(outer) and not closing[len(outer):].strip("`~"):
                        outer = None
                    continue
                if fence_here:
                    outer = fence_here.group(1)
                    continue
                m = MARKER_RE.match(line)
                if not m:
                    continue
                page = os.path.relpath(path, root)
                fence = FENCE_RE.match(lines[i + 1]) if i + 1 < len(lines) else None
                if not fence:
                    raise Failure(f"{page}:{i + 1}: transcript {m.group(1)}: the next line "
                                  "must open a fenced block")
                end = i + 2
                while end < len(lines) and not lines[end].startswith(fence.group(1)):
                    end += 1
                if end == len(lines):
                    raise Failure(f"{page}:{i + 2}: transcript {m.group(1)}: unclosed block")
                blocks.append((page, i, m.group(1), i + 2, end))
    return blocks


def produce(root, wanted):
    """Run the scripts (all, or those named) in parallel; return {part name: lines}."""
    stems = [s for s in all_scripts(root) if not wanted or s in wanted]
    unknown = set(wanted) - set(stems)
    if unknown:
        raise Failure("no such transcript script: " + ", ".join(sorted(unknown)))
    parts = {}
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        for result in pool.map(lambda s: run_script(root, s), stems):
            parts.update(result)
    return stems, parts


def compare(root, wanted, write):
    """Check (or rewrite) every block; return the list of problems."""
    stems, parts = produce(root, wanted)
    problems, used = [], set()
    pages = {}
    for page, marker, name, start, end in find_blocks(root):
        if name.split("/")[0] not in stems:
            if not wanted:
                problems.append(f"{page}:{marker + 1}: transcript {name}: no script "
                                f"notes/transcripts/{name.split('/')[0]}.sh")
            continue
        if name not in parts:
            problems.append(f"{page}:{marker + 1}: transcript {name}: the script prints no "
                            f"such part (it prints: {', '.join(sorted(parts)) or 'nothing'})")
            continue
        used.add(name)
        lines = pages.setdefault(page, open(os.path.join(root, page),
                                            encoding="utf-8").read().split("\n"))
        shown = lines[start:end]
        if agree(shown, parts[name]) != shown:
            if write:
                pages[page + "#changed"] = True
            else:
                diff = list(difflib.unified_diff(shown, agree(shown, parts[name]), "in the notes",
                                                 "what the code does", lineterm="", n=1))
                problems.append(f"{page}:{marker + 1}: transcript {name} is stale "
                                f"(`make transcripts` rewrites it):\n  " +
                                "\n  ".join(diff[:30]))
    for name in sorted(set(parts) - used):
        problems.append(f"notes/transcripts/{name.split('/')[0]}.sh: part {name} is shown "
                        "by no page (mark a block with <!-- transcript: " + name + " -->)")
    if write:
        rewrite(root, find_blocks(root), parts)
    return problems


def rewrite(root, blocks, parts):
    """Replace every marked block's body by its part, bottom-up so indices stay valid."""
    by_page = {}
    for block in blocks:
        by_page.setdefault(block[0], []).append(block)
    for page, page_blocks in by_page.items():
        path = os.path.join(root, page)
        lines = open(path, encoding="utf-8").read().split("\n")
        for _, _, name, start, end in sorted(page_blocks, key=lambda b: -b[3]):
            if name in parts:
                lines[start:end] = agree(lines[start:end], parts[name])
        new = "\n".join(lines)
        if new != open(path, encoding="utf-8").read():
            open(path, "w", encoding="utf-8").write(new)
            if not QUIET:
                print(f"transcripts: rewrote {page}")


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if argv[:1] == ["--self-test"]:
        return self_test()
    if not argv or argv[0] not in ("check", "update"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        problems = compare(root, argv[1:], write=argv[0] == "update")
    except Failure as failure:
        print(f"transcripts: {failure}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"transcripts: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    n = len(find_blocks(root))
    print(f"transcripts: {'updated' if argv[0] == 'update' else 'OK'} ({n} blocks)")
    return 0


# ---------------------------------------------------------------------------------------------
# Self-test: a fake repository with one page and one script; each break must be reported.

PAGE = """# Page
<!-- transcript: t -->
```
$ echo hello PORT
hello PORT
```
<!-- transcript: t/log -->
```
pid P
```
"""

SCRIPT = """source "$REPO/notes/transcripts/lib.sh"
name 4242 PORT
name 777 P
cmd 'echo hello $PORT'
part log
say "pid 777"
"""


def self_test():
    global QUIET
    QUIET = True
    real_lib = os.path.join(scripts_dir(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "lib.sh")
    cases = [
        ("a fresh page passes", None, None),
        ("a stale line fails, naming page and block", lambda r: edit(r, "hello PORT\n", "hi\n"),
         "notes/page.md:2: transcript t is stale"),
        ("an unknown part fails", lambda r: edit(r, "t/log", "t/logs"), "prints no such part"),
        ("an unused part fails", lambda r: edit(r, "<!-- transcript: t/log -->\n", ""),
         "part t/log is shown by no page"),
        ("a marker without a script fails", lambda r: edit(r, "transcript: t -->",
                                                           "transcript: u -->"), "no script"),
        ("update repairs a stale block", lambda r: (edit(r, "hello PORT\n", "hi\n"),
                                                     compare(r, [], write=True)), None),
        ("a marker inside an example fence is not a block",
         lambda r: open(os.path.join(r, "notes", "page.md"), "a").write(
             "````\n<!-- transcript: nope -->\n```\nx\n```\n````\n"), None),
        ("a number equal to a named value by chance may be shown as it is",
         lambda r: (open(os.path.join(scripts_dir(r), "t.sh"), "a").write('say "size 777"\n'),
                    open(os.path.join(r, "notes", "page.md"), "a").write("")
                    or edit(r, "pid P\n", "pid P\nsize 777\n")), None),
        ("... or as the name", lambda r: (
            open(os.path.join(scripts_dir(r), "t.sh"), "a").write('say "size 777"\n'),
            edit(r, "pid P\n", "pid P\nsize P\n")), None),
        ("a failing script fails", lambda r: open(os.path.join(scripts_dir(r), "t.sh"), "a")
         .write("false\n"), "exit status 1"),
    ]

    def build(root):
        os.makedirs(scripts_dir(root))
        shutil.copy(real_lib, scripts_dir(root))
        selftest.write(os.path.join(root, "notes", "page.md"), PAGE)
        selftest.write(os.path.join(scripts_dir(root), "t.sh"), SCRIPT)

    def check(root):
        try:
            return compare(root, [], write=False)
        except Failure as failure:
            return [str(failure)]

    return selftest.run_cases("transcripts", cases, build, check)


def edit(root, old, new):
    selftest.replace_once(os.path.join(root, "notes", "page.md"), old, new)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
