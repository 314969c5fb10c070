#!/usr/bin/env bash
# Installs the system dependencies, configures (once) and builds convseq in
# ./build with every core. Safe to run again: it only redoes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
fi
cmake --build build -j "$(nproc)"
