// Block ops must be decomposed first; the conversion reports what is left.
// RUN: convseq-opt %s --convert-convseq-to-linalg -verify-diagnostics

func.func @block_not_decomposed(%x: tensor<2x8x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>) -> tensor<2x8x64xf32> {
  // expected-error @+1 {{failed to legalize operation 'convseq.ffn' that was explicitly marked illegal}}
  %y = convseq.ffn %x, %w1, %w2 : (tensor<2x8x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<2x8x64xf32>
  return %y : tensor<2x8x64xf32>
}
