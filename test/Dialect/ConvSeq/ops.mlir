// Every convseq op parses, verifies, prints and parses back, in the custom
// and the generic form.
// RUN: convseq-opt %s | convseq-opt | FileCheck %s
// RUN: convseq-opt %s --mlir-print-op-generic | convseq-opt | FileCheck %s

//===----------------------------------------------------------------------===//
// Block ops
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @conv_block_lightweight
// CHECK-SAME: (%[[X:.+]]: tensor<2x16x64xf32>, %[[W:.+]]: tensor<64x64xf32>, %[[C:.+]]: tensor<4x7xf32>, %[[M:.+]]: tensor<2x16xi1>)
// CHECK: convseq.conv_block lightweight %[[X]], %[[W]], %[[W]], %[[C]], %[[W]] mask %[[M]] {heads = 4 : i64, kernel_size = 7 : i64}
func.func @conv_block_lightweight(%x: tensor<2x16x64xf32>, %w: tensor<64x64xf32>,
                                  %c: tensor<4x7xf32>, %m: tensor<2x16xi1>) -> tensor<2x16x64xf32> {
  %y = convseq.conv_block lightweight %x, %w, %w, %c, %w mask %m {heads = 4 : i64, kernel_size = 7 : i64}
    : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>, tensor<2x16xi1>) -> tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}

// CHECK-LABEL: func.func @conv_block_dynamic_causal
// CHECK: convseq.conv_block dynamic %{{.+}} {causal, heads = 4 : i64, kernel_size = 3 : i64} : (tensor<?x?x64xf64>
func.func @conv_block_dynamic_causal(%x: tensor<?x?x64xf64>, %w: tensor<64x64xf64>,
                                     %c: tensor<64x12xf64>) -> tensor<?x?x64xf64> {
  %y = convseq.conv_block dynamic %x, %w, %w, %c, %w {heads = 4 : i64, kernel_size = 3 : i64, causal}
    : (tensor<?x?x64xf64>, tensor<64x64xf64>, tensor<64x64xf64>, tensor<64x12xf64>, tensor<64x64xf64>) -> tensor<?x?x64xf64>
  return %y : tensor<?x?x64xf64>
}

// CHECK-LABEL: func.func @conv_block_dilated
// CHECK: convseq.conv_block dilated %{{.+}} {dilation = 4 : i64, kernel_size = 7 : i64} : (tensor<2x16x64xbf16>
func.func @conv_block_dilated(%x: tensor<2x16x64xbf16>, %w: tensor<64x64xbf16>,
                              %c: tensor<64x7xbf16>) -> tensor<2x16x64xbf16> {
  %y = convseq.conv_block dilated %x, %w, %w, %c, %w {kernel_size = 7 : i64, dilation = 4 : i64}
    : (tensor<2x16x64xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>, tensor<64x7xbf16>, tensor<64x64xbf16>) -> tensor<2x16x64xbf16>
  return %y : tensor<2x16x64xbf16>
}

// CHECK-LABEL: func.func @attention_cross
// CHECK: convseq.attention %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} key_mask %{{.+}} {heads = 4 : i64}
func.func @attention_cross(%q: tensor<2x8x64xf32>, %enc: tensor<2x16x64xf32>,
                           %w: tensor<64x64xf32>, %m: tensor<2x16xi1>) -> tensor<2x8x64xf32> {
  %y = convseq.attention %q, %enc, %w, %w, %w, %w key_mask %m {heads = 4 : i64}
    : (tensor<2x8x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
       tensor<64x64xf32>, tensor<64x64xf32>, tensor<2x16xi1>) -> tensor<2x8x64xf32>
  return %y : tensor<2x8x64xf32>
}

