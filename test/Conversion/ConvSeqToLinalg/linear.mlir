// RUN: convseq-opt %s --convert-convseq-to-linalg | FileCheck %s

// Loops (d0, d1) over the input's leading dimensions, then k and n with the
// contiguous dimension innermost: (d2 = k, d3 = n) for a [K, N] weight,
// (d2 = n, d3 = k) for a transposed [N, K] weight.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[WMAP:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[MIN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[MW:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MOUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>

// A 3-d input is contracted in its own shape: no reshape to a matrix (which
// would expand one dynamic size into two).
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.+]]: tensor<?x?x64xf32>, %[[W:.+]]: tensor<64x256xf32>)
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<?x?x256xf32>)
// CHECK: %[[R:.+]] = linalg.contract indexing_maps = [#[[IN]], #[[WMAP]], #[[OUT]]] ins(%[[X]], %[[W]] : tensor<?x?x64xf32>, tensor<64x256xf32>) outs(%[[ZERO]] : tensor<?x?x256xf32>)
// CHECK-NOT: tensor.expand_shape
// CHECK: return %[[R]]
func.func @linear(%x: tensor<?x?x64xf32>, %w: tensor<64x256xf32>) -> tensor<?x?x256xf32> {
  %y = convseq.linear %x, %w : (tensor<?x?x64xf32>, tensor<64x256xf32>) -> tensor<?x?x256xf32>
  return %y : tensor<?x?x256xf32>
}

// The tied output embedding: the weight is read transposed through the
// contraction's indexing maps. A row of the input (64) is shorter than a row
// of the output (100), so the scale multiplies the input and the contraction
// writes the logits directly.
// CHECK-LABEL: func.func @logits
// CHECK-SAME: (%[[X:.+]]: tensor<?x?x64xf32>, %[[E:.+]]: tensor<100x64xf32>)
// CHECK: %[[XS:.+]] = linalg.generic {{.+}} ins(%[[X]] : tensor<?x?x64xf32>)
// CHECK: %[[S:.+]] = arith.constant 1.250000e-01 : f32
// CHECK: arith.mulf %{{.+}}, %[[S]] : f32
// CHECK: %[[MM:.+]] = linalg.contract indexing_maps = [#[[OUT]], #[[WMAP]], #[[IN]]] ins(%[[XS]], %[[E]] : tensor<?x?x64xf32>, tensor<100x64xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return %[[MM]]
func.func @logits(%x: tensor<?x?x64xf32>, %e: tensor<100x64xf32>) -> tensor<?x?x100xf32> {
  %l = convseq.linear %x, %e {transpose_weight, scale = 0.125 : f64} : (tensor<?x?x64xf32>, tensor<100x64xf32>) -> tensor<?x?x100xf32>
  return %l : tensor<?x?x100xf32>
}

// Where the output row is the shorter (the input gradient of the logits,
// 100 to 64), the scale stays an element-wise epilogue of the contraction.
// CHECK-LABEL: func.func @narrowing
// CHECK: %[[MM:.+]] = linalg.contract
// CHECK: linalg.generic {{.+}} ins(%[[MM]] : tensor<?x?x64xf32>)
// CHECK: arith.constant 1.250000e-01 : f32
func.func @narrowing(%dy: tensor<?x?x100xf32>, %e: tensor<100x64xf32>) -> tensor<?x?x64xf32> {
  %dx = convseq.linear %dy, %e {scale = 0.125 : f64} : (tensor<?x?x100xf32>, tensor<100x64xf32>) -> tensor<?x?x64xf32>
  return %dx : tensor<?x?x64xf32>
}

// A matrix input is a plain matmul-shaped contraction.
// CHECK-LABEL: func.func @matrix
// CHECK: linalg.contract indexing_maps = [#[[MIN]], #[[MW]], #[[MOUT]]] ins(%{{.+}}, %{{.+}} : tensor<8x16xf64>, tensor<16x4xf64>)
func.func @matrix(%x: tensor<8x16xf64>, %w: tensor<16x4xf64>) -> tensor<8x4xf64> {
  %y = convseq.linear %x, %w : (tensor<8x16xf64>, tensor<16x4xf64>) -> tensor<8x4xf64>
  return %y : tensor<8x4xf64>
}

// Heads: expand the channels, then move the head dimension before length.
// CHECK-LABEL: func.func @heads
// CHECK: %[[E:.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0], [1], [2, 3]] output_shape [2, 8, 4, 16] : tensor<2x8x64xf32> into tensor<2x8x4x16xf32>
// CHECK: %[[T:.+]] = linalg.transpose ins(%[[E]] : tensor<2x8x4x16xf32>) outs(%{{.+}} : tensor<2x4x8x16xf32>) permutation = [0, 2, 1, 3]
// CHECK: %[[U:.+]] = linalg.transpose ins(%[[T]] : tensor<2x4x8x16xf32>) outs(%{{.+}} : tensor<2x8x4x16xf32>) permutation = [0, 2, 1, 3]
// CHECK: tensor.collapse_shape %[[U]] {{\[\[}}0], [1], [2, 3]] : tensor<2x8x4x16xf32> into tensor<2x8x64xf32>
func.func @heads(%x: tensor<2x8x64xf32>) -> tensor<2x8x64xf32> {
  %h = convseq.split_heads %x {heads = 4 : i64} : (tensor<2x8x64xf32>) -> tensor<2x4x8x16xf32>
  %m = convseq.merge_heads %h : (tensor<2x4x8x16xf32>) -> tensor<2x8x64xf32>
  return %m : tensor<2x8x64xf32>
}
