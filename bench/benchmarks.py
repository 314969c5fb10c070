#!/usr/bin/env python3
"""The benchmark suite of issue 8: convseq and PyTorch side by side.

    bash bench/run.sh                  everything (about an hour on 2 cores)
    bash bench/run.sh --lengths 64,512 --models light-small --repeats 1

bench/run.sh builds the benchmark binaries and installs PyTorch, OpenBLAS
and tcmalloc from Debian, then runs this script, which

 1. times generated f32 matmuls against OpenBLAS sgemm (build/bench/
    matmul_cpu) and PyTorch's own GEMM at 2048^3;
 2. times a training step (forward, backward, clipping, Adafactor) of each
    model at B=16, S in --lengths, T=S/4, ours (build/bench/forward_cpu.*
    ... train) and PyTorch's (bench/pytorch_bench.py), each configuration
    in a process of its own so that its peak RSS is its own;
 3. times greedy decoding of 32 tokens from S=512 at batch 1 and 16, ours
    (build/bench/forward_cpu.* ... decode) and PyTorch's (the traced,
    frozen incremental decoder step of bench/pytorch_models.py);
 4. writes every result as JSON (bench/results/<date>-<commit>.json), the
    tables between the bench markers of docs/benchmarks.md, and the plot
    docs/speed.png (training tokens/s against S).

PyTorch runs as issue 8 asks: OpenBLAS's OpenMP build (LD_LIBRARY_PATH to
its folder) with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset in its
command alone, so that OpenBLAS picks its AVX-512 kernels, and tcmalloc
preloaded; bench/matmul_cpu's OpenBLAS runs with them unset too. Ours runs
as the generated executables run, with no settings.
Model GFLOP count matmul-like work (forward_cpu.cpp); a training step is
three forward passes.
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
MODELS = ["light-small", "dynamic-small", "dilated-small", "transformer-small"]
LENGTHS = [64, 128, 256, 512, 1024, 2048, 4096]
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"
MEMORY_LIMIT_GB = 20.0  # of the machine's 24 GiB
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def log(message):
    print(message, file=sys.stderr, flush=True)


def run_json(command, env=None, timeout=3600):
    """Runs a benchmark process; its last stdout line is a JSON object."""
    log("  $ " + " ".join(command))
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if result.returncode == -9:
        return {"error": "killed (out of memory)"}
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit {result.returncode}: {tail}"}
    lines = [l for l in result.stdout.splitlines() if l.startswith("{")]
    return [json.loads(l) for l in lines] if len(lines) > 1 else \
        json.loads(lines[-1])


def openblas_env():
    """The environment without this machine's safety settings for OpenBLAS,
    so that it picks its fastest kernels (issue 8: in benchmark commands
    alone)."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def pytorch_env():
    env = openblas_env()
    env["LD_LIBRARY_PATH"] = OPENBLAS_DIR
    env["LD_PRELOAD"] = TCMALLOC
    return env


def pytorch(*args):
    return run_json(["/usr/bin/python3",
                     os.path.join(ROOT, "bench", "pytorch_bench.py"),
                     *map(str, args)], env=pytorch_env())


def ours(model, *args):
    return run_json([os.path.join(BUILD, "bench", f"forward_cpu.{model}"),
                     *map(str, args)])


def predicted_gb(model, system, s, measured):
    """The peak memory of a training step at length `s`, extrapolated from
    the last length `measured` = (S, peak MB) of the same model and system:
    activations grow linearly with S, and quadratically for materialized
    attention scores (PyTorch's transformer; convseq's attention and its
    gradient never store them). A configuration predicted above
    MEMORY_LIMIT_GB is skipped rather than left to the kernel's OOM killer
    on this 24 GiB machine."""
    if not measured:
        return 0.0
    last_s, last_mb = measured
    quadratic = model.startswith("transformer") and system == "pytorch"
    power = 2 if quadratic else 1
    return last_mb * (s / last_s) ** power / 1024


