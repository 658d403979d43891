#!/usr/bin/env python3
"""The ceiling table of make bench (issue 17), from the wrk runs run_bench.sh left in DIR.

  ceiling.py DIR en|zh    print the markdown table, in English or Chinese

DIR holds NAME__run<k>.txt for NAME in null, stage4, cache, nginx and untraced (stage 4 as it was
before --trace existed): run k of every server ran in the same round, so the ratio to the null
responder is taken per round, then the median of those. A last line gives stage 4's ratio to
untraced the same way: what the TRACE call sites cost when tracing is off (issue 18: nothing
measurable).
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchtool import pair_ratio_median, parse_wrk  # noqa: E402

SERVERS = ("null", "stage4", "cache", "nginx", "untraced")
TARGET = {"cache": 0.9}  # issue 17: the lab's answer key reaches 0.9x the null responder

TEXT = {
    "en": {
        "head": "| server | req/s (median) | ratio to the null responder | p99 ms (median) | runs "
                "| target | verdict |",
        "null": "null responder (612 bytes from memory)",
        "stage4": "stage 4",
        "cache": "stage 4 + open-file cache (lab answer key)",
        "nginx": "nginx",
        "untraced": "stage 4 before `--trace` existed",
        "off": "Tracing off costs: stage 4 / stage 4 before `--trace` = {ratio:.3f} (median of the "
               "per-round ratios; 1.000 is no cost; the runs column shows how far one server's "
               "runs spread).",
    },
    "zh": {
        "head": "| 服务器 | req/s（中位数） | 与空响应器之比 | p99 ms（中位数） | 各次运行 | 目标 | 结论 |",
        "null": "空响应器（从内存发 612 字节）",
        "stage4": "第 4 章",
        "cache": "第 4 章 + 打开文件缓存（实验的参考答案）",
        "nginx": "nginx",
        "untraced": "加入 `--trace` 之前的第 4 章",
        "off": "关闭跟踪的代价：第 4 章 / 加入 `--trace` 之前的第 4 章 = {ratio:.3f}（每一轮之比的中位数；"
               "1.000 表示没有代价；同一个服务器各次运行之间差多少，见“各次运行”一列）。",
    },
}


def read_runs(directory, name):
    """Run number -> (req/s, p99 ms) of server `name`."""
    runs = {}
    for entry in os.listdir(directory):
        server, _, run = entry[:-len(".txt")].partition("__run")
        if server == name:
            rps, p99, _ = parse_wrk(os.path.join(directory, entry))
            runs[int(run)] = (rps, p99)
    return runs


def verdict(name, ratio):
    """(target, verdict) cells: only the answer key has a target."""
    need = TARGET.get(name)
    if need is None:
        return "", ""
    if ratio >= need:
        return f">= {need:.1f}x", "met"
    return f">= {need:.1f}x", f"MISSED: {ratio:.3f}x, {(need - ratio) / need * 100:.1f}% short"


def table(directory, lang):
    text = TEXT[lang]
    null = read_runs(directory, "null")
    lines = [text["head"], "|---|---|---|---|---|---|---|"]
    for name in SERVERS:
        runs = read_runs(directory, name)
        if not runs:
            continue
        rps = statistics.median(r for r, _ in runs.values())
        p99 = statistics.median(p for _, p in runs.values())
        ratio = pair_ratio_median(runs, null, 0)
        every = " ".join(f"{runs[k][0]:.0f}" for k in sorted(runs))
        target, result = verdict(name, ratio)
        lines.append(f"| {text[name]} | {rps:,.0f} | {ratio:.2f}x | {p99:.2f} | {every} "
                     f"| {target} | {result} |")
    untraced = read_runs(directory, "untraced")
    if untraced:
        stage4 = read_runs(directory, "stage4")
        lines += ["", text["off"].format(ratio=pair_ratio_median(stage4, untraced, 0))]
    return "\n".join(lines)


def main(argv):
    if len(argv) != 3 or argv[2] not in TEXT:
        print(__doc__, file=sys.stderr)
        return 2
    print(table(argv[1], argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
