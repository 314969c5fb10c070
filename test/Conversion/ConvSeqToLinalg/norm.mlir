// RUN: convseq-opt %s --convert-convseq-to-linalg | FileCheck %s

// RMSNorm: sum of squares over D, then x * rsqrt(ss / D + eps) * g.
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[CHAN:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.+]]: tensor<?x?x64xf32>, %[[G:.+]]: tensor<64xf32>)
// CHECK: %[[SS:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<?x?x64xf32>) outs(%{{.+}} : tensor<?x?xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[D:.+]] = arith.sitofp
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[ROW]], #[[CHAN]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[SS]], %[[G]]
// CHECK: arith.divf %{{.+}}, %[[D]]
// CHECK: arith.constant 9.99999997E-7 : f32
// CHECK: math.rsqrt
func.func @rms_norm(%x: tensor<?x?x64xf32>, %g: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %y = convseq.rms_norm %x, %g : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// Cross-entropy: row max, sum of exp, the target's logit gathered with
// tensor.extract (clamped into [0, V)), 0 at padding, and the mean over the
// real targets as a 0-d tensor.
// CHECK-LABEL: func.func @cross_entropy
// CHECK-SAME: (%[[L:.+]]: tensor<?x?x100xf32>, %[[T:.+]]: tensor<?x?xi32>)
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: %[[LOSS:.+]] = linalg.generic {{.+}} ins(%[[T]], %{{.+}}, %{{.+}}, %{{.+}} : tensor<?x?xi32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>)
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract %[[L]]
// CHECK: math.log
// CHECK: arith.constant 0.899999976 : f32
// CHECK: arith.constant 1.000000e-01 : f32
// CHECK: arith.constant 3 : i32
// CHECK: arith.cmpi eq
// CHECK: %[[TOTALS:.+]]:2 = linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]} ins(%[[LOSS]], %[[T]] : tensor<?x?xf32>, tensor<?x?xi32>) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK: linalg.generic {{.+}} ins(%[[TOTALS]]#0, %[[TOTALS]]#1 : tensor<f32>, tensor<f32>) outs(%{{.+}} : tensor<f32>)
// CHECK: arith.divf
func.func @cross_entropy(%l: tensor<?x?x100xf32>, %t: tensor<?x?xi32>) -> tensor<f32> {
  %loss = convseq.cross_entropy %l, %t {pad_id = 3 : i64, label_smoothing = 0.1 : f64}
    : (tensor<?x?x100xf32>, tensor<?x?xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}