def training(models, lengths, repeats, with_pytorch):
    rows = []
    for model in models:
        measured = {}
        for s in lengths:
            b, t = 16, max(1, s // 4)
            reps = repeats if s <= 1024 else max(1, repeats - 1)
            row = {"model": model, "B": b, "S": s, "T": t}
            for system in ["convseq", "pytorch"]:
                if system == "pytorch" and not with_pytorch:
                    continue
                need = predicted_gb(model, system, s, measured.get(system))
                if need > MEMORY_LIMIT_GB:
                    row[system] = {"error": f"skipped: would need ~{need:.0f}"
                                            " GB of the machine's 24"}
                    continue
                log(f"{system} {model} S={s}")
                if system == "convseq":
                    row[system] = ours(model, b, s, t, reps, "train")
                else:
                    row[system] = pytorch("train", model, b, s, t, reps)
                if "peak_rss_mb" in row[system]:
                    measured[system] = (s, row[system]["peak_rss_mb"])
            rows.append(row)
    return rows


def decoding(models, repeats, with_pytorch):
    rows = []
    for model in models:
        for b in [1, 16]:
            s, t = 512, 32
            row = {"model": model, "B": b, "S": s, "T": t}
            log(f"convseq decode {model} B={b}")
            row["convseq"] = ours(model, b, s, t, repeats, "decode")
            if with_pytorch:
                log(f"pytorch decode {model} B={b}")
                row["pytorch"] = pytorch("decode", model, b, s, t, repeats)
            rows.append(row)
    return rows


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                             "HEAD"], capture_output=True, text=True)
    return {"date": datetime.date.today().isoformat(), "cpu": cpu,
            "cores": os.cpu_count(), "kernel": platform.release(),
            "commit": commit.stdout.strip() or "unknown"}


# --------------------------------------------------------------- reporting

def flops(entry):
    return entry.get("model_gflop", 0) * 1e9


def tokens_per_second(entry, row):
    if "tokens_per_second" in entry:
        return entry["tokens_per_second"]
    return row["B"] * (row["S"] + row["T"]) / entry["seconds"]


