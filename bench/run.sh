#!/usr/bin/env bash
# Builds the benchmarks, then times the generated matmul against OpenBLAS
# sgemm, the generated forward pass of the four small models and light-small's
# training step (train_step, without arguments only). Prints one JSON object per line;
# redirect to keep them.
#
#   bash bench/run.sh [B S T [repeats]] [> results.jsonl]
#
# Without arguments it also runs the length-scaling set below.
#
# Both thread pools (ours: LLVM's libomp; OpenBLAS: libgomp) sleep at once
# when idle, so neither spins on the cores while the other runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh >/dev/null
for p in libopenblas0-openmp libopenblas-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  cmake -S . -B build >/dev/null
fi
cmake --build build --target convseq-bench >/dev/null
export KMP_BLOCKTIME=0 OMP_WAIT_POLICY=passive
build/bench/matmul_cpu
shape=("${@:-16 512 128 3}")
for model in light-small dynamic-small dilated-small transformer-small; do
  build/bench/forward_cpu.$model ${shape[@]}
done
# Without arguments: light-small's training step (issue 5), then
# length scaling (issue 4) at 8192 source tokens per call: the forward pass
# at S=512 and S=4096, and the encoder's time per token from S=128 to
# S=4096.
if [ $# -eq 0 ]; then
  build/bench/forward_cpu.light-small 16 512 128 3 train
  for s in "16 512 128 3" "2 4096 128 3"; do
    build/bench/forward_cpu.light-small $s forward
  done
  for s in "64 128 128 3" "16 512 128 3" "2 4096 128 3"; do
    build/bench/forward_cpu.light-small $s encoder
  done
fi
