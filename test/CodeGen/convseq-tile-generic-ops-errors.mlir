// RUN: convseq-opt %s --pass-pipeline='builtin.module(func.func(convseq-tile-generic-ops{vector-size=0}))' -verify-diagnostics

// expected-error @+1 {{convseq-tile-generic-ops: vector-size and transpose-block must be positive and min-parallel-work not negative}}
func.func @bad_vector_size(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}
