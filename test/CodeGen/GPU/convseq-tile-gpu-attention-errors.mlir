// RUN: not convseq-opt %s --convseq-tile-gpu-attention="rows=48" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ROWS
// RUN: not convseq-opt %s --convseq-tile-gpu-attention="keys=0" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=KEYS

// ROWS: error: convseq-tile-gpu-attention: rows must be a multiple of 32 up to 1024 and keys and max-head-size positive, got rows 48, keys 8, max-head-size 128
// KEYS: error: convseq-tile-gpu-attention: rows must be a multiple of 32 up to 1024 and keys and max-head-size positive, got rows 64, keys 0, max-head-size 128
func.func @f() {
  return
}