// CHECK-LABEL: func.func @attention_self_causal_dropout
// CHECK: convseq.attention %[[X:.+]], %[[X]], {{.+}} rng(%{{.+}}, %{{.+}}) {causal, dropout = 1.000000e-01 : f64, heads = 4 : i64, stream = 2 : i64}
func.func @attention_self_causal_dropout(%x: tensor<2x8x64xf32>, %w: tensor<64x64xf32>,
                                         %seed: i64, %step: i64) -> tensor<2x8x64xf32> {
  %y = convseq.attention %x, %x, %w, %w, %w, %w rng(%seed, %step)
    {heads = 4 : i64, causal, dropout = 0.1 : f64, stream = 2 : i64}
    : (tensor<2x8x64xf32>, tensor<2x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
       tensor<64x64xf32>, tensor<64x64xf32>, i64, i64) -> tensor<2x8x64xf32>
  return %y : tensor<2x8x64xf32>
}

// CHECK-LABEL: func.func @ffn
// CHECK: convseq.ffn %{{.+}}, %{{.+}}, %{{.+}} :
// CHECK: convseq.ffn %{{.+}}, %{{.+}}, %{{.+}} rng(%{{.+}}, %{{.+}}) {activation = 1 : i32, dropout = 1.000000e-01 : f64, stream = 5 : i64}
func.func @ffn(%x: tensor<2x16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>,
               %seed: i64, %step: i64) -> tensor<2x16x64xf32> {
  %y = convseq.ffn %x, %w1, %w2 : (tensor<2x16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<2x16x64xf32>
  %z = convseq.ffn %y, %w1, %w2 rng(%seed, %step) {activation = 1 : i32, dropout = 0.1 : f64, stream = 5 : i64}
    : (tensor<2x16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>, i64, i64) -> tensor<2x16x64xf32>
  return %z : tensor<2x16x64xf32>
}

//===----------------------------------------------------------------------===//
// Dense layers and element-wise ops
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @linear
// CHECK: convseq.linear %{{.+}}, %{{.+}} : (tensor<2x16x64xf32>, tensor<64x256xf32>) -> tensor<2x16x256xf32>
// CHECK: convseq.linear %{{.+}}, %{{.+}} {scale = 6.250000e-02 : f64, transpose_weight} : (tensor<2x16x64xf32>, tensor<8000x64xf32>) -> tensor<2x16x8000xf32>
// CHECK: convseq.linear %{{.+}}, %{{.+}} : (tensor<?x64xf32>, tensor<64x256xf32>) -> tensor<?x256xf32>
func.func @linear(%x: tensor<2x16x64xf32>, %w: tensor<64x256xf32>, %e: tensor<8000x64xf32>,
                  %flat: tensor<?x64xf32>) -> (tensor<2x16x256xf32>, tensor<2x16x8000xf32>, tensor<?x256xf32>) {
  %y = convseq.linear %x, %w : (tensor<2x16x64xf32>, tensor<64x256xf32>) -> tensor<2x16x256xf32>
  %logits = convseq.linear %x, %e {transpose_weight, scale = 0.0625 : f64}
    : (tensor<2x16x64xf32>, tensor<8000x64xf32>) -> tensor<2x16x8000xf32>
  %z = convseq.linear %flat, %w : (tensor<?x64xf32>, tensor<64x256xf32>) -> tensor<?x256xf32>
  return %y, %logits, %z : tensor<2x16x256xf32>, tensor<2x16x8000xf32>, tensor<?x256xf32>
}

// CHECK-LABEL: func.func @elementwise
// CHECK: convseq.glu %{{.+}}, %{{.+}} : tensor<2x16x64xf32>
// CHECK: convseq.relu %{{.+}} : tensor<2x16x64xf32>
// CHECK: convseq.gelu %{{.+}} : tensor<2x16x64xf32>
// CHECK: convseq.softmax %{{.+}} : tensor<2x16x64xf32>
func.func @elementwise(%v: tensor<2x16x64xf32>, %g: tensor<2x16x64xf32>) -> tensor<2x16x64xf32> {
  %a = convseq.glu %v, %g : tensor<2x16x64xf32>
  %b = convseq.relu %a : tensor<2x16x64xf32>
  %c = convseq.gelu %b : tensor<2x16x64xf32>
  %d = convseq.softmax %c : tensor<2x16x64xf32>
  return %d : tensor<2x16x64xf32>
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @convolutions
// CHECK: convseq.lightweight_conv %{{.+}}, %{{.+}} mask %{{.+}} {heads = 4 : i64, kernel_size = 7 : i64}
// CHECK: convseq.dynamic_conv %{{.+}}, %{{.+}} {causal, heads = 4 : i64, kernel_size = 4 : i64}
// CHECK: convseq.dilated_conv %{{.+}}, %{{.+}} mask %{{.+}} {causal, dilation = 8 : i64, kernel_size = 3 : i64}
func.func @convolutions(%a: tensor<2x16x64xf32>, %lw: tensor<4x7xf32>, %dk: tensor<2x16x4x4xf32>,
                        %dw: tensor<64x3xf32>, %m: tensor<2x16xi1>) -> tensor<2x16x64xf32> {
  %0 = convseq.lightweight_conv %a, %lw mask %m {heads = 4 : i64, kernel_size = 7 : i64}
    : (tensor<2x16x64xf32>, tensor<4x7xf32>, tensor<2x16xi1>) -> tensor<2x16x64xf32>
  %1 = convseq.dynamic_conv %0, %dk {heads = 4 : i64, kernel_size = 4 : i64, causal}
    : (tensor<2x16x64xf32>, tensor<2x16x4x4xf32>) -> tensor<2x16x64xf32>
  %2 = convseq.dilated_conv %1, %dw mask %m {kernel_size = 3 : i64, dilation = 8 : i64, causal}
    : (tensor<2x16x64xf32>, tensor<64x3xf32>, tensor<2x16xi1>) -> tensor<2x16x64xf32>
  return %2 : tensor<2x16x64xf32>
}

// CHECK-LABEL: func.func @apply_mask
// CHECK: convseq.apply_mask %{{.+}}, %{{.+}} : (tensor<2x?x64xf32>, tensor<2x?xi1>) -> tensor<2x?x64xf32>
func.func @apply_mask(%a: tensor<2x?x64xf32>, %m: tensor<2x?xi1>) -> tensor<2x?x64xf32> {
  %0 = convseq.apply_mask %a, %m : (tensor<2x?x64xf32>, tensor<2x?xi1>) -> tensor<2x?x64xf32>
  return %0 : tensor<2x?x64xf32>
}

// CHECK-LABEL: func.func @convolutions_dynamic_shapes
// CHECK: convseq.lightweight_conv %{{.+}}, %{{.+}} mask %{{.+}} {heads = 2 : i64, kernel_size = 31 : i64} : (tensor<?x?x?xf64>, tensor<2x31xf64>, tensor<?x?xi1>) -> tensor<?x?x?xf64>
func.func @convolutions_dynamic_shapes(%a: tensor<?x?x?xf64>, %w: tensor<2x31xf64>,
                                       %m: tensor<?x?xi1>) -> tensor<?x?x?xf64> {
  %0 = convseq.lightweight_conv %a, %w mask %m {heads = 2 : i64, kernel_size = 31 : i64}
    : (tensor<?x?x?xf64>, tensor<2x31xf64>, tensor<?x?xi1>) -> tensor<?x?x?xf64>
  return %0 : tensor<?x?x?xf64>
}

//===----------------------------------------------------------------------===//
// Normalization, embedding, positions, dropout
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @norm_embedding_positions_dropout
// CHECK: convseq.embedding %{{.+}}, %{{.+}} : (tensor<2x16xi32>, tensor<8000x64xf32>) -> tensor<2x16x64xf32>
// CHECK: convseq.add_positions %{{.+}} : (tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
// CHECK: convseq.add_positions %{{.+}} offset %{{.+}} : (tensor<2x16x64xf32>, index) -> tensor<2x16x64xf32>
// CHECK: convseq.dropout %{{.+}} rng(%{{.+}}, %{{.+}}) {rate = 1.000000e-01 : f64, stream = 7 : i64}
// CHECK: convseq.rms_norm %{{.+}}, %{{.+}} : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
// CHECK: convseq.rms_norm %{{.+}}, %{{.+}} {epsilon = 1.000000e-05 : f64}
func.func @norm_embedding_positions_dropout(%ids: tensor<2x16xi32>, %table: tensor<8000x64xf32>,
                                            %g: tensor<64xf32>, %t: index, %seed: i64,
                                            %step: i64) -> tensor<2x16x64xf32> {
  %h = convseq.embedding %ids, %table : (tensor<2x16xi32>, tensor<8000x64xf32>) -> tensor<2x16x64xf32>
  %p = convseq.add_positions %h : (tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
  %q = convseq.add_positions %p offset %t : (tensor<2x16x64xf32>, index) -> tensor<2x16x64xf32>
  %d = convseq.dropout %q rng(%seed, %step) {rate = 0.1 : f64, stream = 7 : i64}
    : (tensor<2x16x64xf32>, i64, i64) -> tensor<2x16x64xf32>
  %n = convseq.rms_norm %d, %g : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  %o = convseq.rms_norm %n, %g {epsilon = 1.0e-5 : f64} : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  return %o : tensor<2x16x64xf32>
}

//===----------------------------------------------------------------------===//
// Attention pieces
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @attention_pieces
// CHECK: convseq.split_heads %{{.+}} {heads = 4 : i64} : (tensor<2x8x64xf32>) -> tensor<2x4x8x16xf32>
// CHECK: convseq.dot_product_attention %{{.+}}, %{{.+}}, %{{.+}} key_mask %{{.+}} : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>, tensor<2x32xi1>) -> tensor<2x4x8x16xf32>
// CHECK: convseq.dot_product_attention %{{.+}}, %{{.+}}, %{{.+}} rng(%{{.+}}, %{{.+}}) {causal, dropout = 1.000000e-01 : f64, scale = 5.000000e-01 : f64}
// CHECK: convseq.merge_heads %{{.+}} : (tensor<2x4x8x16xf32>) -> tensor<2x8x64xf32>
func.func @attention_pieces(%q: tensor<2x8x64xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x32x16xf32>,
                            %m: tensor<2x32xi1>, %seed: i64, %step: i64) -> tensor<2x8x64xf32> {
  %qh = convseq.split_heads %q {heads = 4 : i64} : (tensor<2x8x64xf32>) -> tensor<2x4x8x16xf32>
  %o = convseq.dot_product_attention %qh, %k, %v key_mask %m
    : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>, tensor<2x32xi1>) -> tensor<2x4x8x16xf32>
  %o2 = convseq.dot_product_attention %o, %k, %v rng(%seed, %step) {causal, scale = 0.5 : f64, dropout = 0.1 : f64}
    : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>, i64, i64) -> tensor<2x4x8x16xf32>
  %merged = convseq.merge_heads %o2 : (tensor<2x4x8x16xf32>) -> tensor<2x8x64xf32>
  return %merged : tensor<2x8x64xf32>
}

// CHECK-LABEL: func.func @attention_pieces_dynamic
// CHECK: convseq.split_heads %{{.+}} {heads = 2 : i64} : (tensor<?x?x?xf32>) -> tensor<?x2x?x?xf32>
// CHECK: convseq.dot_product_attention %{{.+}}, %{{.+}}, %{{.+}} {scale = 1.250000e-01 : f64} : (tensor<?x2x?x?xf32>, tensor<?x2x?x?xf32>, tensor<?x2x?x?xf32>) -> tensor<?x2x?x?xf32>
// CHECK: convseq.merge_heads %{{.+}} : (tensor<?x2x?x?xf32>) -> tensor<?x?x?xf32>
func.func @attention_pieces_dynamic(%x: tensor<?x?x?xf32>) -> tensor<?x?x?xf32> {
  %h = convseq.split_heads %x {heads = 2 : i64} : (tensor<?x?x?xf32>) -> tensor<?x2x?x?xf32>
  %o = convseq.dot_product_attention %h, %h, %h {scale = 0.125 : f64}
    : (tensor<?x2x?x?xf32>, tensor<?x2x?x?xf32>, tensor<?x2x?x?xf32>) -> tensor<?x2x?x?xf32>
  %m = convseq.merge_heads %o : (tensor<?x2x?x?xf32>) -> tensor<?x?x?xf32>
  return %m : tensor<?x?x?xf32>
}

//===----------------------------------------------------------------------===//
// Token-level ops
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @tokens
// CHECK: convseq.padding_mask %{{.+}} : (tensor<2x8xi32>) -> tensor<2x8xi1>
// CHECK: convseq.shift_right %{{.+}} : tensor<2x8xi32>
// CHECK: convseq.shift_right %{{.+}} {start_id = 3 : i64} : tensor<?x?xi64>
// CHECK: convseq.cross_entropy %{{.+}}, %{{.+}} : (tensor<2x8x100xf32>, tensor<2x8xi32>) -> tensor<f32>
// CHECK: convseq.cross_entropy %{{.+}}, %{{.+}} {label_smoothing = 1.000000e-01 : f64, pad_id = 5 : i64} : (tensor<2x8x100xf64>, tensor<2x8xi32>) -> tensor<f64>
func.func @tokens(%t: tensor<2x8xi32>, %u: tensor<?x?xi64>, %logits: tensor<2x8x100xf32>,
                  %logits64: tensor<2x8x100xf64>) -> (tensor<2x8xi1>, tensor<2x8xi32>, tensor<?x?xi64>, tensor<f32>, tensor<f64>) {
  %m = convseq.padding_mask %t : (tensor<2x8xi32>) -> tensor<2x8xi1>
  %s = convseq.shift_right %t : tensor<2x8xi32>
  %s2 = convseq.shift_right %u {start_id = 3 : i64} : tensor<?x?xi64>
  %l = convseq.cross_entropy %logits, %t : (tensor<2x8x100xf32>, tensor<2x8xi32>) -> tensor<f32>
  %l2 = convseq.cross_entropy %logits64, %t {pad_id = 5 : i64, label_smoothing = 0.1 : f64}
    : (tensor<2x8x100xf64>, tensor<2x8xi32>) -> tensor<f64>
  return %m, %s, %s2, %l, %l2 : tensor<2x8xi1>, tensor<2x8xi32>, tensor<?x?xi64>, tensor<f32>, tensor<f64>
}

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @gradient_ops
// CHECK: convseq.linear_weight_grad %{{.+}}, %{{.+}} {transpose_weight}
// CHECK: convseq.glu_grad
// CHECK: convseq.relu_grad
// CHECK: convseq.gelu_grad
// CHECK: convseq.softmax_grad
// CHECK: convseq.conv_input_grad %{{.+}}, %{{.+}} mask %{{.+}} {causal, heads = 4 : i64, kernel_size = 3 : i64, variant = 0 : i32}
// CHECK: convseq.conv_weight_grad %{{.+}}, %{{.+}} {dilation = 2 : i64, kernel_size = 3 : i64, variant = 2 : i32}
// CHECK: convseq.rms_norm_grad
// CHECK: convseq.rms_norm_scale_grad
// CHECK: convseq.embedding_grad
// CHECK: convseq.dot_product_attention_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} key_mask %{{.+}} rng(%{{.+}}, %{{.+}}) {dropout = 1.000000e-01 : f64}
// CHECK: convseq.dot_product_attention_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} output %{{.+}} {causal}
// CHECK: convseq.cross_entropy_grad
func.func @gradient_ops(%x: tensor<2x5x8xf32>, %w: tensor<3x8xf32>, %dy3: tensor<2x5x3xf32>, %dy: tensor<2x5x8xf32>,
                        %lw: tensor<4x3xf32>, %m: tensor<2x5xi1>, %g: tensor<8xf32>, %ids: tensor<2x5xi32>,
                        %q: tensor<2x2x5x4xf32>, %seed: i64, %step: i64, %dl: tensor<f32>) {
  %0 = convseq.linear_weight_grad %x, %dy3 {transpose_weight} : (tensor<2x5x8xf32>, tensor<2x5x3xf32>) -> tensor<3x8xf32>
  %1:2 = convseq.glu_grad %x, %x, %dy : tensor<2x5x8xf32>
  %2 = convseq.relu_grad %x, %dy : tensor<2x5x8xf32>
  %3 = convseq.gelu_grad %x, %dy : tensor<2x5x8xf32>
  %4 = convseq.softmax_grad %x, %dy : tensor<2x5x8xf32>
  %5 = convseq.conv_input_grad %lw, %dy mask %m {variant = 0 : i32, heads = 4 : i64, kernel_size = 3 : i64, causal}
    : (tensor<4x3xf32>, tensor<2x5x8xf32>, tensor<2x5xi1>) -> tensor<2x5x8xf32>
  %6 = convseq.conv_weight_grad %x, %dy {variant = 2 : i32, kernel_size = 3 : i64, dilation = 2 : i64}
    : (tensor<2x5x8xf32>, tensor<2x5x8xf32>) -> tensor<8x3xf32>
  %7 = convseq.rms_norm_grad %x, %g, %dy : (tensor<2x5x8xf32>, tensor<8xf32>, tensor<2x5x8xf32>) -> tensor<2x5x8xf32>
  %8 = convseq.rms_norm_scale_grad %x, %dy : (tensor<2x5x8xf32>, tensor<2x5x8xf32>) -> tensor<8xf32>
  %9 = convseq.embedding_grad %ids, %dy : (tensor<2x5xi32>, tensor<2x5x8xf32>) -> tensor<11x8xf32>
  %10:3 = convseq.dot_product_attention_grad %q, %q, %q, %q key_mask %m rng(%seed, %step) {dropout = 0.1 : f64}
    : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x5xi1>, i64, i64)
    -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
  %12:3 = convseq.dot_product_attention_grad %q, %q, %q, %q output %q {causal}
    : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
    -> (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>)
  %11 = convseq.cross_entropy_grad %x, %ids, %dl : (tensor<2x5x8xf32>, tensor<2x5xi32>, tensor<f32>) -> tensor<2x5x8xf32>
  return
}

