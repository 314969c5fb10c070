// RUN: convseq-opt %s --convseq-prepare-gpu-loops --verify-diagnostics

// A loop whose control reads a buffer runs on one GPU thread; if it returns
// a value to the host, it cannot move there.
func.func @loop_with_result(%ids: memref<?xi32>, %n: index) -> i32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0 : i32
  // expected-error @+1 {{cannot run on the GPU: this op's control reads a buffer and it returns values}}
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (i32) {
    %id = memref.load %ids[%i] : memref<?xi32>
    %next = arith.addi %acc, %id : i32
    scf.yield %next : i32
  }
  return %sum : i32
}
