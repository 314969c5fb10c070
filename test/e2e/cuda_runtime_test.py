#!/usr/bin/env python3
"""End-to-end tests of an executable compiled for NVIDIA GPUs.

Usage: cuda_runtime_test.py <cuda-exe> <cpu-exe> <trec-dir> <case>

Both executables are trec-tiny, one built with --target=cuda. A case that
needs what this machine lacks (a GPU, or no GPU) prints why and exits 77,
which ctest reports as skipped.
"""

import json
import os
import subprocess
import sys
import tempfile

CUDA_EXE, CPU_EXE, TREC, CASE = sys.argv[1:5]
TRAIN = os.path.join(TREC, "train.tsv")
TEST = os.path.join(TREC, "test.tsv")
COLUMNS = ["--source_column=2", "--target_column=0"]
SKIP = 77


def run(exe, *args, expect=0):
    result = subprocess.run([exe, *args], capture_output=True, text=True)
    if expect is not None and result.returncode != expect:
        sys.exit(f"FAIL: {os.path.basename(exe)} {' '.join(args)} exited "
                 f"{result.returncode}, expected {expect}\nstdout:\n"
                 f"{result.stdout}\nstderr:\n{result.stderr}")
    return result


def check(condition, message):
    if not condition:
        sys.exit("FAIL: " + message)


def has_gpu():
    """What `info` says about this machine's GPU (it never needs one)."""
    info = run(CUDA_EXE, "info").stdout
    line = [l for l in info.splitlines() if l.startswith("runs on ")]
    check(line, "info does not say where the model runs:\n" + info)
    check("an NVIDIA GPU (compiled for sm_80)" in line[0], line[0])
    return "no CUDA device" not in line[0], line[0]


def case_no_device(tmp):
    """Without a GPU the executable starts, reports bad flags and bad data
    as the CPU one does, and stops with a clear error before step 1."""
    gpu, where = has_gpu()
    if gpu:
        print("skipped: this machine has a GPU:", where)
        sys.exit(SKIP)
    run(CUDA_EXE, "--help", expect=None)
    bad_flag = run(CUDA_EXE, "train", "--stepz=3", expect=1)
    check("stepz" in bad_flag.stderr, bad_flag.stderr)
    missing = run(CUDA_EXE, "train", f"--train={tmp}/none.tsv", *COLUMNS,
                  f"--output_dir={tmp}/a", expect=1)
    check("none.tsv" in missing.stderr and "cannot open" in missing.stderr,
          missing.stderr)
    result = run(CUDA_EXE, "train", f"--train={TRAIN}", *COLUMNS,
                 f"--output_dir={tmp}/b", "--steps=3", expect=1)
    check("no CUDA device" in result.stderr and
          "--target=cuda" in result.stderr, result.stderr)
    check(not [f for f in os.listdir(f"{tmp}/b") if f.startswith("ckpt-")],
          "a checkpoint was written without a device")
    print(result.stderr.strip().splitlines()[-1])


def losses(out):
    with open(os.path.join(out, "metrics.jsonl")) as f:
        return [json.loads(l)["loss"] for l in f if '"loss"' in l]


def case_matches_cpu(tmp):
    """On a GPU: 30 steps from the same seed follow the CPU executable's
    losses (the order of float additions differs, so not bit for bit) and
    reach the same test accuracy within two points."""
    gpu, where = has_gpu()
    if not gpu:
        print("skipped: needs an NVIDIA GPU;", where)
        sys.exit(SKIP)
    print(where)
    accuracy = {}
    for name, exe in (("cpu", CPU_EXE), ("gpu", CUDA_EXE)):
        out = os.path.join(tmp, name)
        result = run(exe, "train", f"--train={TRAIN}", *COLUMNS,
                     f"--output_dir={out}", "--steps=30", f"--test={TEST}")
        line = [l for l in result.stdout.splitlines()
                if l.startswith("test accuracy")]
        check(line, result.stdout)
        accuracy[name] = float(line[0].split()[2])
    cpu, gpu = losses(os.path.join(tmp, "cpu")), losses(os.path.join(tmp, "gpu"))
    check(len(cpu) == len(gpu) == 30, f"{len(cpu)} and {len(gpu)} losses")
    for step, (a, b) in enumerate(zip(cpu, gpu), 1):
        check(abs(a - b) <= 1e-3 * max(1.0, abs(a)),
              f"step {step}: loss {b} on the GPU, {a} on the CPU")
    check(abs(accuracy["cpu"] - accuracy["gpu"]) <= 0.02, str(accuracy))
    print("accuracy", accuracy)


with tempfile.TemporaryDirectory() as tmp:
    globals()["case_" + CASE](tmp)
