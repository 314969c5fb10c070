// Every verifier rule of the convseq dialect, one failing input each.
// RUN: convseq-opt %s -split-input-file -verify-diagnostics

// Input must be [B, L, D].
func.func @input_must_be_b_l_d(%x: tensor<16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{expects 'input' of rank 3 [B, L, D], got 'tensor<16x64xf32>'}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<16x64xf32>
  return
}

// -----

// Kernel width 0.
func.func @kernel_width_0(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x0xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{kernel width must be positive, got 0}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 0 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x0xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Dilation 0.
func.func @dilation_0(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<64x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{dilation must be positive, got 0}}
  %y = convseq.conv_block dilated %x, %wi, %wg, %wc, %wo {kernel_size = 7 : i64, dilation = 0 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x7xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Heads 0.
func.func @heads_0(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{number of heads must be positive, got 0}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 0 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// D not divisible by heads.
func.func @d_not_divisible_by_heads(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<5x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{model width 64 is not divisible by 5 heads}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 5 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<5x7xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Dilation on a non-dilated variant.
func.func @dilation_on_a_non_dilated_variant(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{dilation 2 is only valid for the dilated variant}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64, dilation = 2 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Heads on the dilated variant.
func.func @heads_on_the_dilated_variant(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<64x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{the dilated variant has one weight per channel; 'heads' must be 1, got 4}}
  %y = convseq.conv_block dilated %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x7xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// W_in shape.
func.func @w_in_shape(%x: tensor<2x16x64xf32>, %wi: tensor<64x32xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{expects 'w_in' of shape [D, D] = [64, 64], got 'tensor<64x32xf32>'}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x32xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// W_gate shape.
func.func @w_gate_shape(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<32x64xf32>, %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{expects 'w_gate' of shape [D, D] = [64, 64], got 'tensor<32x64xf32>'}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<32x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// W_out shape.
func.func @w_out_shape(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x7xf32>, %wo: tensor<64xf32>) {
  // expected-error @+1 {{expects 'w_out' of shape [D, D] = [64, 64], got 'tensor<64xf32>'}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Lightweight weight shape.
func.func @lightweight_weight_shape(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x5xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{expects 'w_conv' of shape [heads, kernel_size] = [4, 7], got 'tensor<4x5xf32>'}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x5xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Dynamic weight shape.
func.func @dynamic_weight_shape(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<64x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{expects 'w_conv' of shape [D, heads * kernel_size] = [64, 28], got 'tensor<64x7xf32>'}}
  %y = convseq.conv_block dynamic %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x7xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Dilated weight shape.
func.func @dilated_weight_shape(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{expects 'w_conv' of shape [D, kernel_size] = [64, 7], got 'tensor<4x7xf32>'}}
  %y = convseq.conv_block dilated %x, %wi, %wg, %wc, %wo {kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Mask shape.
func.func @mask_shape(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>, %m: tensor<2x8xi1>) {
  // expected-error @+1 {{expects 'mask' of shape [B, L] = [2, 16], got 'tensor<2x8xi1>'}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo mask %m {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>, tensor<2x8xi1>) -> tensor<2x16x64xf32>
  return
}

// -----

// Mixed element types.
func.func @mixed_element_types(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x7xf64>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{failed to verify that all of {input, w_in, w_gate, w_conv, w_out} have same element type}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf64>, tensor<64x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Result type.
func.func @result_type(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>, %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{failed to verify that all of {input, result} have same type}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<2x16x32xf32>
  return
}

// -----

// Unsupported element type.
func.func @unsupported_element_type(%x: tensor<2x16x64xf16>, %wi: tensor<64x64xf16>, %wg: tensor<64x64xf16>, %wc: tensor<4x7xf16>, %wo: tensor<64x64xf16>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 64-bit float or bfloat16 type values}}
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf16>, tensor<64x64xf16>, tensor<64x64xf16>, tensor<4x7xf16>, tensor<64x64xf16>) -> tensor<2x16x64xf16>
  return
}

// -----

// Query rank.
func.func @query_rank(%q: tensor<8x64xf32>, %mem: tensor<2x16x64xf32>, %w: tensor<64x64xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{expects 'query' of rank 3 [B, T, D], got 'tensor<8x64xf32>'}}
  %y = convseq.attention %q, %mem, %w, %w, %w, %wo {heads = 4 : i64} : (tensor<8x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  return
}

// -----

// Memory rank.
func.func @memory_rank(%q: tensor<2x8x64xf32>, %mem: tensor<2x16x4x16xf32>, %w: tensor<64x64xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{expects 'memory' of rank 3 [B, S, D], got 'tensor<2x16x4x16xf32>'}}
  %y = convseq.attention %q, %mem, %w, %w, %w, %wo {heads = 4 : i64} : (tensor<2x8x64xf32>, tensor<2x16x4x16xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

// Batch mismatch.
func.func @batch_mismatch(%q: tensor<2x8x64xf32>, %mem: tensor<3x16x64xf32>, %w: tensor<64x64xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{expects 'memory' of shape [B, S, D] = [2, 16, 64], got 'tensor<3x16x64xf32>'}}
  %y = convseq.attention %q, %mem, %w, %w, %w, %wo {heads = 4 : i64} : (tensor<2x8x64xf32>, tensor<3x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

// Heads divisibility.
func.func @heads_divisibility(%q: tensor<2x8x64xf32>, %mem: tensor<2x16x64xf32>, %w: tensor<64x64xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{model width 64 is not divisible by 6 heads}}
  %y = convseq.attention %q, %mem, %w, %w, %w, %wo {heads = 6 : i64} : (tensor<2x8x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

// Projection shape.
func.func @projection_shape(%q: tensor<2x8x64xf32>, %mem: tensor<2x16x64xf32>, %w: tensor<64x64xf32>, %wo: tensor<64x32xf32>) {
  // expected-error @+1 {{expects 'w_o' of shape [D, D] = [64, 64], got 'tensor<64x32xf32>'}}
  %y = convseq.attention %q, %mem, %w, %w, %w, %wo {heads = 4 : i64} : (tensor<2x8x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

// Key mask shape.
func.func @key_mask_shape(%q: tensor<2x8x64xf32>, %mem: tensor<2x16x64xf32>, %w: tensor<64x64xf32>, %wo: tensor<64x64xf32>, %m: tensor<2x8xi1>) {
  // expected-error @+1 {{expects 'key_mask' of shape [B, S] = [2, 16], got 'tensor<2x8xi1>'}}
  %y = convseq.attention %q, %mem, %w, %w, %w, %wo key_mask %m {heads = 4 : i64} : (tensor<2x8x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<2x8xi1>) -> tensor<2x8x64xf32>
  return
}

// -----

// Causal with more queries than keys.
func.func @causal_with_more_queries_than_keys(%q: tensor<2x32x64xf32>, %mem: tensor<2x16x64xf32>, %w: tensor<64x64xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{causal attention needs no more queries than keys, got T = 32 > S = 16}}
  %y = convseq.attention %q, %mem, %w, %w, %w, %wo {heads = 4 : i64, causal} : (tensor<2x32x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<2x32x64xf32>
  return
}

// -----

// Dropout rate 1.
func.func @dropout_rate_1(%q: tensor<2x8x64xf32>, %mem: tensor<2x16x64xf32>, %w: tensor<64x64xf32>, %wo: tensor<64x64xf32>, %s: i64, %t: i64) {
  // expected-error @+1 {{attention dropout must be in [0, 1), got 1}}
  %y = convseq.attention %q, %mem, %w, %w, %w, %wo rng(%s, %t) {heads = 4 : i64, dropout = 1.0 : f64} : (tensor<2x8x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, i64, i64) -> tensor<2x8x64xf32>
  return
}

// -----

// Dropout without an RNG key.
func.func @dropout_without_an_rng_key(%q: tensor<2x8x64xf32>, %mem: tensor<2x16x64xf32>, %w: tensor<64x64xf32>, %wo: tensor<64x64xf32>) {
  // expected-error @+1 {{non-zero attention dropout needs the RNG key 'rng(seed, step)'}}
  %y = convseq.attention %q, %mem, %w, %w, %w, %wo {heads = 4 : i64, dropout = 0.1 : f64} : (tensor<2x8x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

// Ffn input rank.
func.func @ffn_input_rank(%x: tensor<f32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>) {
  // expected-error @+1 {{expects 'input' of rank at least 1, got 'tensor<f32>'}}
  %y = convseq.ffn %x, %w1, %w2  : (tensor<f32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<f32>
  return
}

// -----

// W_1 rank.
func.func @w_1_rank(%x: tensor<2x16x64xf32>, %w1: tensor<64xf32>, %w2: tensor<256x64xf32>) {
  // expected-error @+1 {{expects 'w_1' of rank 2 [D, F], got 'tensor<64xf32>'}}
  %y = convseq.ffn %x, %w1, %w2  : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<256x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// W_1 input width.
func.func @w_1_input_width(%x: tensor<2x16x64xf32>, %w1: tensor<32x256xf32>, %w2: tensor<256x64xf32>) {
  // expected-error @+1 {{expects 'w_1' of shape [D, F] = [64, 256], got 'tensor<32x256xf32>'}}
  %y = convseq.ffn %x, %w1, %w2  : (tensor<2x16x64xf32>, tensor<32x256xf32>, tensor<256x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// W_2 shape.
func.func @w_2_shape(%x: tensor<2x16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<128x64xf32>) {
  // expected-error @+1 {{expects 'w_2' of shape [F, D] = [256, 64], got 'tensor<128x64xf32>'}}
  %y = convseq.ffn %x, %w1, %w2  : (tensor<2x16x64xf32>, tensor<64x256xf32>, tensor<128x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Negative dropout.
func.func @negative_dropout(%x: tensor<2x16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>, %s: i64, %t: i64) {
  // expected-error @+1 {{hidden dropout must be in [0, 1), got -0.5}}
  %y = convseq.ffn %x, %w1, %w2 rng(%s, %t) {dropout = -0.5 : f64} : (tensor<2x16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>, i64, i64) -> tensor<2x16x64xf32>
  return
}

// -----

// Ffn dropout without an RNG key.
func.func @ffn_dropout_without_an_rng_key(%x: tensor<2x16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>) {
  // expected-error @+1 {{non-zero hidden dropout needs the RNG key 'rng(seed, step)'}}
  %y = convseq.ffn %x, %w1, %w2 {dropout = 0.1 : f64} : (tensor<2x16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Weight rank.
func.func @weight_rank(%x: tensor<2x16x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+2 {{'convseq.linear' expects an input of rank >= 1 and a weight of rank 2, got 'tensor<2x16x64xf32>' and 'tensor<64xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = convseq.linear %x, %w  : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Contraction mismatch.
func.func @contraction_mismatch(%x: tensor<2x16x64xf32>, %w: tensor<32x128xf32>) {
  // expected-error @+1 {{input width 64 does not match the weight's input dimension 32 (weight is [in, out])}}
  %y = convseq.linear %x, %w  : (tensor<2x16x64xf32>, tensor<32x128xf32>) -> tensor<2x16x128xf32>
  return
}

// -----

// Contraction mismatch, transposed weight.
func.func @contraction_mismatch_transposed_weight(%x: tensor<2x16x64xf32>, %w: tensor<100x32xf32>) {
  // expected-error @+1 {{input width 64 does not match the weight's input dimension 32 (weight is [out, in])}}
  %y = convseq.linear %x, %w {transpose_weight} : (tensor<2x16x64xf32>, tensor<100x32xf32>) -> tensor<2x16x100xf32>
  return
}

// -----

// Result type.
func.func @result_type_2(%x: tensor<2x16x64xf32>, %w: tensor<64x128xf32>) {
  // expected-error @+2 {{inferred type(s) 'tensor<2x16x128xf32>' are incompatible with return type(s) of operation 'tensor<2x16x64xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = convseq.linear %x, %w  : (tensor<2x16x64xf32>, tensor<64x128xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Glu operands must agree.
func.func @glu_operands_must_agree(%v: tensor<2x16x64xf32>, %g: tensor<2x16x32xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %y = "convseq.glu"(%v, %g) : (tensor<2x16x64xf32>, tensor<2x16x32xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Softmax needs a dimension.
func.func @softmax_needs_a_dimension(%x: tensor<f32>) {
  // expected-error @+1 {{expects 'input' of rank at least 1, got 'tensor<f32>'}}
  %y = convseq.softmax %x : tensor<f32>
  return
}

// -----

// Lightweight_conv input rank.
func.func @lightweight_conv_input_rank(%x: tensor<16x64xf32>, %w: tensor<4x7xf32>) {
  // expected-error @+1 {{expects 'input' of rank 3 [B, L, D], got 'tensor<16x64xf32>'}}
  %y = convseq.lightweight_conv %x, %w {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<16x64xf32>, tensor<4x7xf32>) -> tensor<16x64xf32>
  return
}

// -----

// Lightweight_conv kernel width 0.
func.func @lightweight_conv_kernel_width_0(%x: tensor<2x16x64xf32>, %w: tensor<4x0xf32>) {
  // expected-error @+1 {{kernel width must be positive, got 0}}
  %y = convseq.lightweight_conv %x, %w {heads = 4 : i64, kernel_size = 0 : i64} : (tensor<2x16x64xf32>, tensor<4x0xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Lightweight_conv heads.
func.func @lightweight_conv_heads(%x: tensor<2x16x64xf32>, %w: tensor<3x7xf32>) {
  // expected-error @+1 {{model width 64 is not divisible by 3 heads}}
  %y = convseq.lightweight_conv %x, %w {heads = 3 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<3x7xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Lightweight_conv weight shape.
func.func @lightweight_conv_weight_shape(%x: tensor<2x16x64xf32>, %w: tensor<4x3xf32>) {
  // expected-error @+1 {{expects 'weight' of shape [heads, kernel_size] = [4, 7], got 'tensor<4x3xf32>'}}
  %y = convseq.lightweight_conv %x, %w {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<4x3xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Lightweight_conv mask.
func.func @lightweight_conv_mask(%x: tensor<2x16x64xf32>, %w: tensor<4x7xf32>, %m: tensor<16xi1>) {
  // expected-error @+1 {{expects 'mask' of shape [B, L] = [2, 16], got 'tensor<16xi1>'}}
  %y = convseq.lightweight_conv %x, %w mask %m {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<4x7xf32>, tensor<16xi1>) -> tensor<2x16x64xf32>
  return
}

// -----

// Lightweight_conv element types.
func.func @lightweight_conv_element_types(%x: tensor<2x16x64xf32>, %w: tensor<4x7xbf16>) {
  // expected-error @+1 {{failed to verify that all of {input, weight} have same element type}}
  %y = convseq.lightweight_conv %x, %w {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<4x7xbf16>) -> tensor<2x16x64xf32>
  return
}

// -----

// Dynamic_conv kernel shape.
func.func @dynamic_conv_kernel_shape(%x: tensor<2x16x64xf32>, %w: tensor<2x16x4x5xf32>) {
  // expected-error @+1 {{expects 'kernel' of shape [B, L, heads, kernel_size] = [2, 16, 4, 7], got 'tensor<2x16x4x5xf32>'}}
  %y = convseq.dynamic_conv %x, %w {heads = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<2x16x4x5xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Dynamic_conv negative heads.
func.func @dynamic_conv_negative_heads(%x: tensor<2x16x64xf32>, %w: tensor<2x16x4x7xf32>) {
  // expected-error @+1 {{number of heads must be positive, got -4}}
  %y = convseq.dynamic_conv %x, %w {heads = -4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<2x16x4x7xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Dilated_conv weight shape.
func.func @dilated_conv_weight_shape(%x: tensor<2x16x64xf32>, %w: tensor<64x5xf32>) {
  // expected-error @+1 {{expects 'weight' of shape [D, kernel_size] = [64, 7], got 'tensor<64x5xf32>'}}
  %y = convseq.dilated_conv %x, %w {kernel_size = 7 : i64} : (tensor<2x16x64xf32>, tensor<64x5xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Dilated_conv dilation.
func.func @dilated_conv_dilation(%x: tensor<2x16x64xf32>, %w: tensor<64x7xf32>) {
  // expected-error @+1 {{dilation must be positive, got -1}}
  %y = convseq.dilated_conv %x, %w {kernel_size = 7 : i64, dilation = -1 : i64} : (tensor<2x16x64xf32>, tensor<64x7xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Rms_norm gain shape.
func.func @rms_norm_gain_shape(%x: tensor<2x16x64xf32>, %g: tensor<32xf32>) {
  // expected-error @+1 {{expects 'scale' of shape [D] = [64], got 'tensor<32xf32>'}}
  %y = convseq.rms_norm %x, %g : (tensor<2x16x64xf32>, tensor<32xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Rms_norm epsilon.
func.func @rms_norm_epsilon(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{epsilon must be positive, got 0}}
  %y = convseq.rms_norm %x, %g {epsilon = 0.0 : f64} : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Rms_norm rank.
func.func @rms_norm_rank(%x: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{expects 'input' of rank at least 1, got 'tensor<f32>'}}
  %y = convseq.rms_norm %x, %g : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

// Embedding table rank.
func.func @embedding_table_rank(%ids: tensor<2x16xi32>, %t: tensor<8000xf32>) {
  // expected-error @+2 {{'convseq.embedding' expects a table of shape [V, D], got 'tensor<8000xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = convseq.embedding %ids, %t : (tensor<2x16xi32>, tensor<8000xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Embedding ids are integers.
func.func @embedding_ids_are_integers(%ids: tensor<2x16xf32>, %t: tensor<100x64xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %y = convseq.embedding %ids, %t : (tensor<2x16xf32>, tensor<100x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Sinusoidal positions need an even width.
func.func @sinusoidal_positions_need_an_even_width(%x: tensor<2x16x63xf32>) {
  // expected-error @+1 {{sinusoidal positions need an even width of at least 4, got 63}}
  %y = convseq.add_positions %x : (tensor<2x16x63xf32>) -> tensor<2x16x63xf32>
  return
}

// -----

// Positions need [B, L, D].
func.func @positions_need_b_l_d(%x: tensor<16x64xf32>) {
  // expected-error @+1 {{expects 'input' of rank 3 [B, L, D], got 'tensor<16x64xf32>'}}
  %y = convseq.add_positions %x : (tensor<16x64xf32>) -> tensor<16x64xf32>
  return
}

// -----

// Dropout rate.
func.func @dropout_rate(%x: tensor<2x16x64xf32>, %s: i64, %t: i64) {
  // expected-error @+1 {{dropout rate must be in [0, 1), got 1.5}}
  %y = convseq.dropout %x rng(%s, %t) {rate = 1.5 : f64} : (tensor<2x16x64xf32>, i64, i64) -> tensor<2x16x64xf32>
  return
}

// -----

// Split_heads divisibility.
func.func @split_heads_divisibility(%x: tensor<2x16x64xf32>) {
  // expected-error @+1 {{model width 64 is not divisible by 3 heads}}
  %y = convseq.split_heads %x {heads = 3 : i64} : (tensor<2x16x64xf32>) -> tensor<2x3x16x21xf32>
  return
}

// -----

// Split_heads rank.
func.func @split_heads_rank(%x: tensor<16x64xf32>) {
  // expected-error @+2 {{'convseq.split_heads' expects an input of shape [B, L, D] and a positive number of heads, got 'tensor<16x64xf32>' and 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = convseq.split_heads %x {heads = 4 : i64} : (tensor<16x64xf32>) -> tensor<4x16x16xf32>
  return
}

// -----

// Merge_heads rank.
func.func @merge_heads_rank(%x: tensor<2x16x64xf32>) {
  // expected-error @+2 {{'convseq.merge_heads' expects an input of shape [B, H, L, E], got 'tensor<2x16x64xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = convseq.merge_heads %x : (tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

// Key rank.
func.func @key_rank(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x32xf32>, %v: tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{expects 'key' of rank 4 [B, H, S, E], got 'tensor<2x4x32xf32>'}}
  %y = convseq.dot_product_attention %q, %k, %v  : (tensor<2x4x8x16xf32>, tensor<2x4x32xf32>, tensor<2x4x32x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Key head width.
func.func @key_head_width(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x32x8xf32>, %v: tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{expects 'key' of shape [B, H, S, E] = [2, 4, 32, 16], got 'tensor<2x4x32x8xf32>'}}
  %y = convseq.dot_product_attention %q, %k, %v  : (tensor<2x4x8x16xf32>, tensor<2x4x32x8xf32>, tensor<2x4x32x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Value length.
func.func @value_length(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x30x16xf32>) {
  // expected-error @+1 {{expects 'value' of shape [B, H, S, F] = [2, 4, 32, 16], got 'tensor<2x4x30x16xf32>'}}
  %y = convseq.dot_product_attention %q, %k, %v  : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x30x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Key mask shape.
func.func @key_mask_shape_2(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x32x16xf32>, %m: tensor<2x8xi1>) {
  // expected-error @+1 {{expects 'key_mask' of shape [B, S] = [2, 32], got 'tensor<2x8xi1>'}}
  %y = convseq.dot_product_attention %q, %k, %v key_mask %m  : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>, tensor<2x8xi1>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Causal with more queries than keys.
func.func @causal_with_more_queries_than_keys_2(%q: tensor<2x4x64x16xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{causal attention needs no more queries than keys, got T = 64 > S = 32}}
  %y = convseq.dot_product_attention %q, %k, %v {causal} : (tensor<2x4x64x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>) -> tensor<2x4x64x16xf32>
  return
}

// -----

// Negative scale.
func.func @negative_scale(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{scale must be positive, got -1}}
  %y = convseq.dot_product_attention %q, %k, %v {scale = -1.0 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Dynamic head width without a scale.
func.func @dynamic_head_width_without_a_scale(%q: tensor<2x4x8x?xf32>, %k: tensor<2x4x32x?xf32>, %v: tensor<2x4x32x?xf32>) {
  // expected-error @+1 {{needs an explicit 'scale' when the head width is dynamic}}
  %y = convseq.dot_product_attention %q, %k, %v  : (tensor<2x4x8x?xf32>, tensor<2x4x32x?xf32>, tensor<2x4x32x?xf32>) -> tensor<2x4x8x?xf32>
  return
}

// -----

// Attention dropout without an RNG key.
func.func @attention_dropout_without_an_rng_key(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x32x16xf32>) {
  // expected-error @+1 {{non-zero attention dropout needs the RNG key 'rng(seed, step)'}}
  %y = convseq.dot_product_attention %q, %k, %v {dropout = 0.1 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Attention element types.
func.func @attention_element_types(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x32x16xf64>) {
  // expected-error @+1 {{failed to verify that all of {query, key, value, result} have same element type}}
  %y = convseq.dot_product_attention %q, %k, %v  : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf64>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Shift_right rank.
func.func @shift_right_rank(%x: tensor<i32>) {
  // expected-error @+1 {{expects 'ids' of rank at least 1, got 'tensor<i32>'}}
  %y = convseq.shift_right %x : tensor<i32>
  return
}

// -----

// Cross_entropy targets shape.
func.func @cross_entropy_targets_shape(%l: tensor<2x8x100xf32>, %t: tensor<2x7xi32>) {
  // expected-error @+1 {{expects 'targets' of shape the logits' shape without V = [2, 8], got 'tensor<2x7xi32>'}}
  %y = convseq.cross_entropy %l, %t : (tensor<2x8x100xf32>, tensor<2x7xi32>) -> tensor<f32>
  return
}

// -----

// Cross_entropy label smoothing.
func.func @cross_entropy_label_smoothing(%l: tensor<2x8x100xf32>, %t: tensor<2x8xi32>) {
  // expected-error @+1 {{label smoothing must be in [0, 1), got 1}}
  %y = convseq.cross_entropy %l, %t {label_smoothing = 1.0 : f64} : (tensor<2x8x100xf32>, tensor<2x8xi32>) -> tensor<f32>
  return
}

// -----

// Cross_entropy logits rank.
func.func @cross_entropy_logits_rank(%l: tensor<f32>, %t: tensor<i32>) {
  // expected-error @+1 {{expects 'logits' of rank at least 1, got 'tensor<f32>'}}
  %y = convseq.cross_entropy %l, %t : (tensor<f32>, tensor<i32>) -> tensor<f32>
  return
}

// -----

// Cross_entropy result is a scalar.
func.func @cross_entropy_result_is_a_scalar(%l: tensor<2x8x100xf32>, %t: tensor<2x8xi32>) {
  // expected-error @+2 {{inferred type(s) 'tensor<f32>' are incompatible with return type(s) of operation 'tensor<2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = convseq.cross_entropy %l, %t : (tensor<2x8x100xf32>, tensor<2x8xi32>) -> tensor<2xf32>
  return
}

// -----

// Padding_mask ids are integers.
func.func @padding_mask_ids_are_integers(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %y = convseq.padding_mask %x : (tensor<2x8xf32>) -> tensor<2x8xi1>
  return
}


// -----

// Apply_mask needs [B, L, D].
func.func @apply_mask_rank(%x: tensor<16x64xf32>, %m: tensor<16xi1>) {
  // expected-error @+1 {{expects 'input' of rank 3 [B, L, D], got 'tensor<16x64xf32>'}}
  %y = convseq.apply_mask %x, %m : (tensor<16x64xf32>, tensor<16xi1>) -> tensor<16x64xf32>
  return
}

// -----

// Apply_mask mask shape.
func.func @apply_mask_mask_shape(%x: tensor<2x16x64xf32>, %m: tensor<2x8xi1>) {
  // expected-error @+1 {{expects 'mask' of shape [B, L] = [2, 16], got 'tensor<2x8xi1>'}}
  %y = convseq.apply_mask %x, %m : (tensor<2x16x64xf32>, tensor<2x8xi1>) -> tensor<2x16x64xf32>
  return
}

// -----

// Gradient ops check their operands against the forward op's shapes.
func.func @linear_weight_grad_shape(%x: tensor<2x5x8xf32>, %dy: tensor<2x5x3xf32>) {
  // expected-error @+1 {{expects 'result' of shape [in, out] = [8, 3], got 'tensor<3x8xf32>'}}
  %0 = convseq.linear_weight_grad %x, %dy : (tensor<2x5x8xf32>, tensor<2x5x3xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @conv_weight_grad_taps(%x: tensor<2x5x8xf32>, %dy: tensor<2x5x8xf32>) {
  // expected-error @+1 {{expects 'weight_grad' of shape [heads, kernel_size] = [4, 3], got 'tensor<4x5xf32>'}}
  %0 = convseq.conv_weight_grad %x, %dy {variant = 0 : i32, heads = 4 : i64, kernel_size = 3 : i64}
    : (tensor<2x5x8xf32>, tensor<2x5x8xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @conv_input_grad_dilation(%w: tensor<2x3xf32>, %dy: tensor<2x5x8xf32>) {
  // expected-error @+1 {{dilation must be 1 for a lightweight convolution, got 2}}
  %0 = convseq.conv_input_grad %w, %dy {variant = 0 : i32, heads = 2 : i64, kernel_size = 3 : i64, dilation = 2 : i64}
    : (tensor<2x3xf32>, tensor<2x5x8xf32>) -> tensor<2x5x8xf32>
  return
}

// -----

func.func @embedding_grad_vocabulary(%ids: tensor<2x5xi32>, %dy: tensor<2x5x8xf32>) {
  // expected-error @+1 {{needs a static vocabulary size in 'table_grad'}}
  %0 = convseq.embedding_grad %ids, %dy : (tensor<2x5xi32>, tensor<2x5x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @cross_entropy_grad_loss(%l: tensor<2x5x8xf32>, %ids: tensor<2x5xi32>, %dl: tensor<1xf32>) {
  // expected-error @+1 {{expects 'result_grad' of rank 0 (the loss), got 'tensor<1xf32>'}}
  %0 = convseq.cross_entropy_grad %l, %ids, %dl : (tensor<2x5x8xf32>, tensor<2x5xi32>, tensor<1xf32>) -> tensor<2x5x8xf32>
  return
}

// -----

func.func @attention_grad_result(%q: tensor<2x2x5x4xf32>, %do: tensor<2x2x5x3xf32>) {
  // expected-error @+1 {{expects 'result_grad' of shape [B, H, T, F] = [2, 2, 5, 4], got 'tensor<2x2x5x3xf32>'}}
  %0:3 = convseq.dot_product_attention_grad %q, %q, %q, %do
    : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x3xf32>)
    -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
  return
}

// -----

func.func @attention_grad_output(%q: tensor<2x2x5x4xf32>, %o: tensor<2x2x4x4xf32>) {
  // expected-error @+1 {{expects 'output' of shape [B, H, T, F] = [2, 2, 5, 4], got 'tensor<2x2x4x4xf32>'}}
  %0:3 = convseq.dot_product_attention_grad %q, %q, %q, %q output %o
    : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x4x4xf32>)
    -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
  return
}

// -----

func.func @attention_grad_output_type(%q: tensor<2x2x5x4xf32>, %o: tensor<2x2x5x4xf64>) {
  // expected-error @+1 {{expects 'output' of the query's element type, got 'tensor<2x2x5x4xf64>'}}
  %0:3 = convseq.dot_product_attention_grad %q, %q, %q, %q output %o
    : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf64>)
    -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
  return
}

// -----

func.func @rms_norm_grad_scale(%x: tensor<2x5x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{expects 'scale' of shape [D] = [8], got 'tensor<4xf32>'}}
  %0 = convseq.rms_norm_grad %x, %g, %x : (tensor<2x5x8xf32>, tensor<4xf32>, tensor<2x5x8xf32>) -> tensor<2x5x8xf32>
  return
}

// -----

func.func @attention_grad_causal(%q: tensor<2x2x6x4xf32>, %k: tensor<2x2x5x4xf32>) {
  // expected-error @+1 {{causal attention needs no more queries than keys, got T = 6 > S = 5}}
  %0:3 = convseq.dot_product_attention_grad %q, %k, %k, %q {causal}
    : (tensor<2x2x6x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x6x4xf32>)
    -> (tensor<2x2x6x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
  return
}

// -----

func.func @adamw_beta(%w: tensor<8x3xf32>, %lr: f64, %s: f64, %t: i64) {
  // expected-error @+1 {{beta1 must be in [0, 1), got 1}}
  %0:3 = convseq.adamw_update %w, %w, %w, %w, %lr, %s, %t {beta1 = 1.0 : f64} : tensor<8x3xf32>
  return
}

// -----

func.func @adamw_epsilon(%w: tensor<8x3xf32>, %lr: f64, %s: f64, %t: i64) {
  // expected-error @+1 {{epsilon must be in (0, inf), got 0}}
  %0:3 = convseq.adamw_update %w, %w, %w, %w, %lr, %s, %t {epsilon = 0.0 : f64} : tensor<8x3xf32>
  return
}

// -----

func.func @adafactor_row_state(%w: tensor<8x3xf32>, %r: tensor<3xf32>, %lr: f64, %s: f64, %t: i64) {
  // expected-error @+1 {{expects 'row state' of shape [n] = [8], got 'tensor<3xf32>'}}
  %0:3 = convseq.adafactor_update %w, %w state(%r, %r), %lr, %s, %t : tensor<8x3xf32>, tensor<3xf32>, tensor<3xf32>
  return
}

// -----

func.func @adafactor_factored_vector(%g: tensor<3xf32>, %lr: f64, %s: f64, %t: i64) {
  // expected-error @+1 {{expects 'param' of rank 2 [n, m] to factor its second moments, got 'tensor<3xf32>'}}
  %0:3 = convseq.adafactor_update %g, %g state(%g, %g), %lr, %s, %t : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  return
}

// -----

func.func @adafactor_state_count(%g: tensor<3xf32>, %lr: f64, %s: f64, %t: i64) {
  // expected-error @+1 {{expects one state operand (the second moment) or two (factored row and column moments), got 3}}
  %0:4 = convseq.adafactor_update %g, %g state(%g, %g, %g), %lr, %s, %t : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
  return
}

// -----

func.func @adafactor_state_type(%w: tensor<8x3xf32>, %v: tensor<8x3xf64>, %lr: f64, %s: f64, %t: i64) {
  // expected-error @+1 {{expects the state of element type 'f32', got 'tensor<8x3xf64>'}}
  %0:2 = convseq.adafactor_update %w, %w state(%v), %lr, %s, %t : tensor<8x3xf32>, tensor<8x3xf64>
  return
}

// -----

func.func @sum_of_squares_empty() {
  // expected-error @+1 {{expects at least one input}}
  %0 = "convseq.sum_of_squares"() : () -> f64
  return
}
