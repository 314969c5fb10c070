#!/usr/bin/env python3
"""Plot the metrics.jsonl of a convseq training run to a PNG.

Usage: tools/plot-metrics.py metrics.jsonl -o loss.png
           [--width 800 --height 500] [--smooth 0.95] [--log-y]

A generated executable's `train` command appends one JSON object per step
to metrics.jsonl in its run directory (step, loss, grad_norm, ...), plus
accuracy lines ({"step": N, "valid_accuracy": A}, and the final
"validation_accuracy" / "test_accuracy"). This script draws the raw loss as
a light line, its exponential moving average as a dark line, and every
accuracy on a right-hand 0..1 axis as markers, with a legend.

Why a hand-made PNG: the build machines and the users' machines have Python
3 but not matplotlib or numpy, and a loss curve needs little: a pixel
buffer, Bresenham lines, a 5x7 bitmap font and a PNG writer (zlib + struct).

The input rules: a resumed run appends to the same file and repeats the
steps after its checkpoint, so for each step (and each accuracy of a step)
the last line wins. Blank lines and objects with neither a loss nor an
accuracy are skipped; anything that is not a JSON object is an error
("metrics.jsonl:LINE: not a JSON object", status 1). The C++ writer prints
a non-finite grad_norm as a bare `nan` or `inf`, which is not JSON; such
values are read as NaN / infinity rather than refused, so the metrics of a
diverged run can still be plotted.
"""

import argparse
import json
import math
import re
import struct
import sys
import zlib

WHITE = (255, 255, 255)
INK = (40, 40, 40)  # axes, ticks and text
GRID = (232, 232, 232)
RAW_COLOR = (166, 196, 230)  # light blue: the loss of every step
SMOOTH_COLOR = (20, 60, 140)  # dark blue: its moving average
# Accuracy kinds written by TrainCommand.cpp; other *_accuracy keys get the
# extra colours and shapes in order.
ACCURACY_STYLES = {
    "valid_accuracy": ((230, 120, 0), "square"),
    "validation_accuracy": ((0, 150, 70), "diamond"),
    "test_accuracy": ((200, 30, 120), "triangle"),
}
EXTRA_STYLES = [((120, 60, 170), "square"), ((140, 100, 40), "diamond"),
                ((0, 140, 160), "triangle")]

# A 5x7 bitmap font: 7 rows per glyph, bit 4 is the leftmost column.
FONT = {
    "0": (14, 17, 19, 21, 25, 17, 14), "1": (4, 12, 4, 4, 4, 4, 14),
    "2": (14, 17, 1, 2, 4, 8, 31), "3": (31, 2, 4, 2, 1, 17, 14),
    "4": (2, 6, 10, 18, 31, 2, 2), "5": (31, 16, 30, 1, 1, 17, 14),
    "6": (6, 8, 16, 30, 17, 17, 14), "7": (31, 1, 2, 4, 8, 8, 8),
    "8": (14, 17, 17, 14, 17, 17, 14), "9": (14, 17, 17, 15, 1, 2, 12),
    "a": (0, 0, 14, 1, 15, 17, 15), "b": (16, 16, 22, 25, 17, 17, 30),
    "c": (0, 0, 14, 16, 16, 17, 14), "d": (1, 1, 13, 19, 17, 17, 15),
    "e": (0, 0, 14, 17, 31, 16, 14), "f": (6, 9, 8, 28, 8, 8, 8),
    "g": (0, 15, 17, 17, 15, 1, 14), "h": (16, 16, 22, 25, 17, 17, 17),
    "i": (4, 0, 12, 4, 4, 4, 14), "j": (2, 0, 6, 2, 2, 18, 12),
    "k": (16, 16, 18, 20, 24, 20, 18), "l": (12, 4, 4, 4, 4, 4, 14),
    "m": (0, 0, 26, 21, 21, 17, 17), "n": (0, 0, 22, 25, 17, 17, 17),
    "o": (0, 0, 14, 17, 17, 17, 14), "p": (0, 0, 30, 17, 30, 16, 16),
    "q": (0, 0, 13, 19, 15, 1, 1), "r": (0, 0, 22, 25, 16, 16, 16),
    "s": (0, 0, 14, 16, 14, 1, 30), "t": (8, 8, 28, 8, 8, 9, 6),
    "u": (0, 0, 17, 17, 17, 19, 13), "v": (0, 0, 17, 17, 17, 10, 4),
    "w": (0, 0, 17, 17, 21, 21, 10), "x": (0, 0, 17, 10, 4, 10, 17),
    "y": (0, 0, 17, 17, 15, 1, 14), "z": (0, 0, 31, 2, 4, 8, 31),
    ".": (0, 0, 0, 0, 0, 12, 12), "-": (0, 0, 0, 31, 0, 0, 0),
    "+": (0, 4, 4, 31, 4, 4, 0), "_": (0, 0, 0, 0, 0, 0, 31),
    "(": (2, 4, 8, 8, 8, 4, 2), ")": (8, 4, 2, 2, 2, 4, 8),
    ":": (0, 12, 12, 0, 12, 12, 0), ",": (0, 0, 0, 0, 12, 4, 8),
    "=": (0, 0, 31, 0, 31, 0, 0), " ": (0, 0, 0, 0, 0, 0, 0),
    "?": (14, 17, 1, 2, 4, 0, 4),
}


