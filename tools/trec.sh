#!/usr/bin/env bash
# The main job (README): compiles light-small into an executable, trains it
# on the bundled TREC question classification data and prints its test
# accuracy. Each run writes a new directory under runs/; extra arguments go
# to `train` (e.g. --steps=200 for a quick look).
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p runs
echo "+ build/bin/convseqc models/light-small.yaml -o runs/light-small" >&2
build/bin/convseqc models/light-small.yaml -o runs/light-small

run=runs/light-small-trec-$(date +%Y%m%d-%H%M%S)
cmd=(runs/light-small train
     --train=models/data/trec/train.tsv --test=models/data/trec/test.tsv
     --source_column=2 --target_column=0 --output_dir="$run" "$@")
echo "+ ${cmd[*]}" >&2
"${cmd[@]}"
cat >&2 <<MSG

Checkpoints, tokenizer and metrics: $run
Predict:  echo "Who wrote Hamlet ?" | runs/light-small predict --checkpoint=$run
Plot:     tools/plot-metrics.py $run/metrics.jsonl -o $run/loss.png
Evaluate: runs/light-small eval --checkpoint=$run --data=models/data/trec/test.tsv --source_column=2 --target_column=0
MSG