// CHECK-LABEL: func.func @optimizer_ops
// CHECK: convseq.sum_of_squares %{{.+}}, %{{.+}} : tensor<8x3xf32>, tensor<3xf32>
// CHECK: convseq.adamw_update %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {beta2 = 5.000000e-01 : f64, weight_decay = 1.000000e-02 : f64} : tensor<8x3xf32>
// CHECK: convseq.adafactor_update %{{.+}}, %{{.+}} state(%{{.+}}, %{{.+}}), %{{.+}}, %{{.+}}, %{{.+}} {relative_step} : tensor<8x3xf32>, tensor<8xf32>, tensor<3xf32>
// CHECK: convseq.adafactor_update %{{.+}}, %{{.+}} state(%{{.+}}), %{{.+}}, %{{.+}}, %{{.+}} : tensor<3xf32>, tensor<3xf32>
func.func @optimizer_ops(%w: tensor<8x3xf32>, %g: tensor<3xf32>, %row: tensor<8xf32>, %col: tensor<3xf32>,
                         %lr: f64, %scale: f64, %step: i64) {
  %0 = convseq.sum_of_squares %w, %g : tensor<8x3xf32>, tensor<3xf32>
  %1:3 = convseq.adamw_update %w, %w, %w, %w, %lr, %scale, %step {beta2 = 0.5 : f64, weight_decay = 0.01 : f64} : tensor<8x3xf32>
  %2:3 = convseq.adafactor_update %w, %w state(%row, %col), %lr, %scale, %step {relative_step} : tensor<8x3xf32>, tensor<8xf32>, tensor<3xf32>
  %3:2 = convseq.adafactor_update %g, %g state(%g), %lr, %scale, %step : tensor<3xf32>, tensor<3xf32>
  return
}
