"""Times the PyTorch models of bench/pytorch_models.py; one JSON line a run.

    pytorch_bench.py train MODEL B S T REPEATS   a training step
    pytorch_bench.py gemm N                      torch.mm GFLOP/s at N^3

Run it through bench/benchmarks.py, which sets PyTorch up as issue 8 asks
(OpenBLAS's OpenMP build with its AVX-512 kernels, tcmalloc) and runs each
configuration in a process of its own, so the peak RSS is that run's.
"""

import json
import resource
import sys
import time

import os

import torch

import pytorch_models as pm

# PyTorch defaults to one thread per physical core, and this machine's two
# vCPUs count as one core: use both, as our generated code does.
torch.set_num_threads(os.cpu_count())


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def train(model_name, b, s, t, repeats):
    torch.manual_seed(0)
    config = pm.Config(model_name)
    model = pm.Seq2Seq(config)
    model.train()
    optimizer = pm.Adafactor(model.parameters(), lr=1e-3)
    src = torch.randint(3, config.vocab, (b, s))
    tgt = torch.randint(3, config.vocab, (b, t))
    seconds = []
    for r in range(repeats + 1):  # the first step warms up
        start = time.perf_counter()
        pm.train_step(model, optimizer, src, tgt)
        if r > 0:
            seconds.append(time.perf_counter() - start)
    seconds.sort()
    median = seconds[len(seconds) // 2]
    return {"system": "pytorch", "model": model_name, "entry": "train",
            "B": b, "S": s, "T": t, "seconds": round(median, 4),
            "tokens_per_second": round(b * (s + t) / median, 1),
            "peak_rss_mb": peak_rss_mb(), "threads": torch.get_num_threads()}


def gemm(n):
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    with open("/proc/self/maps") as maps:
        blas = sorted({line.split()[-1] for line in maps
                       if "blas" in line.split()[-1]})
    return {"system": "pytorch", "entry": "gemm", "N": n,
            "gflops": round(2 * n ** 3 / best / 1e9, 1),
            "version": torch.__version__, "threads": torch.get_num_threads(),
            "blas_libraries": blas}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "train":
        name, b, s, t, repeats = sys.argv[2], *map(int, sys.argv[3:7])
        print(json.dumps(train(name, b, s, t, repeats)))
    elif mode == "gemm":
        print(json.dumps(gemm(int(sys.argv[2]))))
    else:
        sys.exit(f"unknown mode {mode!r}")
