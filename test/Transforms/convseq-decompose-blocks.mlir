// RUN: convseq-opt %s -split-input-file --convseq-decompose-blocks | FileCheck %s

// The lightweight block: two projections, GLU, softmax over the kernel taps,
// the convolution with the block's mask, the output projection.
// CHECK-LABEL: func.func @lightweight
// CHECK-SAME: (%[[X:.+]]: tensor<2x16x64xf32>, %[[WI:.+]]: tensor<64x64xf32>, %[[WG:.+]]: tensor<64x64xf32>, %[[WC:.+]]: tensor<4x7xf32>, %[[WO:.+]]: tensor<64x64xf32>, %[[M:.+]]: tensor<2x16xi1>)
// CHECK-DAG: %[[V:.+]] = convseq.linear %[[X]], %[[WI]]
// CHECK-DAG: %[[G:.+]] = convseq.linear %[[X]], %[[WG]]
// CHECK: %[[A:.+]] = convseq.glu %[[V]], %[[G]] : tensor<2x16x64xf32>
// CHECK: %[[K:.+]] = convseq.softmax %[[WC]] : tensor<4x7xf32>
// CHECK: %[[C:.+]] = convseq.lightweight_conv %[[A]], %[[K]] mask %[[M]] {heads = 4 : i64, kernel_size = 7 : i64}
// CHECK: %[[O:.+]] = convseq.linear %[[C]], %[[WO]]
// CHECK: return %[[O]]
// CHECK-NOT: convseq.conv_block
func.func @lightweight(%x: tensor<2x16x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>,
                       %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>, %m: tensor<2x16xi1>) -> tensor<2x16x64xf32> {
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo mask %m {heads = 4 : i64, kernel_size = 7 : i64}
    : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>, tensor<2x16xi1>) -> tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}

// -----

