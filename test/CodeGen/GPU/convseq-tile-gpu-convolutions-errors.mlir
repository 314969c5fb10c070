// RUN: not convseq-opt %s --convseq-tile-gpu-convolutions="threads=48" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=THREADS
// RUN: not convseq-opt %s --convseq-tile-gpu-convolutions="tile-channels=24" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=CHANNELS
// RUN: not convseq-opt %s --convseq-tile-gpu-convolutions="tile-positions=60" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=POSITIONS

// THREADS: error: threads must be a multiple of 32 up to 1024 and of tile-channels, and tile-positions a multiple of threads / tile-channels; got threads=48, tile-positions=64, tile-channels=32
// CHANNELS: error: {{.*}}; got threads=256, tile-positions=64, tile-channels=24
// POSITIONS: error: {{.*}}; got threads=256, tile-positions=60, tile-channels=32
func.func @f() {
  return
}