class InputError(Exception):
    """A problem with the metrics file, reported as one line, status 1."""


# ---------------------------------------------------------------- reading

BARE_NONFINITE = re.compile(r"(:\s*)(-?)(nan|inf)\b", re.IGNORECASE)


def parse_line(text):
    """JSON of one line; bare nan/inf values (C++ %g) are accepted."""
    try:
        return json.loads(text)
    except ValueError:
        pass

    def fix(match):
        """nan -> NaN (sign dropped), inf -> Infinity (sign kept)."""
        word = "NaN" if match.group(3).lower() == "nan" else "Infinity"
        return match.group(1) + ("" if word == "NaN" else match.group(2)) + word

    return json.loads(BARE_NONFINITE.sub(fix, text))


def number(record, key, where):
    """record[key] as a float; an InputError if it is not a number."""
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: \"{key}\" is not a number")
    return float(value)


def read_metrics(path):
    """({step: loss}, {kind: {step: accuracy}}) of a metrics.jsonl file."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    if not any(line.strip() for line in lines):
        raise InputError(f"{path}: empty file, nothing to plot")
    losses, accuracies = {}, {}
    for line_number, line in enumerate(lines, 1):
        where = f"{path}:{line_number}"
        if not line.strip():
            continue
        try:
            record = parse_line(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise InputError(f"{where}: not a JSON object")
        kinds = [k for k in record if k.endswith("_accuracy")]
        if "loss" not in record and not kinds:
            continue
        step = record.get("step")
        if isinstance(step, bool) or not isinstance(step, int):
            raise InputError(f"{where}: no integer \"step\"")
        if "loss" in record:
            loss = number(record, "loss", where)
            if not math.isfinite(loss):
                raise InputError(f"{where}: the loss is {loss}")
            losses[step] = loss
        for kind in kinds:
            accuracies.setdefault(kind, {})[step] = number(record, kind, where)
    if not losses:
        raise InputError(f"{path}: no \"loss\" values, nothing to plot")
    return losses, accuracies


def smooth(values, beta):
    """Exponential moving average with bias correction (as in Adam)."""
    out, average = [], 0.0
    for count, value in enumerate(values, 1):
        average = beta * average + (1 - beta) * value
        out.append(average / (1 - beta ** count))
    return out


# ------------------------------------------------------------------ ticks

def format_tick(value, exponent):
    """A tick label; exponent is that of the tick spacing (10**exponent)."""
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or exponent < -4:
        mantissa, _, power = f"{value:.3e}".partition("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(power)}"
    return f"{value:.{max(0, -exponent)}f}"


def linear_ticks(lo, hi, max_ticks, integer=False, extend_hi=True):
    """(axis_lo, axis_hi, [(value, label)]) with 1-2-5 spacing: axis_lo is
    the tick at or below lo; axis_hi the tick at or above hi, or hi itself
    if not extend_hi (100001 steps: an axis to 100001, not to 150000)."""
    if hi <= lo:  # a single value: widen the range around it
        lo, hi = (lo - 1, hi + 1) if integer else (lo, lo + (abs(lo) or 1))
    raw = (hi - lo) / max(1, max_ticks - 1)
    exponent = math.floor(math.log10(raw))
    index = 0
    while True:
        mantissa = (1, 2, 5)[index % 3]
        power = exponent + index // 3
        spacing = mantissa * 10.0 ** power
        if integer and spacing < 1:
            index += 1
            continue
        first = math.floor(lo / spacing)
        last = math.ceil(hi / spacing) if extend_hi else \
            math.floor(hi / spacing)
        if last - first <= max(1, max_ticks - 1):
            break
        index += 1
    ticks = [(i * spacing, format_tick(i * spacing, power))
             for i in range(first, last + 1)]
    return first * spacing, last * spacing if extend_hi else hi, ticks


def one_two_five(index):
    """The index-th number of ..., 0.5, 1, 2, 5, 10, 20, ... (1 is 0)."""
    return (1, 2, 5)[index % 3] * 10.0 ** (index // 3)


def one_two_five_index(value):
    """Index of the largest 1-2-5 number <= value (value > 0)."""
    power = math.floor(math.log10(value) + 1e-12)
    leading = value / 10.0 ** power
    return 3 * power + (0 if leading < 2 - 1e-9 else
                        1 if leading < 5 - 1e-9 else 2)


def log_ticks(lo, hi, max_ticks):
    """(axis_lo, axis_hi, [(value, label)]) of a log axis, lo > 0: within
    a decade the linear ticks, else 1-2-5 ticks or (many) decades."""
    if hi < 10 * lo:
        axis_lo, axis_hi, ticks = linear_ticks(lo, hi, max_ticks)
        if axis_lo > 0:
            return axis_lo, axis_hi, ticks
    first = one_two_five_index(lo)
    last = one_two_five_index(hi)
    if one_two_five(last) < hi * (1 - 1e-9) or last == first:
        last += 1
    stride = 1
    if last - first + 1 > max_ticks:  # decades only, every k-th of them
        first, last = 3 * (first // 3), 3 * -(-last // 3)
        stride = 3 * math.ceil((last - first) / 3 / (max_ticks - 1))
        last = first + stride * -(-(last - first) // stride)
    indices = range(first, last + 1, stride)
    ticks = [(one_two_five(i), format_tick(one_two_five(i), i // 3))
             for i in indices]
    return one_two_five(first), one_two_five(last), ticks


# ----------------------------------------------------------------- canvas

class Canvas:
    """An RGB pixel buffer with clipped pixels, lines, text and markers."""

    def __init__(self, width, height, background=WHITE):
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))
        self.clip = (0, 0, width - 1, height - 1)

    def dot(self, x, y, color):
        """Set one pixel if it is inside the clip rectangle."""
        x0, y0, x1, y1 = self.clip
        if x0 <= x <= x1 and y0 <= y <= y1:
            i = 3 * (y * self.width + x)
            self.pixels[i:i + 3] = bytes(color)

    def rect(self, x0, y0, x1, y1, color):
        """Fill a rectangle, corners included, clipped."""
        cx0, cy0, cx1, cy1 = self.clip
        x0, x1 = max(x0, cx0), min(x1, cx1)
        y0, y1 = max(y0, cy0), min(y1, cy1)
        if x0 > x1:
            return
        row = bytes(color) * (x1 - x0 + 1)
        for y in range(y0, y1 + 1):
            i = 3 * (y * self.width + x0)
            self.pixels[i:i + len(row)] = row

    def line(self, x0, y0, x1, y1, color, thickness=1):
        """A Bresenham line drawn with a square pen of the thickness."""
        low, high = -(thickness // 2), thickness - thickness // 2 - 1
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        error = dx + dy
        while True:
            if thickness == 1:
                self.dot(x0, y0, color)
            else:
                self.rect(x0 + low, y0 + low, x0 + high, y0 + high, color)
            if x0 == x1 and y0 == y1:
                return
            double = 2 * error
            if double >= dy:
                error += dy
                x0 += sx
            if double <= dx:
                error += dx
                y0 += sy

    def polyline(self, points, color, thickness=1):
        """Join pixel points; runs within a column become one vertical span,
        so a curve of a million steps costs one span per column."""
        columns = []  # [x, first y, min y, max y, last y]
        for x, y in points:
            if columns and columns[-1][0] == x:
                column = columns[-1]
                column[2], column[3] = min(column[2], y), max(column[3], y)
                column[4] = y
            else:
                columns.append([x, y, y, y, y])
        previous = None
        for x, first, low, high, last in columns:
            if previous is not None:
                self.line(previous[0], previous[1], x, first, color, thickness)
            self.line(x, low, x, high, color, thickness)
            previous = (x, last)

    def text(self, x, y, string, color, scale):
        """Draw string with its top-left corner at (x, y)."""
        for char in string.lower():
            rows = FONT.get(char, FONT["?"])
            for r, bits in enumerate(rows):
                for c in range(5):
                    if bits & (16 >> c):
                        self.rect(x + c * scale, y + r * scale,
                                  x + (c + 1) * scale - 1,
                                  y + (r + 1) * scale - 1, color)
            x += 6 * scale

    def marker(self, x, y, shape, color, size):
        """A filled square, diamond or triangle of half-size `size`, with a
        white rim so that it stands out from the lines below it."""
        for radius, fill in ((size + 1, WHITE), (size, color)):
            for dy in range(-radius, radius + 1):
                if shape == "square":
                    half = radius
                elif shape == "diamond":
                    half = radius - abs(dy)
                else:  # triangle, apex up
                    half = (dy + radius) // 2
                self.rect(x - half, y + dy, x + half, y + dy, fill)

    def png(self):
        """The canvas as PNG bytes: RGB, 8 bits, filter 0 on every row."""
        stride = 3 * self.width
        raw = b"".join(b"\x00" + self.pixels[y * stride:(y + 1) * stride]
                       for y in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0,
                             0)
        return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
                + png_chunk(b"IDAT", zlib.compress(raw, 6))
                + png_chunk(b"IEND", b""))


def png_chunk(kind, data):
    """One PNG chunk: length, type, data, CRC-32 of type and data."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


