// RUN: convseq-opt %s --convseq-tile-parallel-loops-for-gpu --verify-diagnostics
// RUN: not convseq-opt %s --convseq-tile-parallel-loops-for-gpu="block-size=0" 2>&1 | FileCheck %s --check-prefix=ZERO

// ZERO: error: block-size must be positive

// Reductions of scf.parallel have no mapping to threads here.
func.func @reduction(%a: memref<?xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{cannot map a parallel loop with reductions}}
  %sum = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f32 {
    %x = memref.load %a[%i] : memref<?xf32>
    scf.reduce(%x : f32) {
    ^bb0(%l: f32, %r: f32):
      %s = arith.addf %l, %r : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

