#!/usr/bin/env python3
"""Tests of tools/trace2svg on the fixed trace tests/trace/fixture.jsonl (`make check-trace`).

The fixture is one parent and two workers: a connection handed to worker 0, a hand-off that
frozen worker 1 never reads (the parent marks it silent and wakes worker 0 instead), a tick that
closes an idle connection, and worker 1 reaped after SIGKILL, with gaps of 1.9 s and 1.0 s.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "tools", "trace2svg")
FIXTURE = os.path.join(HERE, "fixture.jsonl")
SVG = "{http://www.w3.org/2000/svg}"


def run(*args):
    return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60)


class Trace2Svg(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.svg_path = os.path.join(cls.tmp.name, "out.svg")
        cls.chrome_path = os.path.join(cls.tmp.name, "out.json")
        result = run(FIXTURE, "-o", cls.svg_path, "--chrome", cls.chrome_path)
        assert result.returncode == 0, result.stderr
        cls.svg = ElementTree.parse(cls.svg_path).getroot()  # well-formed XML, or this raises
        with open(cls.chrome_path, encoding="utf-8") as stream:
            cls.chrome = json.load(stream)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def groups(self, cls):
        return [g for g in self.svg.iter(SVG + "g") if g.get("class") == cls]

    def texts(self, group):
        return [t.text for t in group.iter(SVG + "text")]

    def test_one_lifeline_per_process_then_per_client(self):
        processes = [g.get("data-name") for g in self.groups("lifeline process")]
        clients = [g.get("data-name") for g in self.groups("lifeline client")]
        self.assertEqual(processes, ["parent (4700)", "worker 0 (4701)", "worker 1 (4702)"])
        self.assertEqual(clients, ["client :50001", "client :50002"])

    def test_hand_offs_go_down_to_the_worker_that_read_them(self):
        handoffs = self.groups("arrow handoff")
        self.assertEqual(len(handoffs), 2)
        for group in handoffs:
            line = group.find(SVG + "line")
            self.assertLess(float(line.get("x1")), float(line.get("x2")))  # parent -> worker
            self.assertLess(float(line.get("y1")), float(line.get("y2")))  # time flows down
        self.assertEqual(len(self.groups("arrow handoff unread")), 1)  # the frozen worker's

    def test_acknowledgements_go_back_to_the_parent(self):
        acks = self.groups("arrow ack")
        self.assertEqual(len(acks), 2)
        for group in acks:
            line = group.find(SVG + "line")
            self.assertGreater(float(line.get("x1")), float(line.get("x2")))  # worker -> parent
            self.assertLess(float(line.get("y1")), float(line.get("y2")))
            self.assertEqual(self.texts(group), ["took 1"])

    def test_client_arrows(self):
        self.assertEqual(len(self.groups("arrow accept")), 2)
        self.assertEqual(self.texts(self.groups("arrow request")[0]), ["GET /index.html -> 200"])
        self.assertEqual(self.texts(self.groups("arrow sent")[0]), ["1484 bytes"])

    def test_boxes_for_ticks_closes_and_reaps(self):
        self.assertEqual([self.texts(g) for g in self.groups("box tick")], [["tick (2 open)"]])
        self.assertEqual([self.texts(g) for g in self.groups("box close")],
                         [["close fd 9 (timeout)"], ["close fd 10 (over)"]])
        self.assertEqual([self.texts(g) for g in self.groups("box reaped")],
                         [["reaped worker 1 (SIGKILL)"]])
        # The tick comes before the close it causes.
        tick_y = float(self.groups("box tick")[0].find(SVG + "rect").get("y"))
        close_y = float(self.groups("box close")[0].find(SVG + "rect").get("y"))
        self.assertLess(tick_y, close_y)

    def test_long_gaps_are_compressed_and_labelled(self):
        labels = [self.texts(g)[0] for g in self.groups("gap")]
        self.assertEqual(labels, ["... 1.9 s ...", "... 300 ms ...", "... 1.0 s ..."])
        height = float(self.svg.get("height"))
        self.assertLess(height, 1000)  # 3.5 s of trace, not 3.5 s worth of pixels

    def test_chrome_export_is_trace_event_json(self):
        events = self.chrome["traceEvents"]
        slices = [e for e in events if e["ph"] == "X"]
        with open(FIXTURE, encoding="utf-8") as stream:
            self.assertEqual(len(slices), sum(1 for line in stream if line.strip()))
        for event in events:
            for key in ("name", "ph", "pid", "tid"):
                self.assertIn(key, event)
            if event["ph"] != "M":
                self.assertIsInstance(event["ts"], (int, float))
        self.assertEqual(slices[0]["ts"], 0)
        self.assertEqual(slices[1]["ts"], 900.0)  # microseconds since the first event
        names = {e["args"]["name"] for e in events if e["ph"] == "M"}
        self.assertEqual(names, {"parent (4700)", "worker 0 (4701)", "worker 1 (4702)"})
        flows = [e for e in events if e["ph"] in ("s", "f")]
        self.assertEqual(len(flows), 8)  # 2 hand-offs read + 2 acks, each a start and a finish
        request = next(e for e in slices if e["name"] == "request")
        self.assertEqual(request["args"]["target"], "/index.html")

    def test_output_is_deterministic(self):
        again = os.path.join(self.tmp.name, "again.svg")
        again_chrome = os.path.join(self.tmp.name, "again.json")
        self.assertEqual(run(FIXTURE, "-o", again, "--chrome", again_chrome).returncode, 0)
        for first, second in ((self.svg_path, again), (self.chrome_path, again_chrome)):
            with open(first, "rb") as a, open(second, "rb") as b:
                self.assertEqual(a.read(), b.read())
        with open(self.svg_path, "rb") as written:
            self.assertEqual(run(FIXTURE).stdout.encode(), written.read())

    def test_a_line_that_is_not_json_is_an_error_naming_it(self):
        bad = os.path.join(self.tmp.name, "bad.jsonl")
        with open(FIXTURE, encoding="utf-8") as src, open(bad, "w", encoding="utf-8") as dst:
            lines = src.readlines()
            dst.writelines(lines[:2] + ['{"t_ns":1,"pid":2\n'] + lines[2:])
        result = run(bad)
        self.assertEqual(result.returncode, 1)
        self.assertIn("bad.jsonl:3: not JSON", result.stderr)

    def test_help(self):
        result = run("--help")
        self.assertEqual(result.returncode, 0)
        self.assertIn("--chrome", result.stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + ["-v"] if "-v" in sys.argv else sys.argv[:1])