# ----------------------------------------------------------------- layout

def text_width(string, scale):
    """Width in pixels of string in the 5x7 font."""
    return max(0, 6 * scale * len(string) - scale)


def accuracy_styles(kinds):
    """{kind: (color, shape)} in legend order: the known kinds with their
    fixed styles, then the others sorted, with the extra styles in turn."""
    styles = {k: v for k, v in ACCURACY_STYLES.items() if k in kinds}
    others = sorted(k for k in kinds if k not in ACCURACY_STYLES)
    for i, kind in enumerate(others):
        styles[kind] = EXTRA_STYLES[i % len(EXTRA_STYLES)]
    return styles


def legend_rows(entries, width, scale):
    """Split legend entries (sample, label) into rows fitting width."""
    rows, row, used = [], [], 0
    for entry in entries:
        size = 18 * scale + text_width(entry[1], scale) + 12 * scale
        if row and used + size > width:
            rows.append(row)
            row, used = [], 0
        row.append(entry)
        used += size
    if row:
        rows.append(row)
    return rows


def draw_legend(canvas, rows, top, scale):
    """Draw the legend rows centered, starting at y = top."""
    height = 7 * scale
    for row in rows:
        widths = [18 * scale + text_width(label, scale) for _, label in row]
        x = (canvas.width - sum(widths) - 12 * scale * (len(row) - 1)) // 2
        middle = top + height // 2
        for (sample, label), width in zip(row, widths):
            if sample[0] == "line":
                canvas.line(x, middle, x + 13 * scale, middle, sample[1],
                            sample[2])
            else:
                canvas.marker(x + 6 * scale, middle, sample[2], sample[1],
                              2 * scale)
            canvas.text(x + 18 * scale, top, label, INK, scale)
            x += width + 12 * scale
        top += height + 4 * scale


