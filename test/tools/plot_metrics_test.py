#!/usr/bin/env python3
"""Tests of tools/plot-metrics.py, the metrics.jsonl to PNG plotter.

Usage: python3 test/tools/plot_metrics_test.py

The script is run the way a user runs it (a subprocess) on a synthetic
metrics.jsonl shaped like the one `train` writes: 300 steps of a decaying
noisy loss, a step logged twice because a run was resumed, and a
validation accuracy. The PNG is checked with a small independent reader
(chunks, CRCs, IHDR, the zlib stream and the filter bytes), then its pixels:
the chart must have dark pixels (smoothed line, axes, text) and pixels of
the accuracy marker colour. Malformed and empty inputs must fail with
status 1 and a one-line message. Standard library only; about a second.
"""

import json
import math
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tools", "plot-metrics.py")
VALID_ACCURACY_COLOR = (230, 120, 0)  # valid_accuracy in plot-metrics.py
SMOOTH_COLOR = (20, 60, 140)  # the moving average in plot-metrics.py


def read_png(path):
    """(width, height, rows of RGB bytes) of an 8-bit RGB PNG whose rows
    all use filter 0; fails the test on anything else."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:
                                         offset + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"CRC of {kind}"
        chunks.append((kind, body))
        offset += 12 + length
    assert offset == len(data), "trailing bytes"
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color, *_ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color) == (8, 2), "not 8-bit RGB"
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    stride = 1 + 3 * width
    assert len(raw) == height * stride, "IDAT size"
    rows = [raw[y * stride:(y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows), "a row filter is not 0"
    return width, height, [row[1:] for row in rows]


def colors(rows):
    """{(r, g, b): count} of the image."""
    counts = {}
    for row in rows:
        for i in range(0, len(row), 3):
            pixel = (row[i], row[i + 1], row[i + 2])
            counts[pixel] = counts.get(pixel, 0) + 1
    return counts


def synthetic_metrics(path):
    """Write 300 steps of a noisy decaying loss, a resumed step and a
    validation accuracy; returns the loss the last line gives step 300."""
    rng = random.Random(7)
    lines = []
    for step in range(1, 301):
        loss = 0.4 + 5 * math.exp(-step / 60) + rng.uniform(-0.2, 0.2)
        lines.append({"step": step, "loss": round(loss, 5), "grad_norm": 1.0,
                      "learning_rate": 1e-3, "tokens": 512,
                      "tokens_per_second": 2300.5})
        if step == 150:
            lines.append({"step": 150, "valid_accuracy": 0.71})
    # Interrupted after step 300's line, before its checkpoint: the resumed
    # run logs step 300 again, and that line is the one that counts.
    lines.append(dict(lines[-1], loss=0.4321))
    with open(path, "w") as f:
        f.writelines(json.dumps(line) + "\n" for line in lines)
    return 0.4321


def run(*args):
    """Run the script; returns the CompletedProcess (text output)."""
    return subprocess.run([sys.executable, SCRIPT, *args], text=True,
                          capture_output=True, timeout=60)


class PlotMetricsTest(unittest.TestCase):
    """Runs tools/plot-metrics.py in a temporary directory."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def path(self, name):
        """A file name in the temporary directory."""
        return os.path.join(self.tmp.name, name)

    def write(self, name, text):
        """Create a file in the temporary directory; returns its path."""
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def test_plot(self):
        metrics, png = self.path("metrics.jsonl"), self.path("loss.png")
        final = synthetic_metrics(metrics)
        result = run(metrics, "-o", png, "--width", "640", "--height", "400",
                     "--smooth", "0.9")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        summary = f"wrote {png}: 300 steps, final loss {final:.4g} "
        self.assertRegex(result.stdout.strip(),
                         "^" + re.escape(summary) + r"\(smoothed [0-9.]+\)$")
        width, height, rows = read_png(png)
        self.assertEqual((width, height), (640, 400))
        counts = colors(rows)
        self.assertGreater(counts.get((255, 255, 255), 0), width * height / 2,
                           "the background is not white")
        dark = sum(n for c, n in counts.items() if max(c) < 150)
        self.assertGreater(dark, 1000, "no dark pixels")
        self.assertGreater(counts.get(SMOOTH_COLOR, 0), 300,
                           "no smoothed line")
        # Below the legend (which has a marker of that colour too).
        marker = colors(rows[height // 5:]).get(VALID_ACCURACY_COLOR, 0)
        self.assertGreater(marker, 20, "no accuracy marker in the plot")

    def test_log_y(self):
        metrics, png = self.path("metrics.jsonl"), self.path("log.png")
        synthetic_metrics(metrics)
        result = run(metrics, "-o", png, "--log-y")
        self.assertEqual(result.returncode, 0, result.stderr)
        width, height, rows = read_png(png)
        self.assertEqual((width, height), (800, 500))
        self.assertGreater(colors(rows).get(SMOOTH_COLOR, 0), 300)

    def test_bare_nan_and_inf(self):
        # What the C++ %g writes for a non-finite grad_norm: not JSON, but
        # the metrics of a diverging run must still plot.
        metrics = self.write("metrics.jsonl",
                             '{"step": 1, "loss": 2.0, "grad_norm": inf}\n'
                             '{"step": 2, "loss": 1.9, "grad_norm": -nan}\n')
        result = run(metrics, "-o", self.path("x.png"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("2 steps, final loss 1.9", result.stdout)

    def test_malformed_line(self):
        metrics = self.write("metrics.jsonl",
                             '{"step": 1, "loss": 2.0}\n'
                             '{"step": 2, "loss": 1.9}\n'
                             '{"step": 3, "loss": 1.\n')
        result = run(metrics, "-o", self.path("x.png"))
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(),
                         f"{metrics}:3: not a JSON object")
        self.assertFalse(os.path.exists(self.path("x.png")))

    def test_not_an_object(self):
        metrics = self.write("metrics.jsonl",
                             '{"step": 1, "loss": 2.0}\n[1, 2]\n')
        result = run(metrics, "-o", self.path("x.png"))
        self.assertEqual(result.returncode, 1)
        self.assertIn(":2: not a JSON object", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_empty_file(self):
        metrics = self.write("metrics.jsonl", "")
        result = run(metrics, "-o", self.path("x.png"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("empty", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_no_loss(self):
        metrics = self.write("metrics.jsonl",
                             '{"step": 300, "test_accuracy": 0.8}\n')
        result = run(metrics, "-o", self.path("x.png"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("loss", result.stderr)
        self.assertNotIn("Traceback", result.stderr)


if __name__ == "__main__":
    unittest.main()
