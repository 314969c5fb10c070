// RUN: convseq-opt %s --convert-convseq-to-linalg | FileCheck %s

// AdamW: the bias corrections once in f64, then one element-wise op whose
// outputs are the old parameter and moments, so they update in place.

// CHECK-LABEL: func.func @adamw(
// CHECK-SAME:    %[[P:[^:]+]]: tensor<8x3xf32>, %[[G:[^:]+]]: tensor<8x3xf32>, %[[M:[^:]+]]: tensor<8x3xf32>, %[[V:[^:]+]]: tensor<8x3xf32>
// CHECK:         math.powf
// CHECK:         math.powf
// CHECK:         %[[NEW:.+]]:3 = linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK-SAME:      ins(%[[G]] : tensor<8x3xf32>) outs(%[[P]], %[[M]], %[[V]] :
// CHECK:         return %[[NEW]]#0, %[[NEW]]#1, %[[NEW]]#2
func.func @adamw(%p: tensor<8x3xf32>, %g: tensor<8x3xf32>, %m: tensor<8x3xf32>, %v: tensor<8x3xf32>, %lr: f64, %s: f64, %t: i64)
    -> (tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>) {
  %0:3 = convseq.adamw_update %p, %g, %m, %v, %lr, %s, %t {weight_decay = 0.01 : f64} : tensor<8x3xf32>
  return %0#0, %0#1, %0#2 : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>
}

// Adafactor on a matrix: the row and column moments decay and accumulate in
// place, then full f64 reductions (mean of the rows, rms of the update, rms
// of the parameter for the relative step) and one element-wise update into
// the parameter.

// CHECK-LABEL: func.func @adafactor(
// CHECK-SAME:    %[[P:[^:]+]]: tensor<8x3xf32>, %[[G:[^:]+]]: tensor<8x3xf32>, %[[R:[^:]+]]: tensor<8xf32>, %[[C:[^:]+]]: tensor<3xf32>
// CHECK:         %[[RD:.+]] = linalg.generic {{.+}} outs(%[[R]] : tensor<8xf32>)
// CHECK:         %[[R1:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]} ins(%[[G]] : tensor<8x3xf32>) outs(%[[RD]] : tensor<8xf32>)
// CHECK:         %[[CD:.+]] = linalg.generic {{.+}} outs(%[[C]] : tensor<3xf32>)
// CHECK:         %[[C1:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "parallel"]} ins(%[[G]] : tensor<8x3xf32>) outs(%[[CD]] : tensor<3xf32>)
// CHECK:         linalg.generic {{.+}} ins(%[[R1]] : tensor<8xf32>) outs(%{{.+}} : tensor<f64>)
// CHECK:         linalg.generic {{.+}} ins(%[[G]], %[[R1]], %[[C1]] : {{.+}}) outs(%{{.+}} : tensor<f64>)
// CHECK:         linalg.generic {{.+}} ins(%[[P]] : tensor<8x3xf32>) outs(%{{.+}} : tensor<f64>)
// CHECK:         %[[P1:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]} ins(%[[G]], %[[R1]], %[[C1]] : {{.+}}) outs(%[[P]] : tensor<8x3xf32>)
// CHECK:         return %[[P1]], %[[R1]], %[[C1]]
func.func @adafactor(%p: tensor<8x3xf32>, %g: tensor<8x3xf32>, %r: tensor<8xf32>, %c: tensor<3xf32>, %lr: f64, %s: f64, %t: i64)
    -> (tensor<8x3xf32>, tensor<8xf32>, tensor<3xf32>) {
  %0:3 = convseq.adafactor_update %p, %g state(%r, %c), %lr, %s, %t {relative_step} : tensor<8x3xf32>, tensor<8xf32>, tensor<3xf32>
  return %0#0, %0#1, %0#2 : tensor<8x3xf32>, tensor<8xf32>, tensor<3xf32>
}

// Without relative steps nothing reads the parameter's rms.

// CHECK-LABEL: func.func @adafactor_vector(
// CHECK-SAME:    %[[P:[^:]+]]: tensor<3xf32>
// CHECK-NOT:     ins(%[[P]]
// CHECK:         outs(%[[P]] : tensor<3xf32>)
func.func @adafactor_vector(%p: tensor<3xf32>, %g: tensor<3xf32>, %v: tensor<3xf32>, %lr: f64, %s: f64, %t: i64)
    -> (tensor<3xf32>, tensor<3xf32>) {
  %0:2 = convseq.adafactor_update %p, %g state(%v), %lr, %s, %t : tensor<3xf32>, tensor<3xf32>
  return %0#0, %0#1 : tensor<3xf32>, tensor<3xf32>
}

// The global norm: one f64 reduction per operand, chained in order.

// CHECK-LABEL: func.func @sum_of_squares(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<8x3xf32>, %[[B:[^:]+]]: tensor<3xf32>
// CHECK:         %[[SA:.+]] = linalg.generic {{.+}} ins(%[[A]] : tensor<8x3xf32>) outs(%{{.+}} : tensor<f64>)
// CHECK:         %[[EA:.+]] = tensor.extract %[[SA]][]
// CHECK:         %[[INIT:.+]] = tensor.from_elements %[[EA]]
// CHECK:         %[[SB:.+]] = linalg.generic {{.+}} ins(%[[B]] : tensor<3xf32>) outs(%[[INIT]] : tensor<f64>)
// CHECK:         %[[EB:.+]] = tensor.extract %[[SB]][]
// CHECK:         return %[[EB]] : f64
func.func @sum_of_squares(%a: tensor<8x3xf32>, %b: tensor<3xf32>) -> f64 {
  %0 = convseq.sum_of_squares %a, %b : tensor<8x3xf32>, tensor<3xf32>
  return %0 : f64
}