class Frame:
    """Where the plot area is and how data maps onto it: x is the step, y
    the loss (linear or log) on the left and the accuracy (0..1) on the
    right. Also the sizes of text, padding and ticks at this scale."""

    def __init__(self, width, height, scale, legend_lines, accuracies):
        self.width, self.height, self.scale = width, height, scale
        self.char_h, self.pad, self.tick = 7 * scale, 4 * scale, 4 * scale
        self.top = (self.pad + legend_lines * (self.char_h + self.pad)
                    + 3 * self.pad + self.char_h)
        bottom = self.tick + 4 * self.pad + 2 * self.char_h
        self.plot_h = max(10, height - self.top - bottom)
        self.right = 4 * self.pad  # provisional, until place()
        if accuracies:
            self.right = (self.tick + 2 * self.pad
                          + text_width("1.0", scale))
        self.x_range = self.y_range = (0.0, 1.0)
        self.log_y = False

    def place(self, left, right):
        """Fix the left and right margins: the plot area is now known."""
        self.right = right
        self.x0, self.y0 = left, self.top
        self.x1 = max(left + 10, self.width - right) - 1
        self.y1 = self.top + self.plot_h - 1

    def px(self, step):
        """The pixel column of a step."""
        lo, hi = self.x_range
        return self.x0 + round((step - lo) / (hi - lo) * (self.x1 - self.x0))

    def py(self, loss):
        """The pixel row of a loss."""
        f = math.log10 if self.log_y else float
        lo, hi = (f(v) for v in self.y_range)
        return self.y1 - round((f(loss) - lo) / (hi - lo)
                               * (self.y1 - self.y0))

    def pa(self, accuracy):
        """The pixel row of an accuracy (clamped to 0..1)."""
        accuracy = min(1.0, max(0.0, accuracy))
        return self.y1 - round(accuracy * (self.y1 - self.y0))


