// RUN: convseq-opt %s --convseq-generate-vjp --split-input-file --verify-diagnostics
// RUN: not convseq-opt %s --convseq-generate-vjp=functions=missing 2>&1 | FileCheck %s --check-prefix=MISSING

// MISSING: error: no function '@missing' to differentiate

// An op without a gradient rule between an input and the result (here a
// block op, which must be decomposed first) is an error at the op.
func.func @block(%x: tensor<2x3x4xf32>, %w1: tensor<4x8xf32>, %w2: tensor<8x4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{'convseq.ffn' op has no gradient rule, but lies on a path from a differentiated input to the loss}}
  %y = convseq.ffn %x, %w1, %w2 : (tensor<2x3x4xf32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// expected-error @+1 {{'func.func' op cannot be differentiated: '@taken_vjp' exists already}}
func.func @taken(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = convseq.relu %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

func.func private @taken_vjp(%x: tensor<4xf32>) -> tensor<4xf32>
