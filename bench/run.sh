#!/usr/bin/env bash
# Builds the benchmarks and times the generated forward pass of the four
# small models. Prints one JSON object per line; pass an output file to keep
# them. Usage: bash bench/run.sh [B S T [repeats]] [> results.jsonl]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh >/dev/null
cmake --build build --target convseq-bench >/dev/null
shape=("${@:-16 512 128 3}")
for model in light-small dynamic-small dilated-small transformer-small; do
  build/bench/forward_cpu.$model ${shape[@]}
done
