// RUN: convseq-opt %s --convert-convseq-to-linalg | FileCheck %s

// Q K^T over E, scale 1/sqrt(16), -inf for padded keys and the causal future
// (j <= i + S - T), a softmax whose fully masked rows give 0, then P V with
// loops (b, h, i, j, f): V is read through the same map as K.
// CHECK-DAG: #[[Q:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[K:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-DAG: #[[S:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[KEYMASK:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[QA:.+]]: tensor<2x4x8x16xf32>, %[[KA:.+]]: tensor<2x4x?x16xf32>, %[[VA:.+]]: tensor<2x4x?x16xf32>, %[[MA:.+]]: tensor<2x?xi1>)
// CHECK: %[[SCORES:.+]] = linalg.generic {indexing_maps = [#[[Q]], #[[K]], #[[S]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[QA]], %[[KA]]
// CHECK: %[[MASKED:.+]] = linalg.generic {{.+}} ins(%[[SCORES]], %[[MA]] : tensor<2x4x8x?xf32>, tensor<2x?xi1>)
// CHECK: arith.constant 2.500000e-01 : f32
// CHECK: %[[I:.+]] = linalg.index 2
// CHECK: %[[J:.+]] = linalg.index 3
// CHECK: arith.cmpi sle, %[[J]]
// CHECK: arith.andi
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: %[[MAX:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[MASKED]]
// CHECK: arith.maximumf
// CHECK: %[[EXP:.+]] = linalg.generic {{.+}} ins(%[[MASKED]], %[[MAX]]
// CHECK: math.exp
// CHECK: arith.cmpf oeq
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} ins(%[[EXP]]
// CHECK: %[[PROBS:.+]] = linalg.generic {{.+}} ins(%[[EXP]], %[[SUM]]
// CHECK: arith.divf
// CHECK: linalg.generic {indexing_maps = [#[[S]], #[[K]], #[[Q]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[PROBS]], %[[VA]]
func.func @attention(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x?x16xf32>, %v: tensor<2x4x?x16xf32>, %m: tensor<2x?xi1>) -> tensor<2x4x8x16xf32> {
  %o = convseq.dot_product_attention %q, %k, %v key_mask %m {causal}
    : (tensor<2x4x8x16xf32>, tensor<2x4x?x16xf32>, tensor<2x4x?x16xf32>, tensor<2x?xi1>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// Without mask or causality nothing is masked; dropout on the
// probabilities comes before P V.
// CHECK-LABEL: func.func @unmasked_dropout
// CHECK-NOT: 0xFF800000 : f64
// CHECK: arith.mului_extended
// CHECK: linalg.generic {indexing_maps = [#[[S]], #[[K]], #[[Q]]]
func.func @unmasked_dropout(%q: tensor<1x2x3x8xf64>, %s: i64, %t: i64) -> tensor<1x2x3x8xf64> {
  %o = convseq.dot_product_attention %q, %q, %q rng(%s, %t) {dropout = 0.1 : f64}
    : (tensor<1x2x3x8xf64>, tensor<1x2x3x8xf64>, tensor<1x2x3x8xf64>, i64, i64) -> tensor<1x2x3x8xf64>
  return %o : tensor<1x2x3x8xf64>
}
