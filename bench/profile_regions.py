#!/usr/bin/env python3
"""Where a compiled entry point's time goes, by parallel loop.

perf attributes the samples of generated code to the outlined parallel
loops (`<entry>_parallel_<n>..omp_par`). This matches each one with its IR
after `convseq-outline-parallel-loops` and prints the loops' shares with
their memref operands and main ops, then the shares by kind: register-tiled
contractions (`vector.contract`), attention (operands with a head
dimension), other element-wise loops, the kernel, the rest.

  convseqc models/light-small.yaml --entry-points=train_step \\
      --emit=linalg -o ts.mlir
  convseq-opt ts.mlir --convseq-linalg-to-llvm-cpu="register-n=32" \\
      --mlir-print-ir-after=convseq-outline-parallel-loops \\
      -o /dev/null 2> outlined.mlir
  perf record -o perf.data build/bench/forward_cpu.light-small 16 512 128 3 train
  bench/profile_regions.py perf.data outlined.mlir --heads=4

The pipeline options must be the ones the profiled binary was compiled
with (convseqc picks register-n=32 for a CPU with AVX-512), or the loops'
numbers will not match.
"""

import argparse
import collections
import re
import subprocess
import sys

OPS = re.compile(
    r"\b(math\.\w+|vector\.contract|vector\.fma|arith\.mului_extended|"
    r"arith\.divf|arith\.maximumf|arith\.select|memref\.copy|linalg\.copy)\b")


def read_functions(path):
    """The outlined loops of an IR dump: name -> (arguments, body)."""
    text = open(path).read()
    functions = {}
    for match in re.finditer(
            r"func\.func private @(\w+_parallel_\d+)\(([^)]*)\)", text):
        end = text.find("\n  func.func", match.end())
        functions[match.group(1)] = (match.group(2),
                                     text[match.start():end if end > 0 else None])
    return functions


def read_samples(path):
    """(percent, symbol, is_kernel) for each symbol of a perf recording."""
    report = subprocess.run(
        ["perf", "report", "-i", path, "--no-children", "--sort", "symbol",
         "--stdio"],
        capture_output=True, text=True, check=True).stdout
    for line in report.splitlines():
        match = re.match(r"\s+([\d.]+)%\s+\[(.)\]\s+(\S+)", line)
        if match:
            yield float(match.group(1)), match.group(3), match.group(2) == "k"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("perf_data")
    parser.add_argument("outlined_ir")
    parser.add_argument("--heads", type=int, default=4,
                        help="the model's head count: operands with it as "
                        "their second dimension are attention's")
    parser.add_argument("--top", type=int, default=30,
                        help="loops to list, the busiest first")
    args = parser.parse_args()

    functions = read_functions(args.outlined_ir)
    if not functions:
        sys.exit(f"{args.outlined_ir}: no outlined parallel loops "
                 "(func.func private @..._parallel_<n>)")
    head_dim = re.compile(rf"memref<\?x{args.heads}x")
    kinds = collections.Counter()
    listed = 0
    for percent, symbol, kernel in read_samples(args.perf_data):
        name = symbol.split("..omp_par")[0]
        if name not in functions:
            kinds["kernel" if kernel else "other: " + symbol[:40]] += percent
            continue
        arguments, body = functions[name]
        kind = ("attention " if head_dim.search(arguments) else "") + (
            "contraction" if "vector.contract" in body else "element-wise")
        kinds[kind] += percent
        if listed < args.top:
            listed += 1
            shapes = re.findall(r"memref<([^>]*?)(?:, strided[^>]*)?>",
                                arguments)
            ops = collections.Counter(OPS.findall(body)).most_common(5)
            print(f"{percent:6.2f}%  {name:28s} {' | '.join(shapes)[:90]}")
            print(f"          {kind}: "
                  + ", ".join(f"{op} x{count}" for op, count in ops))
    print("\nBy kind (% of all samples):")
    for kind, percent in kinds.most_common(12):
        print(f"{percent:6.2f}%  {kind}")


if __name__ == "__main__":
    main()
