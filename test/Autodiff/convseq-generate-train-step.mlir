// RUN: convseq-opt %s --convseq-generate-train-step --split-input-file | FileCheck %s

// Adafactor without a learning rate: relative steps, factored moments for
// the matrix, a full second moment for the gain, nothing for the frozen
// weight; the step size 1/sqrt(max(t, warmup)) and global-norm clipping.

// CHECK-LABEL: func.func @forward_train(
// CHECK-NOT:     convseq.training
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<4x3xf32> {convseq.param = "w", convseq.updated},
// CHECK-SAME:    %[[G:[^:]+]]: tensor<3xf32> {convseq.param = "g", convseq.updated},
// CHECK-SAME:    %[[F:[^:]+]]: tensor<3x5xf32> {convseq.frozen, convseq.param = "f"},
// CHECK-SAME:    %[[STEP:[^:]+]]: i64 {convseq.io = "step"},
// CHECK-SAME:    %[[ROW:[^:]+]]: tensor<4xf32> {convseq.io = "opt.v_row.w", convseq.updated},
// CHECK-SAME:    %[[COL:[^:]+]]: tensor<3xf32> {convseq.io = "opt.v_col.w", convseq.updated},
// CHECK-SAME:    %[[V:[^:]+]]: tensor<3xf32> {convseq.io = "opt.v.g", convseq.updated})
// CHECK-SAME:    -> (tensor<f32> {convseq.io = "loss"}, tensor<f64> {convseq.io = "grad_norm"}, tensor<f64> {convseq.io = "learning_rate"},
// CHECK-SAME:        tensor<4x3xf32> {convseq.in_place = 0 : i64, convseq.param = "w"}, tensor<3xf32> {convseq.in_place = 1 : i64, convseq.param = "g"},
// CHECK-SAME:        tensor<4xf32> {convseq.in_place = 6 : i64, convseq.io = "opt.v_row.w"}, tensor<3xf32> {convseq.in_place = 7 : i64, convseq.io = "opt.v_col.w"}, tensor<3xf32> {convseq.in_place = 8 : i64, convseq.io = "opt.v.g"})
// CHECK:         %[[LOSS:.+]] = convseq.cross_entropy
// CHECK-NOT:     convseq.linear_weight_grad %{{.+}} -> tensor<3x5xf32>
// CHECK:         %[[DG:.+]] = convseq.rms_norm_scale_grad
// CHECK:         %[[DW:.+]] = convseq.linear_weight_grad
// CHECK:         %[[SQ:.+]] = convseq.sum_of_squares %[[DW]], %[[DG]] : tensor<4x3xf32>, tensor<3xf32>
// CHECK:         %[[NORM:.+]] = math.sqrt %[[SQ]] : f64
// CHECK:         %[[CLIP:.+]] = arith.minimumf
// CHECK:         %[[STEP1:.+]] = arith.maxsi %[[STEP]], %{{.+}} : i64
// CHECK:         %[[T:.+]] = arith.sitofp %[[STEP1]] : i64 to f64
// CHECK:         %[[WARM:.+]] = arith.constant 1.000000e+01 : f64
// CHECK:         arith.maximumf %[[T]], %[[WARM]]
// CHECK:         %[[LR:.+]] = arith.divf
// CHECK:         %[[NEWW:.+]], %[[NEWWS:.+]]:2 = convseq.adafactor_update %[[W]], %[[DW]] state(%[[ROW]], %[[COL]]), %[[LR]], %[[CLIP]], %[[STEP1]] {relative_step}
// CHECK:         %[[NEWG:.+]], %[[NEWV:.+]] = convseq.adafactor_update %[[G]], %[[DG]] state(%[[V]]), %[[LR]], %[[CLIP]], %[[STEP1]] {relative_step}
// CHECK:         return %[[LOSS]], %{{.+}}, %{{.+}}, %[[NEWW]], %[[NEWG]], %[[NEWWS]]#0, %[[NEWWS]]#1, %[[NEWV]]
func.func @forward_train(%w: tensor<4x3xf32> {convseq.param = "w"},
                         %g: tensor<3xf32> {convseq.param = "g"},
                         %f: tensor<3x5xf32> {convseq.param = "f", convseq.frozen},
                         %x: tensor<2x7x4xf32> {convseq.io = "x"},
                         %t: tensor<2x7xi32> {convseq.io = "targets"},
                         %step: i64 {convseq.io = "step"})
    -> (tensor<f32> {convseq.io = "loss"})
    attributes {convseq.training = {optimizer = "adafactor", schedule = "inverse_sqrt", warmup_steps = 10 : i64, clip_norm = 1.0 : f64}} {
  %h = convseq.linear %x, %w : (tensor<2x7x4xf32>, tensor<4x3xf32>) -> tensor<2x7x3xf32>
  %n = convseq.rms_norm %h, %g {epsilon = 1.0e-06 : f64} : (tensor<2x7x3xf32>, tensor<3xf32>) -> tensor<2x7x3xf32>
  %y = convseq.linear %n, %f : (tensor<2x7x3xf32>, tensor<3x5xf32>) -> tensor<2x7x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<2x7x5xf32>, tensor<2x7xi32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// AdamW keeps two moments of every trainable parameter and applies the
// weight decay; without clipping the gradient scale is 1; the linear
// schedule is min(t / w, (T - t) / (T - w)), at least 0.

// CHECK-LABEL: func.func @loss_step(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<4x5xf64> {convseq.param = "w", convseq.updated},
// CHECK-SAME:    %[[STEP:[^:]+]]: i64 {convseq.io = "step"},
// CHECK-SAME:    %[[M:[^:]+]]: tensor<4x5xf64> {convseq.io = "opt.m.w", convseq.updated},
// CHECK-SAME:    %[[V:[^:]+]]: tensor<4x5xf64> {convseq.io = "opt.v.w", convseq.updated})
// CHECK:         %[[DW:.+]] = convseq.linear_weight_grad
// CHECK:         convseq.sum_of_squares %[[DW]]
// CHECK:         %[[ONE:.+]] = arith.constant 1.000000e+00 : f64
// CHECK:         %[[STEP1:.+]] = arith.maxsi %[[STEP]]
// CHECK:         %[[T:.+]] = arith.sitofp %[[STEP1]]
// CHECK:         arith.constant 1.000000e+02 : f64
// CHECK:         arith.constant 9.000000e+02 : f64
// CHECK:         arith.constant 0.000000e+00 : f64
// CHECK:         arith.maximumf
// CHECK:         %[[LR:.+]] = arith.mulf
// CHECK:         convseq.adamw_update %[[W]], %[[DW]], %[[M]], %[[V]], %[[LR]], %[[ONE]], %[[STEP1]] {weight_decay = 1.000000e-02 : f64} : tensor<4x5xf64>
func.func @loss(%w: tensor<4x5xf64> {convseq.param = "w"},
                %x: tensor<3x4xf64> {convseq.io = "x"},
                %t: tensor<3xi32> {convseq.io = "targets"},
                %step: i64 {convseq.io = "step"})
    -> (tensor<f64> {convseq.io = "loss"})
    attributes {convseq.training = {optimizer = "adamw", learning_rate = 1.0e-3 : f64, schedule = "linear_warmup_decay", warmup_steps = 100 : i64, steps = 1000 : i64, weight_decay = 0.01 : f64, clip_norm = 0.0 : f64}} {
  %y = convseq.linear %x, %w : (tensor<3x4xf64>, tensor<4x5xf64>) -> tensor<3x5xf64>
  %l = convseq.cross_entropy %y, %t : (tensor<3x5xf64>, tensor<3xi32>) -> tensor<f64>
  return %l : tensor<f64>
}

// -----

// Gradient accumulation: @train_grad adds the gradients of the trainable
// parameters to their accumulators in place (no accumulator for the frozen
// one); @train_apply clips the mean of k accumulated gradients (its norm is
// the accumulators' norm over k, and the scale carries 1/k) and updates
// the parameters and the optimizer state as @train_step would. No
// @train_step unless asked for.

// CHECK-NOT:   func.func @train_step(
// CHECK-LABEL: func.func @train_apply(
// CHECK-SAME:    %[[W:[^:]+]]: tensor<4x3xf32> {convseq.param = "w", convseq.updated},
// CHECK-SAME:    %[[F:[^:]+]]: tensor<3x5xf32> {convseq.frozen, convseq.param = "f"},
// CHECK-SAME:    %[[STEP:[^:]+]]: i64 {convseq.io = "step"},
// CHECK-SAME:    %[[K:[^:]+]]: i64 {convseq.io = "micro_batches"},
// CHECK-SAME:    %[[DW:[^:]+]]: tensor<4x3xf32> {convseq.io = "grad.w"},
// CHECK-SAME:    %[[M:[^:]+]]: tensor<4x3xf32> {convseq.io = "opt.m.w", convseq.updated},
// CHECK-SAME:    %[[V:[^:]+]]: tensor<4x3xf32> {convseq.io = "opt.v.w", convseq.updated})
// CHECK-SAME:    -> (tensor<f64> {convseq.io = "grad_norm"}, tensor<f64> {convseq.io = "learning_rate"},
// CHECK-SAME:        tensor<4x3xf32> {convseq.in_place = 0 : i64, convseq.param = "w"},
// CHECK-SAME:        tensor<4x3xf32> {convseq.in_place = 5 : i64, convseq.io = "opt.m.w"}, tensor<4x3xf32> {convseq.in_place = 6 : i64, convseq.io = "opt.v.w"})
// CHECK:         %[[K1:.+]] = arith.maxsi %[[K]], %{{.+}} : i64
// CHECK:         %[[KF:.+]] = arith.sitofp %[[K1]] : i64 to f64
// CHECK:         %[[MEAN:.+]] = arith.divf %{{.+}}, %[[KF]] : f64
// CHECK:         %[[SQ:.+]] = convseq.sum_of_squares %[[DW]] : tensor<4x3xf32>
// CHECK:         %[[ROOT:.+]] = math.sqrt %[[SQ]] : f64
// CHECK:         %[[NORM:.+]] = arith.mulf %[[MEAN]], %[[ROOT]] : f64
// CHECK:         %[[CLIP:.+]] = arith.minimumf
// CHECK:         %[[SCALE:.+]] = arith.mulf %[[MEAN]], %[[CLIP]] : f64
// CHECK:         %[[T:.+]] = arith.maxsi %[[STEP]], %{{.+}} : i64
// CHECK:         %[[NORMT:.+]] = tensor.from_elements %[[NORM]] : tensor<f64>
// CHECK:         convseq.adamw_update %[[W]], %[[DW]], %[[M]], %[[V]], %{{.+}}, %[[SCALE]], %[[T]]
// CHECK-LABEL: func.func @train_grad(
// CHECK-SAME:    %{{[^:]+}}: tensor<3x5xf32> {convseq.frozen, convseq.param = "f"},
// CHECK-SAME:    %[[STEP:[^:]+]]: i64 {convseq.io = "step"},
// CHECK-SAME:    %[[ACC:[^:]+]]: tensor<4x3xf32> {convseq.io = "grad.w", convseq.updated})
// CHECK-SAME:    -> (tensor<f32> {convseq.io = "loss"}, tensor<4x3xf32> {convseq.in_place = 5 : i64, convseq.io = "grad.w"})
// CHECK:         %[[LOSS:.+]] = convseq.cross_entropy
// CHECK:         %[[GW:.+]] = convseq.linear_weight_grad
// CHECK:         %[[SUM:.+]] = linalg.generic {{.+}} ins(%[[GW]] : tensor<4x3xf32>) outs(%[[ACC]] : tensor<4x3xf32>)
// CHECK:           arith.addf
// CHECK-NOT:     adamw_update
// CHECK:         return %[[LOSS]], %[[SUM]]
func.func @forward_train(%w: tensor<4x3xf32> {convseq.param = "w"},
                         %f: tensor<3x5xf32> {convseq.param = "f", convseq.frozen},
                         %x: tensor<2x7x4xf32> {convseq.io = "x"},
                         %t: tensor<2x7xi32> {convseq.io = "targets"},
                         %step: i64 {convseq.io = "step"})
    -> (tensor<f32> {convseq.io = "loss"})
    attributes {convseq.training = {optimizer = "adamw", learning_rate = 1.0e-3 : f64, schedule = "constant", clip_norm = 1.0 : f64, entry_points = ["grad", "apply"]}} {
  %h = convseq.linear %x, %w : (tensor<2x7x4xf32>, tensor<4x3xf32>) -> tensor<2x7x3xf32>
  %y = convseq.linear %h, %f : (tensor<2x7x3xf32>, tensor<3x5xf32>) -> tensor<2x7x5xf32>
  %l = convseq.cross_entropy %y, %t : (tensor<2x7x5xf32>, tensor<2x7xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
