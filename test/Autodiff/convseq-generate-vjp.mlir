// RUN: convseq-opt %s --convseq-generate-vjp --split-input-file | FileCheck %s

// The VJP takes a cotangent per float result and returns the results, then
// the gradient of each float argument; dx of a linear layer reads the same
// weight transposed, dW is a linear_weight_grad.

// CHECK-LABEL: func.func @linear_vjp(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x3x4xf32> {convseq.io = "x"},
// CHECK-SAME:    %[[W:[^:]+]]: tensor<4x5xf32> {convseq.param = "w"},
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<2x3x5xf32> {convseq.io = "grad.y"})
// CHECK-SAME:    -> (tensor<2x3x5xf32> {convseq.io = "y"}, tensor<2x3x4xf32> {convseq.io = "grad.x"}, tensor<4x5xf32> {convseq.io = "grad.w"})
// CHECK:         %[[Y:.+]] = convseq.linear %[[X]], %[[W]]
// CHECK:         %[[DX:.+]] = convseq.linear %[[DY]], %[[W]] {transpose_weight}
// CHECK:         %[[DW:.+]] = convseq.linear_weight_grad %[[X]], %[[DY]]
// CHECK:         return %[[Y]], %[[DX]], %[[DW]]
func.func @linear(%x: tensor<2x3x4xf32> {convseq.io = "x"}, %w: tensor<4x5xf32> {convseq.param = "w"})
    -> (tensor<2x3x5xf32> {convseq.io = "y"}) {
  %y = convseq.linear %x, %w : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

// A frozen weight gets no gradient result and no weight-gradient math; the
// input still gets its gradient through the frozen weight.

// CHECK-LABEL: func.func @frozen_vjp(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x4xf32> {convseq.io = "x"},
// CHECK-SAME:    %[[W1:[^:]+]]: tensor<4x4xf32> {convseq.frozen, convseq.param = "w1"},
// CHECK-SAME:    -> (tensor<2x4xf32> {convseq.io = "y"}, tensor<2x4xf32> {convseq.io = "grad.x"}, tensor<4x4xf32> {convseq.io = "grad.w2"})
// CHECK:         %[[H:.+]] = convseq.linear %[[X]], %[[W1]]
// CHECK:         convseq.linear_weight_grad %[[H]],
// CHECK-NOT:     convseq.linear_weight_grad
// CHECK:         convseq.linear %{{.+}}, %[[W1]] {transpose_weight}
// CHECK-NOT:     convseq.linear_weight_grad
// CHECK:         return
func.func @frozen(%x: tensor<2x4xf32> {convseq.io = "x"},
                  %w1: tensor<4x4xf32> {convseq.param = "w1", convseq.frozen},
                  %w2: tensor<4x4xf32> {convseq.param = "w2"}) -> (tensor<2x4xf32> {convseq.io = "y"}) {
  %h = convseq.linear %x, %w1 : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %y = convseq.linear %h, %w2 : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// A value used twice sums the gradients of its uses; ids are not
// differentiated, and an op no input reaches (the mask) is not visited.

// CHECK-LABEL: func.func @reuse_vjp(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x3x4xf32>
// CHECK-SAME:    %[[IDS:[^:]+]]: tensor<2x3xi32>
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<2x3x4xf32>
// CHECK-SAME:    -> (tensor<2x3x4xf32> {convseq.io = "y"}, tensor<2x3x4xf32> {convseq.io = "grad.x"})
// CHECK:         %[[M:.+]] = convseq.padding_mask %[[IDS]]
// CHECK:         %[[A:.+]] = convseq.apply_mask %[[X]], %[[M]]
// CHECK:         %[[Y:.+]] = arith.addf %[[A]], %[[X]]
// CHECK:         %[[DA:.+]] = convseq.apply_mask %[[DY]], %[[M]]
// CHECK:         %[[DX:.+]] = arith.addf %[[DY]], %[[DA]]
// CHECK:         return %[[Y]], %[[DX]]
func.func @reuse(%x: tensor<2x3x4xf32> {convseq.io = "x"}, %ids: tensor<2x3xi32> {convseq.io = "ids"})
    -> (tensor<2x3x4xf32> {convseq.io = "y"}) {
  %m = convseq.padding_mask %ids : (tensor<2x3xi32>) -> tensor<2x3xi1>
  %a = convseq.apply_mask %x, %m : (tensor<2x3x4xf32>, tensor<2x3xi1>) -> tensor<2x3x4xf32>
  %y = arith.addf %a, %x : tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// An argument that does not reach the result gets a zero gradient; a
// scalar loss gets a 0-d cotangent.

// CHECK-LABEL: func.func @unused_vjp(
// CHECK-SAME:    %[[DL:[^:]+]]: tensor<f32> {convseq.io = "grad.loss"})
// CHECK:         %[[CE:.+]] = convseq.cross_entropy_grad %{{.+}}, %{{.+}}, %[[DL]]
// CHECK:         %[[ZERO:.+]] = linalg.fill
// CHECK:         return %{{.+}}, %[[CE]], %[[ZERO]]
func.func @unused(%logits: tensor<2x7xf32> {convseq.io = "logits"}, %ids: tensor<2xi32> {convseq.io = "ids"},
                  %other: tensor<3xf32> {convseq.io = "other"}) -> (tensor<f32> {convseq.io = "loss"}) {
  %l = convseq.cross_entropy %logits, %ids : (tensor<2x7xf32>, tensor<2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A relu's gradient reads the relu's result, not its input: an FFN keeps only
// its hidden activation for the backward pass.

// CHECK-LABEL: func.func @ffn_vjp(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x4xf32> {convseq.io = "x"},
// CHECK-SAME:    %[[W1:[^:]+]]: tensor<4x8xf32> {convseq.param = "w1"},
// CHECK-SAME:    %[[W2:[^:]+]]: tensor<8x4xf32> {convseq.param = "w2"},
// CHECK:         %[[PRE:.+]] = convseq.linear %[[X]], %[[W1]]
// CHECK:         %[[H:.+]] = convseq.relu %[[PRE]]
// CHECK-NOT:     %[[PRE]]
// CHECK:         convseq.linear_weight_grad %[[H]],
// CHECK-NOT:     %[[PRE]]
// CHECK:         convseq.relu_grad %[[H]],
// CHECK-NOT:     %[[PRE]]
// CHECK:         return
func.func @ffn(%x: tensor<2x4xf32> {convseq.io = "x"},
               %w1: tensor<4x8xf32> {convseq.param = "w1"},
               %w2: tensor<8x4xf32> {convseq.param = "w2"}) -> (tensor<2x4xf32> {convseq.io = "y"}) {
  %pre = convseq.linear %x, %w1 : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
  %h = convseq.relu %pre : tensor<2x8xf32>
  %y = convseq.linear %h, %w2 : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// With T5's dropout after the relu, the mask comes from the dropout's result
// (kept for the output projection's weight gradient): the gradient reaching
// the relu is zero wherever the same key dropped an element.

// CHECK-LABEL: func.func @ffn_dropout_vjp(
// CHECK:         %[[PRE:.+]] = convseq.linear
// CHECK:         %[[H:.+]] = convseq.relu %[[PRE]]
// CHECK:         %[[HD:.+]] = convseq.dropout %[[H]] rng(%[[SEED:[^,]+]], %[[STEP:[^)]+]]) {rate = 1.000000e-01 : f64, stream = 4 : i64}
// CHECK:         convseq.linear_weight_grad %[[HD]],
// CHECK:         %[[DH:.+]] = convseq.dropout %{{.+}} rng(%[[SEED]], %[[STEP]]) {rate = 1.000000e-01 : f64, stream = 4 : i64}
// CHECK:         convseq.relu_grad %[[HD]], %[[DH]]
// CHECK:         return
func.func @ffn_dropout(%x: tensor<2x4xf32> {convseq.io = "x"},
                       %w1: tensor<4x8xf32> {convseq.param = "w1"},
                       %w2: tensor<8x4xf32> {convseq.param = "w2"},
                       %seed: i64 {convseq.io = "seed"}, %step: i64 {convseq.io = "step"})
    -> (tensor<2x4xf32> {convseq.io = "y"}) {
  %pre = convseq.linear %x, %w1 : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
  %h = convseq.relu %pre : tensor<2x8xf32>
  %hd = convseq.dropout %h rng(%seed, %step) {rate = 1.0e-01 : f64, stream = 4 : i64}
      : (tensor<2x8xf32>, i64, i64) -> tensor<2x8xf32>
  %y = convseq.linear %hd, %w2 : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