def training_table(rows, peak):
    lines = ["| model | S | T | convseq tok/s | convseq % of peak | "
             "convseq peak RSS | PyTorch tok/s | PyTorch % of peak | "
             "PyTorch peak RSS | speed ratio | memory ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        ours_, theirs = row.get("convseq", {}), row.get("pytorch", {})
        cells = [row["model"], str(row["S"]), str(row["T"])]
        ours_tps = theirs_tps = None
        gflop = ours_.get("model_gflop")
        for entry in (ours_, theirs):
            if not entry:
                cells += ["", "", ""]
            elif "error" in entry:
                cells += [entry["error"], "", ""]
            else:
                tps = tokens_per_second(entry, row)
                if entry is ours_:
                    ours_tps = tps
                else:
                    theirs_tps = tps
                fraction = (gflop / entry["seconds"] / peak
                            if gflop and peak else None)
                cells += [f"{tps:,.0f}",
                          f"{100 * fraction:.0f}%" if fraction else "",
                          f"{entry['peak_rss_mb']:,} MB"]
        speed = (f"{ours_tps / theirs_tps:.2f}x" if ours_tps and theirs_tps
                 else "")
        memory = ""
        if ours_tps and theirs_tps:
            memory = (f"{ours_['peak_rss_mb'] / theirs['peak_rss_mb']:.2f}")
        lines.append("| " + " | ".join(cells + [speed, memory]) + " |")
    return "\n".join(lines)


def decoding_rows(rows):
    """Decoding rows as decoding() writes them; results from before
    PyTorch decoded hold convseq's entries alone."""
    return [row if "convseq" in row else
            {"model": row.get("model", "?"), "B": row.get("B", ""),
             "convseq": row} for row in rows]


def decoding_table(rows):
    lines = ["| model | B | convseq ms per sequence | convseq encoder ms | "
             "convseq decoder_init ms | convseq decoder step ms | "
             "convseq peak RSS | PyTorch ms per sequence | PyTorch encoder ms "
             "| PyTorch decoder_init ms | PyTorch decoder step ms | "
             "PyTorch peak RSS | step speedup | decode speedup |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in decoding_rows(rows):
        ours_, theirs = row.get("convseq", {}), row.get("pytorch", {})
        cells = [row["model"], str(row["B"])]
        for entry in (ours_, theirs):
            if not entry:
                cells += [""] * 5
            elif "error" in entry:
                cells += [entry["error"]] + [""] * 4
            else:
                cells += [f"{entry['ms_per_sequence']:.1f}",
                          f"{entry['encoder_ms']:.1f}",
                          f"{entry['decoder_init_ms']:.2f}",
                          f"{entry['decoder_step_ms']:.2f}",
                          f"{entry['peak_rss_mb']:,} MB"]
        for key in ("decoder_step_ms", "ms_per_sequence"):
            both = key in ours_ and key in theirs
            cells.append(f"{theirs[key] / ours_[key]:.2f}x" if both else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def matmul_table(rows):
    lines = ["| M x K x N | generated GFLOP/s | OpenBLAS GFLOP/s | ratio |",
             "|---|---|---|---|"]
    for entry in rows:
        if "error" in entry:
            lines.append(f"| | {entry['error']} | | |")
            continue
        ours_, theirs = entry["generated_gflops"], entry["openblas_gflops"]
        lines.append(f"| {entry['M']} x {entry['K']} x {entry['N']} | "
                     f"{ours_:.0f} | {theirs:.0f} | {ours_ / theirs:.2f} |")
    return "\n".join(lines)


def plot_speed(rows, path):
    """Training tokens/s against S, log-log: one colour per model, solid
    squares for convseq, hollow triangles for PyTorch."""
    spec = importlib.util.spec_from_file_location(
        "plot_metrics", os.path.join(ROOT, "tools", "plot-metrics.py"))
    plot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plot)
    import math
    colors = {"light-small": (31, 119, 180), "dynamic-small": (255, 127, 14),
              "dilated-small": (44, 160, 44),
              "transformer-small": (214, 39, 40)}
    points = {}
    for row in rows:
        for system in ["convseq", "pytorch"]:
            entry = row.get(system)
            if entry and "error" not in entry:
                points.setdefault((row["model"], system), []).append(
                    (row["S"], tokens_per_second(entry, row)))
    if not points:
        return False
    width, height, scale = 960, 600, 2
    canvas = plot.Canvas(width, height)
    x0, x1, y0, y1 = 150, width - 30, 120, height - 90
    all_s = [s for series in points.values() for s, _ in series]
    all_t = [t for series in points.values() for _, t in series]
    lo_x, hi_x = math.log2(min(all_s)), math.log2(max(all_s))
    lo_y = math.floor(math.log10(min(all_t)))
    hi_y = math.ceil(math.log10(max(all_t)))
    hi_x = max(hi_x, lo_x + 1)
    hi_y = max(hi_y, lo_y + 1)

    def px(s):
        return x0 + round((math.log2(s) - lo_x) / (hi_x - lo_x) * (x1 - x0))

    def py(t):
        return y1 - round((math.log10(t) - lo_y) / (hi_y - lo_y) * (y1 - y0))

    for xa, ya, xb, yb in ((x0, y0, x1, y0), (x0, y1, x1, y1),
                           (x0, y0, x0, y1), (x1, y0, x1, y1)):
        canvas.line(xa, ya, xb, yb, plot.INK)
    for e in range(lo_y, hi_y + 1):
        y = py(10 ** e)
        canvas.line(x0, y, x1, y, plot.GRID)
        label = f"1e{e}"
        canvas.text(x0 - 12 - plot.text_width(label, scale), y - 7, label,
                    plot.INK, scale)
    for s in sorted(set(all_s)):
        x = px(s)
        canvas.line(x, y0, x, y1, plot.GRID)
        canvas.text(x - plot.text_width(str(s), scale) // 2, y1 + 10, str(s),
                    plot.INK, scale)
    canvas.text((x0 + x1) // 2 - 160, y1 + 40,
                "source length s (target t = s : 4)", plot.INK, scale)
    canvas.text(x0, y0 - 24, "training tokens per second, b = 16", plot.INK,
                scale)
    for (model, system), series in sorted(points.items()):
        series.sort()
        color = colors.get(model, plot.INK)
        pixels = [(px(s), py(t)) for s, t in series]
        if system == "convseq":
            canvas.polyline(pixels, color, 3)
        for x, y in pixels:
            canvas.marker(x, y, "square" if system == "convseq" else
                          "triangle", color, 5)
    legend_x, legend_y = 10, 8
    for i, model in enumerate(colors):
        x = legend_x + (i % 2) * 330
        y = legend_y + (i // 2) * 22
        canvas.rect(x, y + 4, x + 20, y + 8, colors[model])
        canvas.text(x + 28, y, model, plot.INK, scale)
    canvas.text(680, legend_y, "line+square: convseq", plot.INK, scale)
    canvas.text(680, legend_y + 22, "triangle: pytorch", plot.INK, scale)
    with open(path, "wb") as f:
        f.write(canvas.png())
    return True


def write_docs(results, path):
    info = results["machine"]
    peak = results.get("sgemm_peak_gflops")
    gemm = results.get("pytorch_gemm", {})
    text = [BEGIN, "",
            f"## Benchmark suite: {info['date']}, commit {info['commit']}", "",
            f"Machine: {info['cpu']}, {info['cores']} cores, Linux "
            f"{info['kernel']}. Written by `bash bench/run.sh` "
            "(bench/benchmarks.py); raw results in "
            f"`{results['file']}`.", ""]
    if peak:
        text.append(f"The sgemm peak is OpenBLAS's best GFLOP/s in the "
                    f"matmul run below: {peak:.0f} GFLOP/s. \"% of peak\" is "
                    "model GFLOP/s (matmul-like work, three forward passes a "
                    "training step) over it.")
    if gemm and "gflops" in gemm:
        text.append(f"PyTorch {gemm.get('version', '')} reaches "
                    f"{gemm['gflops']:.0f} GFLOP/s on a 2048^3 GEMM with "
                    "this setup (issue 8 calls a peer below 350 "
                    "misconfigured).")
    text += ["", "### Training step, B=16, T=S/4", "",
             training_table(results["training"], peak), ""]
    if results.get("decoding"):
        text += ["### Greedy decoding of 32 tokens from S=512", "",
                 "Speedups are PyTorch's time over convseq's: per decoder "
                 "step, and per sequence for the whole greedy decode.", "",
                 decoding_table(results["decoding"]), ""]
    if results.get("matmul"):
        text += ["### Generated matmul against OpenBLAS sgemm", "",
                 matmul_table(results["matmul"]), ""]
    if results.get("plot"):
        text += [f"![training tokens/s against S]({results['plot']})", ""]
    text.append(END)
    block = "\n".join(text)
    with open(path) as f:
        doc = f.read()
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        doc = head + block + rest.split(END, 1)[1]
    else:
        title, _, body = doc.partition("\n")
        doc = title + "\n\n" + block + "\n" + body
    with open(path, "w") as f:
        f.write(doc)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--lengths", default=",".join(map(str, LENGTHS)))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-pytorch", action="store_true",
                        help="time convseq alone (training and decoding)")
    parser.add_argument("--no-training", action="store_true")
    parser.add_argument("--no-decoding", action="store_true")
    parser.add_argument("--no-matmul", action="store_true")
    parser.add_argument("--no-docs", action="store_true",
                        help="write the JSON only")
    parser.add_argument("--from-json", metavar="FILE",
                        help="measure nothing: write the docs and the plot "
                             "from the results of an earlier run")
    args = parser.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
        if plot_speed(results["training"],
                      os.path.join(ROOT, "docs", "speed.png")):
            results["plot"] = "speed.png"
        write_docs(results, os.path.join(ROOT, "docs", "benchmarks.md"))
        log("updated docs/benchmarks.md")
        return 0
    models = args.models.split(",")
    lengths = [int(s) for s in args.lengths.split(",")]

    results = {"machine": machine()}
    if not args.no_matmul:
        log("matmul")
        # OpenBLAS with the kernels it picks for this CPU (AVX-512 where
        # there is one), as PyTorch gets it.
        matmul = run_json([os.path.join(BUILD, "bench", "matmul_cpu")],
                          env=openblas_env())
        results["matmul"] = matmul if isinstance(matmul, list) else [matmul]
        results["sgemm_peak_gflops"] = max(
            (m.get("openblas_gflops", 0) for m in results["matmul"]),
            default=None)
    if not args.no_pytorch:
        results["pytorch_gemm"] = pytorch("gemm", 2048)
    results["training"] = [] if args.no_training else training(
        models, lengths, args.repeats, not args.no_pytorch)
    if not args.no_decoding:
        results["decoding"] = decoding(models, args.repeats,
                                       not args.no_pytorch)

    info = results["machine"]
    out_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(out_dir, exist_ok=True)
    name = f"{info['date']}-{info['commit']}.json"
    results["file"] = f"bench/results/{name}"
    if not args.no_docs and plot_speed(results["training"],
                                       os.path.join(ROOT, "docs",
                                                    "speed.png")):
        results["plot"] = "speed.png"
    with open(os.path.join(out_dir, name), "w") as f:
        json.dump(results, f, indent=1)
    log(f"wrote {results['file']}")
    if not args.no_docs:
        write_docs(results, os.path.join(ROOT, "docs", "benchmarks.md"))
        log("updated docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