// The dynamic block computes a softmax-normalized kernel per position and
// head from the GLU output; dynamic batch and length stay dynamic.
// CHECK-LABEL: func.func @dynamic_causal
// CHECK-SAME: (%[[X:.+]]: tensor<?x?x64xf32>, %[[W:.+]]: tensor<64x64xf32>, %[[WC:.+]]: tensor<64x12xf32>)
// CHECK: %[[A:.+]] = convseq.glu
// CHECK: %[[L:.+]] = convseq.linear %[[A]], %[[WC]] : (tensor<?x?x64xf32>, tensor<64x12xf32>) -> tensor<?x?x12xf32>
// CHECK: %[[R:.+]] = tensor.expand_shape %[[L]] {{\[\[}}0], [1], [2, 3]] output_shape [%{{.+}}, %{{.+}}, 4, 3] : tensor<?x?x12xf32> into tensor<?x?x4x3xf32>
// CHECK: %[[K:.+]] = convseq.softmax %[[R]] : tensor<?x?x4x3xf32>
// CHECK: %[[C:.+]] = convseq.dynamic_conv %[[A]], %[[K]] {causal, heads = 4 : i64, kernel_size = 3 : i64}
// CHECK: convseq.linear %[[C]], %[[W]]
func.func @dynamic_causal(%x: tensor<?x?x64xf32>, %w: tensor<64x64xf32>, %wc: tensor<64x12xf32>) -> tensor<?x?x64xf32> {
  %y = convseq.conv_block dynamic %x, %w, %w, %wc, %w {heads = 4 : i64, kernel_size = 3 : i64, causal}
    : (tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x12xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// With a mask, the dynamic block masks the GLU output once: the kernels and
// the convolution both read the masked value.
// CHECK-LABEL: func.func @dynamic_masked
// CHECK-SAME: %[[M:[^:]+]]: tensor<2x8xi1>
// CHECK: %[[A:.+]] = convseq.glu
// CHECK: %[[AM:.+]] = convseq.apply_mask %[[A]], %[[M]]
// CHECK: convseq.linear %[[AM]]
// CHECK: convseq.dynamic_conv %[[AM]], %{{.+}} mask %[[M]]
func.func @dynamic_masked(%x: tensor<2x8x64xf32>, %w: tensor<64x64xf32>, %wc: tensor<64x12xf32>, %m: tensor<2x8xi1>) -> tensor<2x8x64xf32> {
  %y = convseq.conv_block dynamic %x, %w, %w, %wc, %w mask %m {heads = 4 : i64, kernel_size = 3 : i64}
    : (tensor<2x8x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x12xf32>, tensor<64x64xf32>, tensor<2x8xi1>) -> tensor<2x8x64xf32>
  return %y : tensor<2x8x64xf32>
}

// -----

// The dilated block uses its raw per-channel weights (no softmax).
// CHECK-LABEL: func.func @dilated
// CHECK-SAME: %[[WC:[^:]+]]: tensor<64x5xf64>
// CHECK: %[[A:.+]] = convseq.glu
// CHECK-NOT: convseq.softmax
// CHECK: convseq.dilated_conv %[[A]], %[[WC]] {causal, dilation = 8 : i64, kernel_size = 5 : i64}
func.func @dilated(%x: tensor<2x16x64xf64>, %w: tensor<64x64xf64>, %wc: tensor<64x5xf64>) -> tensor<2x16x64xf64> {
  %y = convseq.conv_block dilated %x, %w, %w, %wc, %w {kernel_size = 5 : i64, dilation = 8 : i64, causal}
    : (tensor<2x16x64xf64>, tensor<64x64xf64>, tensor<64x64xf64>, tensor<64x5xf64>, tensor<64x64xf64>) -> tensor<2x16x64xf64>
  return %y : tensor<2x16x64xf64>
}

// -----

// Cross-attention: queries from the decoder, keys and values from the
// encoder output, the source mask and dropout carried to the attention core.
// CHECK-LABEL: func.func @cross_attention
// CHECK-SAME: (%[[Q:.+]]: tensor<2x8x64xf32>, %[[ENC:.+]]: tensor<2x16x64xf32>, %[[WQ:.+]]: tensor<64x64xf32>, %[[WK:.+]]: tensor<64x64xf32>, %[[WV:.+]]: tensor<64x64xf32>, %[[WO:.+]]: tensor<64x64xf32>, %[[M:.+]]: tensor<2x16xi1>, %[[S:.+]]: i64, %[[T:.+]]: i64)
// CHECK: %[[PQ:.+]] = convseq.linear %[[Q]], %[[WQ]]
// CHECK: %[[HQ:.+]] = convseq.split_heads %[[PQ]] {heads = 4 : i64} : (tensor<2x8x64xf32>) -> tensor<2x4x8x16xf32>
// CHECK: %[[PK:.+]] = convseq.linear %[[ENC]], %[[WK]]
// CHECK: %[[HK:.+]] = convseq.split_heads %[[PK]]
// CHECK: %[[PV:.+]] = convseq.linear %[[ENC]], %[[WV]]
// CHECK: %[[HV:.+]] = convseq.split_heads %[[PV]]
// CHECK: %[[O:.+]] = convseq.dot_product_attention %[[HQ]], %[[HK]], %[[HV]] key_mask %[[M]] rng(%[[S]], %[[T]]) {dropout = 1.000000e-01 : f64, stream = 3 : i64}
// CHECK: %[[MO:.+]] = convseq.merge_heads %[[O]] : (tensor<2x4x8x16xf32>) -> tensor<2x8x64xf32>
// CHECK: convseq.linear %[[MO]], %[[WO]]
func.func @cross_attention(%q: tensor<2x8x64xf32>, %enc: tensor<2x16x64xf32>, %wq: tensor<64x64xf32>,
                           %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>,
                           %m: tensor<2x16xi1>, %s: i64, %t: i64) -> tensor<2x8x64xf32> {
  %y = convseq.attention %q, %enc, %wq, %wk, %wv, %wo key_mask %m rng(%s, %t)
    {heads = 4 : i64, dropout = 0.1 : f64, stream = 3 : i64}
    : (tensor<2x8x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
       tensor<64x64xf32>, tensor<64x64xf32>, tensor<2x16xi1>, i64, i64) -> tensor<2x8x64xf32>
  return %y : tensor<2x8x64xf32>
}

// -----

// Causal self-attention of the Transformer baseline.
// CHECK-LABEL: func.func @causal_self_attention
// CHECK: convseq.dot_product_attention %{{.+}}, %{{.+}}, %{{.+}} {causal} : (tensor<1x2x5x32xbf16>
func.func @causal_self_attention(%x: tensor<1x5x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<1x5x64xbf16> {
  %y = convseq.attention %x, %x, %w, %w, %w, %w {heads = 2 : i64, causal}
    : (tensor<1x5x64xbf16>, tensor<1x5x64xbf16>, tensor<64x64xbf16>, tensor<64x64xbf16>,
       tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<1x5x64xbf16>
  return %y : tensor<1x5x64xbf16>
}

// -----

// FFN: ReLU (T5) without dropout, GELU with hidden dropout.
// CHECK-LABEL: func.func @ffn
// CHECK-SAME: (%[[X:.+]]: tensor<2x16x64xf32>, %[[W1:.+]]: tensor<64x256xf32>, %[[W2:.+]]: tensor<256x64xf32>, %[[S:.+]]: i64, %[[T:.+]]: i64)
// CHECK: %[[H:.+]] = convseq.linear %[[X]], %[[W1]] : (tensor<2x16x64xf32>, tensor<64x256xf32>) -> tensor<2x16x256xf32>
// CHECK: %[[R:.+]] = convseq.relu %[[H]]
// CHECK-NOT: convseq.dropout
// CHECK: %[[Y:.+]] = convseq.linear %[[R]], %[[W2]]
// CHECK: %[[H2:.+]] = convseq.linear %[[Y]], %[[W1]]
// CHECK: %[[G:.+]] = convseq.gelu %[[H2]]
// CHECK: %[[D:.+]] = convseq.dropout %[[G]] rng(%[[S]], %[[T]]) {rate = 2.000000e-01 : f64, stream = 9 : i64}
// CHECK: convseq.linear %[[D]], %[[W2]]
func.func @ffn(%x: tensor<2x16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>,
               %s: i64, %t: i64) -> tensor<2x16x64xf32> {
  %y = convseq.ffn %x, %w1, %w2 : (tensor<2x16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<2x16x64xf32>
  %z = convseq.ffn %y, %w1, %w2 rng(%s, %t) {activation = 1 : i32, dropout = 0.2 : f64, stream = 9 : i64}
    : (tensor<2x16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>, i64, i64) -> tensor<2x16x64xf32>
  return %z : tensor<2x16x64xf32>
}