def tick_count(length, spacing):
    """How many ticks (2 to 10) fit along length pixels, spacing apart."""
    return max(2, min(10, length // spacing))


def legend_entries(beta, styles):
    """[(sample, label)] of the legend; a sample is ("line", color, width)
    or ("marker", color, shape)."""
    entries = [(("line", RAW_COLOR, 1), "loss"),
               (("line", SMOOTH_COLOR, 2), f"smoothed ({beta:g})")]
    entries += [(("marker", color, shape), kind.replace("_", " "))
                for kind, (color, shape) in styles.items()]
    return entries


def layout(width, height, scale, rows, y_values, x_values, accuracies,
           log_y):
    """(frame, y ticks, x ticks): ticks first, then the margins that their
    labels need."""
    frame = Frame(width, height, scale, len(rows), accuracies)
    y_count = tick_count(frame.plot_h, 3 * frame.char_h)
    lo, hi = min(y_values), max(y_values)
    if log_y:
        y_lo, y_hi, y_ticks = log_ticks(lo, hi, y_count)
    else:
        y_lo, y_hi, y_ticks = linear_ticks(min(0.0, lo), hi, y_count)
    frame.y_range, frame.log_y = (y_lo, y_hi), log_y
    y_label_w = max(text_width(label, scale) for _, label in y_ticks)
    left = frame.tick + 2 * frame.pad + y_label_w

    lo, hi = min(x_values), max(x_values)
    label_w = text_width(format_tick(max(abs(lo), abs(hi)), 0), scale)
    x_count = tick_count(width - left - frame.right, label_w + 18 * scale)
    x_lo, x_hi, x_ticks = linear_ticks(lo, hi, x_count, integer=True,
                                       extend_hi=False)
    frame.x_range = (x_lo, x_hi)
    # The first and last x labels are centered on the plot's edges.
    left = max(left, text_width(x_ticks[0][1], scale) // 2 + frame.pad)
    right = max(frame.right,
                text_width(x_ticks[-1][1], scale) // 2 + frame.pad)
    frame.place(left, right)
    return frame, y_ticks, x_ticks


def draw_data(canvas, frame, steps, raw, averaged, accuracies, styles):
    """The data: the two loss lines and the accuracy markers."""
    canvas.clip = (frame.x0, frame.y0, frame.x1, frame.y1)
    canvas.polyline([(frame.px(s), frame.py(v)) for s, v in zip(steps, raw)],
                    RAW_COLOR)
    canvas.polyline([(frame.px(s), frame.py(v))
                     for s, v in zip(steps, averaged)], SMOOTH_COLOR, 2)
    canvas.clip = (0, 0, canvas.width - 1, canvas.height - 1)
    if len(steps) == 1:  # a dot would vanish under the frame
        canvas.marker(frame.px(steps[0]), frame.py(raw[0]), "square",
                      SMOOTH_COLOR, frame.scale)
    for kind, (color, shape) in styles.items():
        for step, value in sorted(accuracies[kind].items()):
            canvas.marker(frame.px(step), frame.pa(value), shape, color,
                          2 * frame.scale + 1)


def draw_grid(canvas, frame, y_ticks, x_ticks):
    """Light lines at the loss and step ticks, inside the plot area."""
    canvas.clip = (frame.x0, frame.y0, frame.x1, frame.y1)
    for value, _ in y_ticks:
        y = frame.py(value)
        canvas.line(frame.x0, y, frame.x1, y, GRID)
    for value, _ in x_ticks:
        x = frame.px(value)
        canvas.line(x, frame.y0, x, frame.y1, GRID)
    canvas.clip = (0, 0, canvas.width - 1, canvas.height - 1)


def draw_axes(canvas, frame, y_ticks, x_ticks, accuracies):
    """The frame, ticks, tick labels and axis titles."""
    x0, y0, x1, y1 = frame.x0, frame.y0, frame.x1, frame.y1
    scale, pad, tick, char_h = frame.scale, frame.pad, frame.tick, \
        frame.char_h
    for xa, ya, xb, yb in ((x0, y0, x1, y0), (x0, y1, x1, y1),
                           (x0, y0, x0, y1), (x1, y0, x1, y1)):
        canvas.line(xa, ya, xb, yb, INK)
    for value, label in y_ticks:
        y = frame.py(value)
        canvas.line(x0 - tick, y, x0, y, INK)
        canvas.text(x0 - tick - pad - text_width(label, scale),
                    y - char_h // 2, label, INK, scale)
    for value, label in x_ticks:
        x = frame.px(value)
        canvas.line(x, y1, x, y1 + tick, INK)
        canvas.text(x - text_width(label, scale) // 2, y1 + tick + pad, label,
                    INK, scale)
    if accuracies:
        for i in range(6):
            y = frame.pa(i / 5)
            canvas.line(x1, y, x1 + tick, y, INK)
            canvas.text(x1 + tick + pad, y - char_h // 2, f"{i / 5:.1f}",
                        INK, scale)
        canvas.text(x1 - text_width("accuracy", scale),
                    y0 - 2 * pad - char_h, "accuracy", INK, scale)
    canvas.text(x0, y0 - 2 * pad - char_h,
                "loss (log)" if frame.log_y else "loss", INK, scale)
    canvas.text((x0 + x1 - text_width("step", scale)) // 2,
                y1 + tick + pad + char_h + 2 * pad, "step", INK, scale)


def plot(losses, accuracies, width, height, beta, log_y):
    """Render the chart; returns (canvas, final smoothed loss)."""
    scale = 2 if width >= 640 and height >= 400 else 1
    steps = sorted(losses)
    raw = [losses[s] for s in steps]
    averaged = smooth(raw, beta)
    styles = accuracy_styles(accuracies)
    rows = legend_rows(legend_entries(beta, styles), width - 8 * scale,
                       scale)
    x_values = steps + [s for points in accuracies.values() for s in points]
    frame, y_ticks, x_ticks = layout(width, height, scale, rows,
                                     raw + averaged, x_values, accuracies,
                                     log_y)
    canvas = Canvas(width, height)
    draw_grid(canvas, frame, y_ticks, x_ticks)
    draw_data(canvas, frame, steps, raw, averaged, accuracies, styles)
    draw_axes(canvas, frame, y_ticks, x_ticks, accuracies)
    draw_legend(canvas, rows, 4 * scale, scale)
    return canvas, averaged[-1]


# ------------------------------------------------------------------- main

def parse_args(argv):
    """Command-line arguments, checked."""
    parser = argparse.ArgumentParser(
        description="Plot a convseq metrics.jsonl (loss and accuracies) "
                    "to a PNG.")
    parser.add_argument("metrics", help="metrics.jsonl of a training run")
    parser.add_argument("-o", "--output", default="loss.png",
                        help="PNG to write (default: loss.png)")
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--height", type=int, default=500)
    parser.add_argument("--smooth", type=float, default=0.95,
                        help="moving-average factor in [0, 1); 0 is none")
    parser.add_argument("--log-y", action="store_true",
                        help="logarithmic loss axis")
    args = parser.parse_args(argv)
    if not 200 <= args.width <= 10000 or not 150 <= args.height <= 10000:
        parser.error("--width must be in 200..10000, --height in 150..10000")
    if not 0 <= args.smooth < 1:
        parser.error("--smooth must be in [0, 1)")
    return args


def main(argv):
    """Read, plot, write, summarize; returns the exit status."""
    args = parse_args(argv)
    try:
        losses, accuracies = read_metrics(args.metrics)
        if args.log_y:
            bad = [s for s, v in sorted(losses.items()) if v <= 0]
            if bad:
                raise InputError(f"{args.metrics}: --log-y needs positive "
                                 f"losses; step {bad[0]} has "
                                 f"{losses[bad[0]]:g}")
        canvas, final_smoothed = plot(losses, accuracies, args.width,
                                      args.height, args.smooth, args.log_y)
        try:
            with open(args.output, "wb") as f:
                f.write(canvas.png())
        except OSError as error:
            raise InputError(f"{args.output}: cannot write: {error}") from None
    except InputError as error:
        print(error, file=sys.stderr)
        return 1
    final = losses[max(losses)]
    steps = f"{len(losses)} step" + ("" if len(losses) == 1 else "s")
    print(f"wrote {args.output}: {steps}, final loss {final:.4g} "
          f"(smoothed {final_smoothed:.4g})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
