// RUN: not convseq-opt %s --convseq-tile-gpu-contractions="tile-m=6 thread-tile-m=4" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MULTIPLE
// RUN: not convseq-opt %s --convseq-tile-gpu-contractions="tile-m=8 tile-n=8 thread-tile-m=1 thread-tile-n=1 tile-k=3" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=THREADS

// MULTIPLE: error: tile-m and tile-n must be positive multiples of thread-tile-m and thread-tile-n
// THREADS: error: the tiles give 64 threads per block; they must be a multiple of 32, at most 1024, and divide tile-m * tile-k and tile-n * tile-k
func.func @f() {
  return
}
