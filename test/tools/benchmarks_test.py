#!/usr/bin/env python3
"""Tests of the reporting half of bench/benchmarks.py: tables, the docs
section between the bench markers, and the speed plot.

Usage: python3 test/tools/benchmarks_test.py

Benchmarks are not run here (they take an hour and need PyTorch); the
reporting functions get results shaped like a real run's, including a
skipped configuration and a failed one. Standard library only.
"""

import importlib.util
import os
import struct
import sys
import tempfile
import unittest
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    "benchmarks", os.path.join(ROOT, "bench", "benchmarks.py"))
benchmarks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmarks)


def ours(s, seconds, rss):
    t = s // 4
    return {"model": "light-small", "entry": "train", "B": 16, "S": s,
            "T": t, "seconds": seconds, "model_gflop": 0.06 * s,
            "gflops": 0.06 * s / seconds, "peak_rss_mb": rss}


def theirs(s, seconds, rss):
    return {"system": "pytorch", "model": "light-small", "entry": "train",
            "B": 16, "S": s, "T": s // 4, "seconds": seconds,
            "tokens_per_second": 16 * (s + s // 4) / seconds,
            "peak_rss_mb": rss}


RESULTS = {
    "machine": {"date": "2026-11-29", "cpu": "Test CPU", "cores": 2,
                "kernel": "6.0", "commit": "abc1234"},
    "file": "bench/results/2026-11-29-abc1234.json",
    "sgemm_peak_gflops": 100.0,
    "pytorch_gemm": {"gflops": 90.0, "version": "1.13"},
    "training": [
        {"model": "light-small", "B": 16, "S": 512, "T": 128,
         "convseq": ours(512, 1.0, 900), "pytorch": theirs(512, 2.0, 1800)},
        {"model": "light-small", "B": 16, "S": 1024, "T": 256,
         "convseq": ours(1024, 2.0, 1700), "pytorch": theirs(1024, 5.0, 3400)},
        {"model": "transformer-small", "B": 16, "S": 4096, "T": 1024,
         "convseq": {"error": "skipped: materialized attention scores "
                              "would need ~48 GB"},
         "pytorch": {"error": "exit 137: Killed"}},
    ],
    "decoding": [{"model": "light-small", "entry": "decode", "B": 1,
                  "S": 512, "T": 32, "seconds": 0.5,
                  "ms_per_sequence": 500.0, "encoder_ms": 30.0,
                  "decoder_init_ms": 6.0, "decoder_step_ms": 14.0,
                  "peak_rss_mb": 135}],
    "matmul": [{"M": 512, "N": 512, "K": 512, "generated_gflops": 80.0,
                "openblas_gflops": 100.0}],
}


class ReportTest(unittest.TestCase):
    def test_training_table(self):
        table = benchmarks.training_table(RESULTS["training"], 100.0)
        lines = table.splitlines()
        self.assertEqual(len(lines), 2 + 3)
        # 16 * 640 tokens in 1 s; 30.72 GFLOP in 1 s of a 100 GFLOP/s peak.
        self.assertIn("| light-small | 512 | 128 | 10,240 | 31% | 900 MB | "
                      "5,120 |", lines[2])
        self.assertTrue(lines[2].endswith("| 2.00x | 0.50 |"), lines[2])
        self.assertIn("skipped: materialized attention scores", lines[4])
        self.assertIn("exit 137: Killed", lines[4])

    def test_docs_section_is_replaced_not_repeated(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "benchmarks.md")
            with open(path, "w") as f:
                f.write("# Benchmarks\n\nIntro.\n\n## Older run\n\nold\n")
            benchmarks.write_docs(RESULTS, path)
            benchmarks.write_docs(RESULTS, path)
            with open(path) as f:
                doc = f.read()
        self.assertTrue(doc.startswith("# Benchmarks\n"))
        self.assertEqual(doc.count(benchmarks.BEGIN), 1)
        self.assertEqual(doc.count(benchmarks.END), 1)
        self.assertIn("commit abc1234", doc)
        self.assertIn("Test CPU", doc)
        self.assertIn("| 512 x 512 x 512 | 80 | 100 | 0.80 |", doc)
        self.assertIn("| light-small | 1 | 500.0 | 30.0 | 6.00 | 14.00 |",
                      doc)
        self.assertIn("## Older run\n\nold\n", doc)

    def test_speed_plot_is_a_png_with_the_model_colour(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "speed.png")
            self.assertTrue(benchmarks.plot_speed(RESULTS["training"], path))
            with open(path, "rb") as f:
                data = f.read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", data[16:24])
        self.assertEqual((width, height), (960, 600))
        # The image data: every chunk after IHDR up to IEND.
        offset, idat = 8, b""
        while offset < len(data):
            (length,) = struct.unpack(">I", data[offset:offset + 4])
            kind = data[offset + 4:offset + 8]
            if kind == b"IDAT":
                idat += data[offset + 8:offset + 8 + length]
            offset += 12 + length
        raw = zlib.decompress(idat)
        blue = bytes(benchmarks_color("light-small"))
        self.assertIn(blue, raw, "no pixel of light-small's colour")

    def test_no_points_no_plot(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "speed.png")
            self.assertFalse(benchmarks.plot_speed(RESULTS["training"][2:],
                                                   path))
            self.assertFalse(os.path.exists(path))


def benchmarks_color(model):
    return {"light-small": (31, 119, 180)}[model]


if __name__ == "__main__":
    unittest.main()
