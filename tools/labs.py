#!/usr/bin/env python3
"""Labs: a starting point, a handout, a grader, and a reference solution kept apart.

    tools/labs.py list                     make labs
    tools/labs.py start LAB                make lab LAB=...    (your copy: labs/work/LAB/)
    tools/labs.py grade LAB [--solution]   make grade LAB=... [SOLUTION=1]
    tools/labs.py ci                       make check-labs: every solution passes its grader,
                                           every untouched starting point fails it

A lab is a directory labs/LAB/ with a handout (README.md), its grading tests (tests/*.cpp) and
lab.conf (`key = value` lines: chapter, start, difficulty, summary, tests, and optionally extra:
a directory whose files are copied into the copy too, e.g. a config template to fill in; and
behaviour: those of the tests that compile against the untouched start and must fail there,
which proves that the grader checks what the lab asks for, not only that an interface exists). Its
reference solution is labs/solutions/LAB/solution.patch, a patch against the starting point
(the stage plus the extra files; -p1 inside the copy's directory). The grader is compiled
against the copy's own sources (its unit tests test your classes) and starts the copy's own
server.
"""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABS = os.path.join(ROOT, "labs")
BUILD = os.path.join(ROOT, "build", "labs")
BUILD_OUTPUTS = re.compile(r"(\.o|\.d|\.build-flags)$|^server$")
GRADER_TIMEOUT = 600  # seconds for a whole grader run


class LabError(Exception):
    """A mistake of the caller's (no such lab, no copy yet), said in one line."""


def read_conf(name):
    path = os.path.join(LABS, name, "lab.conf")
    if not os.path.isfile(path):
        raise LabError(f"no lab called '{name}' (make labs lists them)")
    conf = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            conf[key.strip()] = value.strip()
    conf["tests"] = conf.get("tests", "").split()
    conf["behaviour"] = conf.get("behaviour", "").split()
    return conf


def all_labs():
    names = [n for n in os.listdir(LABS) if os.path.isfile(os.path.join(LABS, n, "lab.conf"))]
    return sorted(names, key=lambda n: (int(read_conf(n)["chapter"]), n))


def copy_stage(stage, dest):
    """A clean copy of a stage's sources (no build outputs) at dest."""
    src = os.path.join(ROOT, stage)
    shutil.copytree(src, dest, ignore=lambda d, names: [n for n in names
                                                        if BUILD_OUTPUTS.search(n)])


def copy_start(conf, dest):
    """A lab's starting point at dest: its stage, plus the files of its `extra` directory."""
    copy_stage(conf["start"], dest)
    if conf.get("extra"):
        shutil.copytree(os.path.join(ROOT, conf["extra"]), dest, dirs_exist_ok=True)


def cmd_list():
    print(f"{'lab':<20} {'chapter':<8} {'difficulty':<11} what you build")
    for name in all_labs():
        conf = read_conf(name)
        print(f"{name:<20} {conf['chapter']:<8} {conf['difficulty']:<11} {conf['summary']}")
    print("\nmake lab LAB=<lab> makes your copy; labs/<lab>/README.md is the handout.")
    return 0


def cmd_start(name):
    conf = read_conf(name)
    work = os.path.join(LABS, "work", name)
    rel = os.path.relpath(work, ROOT)
    if os.path.exists(work):
        print(f"{rel} exists already: your work is kept. To start over: rm -r {rel}")
        return 1
    copy_start(conf, work)
    extra = f" and {conf['extra']}/" if conf.get("extra") else ""
    print(f"Made {rel}/, a copy of {conf['start']}/{extra} (chapter {conf['chapter']}).\n"
          f"Next: read labs/{name}/README.md, change the code in {rel}/, and grade it with\n"
          f"  make grade LAB={name}")
    return 0


