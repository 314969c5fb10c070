// RUN: convseq-opt %s -split-input-file --convert-convseq-to-linalg | FileCheck %s

// The ops of ConvSeqGradientOps.td. Their numbers are checked against finite
// differences in test/e2e/GradientCheckTest.cpp; here, their structure.

// Causal lightweight input gradient (k = 3): dy padded the other way round
// (k - 1 - p = 0 rows before, p = 2 after), tap j of row t reading row
// t + 2 - j, then the mask.
// CHECK-DAG: #[[DY:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 - d2 + 2, d3)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3) -> (d3 floordiv 16, d2)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @conv_input_grad
// CHECK-SAME: (%[[WT:.+]]: tensor<4x3xf32>, %[[G:.+]]: tensor<2x?x64xf32>, %[[M:.+]]: tensor<2x?xi1>)
// CHECK: %[[P:.+]] = tensor.pad %[[G]] low[0, 0, 0] high[0, 2, 0]
// CHECK: %[[DX:.+]] = linalg.generic {indexing_maps = [#[[DY]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[P]], %[[WT]]
// CHECK: linalg.generic {{.+}} ins(%[[DX]], %[[M]]
// CHECK: arith.select
func.func @conv_input_grad(%w: tensor<4x3xf32>, %dy: tensor<2x?x64xf32>, %m: tensor<2x?xi1>) -> tensor<2x?x64xf32> {
  %dx = convseq.conv_input_grad %w, %dy mask %m {variant = 0 : i32, heads = 4 : i64, kernel_size = 3 : i64, causal}
    : (tensor<4x3xf32>, tensor<2x?x64xf32>, tensor<2x?xi1>) -> tensor<2x?x64xf32>
  return %dx : tensor<2x?x64xf32>
}

// -----

// Dilated tap gradient (k = 3, r = 2, centred): the input padded as the
// forward op pads it, loops (c, j, b, i) reducing over batch and rows.
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3 + d1 * 2, d0)>
// CHECK-DAG: #[[DY:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3, d0)>
// CHECK-DAG: #[[DW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-LABEL: func.func @conv_weight_grad
// CHECK: %[[P:.+]] = tensor.pad %{{.+}} low[0, 2, 0] high[0, 2, 0]
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[DY]], #[[DW]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[P]],
func.func @conv_weight_grad(%x: tensor<2x?x64xf32>, %dy: tensor<2x?x64xf32>) -> tensor<64x3xf32> {
  %dw = convseq.conv_weight_grad %x, %dy {variant = 2 : i32, kernel_size = 3 : i64, dilation = 2 : i64}
    : (tensor<2x?x64xf32>, tensor<2x?x64xf32>) -> tensor<64x3xf32>
  return %dw : tensor<64x3xf32>
}

// -----

// Lightweight tap gradient: channels split into [heads, D/H] so every loop
// is an operand dimension; loops (h, j, b, i, e).
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d1 + d3, d0, d4)>
// CHECK-DAG: #[[DW:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1)>
// CHECK-LABEL: func.func @lightweight_weight_grad
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1], [2, 3]] output_shape [2, %{{.+}}, 4, 16]
// CHECK: linalg.generic {indexing_maps = [#[[X]], #{{.+}}, #[[DW]]], iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]}
func.func @lightweight_weight_grad(%x: tensor<2x?x64xf32>, %dy: tensor<2x?x64xf32>) -> tensor<4x7xf32> {
  %dw = convseq.conv_weight_grad %x, %dy {variant = 0 : i32, heads = 4 : i64, kernel_size = 7 : i64}
    : (tensor<2x?x64xf32>, tensor<2x?x64xf32>) -> tensor<4x7xf32>
  return %dw : tensor<4x7xf32>
}

// -----

