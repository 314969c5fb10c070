// RUN: convseq-opt %s --pass-pipeline='builtin.module(func.func(convseq-tile-attention{rows=0}))' -verify-diagnostics

// expected-error @+1 {{convseq-tile-attention: rows must be positive, got 0}}
func.func @no_rows(%q: tensor<2x2x?x4xf32>, %k: tensor<2x2x?x4xf32>) -> tensor<2x2x?x4xf32> {
  %o = convseq.dot_product_attention %q, %k, %k
      : (tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>) -> tensor<2x2x?x4xf32>
  return %o : tensor<2x2x?x4xf32>
}
