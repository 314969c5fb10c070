"""Times the PyTorch models of bench/pytorch_models.py; one JSON line a run.

    pytorch_bench.py train MODEL B S T REPEATS       a training step
    pytorch_bench.py decode MODEL B S STEPS REPEATS  greedy decoding
    pytorch_bench.py gemm N                          torch.mm GFLOP/s at N^3
    pytorch_bench.py check [MODEL...]                incremental decoding
                                                     against teacher forcing

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


def median_seconds(repeats, run):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    return seconds[len(seconds) // 2]


def train(model_name, b, s, t, repeats):
    torch.manual_seed(0)
    config = pm.Config(model_name)
    model = pm.Seq2Seq(config)
    model.train()
    optimizer = pm.Adafactor(model.parameters(), lr=1e-3)
    src = torch.randint(3, config.vocab, (b, s))
    tgt = torch.randint(3, config.vocab, (b, t))
    pm.train_step(model, optimizer, src, tgt)  # warms up
    median = median_seconds(
        repeats, lambda: pm.train_step(model, optimizer, src, tgt))
    return {"system": "pytorch", "model": model_name, "entry": "train",
            "B": b, "S": s, "T": t, "seconds": round(median, 4),
            "tokens_per_second": round(b * (s + t) / median, 1),
            "peak_rss_mb": peak_rss_mb(), "threads": torch.get_num_threads()}


@torch.inference_mode()
def decode(model_name, b, s, steps, repeats):
    """Greedy decoding of `steps` tokens from a random source [b, s] with
    the traced decoder step, reported as forward_cpu's decode does: the
    whole decode, the encoder, decoder_init, and the rest per step."""
    torch.manual_seed(0)
    config = pm.Config(model_name)
    model = pm.Seq2Seq(config).eval()
    src = torch.randint(3, config.vocab, (b, s))
    step = pm.trace_step(model, b, s, steps)
    # Warms up; the JIT profiles the traced step's first two calls and
    # optimizes it on the third.
    pm.greedy(model, step, src, steps)
    encoder = median_seconds(repeats, lambda: model.encode(src))
    memory, src_pad = model.encode(src)
    init = median_seconds(repeats,
                          lambda: model.decoder_init(memory, src_pad))
    total = median_seconds(repeats,
                           lambda: pm.greedy(model, step, src, steps))
    return {"system": "pytorch", "model": model_name, "entry": "decode",
            "B": b, "S": s, "T": steps, "seconds": round(total, 5),
            "ms_per_sequence": round(total * 1e3 / b, 3),
            "encoder_ms": round(encoder * 1e3, 3),
            "decoder_init_ms": round(init * 1e3, 3),
            "decoder_step_ms": round((total - encoder - init) * 1e3 / steps,
                                     4),
            "peak_rss_mb": peak_rss_mb(), "threads": torch.get_num_threads()}


@torch.inference_mode()
def check(model_name, b=2, s=7, t=20):
    """The largest difference between the logits of the traced decoder
    step, fed the target one token at a time, and the teacher-forced
    logits, on a small random model (k=3, so that t outlasts every conv
    window) and a source with padding."""
    torch.manual_seed(0)
    config = pm.Config(model_name, d=32, ff=64, kernel=3, vocab=64)
    model = pm.Seq2Seq(config).eval()
    src = torch.randint(3, config.vocab, (b, s))
    src[-1, s // 2:] = pm.PAD
    inputs = torch.randint(3, config.vocab, (b, t))
    inputs[:, 0] = pm.PAD  # the start token
    expected = model.logits(src, inputs)
    step = pm.trace_step(model, b, s, t)
    cross = model.decoder_init(*model.encode(src))
    state = model.initial_state(b, t)
    diff = 0.0
    for i in range(t):
        logits, state = step(inputs[:, i], torch.tensor([i]), cross, state)
        diff = max(diff, (logits - expected[:, i]).abs().max().item())
    return {"system": "pytorch", "model": model_name, "entry": "check",
            "B": b, "S": s, "T": t, "max_abs_diff": diff, "ok": diff < 1e-4}


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
    elif mode == "decode":
        name, b, s, steps, repeats = sys.argv[2], *map(int, sys.argv[3:7])
        print(json.dumps(decode(name, b, s, steps, repeats)))
    elif mode == "gemm":
        print(json.dumps(gemm(int(sys.argv[2]))))
    elif mode == "check":
        results = [check(name) for name in sys.argv[2:] or
                   ["light-small", "dynamic-small", "dilated-small",
                    "transformer-small"]]
        for result in results:
            print(json.dumps(result))
        sys.exit(0 if all(r["ok"] for r in results) else 1)
    else:
        sys.exit(f"unknown mode {mode!r}")
