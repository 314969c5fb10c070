// RUN: convseq-opt %s --split-input-file --convseq-clone-shared-fills | FileCheck %s

// One zero fill initializes two matmuls and is read by an add: each matmul
// gets its own fill of its own empty tensor, right before it; the add keeps
// reading the original.
// CHECK-LABEL: func.func @shared(
// CHECK-SAME:      %[[A:[^:]+]]: tensor<?x8xf32>, %[[B:[^:]+]]: tensor<8x8xf32>, %[[N:[^:]+]]: index)
// CHECK:         %[[ZERO:.+]] = arith.constant 0.0
// CHECK:         %[[EMPTY:.+]] = tensor.empty(%[[N]])
// CHECK:         %[[FILL:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<?x8xf32>)
// CHECK:         %[[EMPTY1:.+]] = tensor.empty(%[[N]])
// CHECK-NEXT:    %[[FILL1:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY1]] : tensor<?x8xf32>)
// CHECK-NEXT:    %[[M1:.+]] = linalg.matmul ins(%[[A]], %[[B]] : {{.+}}) outs(%[[FILL1]] : tensor<?x8xf32>)
// CHECK-NEXT:    %[[EMPTY2:.+]] = tensor.empty(%[[N]])
// CHECK-NEXT:    %[[FILL2:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY2]] : tensor<?x8xf32>)
// CHECK-NEXT:    %[[M2:.+]] = linalg.matmul ins(%[[M1]], %[[B]] : {{.+}}) outs(%[[FILL2]] : tensor<?x8xf32>)
// CHECK-NEXT:    linalg.add ins(%[[M2]], %[[FILL]] : {{.+}}) outs(%[[EMPTY]] : tensor<?x8xf32>)
func.func @shared(%a: tensor<?x8xf32>, %b: tensor<8x8xf32>, %n: index) -> tensor<?x8xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty(%n) : tensor<?x8xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %m1 = linalg.matmul ins(%a, %b : tensor<?x8xf32>, tensor<8x8xf32>) outs(%fill : tensor<?x8xf32>) -> tensor<?x8xf32>
  %m2 = linalg.matmul ins(%m1, %b : tensor<?x8xf32>, tensor<8x8xf32>) outs(%fill : tensor<?x8xf32>) -> tensor<?x8xf32>
  %sum = linalg.add ins(%m2, %fill : tensor<?x8xf32>, tensor<?x8xf32>) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %sum : tensor<?x8xf32>
}

// -----

// A fill with one use, and one whose only uses are inits, which goes.
// CHECK-LABEL: func.func @unshared(
// CHECK-COUNT-3: linalg.fill
// CHECK-NOT:     linalg.fill
func.func @unshared(%a: tensor<?x8xf32>, %b: tensor<8x8xf32>, %n: index) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty(%n) : tensor<?x8xf32>
  %one = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %m0 = linalg.matmul ins(%a, %b : tensor<?x8xf32>, tensor<8x8xf32>) outs(%one : tensor<?x8xf32>) -> tensor<?x8xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x8xf32>) -> tensor<?x8xf32>
  %m1 = linalg.matmul ins(%a, %b : tensor<?x8xf32>, tensor<8x8xf32>) outs(%fill : tensor<?x8xf32>) -> tensor<?x8xf32>
  %m2 = linalg.matmul ins(%m1, %b : tensor<?x8xf32>, tensor<8x8xf32>) outs(%fill : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %m0, %m1, %m2 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}