def solution_tree(name, conf):
    """The starting point (stage and extra files) with the reference solution applied, freshly
    made."""
    tree = os.path.join(BUILD, "solution-" + name)
    shutil.rmtree(tree, ignore_errors=True)
    copy_start(conf, tree)
    patch = os.path.join(LABS, "solutions", name, "solution.patch")
    if not os.path.isfile(patch):
        raise LabError(f"lab '{name}' has no reference solution ({os.path.relpath(patch, ROOT)})")
    done = subprocess.run(["patch", "-s", "-p1", "-i", patch], cwd=tree,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise LabError(f"{os.path.relpath(patch, ROOT)} does not apply to {conf['start']}:\n"
                       + done.stdout + done.stderr)
    return tree


class BuildFailed(Exception):
    """The copy's server or the grader against it does not compile: a score of 0."""


def grade(name, source, label, quiet=False):
    """Build source and its grader, run it; return (passed, failed). Quiet: the compiler's and
    the tests' output is not shown (CI's run of an untouched starting point, meant to fail)."""
    try:
        return run_grader(name, source, label, quiet)
    except BuildFailed as why:
        print(f"lab {name}: {why}")
        return 0, 1


def run_grader(name, source, label, quiet, tests=None):
    """grade() of the lab's tests or of @p tests, raising BuildFailed instead of scoring 0."""
    hush = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL} if quiet else {}
    conf = read_conf(name)
    print(f"=== grading lab {name} ({label}: {os.path.relpath(source, ROOT)})", flush=True)
    if subprocess.run(["make", "--no-print-directory", "-s", f"-j{os.cpu_count() or 2}", "-C",
                       source], **hush).returncode != 0:
        raise BuildFailed("the server does not build")
    out = os.path.join(BUILD, f"{name}-{label}", "grader")
    tests = [os.path.join(ROOT, t) for t in (tests or conf["tests"])]
    build = subprocess.run(["make", "--no-print-directory", "-s", f"-j{os.cpu_count() or 2}", "-C",
                            os.path.join(ROOT, "tests"), "grader", f"SRC={source}",
                            f"GRADER_TESTS={' '.join(tests)}",
                            f"GRADER_STAGE={conf['chapter']}", f"GRADER_OUT={out}"], **hush)
    if build.returncode != 0:
        raise BuildFailed(f"the grader does not compile against {os.path.relpath(source, ROOT)}")
    report = out + ".xml"
    if os.path.exists(report):
        os.remove(report)
    env = {k: v for k, v in os.environ.items() if k != "SERVER"}
    try:
        subprocess.run([out, f"--gtest_output=xml:{report}", "--gtest_brief=1"], env=env,
                       timeout=GRADER_TIMEOUT, **hush)
    except subprocess.TimeoutExpired:
        print(f"lab {name}: the grader did not finish in {GRADER_TIMEOUT} s")
    if not os.path.exists(report):
        return 0, 1
    top = ET.parse(report).getroot()
    total = int(top.get("tests", 0)) - int(top.get("disabled", 0))
    failed = int(top.get("failures", 0))
    return total - failed, failed


def cmd_grade(name, solution):
    conf = read_conf(name)
    if solution:
        source = solution_tree(name, conf)
    else:
        source = os.path.join(LABS, "work", name)
        if not os.path.isdir(source):
            raise LabError(f"no copy to grade: make lab LAB={name} makes labs/work/{name}/")
    passed, failed = grade(name, source, "solution" if solution else "work")
    total = passed + failed
    print(f"lab {name}: score {passed}/{total} ({100 * passed // max(total, 1)}%)")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def cmd_ci():
    problems = []
    for name in all_labs():
        conf = read_conf(name)
        passed, failed = grade(name, solution_tree(name, conf), "solution")
        if failed or not passed:
            problems.append(f"lab {name}: the reference solution fails its grader "
                            f"({passed} passed, {failed} failed)")
        problems += check_start_fails(name, conf)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"check-labs: {'FAILED' if problems else 'OK'} ({len(all_labs())} labs)")
    return 1 if problems else 0


def check_start_fails(name, conf):
    """CI's other half: the untouched starting point fails the grader. With `behaviour`, those
    tests alone must compile against it and fail: not only a missing interface. Problems found."""
    start = os.path.join(BUILD, "start-" + name)
    shutil.rmtree(start, ignore_errors=True)
    copy_start(conf, start)
    if not conf["behaviour"]:
        passed, failed = grade(name, start, "start", quiet=True)
        print(f"lab {name}: the untouched starting point: {passed} passed, {failed} failed")
        return [] if failed else [f"lab {name}: the untouched starting point passes its grader "
                                  "(a grader that cannot fail)"]
    try:
        passed, failed = run_grader(name, start, "start", True, conf["behaviour"])
    except BuildFailed as why:
        return [f"lab {name}: its behaviour tests must compile against the start, but {why}"]
    print(f"lab {name}: the untouched starting point, behaviour tests only: "
          f"{passed} passed, {failed} failed")
    return [] if failed else [f"lab {name}: the untouched starting point passes its behaviour "
                              "tests (a grader that cannot fail)"]


def main(argv):
    try:
        if argv == ["list"]:
            return cmd_list()
        if len(argv) == 2 and argv[0] == "start":
            return cmd_start(argv[1])
        if len(argv) in (2, 3) and argv[0] == "grade":
            return cmd_grade(argv[1], argv[2:] == ["--solution"])
        if argv == ["ci"]:
            return cmd_ci()
    except LabError as error:
        print(f"labs: {error}", file=sys.stderr)
        return 2
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
