// RUN: convseq-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convseq-hoist-scratch-buffers))' | FileCheck %s

// A dot product's 32 partial sums, allocated and freed for each output:
// one stack buffer per thread, made at the start of the parallel region.

// CHECK-LABEL: func.func @per_thread(
// CHECK:         omp.parallel {
// CHECK-NEXT:      %[[BUFFER:.+]] = memref.alloca() {alignment = 64 : i64} : memref<32xf32>
// CHECK:           scf.for
// CHECK-NOT:         memref.alloc(
// CHECK:             vector.transfer_write %{{.+}}, %[[BUFFER]]
// CHECK:             vector.transfer_read %[[BUFFER]]
// CHECK-NOT:         memref.dealloc
// CHECK:           omp.terminator
func.func @per_thread(%begin: index, %end: index, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %pad = arith.constant 0.0 : f32
  %zero = arith.constant dense<0.0> : vector<32xf32>
  omp.parallel {
    scf.for %i = %begin to %end step %c1 {
      %sums = memref.alloc() {alignment = 64 : i64} : memref<32xf32>
      vector.transfer_write %zero, %sums[%c0] {in_bounds = [true]} : vector<32xf32>, memref<32xf32>
      %v = vector.transfer_read %sums[%c0], %pad {in_bounds = [true]} : memref<32xf32>, vector<32xf32>
      %s = vector.reduction <add>, %v : vector<32xf32> into f32
      memref.store %s, %out[%i] : memref<?xf32>
      memref.dealloc %sums : memref<32xf32>
    }
    omp.terminator
  }
  return
}

// -----

// Without threads: the function's stack.

// CHECK-LABEL: func.func @serial(
// CHECK-NEXT:    %[[BUFFER:.+]] = memref.alloca() : memref<4x8xf32>
// CHECK:         scf.for
// CHECK:           linalg.fill ins(%{{.+}}) outs(%[[BUFFER]] : memref<4x8xf32>)
func.func @serial(%n: index, %out: memref<?x4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    %tile = memref.alloc() : memref<4x8xf32>
    linalg.fill ins(%one : f32) outs(%tile : memref<4x8xf32>)
    %row = memref.subview %out[%i, 0, 0] [1, 4, 8] [1, 1, 1] : memref<?x4x8xf32> to memref<4x8xf32, strided<[8, 1], offset: ?>>
    memref.copy %tile, %row : memref<4x8xf32> to memref<4x8xf32, strided<[8, 1], offset: ?>>
    memref.dealloc %tile : memref<4x8xf32>
  }
  return
}

// -----

// Left on the heap: a buffer per iteration of a loop whose iterations run
// at once; one not in a loop; one freed elsewhere; one a call could keep;
// one too large for the stack (16 KiB at most).

// CHECK-LABEL: func.func @stays(
// CHECK-NOT:     memref.alloca
// CHECK-COUNT-5: memref.alloc(
// CHECK-NOT:     memref.alloca
func.func private @keep(memref<8xf32>)
func.func @stays(%n: index, %init: memref<8xf32>) -> memref<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %a = memref.alloc() : memref<8xf32>
    memref.store %one, %a[%c0] : memref<8xf32>
    memref.dealloc %a : memref<8xf32>
    scf.reduce
  }
  %b = memref.alloc() : memref<8xf32>
  memref.store %one, %b[%c0] : memref<8xf32>
  memref.dealloc %b : memref<8xf32>
  %c = scf.for %i = %c0 to %n step %c1 iter_args(%last = %init) -> memref<8xf32> {
    %d = memref.alloc() : memref<8xf32>
    scf.yield %d : memref<8xf32>
  }
  scf.for %i = %c0 to %n step %c1 {
    %e = memref.alloc() : memref<8xf32>
    func.call @keep(%e) : (memref<8xf32>) -> ()
    memref.dealloc %e : memref<8xf32>
  }
  scf.for %i = %c0 to %n step %c1 {
    %f = memref.alloc() : memref<4096x2xf32>
    memref.store %one, %f[%c0, %c0] : memref<4096x2xf32>
    memref.dealloc %f : memref<4096x2xf32>
  }
  return %c : memref<8xf32>
}
