#!/usr/bin/env bash
# The benchmark suite (issue 8; bench/benchmarks.py says what it measures):
# builds the benchmark binaries, installs what the comparison needs from
# Debian (OpenBLAS's OpenMP build, PyTorch, tcmalloc), then times convseq and
# PyTorch side by side and writes bench/results/<date>-<commit>.json, the
# tables in docs/benchmarks.md and docs/speed.png.
#
#   bash bench/run.sh                          everything, about an hour
#   bash bench/run.sh --models light-small --lengths 128,512 --repeats 1
#   bash bench/run.sh --help
#
# Run it on an otherwise idle machine: both cores are in use throughout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh >/dev/null
for p in libopenblas0-openmp libopenblas-dev python3-torch \
         libtcmalloc-minimal4; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  cmake -S . -B build >/dev/null
fi
cmake --build build --target convseq-bench >/dev/null
exec /usr/bin/python3 bench/benchmarks.py "$@"
