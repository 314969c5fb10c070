// RUN: convseq-opt %s --convseq-drop-in-place-results --split-input-file --verify-diagnostics | FileCheck %s

// Results returned as the argument buffer they are marked with (directly,
// or through a loop that carries the buffer) are dropped; others stay.

// CHECK-LABEL: func.func @step(
// CHECK-SAME:    %[[P:[^:]+]]: memref<4xf32>, %[[S:[^:]+]]: memref<4xf32>, %[[X:[^:]+]]: memref<4xf32>)
// CHECK-SAME:    -> (f32 {convseq.io = "loss"})
// CHECK:         return %{{.+}} : f32
func.func @step(%p: memref<4xf32>, %s: memref<4xf32>, %x: memref<4xf32>)
    -> (f32 {convseq.io = "loss"}, memref<4xf32> {convseq.in_place = 0 : i64}, memref<4xf32> {convseq.in_place = 1 : i64}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %loss = memref.load %x[%c0] : memref<4xf32>
  %s1 = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %s) -> (memref<4xf32>) {
    memref.store %loss, %acc[%i] : memref<4xf32>
    scf.yield %acc : memref<4xf32>
  }
  return %loss, %p, %s1 : f32, memref<4xf32>, memref<4xf32>
}

// -----

func.func @copied(%p: memref<4xf32>) -> (memref<4xf32> {convseq.param = "w", convseq.in_place = 0 : i64}) {
  %new = memref.alloc() : memref<4xf32>
  memref.copy %p, %new : memref<4xf32> to memref<4xf32>
  // expected-error @+1 {{returns result #0 ('w') in a new buffer: bufferization could not update argument #0 in place}}
  return %new : memref<4xf32>
}

// -----

// expected-error @+1 {{result #0 is in place in argument #3, which does not exist}}
func.func @out_of_range(%p: memref<4xf32>) -> (memref<4xf32> {convseq.in_place = 3 : i64}) {
  return %p : memref<4xf32>
}
