// RUN: convseq-opt %s --pass-pipeline='builtin.module(func.func(convseq-tile-contractions{register-m=4 m-block=10}))' -verify-diagnostics
// RUN: convseq-opt %s --pass-pipeline='builtin.module(func.func(convseq-tile-contractions{n-block=20}))' -verify-diagnostics
// RUN: convseq-opt %s --pass-pipeline='builtin.module(func.func(convseq-tile-contractions{few-rows-n=24}))' -verify-diagnostics
// RUN: convseq-opt %s --pass-pipeline='builtin.module(func.func(convseq-tile-contractions{threads=0}))' -verify-diagnostics
// RUN: convseq-opt %s --convseq-linalg-to-llvm-cpu=threads=-1 -verify-diagnostics

// expected-error @+1 {{convseq-tile-contractions: tile sizes and threads must be positive, m-block a multiple of register-m, n-block a multiple of register-n, few-rows-n a multiple of register-n and pack-min-rows not negative}}
func.func @bad_blocks(%a: tensor<?x8xf32>, %b: tensor<8x16xf32>, %c: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = linalg.matmul ins(%a, %b : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// expected-error @+1 {{n-block a multiple of register-n}}
func.func @bad_columns(%a: tensor<?x8xf32>, %b: tensor<8x16xf32>, %c: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = linalg.matmul ins(%a, %b : tensor<?x8xf32>, tensor<8x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
