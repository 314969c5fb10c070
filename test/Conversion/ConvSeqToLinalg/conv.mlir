// RUN: convseq-opt %s -split-input-file --convert-convseq-to-linalg | FileCheck %s

// Lightweight: the input is masked, padded by floor(k/2) on both sides
// (centred, k = 7) and reduced over the taps in loops (b, i, j, c), the
// channel innermost; channel c reads head c floordiv (D/H).
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 + d2, d3)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3) -> (d3 floordiv 16, d2)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @lightweight
// CHECK-SAME: (%[[A:.+]]: tensor<2x?x64xf32>, %[[WT:.+]]: tensor<4x7xf32>, %[[M:.+]]: tensor<2x?xi1>)
// CHECK: %[[MASKED:.+]] = linalg.generic {{.+}} ins(%[[A]], %[[M]] : tensor<2x?x64xf32>, tensor<2x?xi1>)
// CHECK: arith.select
// CHECK: %[[P:.+]] = tensor.pad %[[MASKED]] low[0, 3, 0] high[0, 3, 0]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[P]], %[[WT]] : tensor<2x?x64xf32>, tensor<4x7xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @lightweight(%a: tensor<2x?x64xf32>, %w: tensor<4x7xf32>, %m: tensor<2x?xi1>) -> tensor<2x?x64xf32> {
  %y = convseq.lightweight_conv %a, %w mask %m {heads = 4 : i64, kernel_size = 7 : i64}
    : (tensor<2x?x64xf32>, tensor<4x7xf32>, tensor<2x?xi1>) -> tensor<2x?x64xf32>
  return %y : tensor<2x?x64xf32>
}

// -----

// Causal dynamic conv: pad k - 1 = 3 rows before and none after; the kernel
// is read per position and head. Without a mask the input is used directly.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 + d2, d3)>
// CHECK-DAG: #[[K:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3 floordiv 32, d2)>
// CHECK-LABEL: func.func @dynamic_causal
// CHECK-SAME: (%[[A:.+]]: tensor<?x?x64xf32>, %[[KERN:.+]]: tensor<?x?x2x4xf32>)
// CHECK: %[[P:.+]] = tensor.pad %[[A]] low[0, 3, 0] high[0, 0, 0]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[K]], #{{.+}}], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[P]], %[[KERN]]
func.func @dynamic_causal(%a: tensor<?x?x64xf32>, %k: tensor<?x?x2x4xf32>) -> tensor<?x?x64xf32> {
  %y = convseq.dynamic_conv %a, %k {heads = 2 : i64, kernel_size = 4 : i64, causal}
    : (tensor<?x?x64xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// Dilated, centred, k = 4, r = 3: taps 3 apart, floor(4/2) * 3 = 6 rows of
// padding before and (4 - 1) * 3 - 6 = 3 after; weights per channel.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 + d2 * 3, d3)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-LABEL: func.func @dilated
// CHECK: %[[P:.+]] = tensor.pad %{{.+}} low[0, 6, 0] high[0, 3, 0]
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #{{.+}}], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[P]], %{{.+}} : tensor<1x19x32xf64>, tensor<32x4xf64>)
func.func @dilated(%a: tensor<1x10x32xf64>, %w: tensor<32x4xf64>) -> tensor<1x10x32xf64> {
  %y = convseq.dilated_conv %a, %w {kernel_size = 4 : i64, dilation = 3 : i64}
    : (tensor<1x10x32xf64>, tensor<32x4xf64>) -> tensor<1x10x32xf64>
  return %y : tensor<1x10x32xf64>
}