// The weight gradient of a linear layer is one contraction over the rows.
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[DY:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[DW:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func.func @linear_weight_grad
// CHECK: linalg.contract indexing_maps = [#[[X]], #[[DY]], #[[DW]]]
func.func @linear_weight_grad(%x: tensor<?x?x64xf32>, %dy: tensor<?x?x32xf32>) -> tensor<64x32xf32> {
  %dw = convseq.linear_weight_grad %x, %dy : (tensor<?x?x64xf32>, tensor<?x?x32xf32>) -> tensor<64x32xf32>
  return %dw : tensor<64x32xf32>
}

// -----

// The cross-entropy gradient is written over the logits (its destination),
// not into a new tensor: in a training step the logits are dead after it,
// so no second [B, T, V] buffer is allocated.
// CHECK-LABEL: func.func @cross_entropy_grad
// CHECK-SAME: (%[[L:.+]]: tensor<?x?x100xf32>, %[[T:.+]]: tensor<?x?xi32>, %[[DL:.+]]: tensor<f32>)
// CHECK: %[[G:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.+}}, %{{.+}}, %[[T]], %{{.+}}, %[[DL]] : tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xi32>, tensor<f32>, tensor<f32>) outs(%[[L]] : tensor<?x?x100xf32>)
// CHECK: ^bb0(%[[MAX:.+]]: f32, %[[SUM:.+]]: f32, %{{.+}}: i32, %{{.+}}: f32, %{{.+}}: f32, %[[X:.+]]: f32):
// CHECK: arith.subf %[[X]], %[[MAX]]
// CHECK: return %[[G]]
func.func @cross_entropy_grad(%l: tensor<?x?x100xf32>, %t: tensor<?x?xi32>, %dl: tensor<f32>) -> tensor<?x?x100xf32> {
  %g = convseq.cross_entropy_grad %l, %t, %dl {pad_id = 0 : i64} : (tensor<?x?x100xf32>, tensor<?x?xi32>, tensor<f32>) -> tensor<?x?x100xf32>
  return %g : tensor<?x?x100xf32>
}

// -----

// The embedding gradient is a serial scatter-add over the positions that
// skips ids outside [0, V).
// CHECK-LABEL: func.func @embedding_grad
// CHECK: %[[IDS:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1]]
// CHECK: scf.for {{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<100x16xf32>)
// CHECK:   %[[ID:.+]] = tensor.extract %[[IDS]]
// CHECK:   scf.if
// CHECK:     %[[ROW:.+]] = tensor.extract_slice %[[ACC]]
// CHECK:     %[[SUM:.+]] = linalg.generic {{.+}} ins(%[[ROW]],
// CHECK:     tensor.insert_slice %[[SUM]] into %[[ACC]]
func.func @embedding_grad(%ids: tensor<?x?xi32>, %dy: tensor<?x?x16xf32>) -> tensor<100x16xf32> {
  %de = convseq.embedding_grad %ids, %dy : (tensor<?x?xi32>, tensor<?x?x16xf32>) -> tensor<100x16xf32>
  return %de : tensor<100x16xf32>
}

// -----

// GLU's two gradients come from one element-wise op with two results.
// CHECK-LABEL: func.func @glu_grad
// CHECK: %[[G:.+]]:2 = linalg.generic {{.+}} outs(%{{.+}}, %{{.+}} : tensor<2x8xf32>, tensor<2x8xf32>)
// CHECK: math.exp
// CHECK: return %[[G]]#0, %[[G]]#1
func.func @glu_grad(%v: tensor<2x8xf32>, %g: tensor<2x8xf32>, %dy: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %dv, %dg = convseq.glu_grad %v, %g, %dy : tensor<2x8xf32>
  return %dv, %dg : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Attention's gradient recomputes the probabilities (one Q K^T contraction
// and a softmax) and then needs four more contractions: dV, dP, dQ, dK.
// CHECK-LABEL: func.func @attention_grad
// CHECK-COUNT-5: iterator_types = ["parallel", "parallel", "parallel", "{{reduction|parallel}}", "{{reduction|parallel}}"]
// CHECK: return
func.func @attention_grad(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x32x16xf32>,
                          %do: tensor<2x4x8x16xf32>, %m: tensor<2x32xi1>)
    -> (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do key_mask %m
    : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x8x16xf32>, tensor<2x32xi1>)
    -> (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>)
  return %dq, %dk, %dv : tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>
}
