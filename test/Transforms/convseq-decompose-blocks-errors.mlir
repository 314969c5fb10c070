// Blocks that cannot be decomposed are errors of the pass, not silently kept.
// RUN: convseq-opt %s --convseq-decompose-blocks -verify-diagnostics

// The score scale 1/sqrt(D/H) needs a static width.
func.func @attention_dynamic_width(%x: tensor<2x8x?xf32>, %w: tensor<?x?xf32>) -> tensor<2x8x?xf32> {
  // expected-error @+1 {{could not be decomposed into convseq primitives}}
  %y = convseq.attention %x, %x, %w, %w, %w, %w {heads = 2 : i64}
    : (tensor<2x8x?xf32>, tensor<2x8x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>,
       tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<2x8x?xf32>
  return %y : tensor<2x8x?xf32>
}
