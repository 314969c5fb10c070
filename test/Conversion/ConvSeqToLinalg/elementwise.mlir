// RUN: convseq-opt %s --convert-convseq-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @glu
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.+}}, %{{.+}} : tensor<2x?x64xbf16>, tensor<2x?x64xbf16>)
// CHECK: %[[NEG:.+]] = arith.negf
// CHECK: %[[EXP:.+]] = math.exp %[[NEG]]
// CHECK: %[[DEN:.+]] = arith.addf %{{.+}}, %[[EXP]]
// CHECK: arith.divf %{{.+}}, %[[DEN]]
func.func @glu(%v: tensor<2x?x64xbf16>, %g: tensor<2x?x64xbf16>) -> tensor<2x?x64xbf16> {
  %a = convseq.glu %v, %g : tensor<2x?x64xbf16>
  return %a : tensor<2x?x64xbf16>
}

// CHECK-LABEL: func.func @relu_gelu
// CHECK: arith.maximumf
// CHECK: linalg.generic
// CHECK: math.erf
func.func @relu_gelu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = convseq.relu %x : tensor<4x8xf32>
  %g = convseq.gelu %r : tensor<4x8xf32>
  return %g : tensor<4x8xf32>
}

// Softmax over the taps of a kernel: max, exp, sum, divide.
// CHECK-LABEL: func.func @softmax
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.addf
// CHECK: arith.divf
func.func @softmax(%w: tensor<4x7xf32>) -> tensor<4x7xf32> {
  %s = convseq.softmax %w : tensor<4x7xf32>
  return %s : tensor<4x7xf32>
}
