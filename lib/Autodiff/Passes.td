//===- Passes.td - Training-graph generation ----------------*- tablegen -*-===//

#ifndef CONVSEQ_AUTODIFF_PASSES_TD
#define CONVSEQ_AUTODIFF_PASSES_TD

include "mlir/Pass/PassBase.td"

def GenerateVJPPass : Pass<"convseq-generate-vjp", "::mlir::ModuleOp"> {
  let summary = "Adds the vector-Jacobian product of functions (reverse mode)";
  let description = [{
    For each selected function `@f` (all functions when `functions` is
    empty) adds `@f_vjp`, which computes what `@f` computes and then its
    backward pass:

    * arguments: those of `@f`, then one cotangent per float tensor result
      (the gradient of the objective with respect to that result; `1.0`
      for a scalar loss);
    * results: those of `@f`, then the gradient of each float tensor
      argument not marked `convseq.frozen`, in argument order.

    Every op on a path from such an argument to a result must implement
    `DifferentiableOpInterface` (the convseq primitives do; run
    `convseq-decompose-blocks` first). Only those ops are differentiated,
    so a frozen parameter gets no gradient math. Names follow the entry
    points' convention: a cotangent of the result `convseq.io = "loss"` is
    `"grad.loss"`, the gradient of `convseq.param = "embedding"` is
    `convseq.io = "grad.embedding"`.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "The functions to differentiate (default: all)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::convseq::ConvSeqDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def GenerateTrainStepPass
    : Pass<"convseq-generate-train-step", "::mlir::ModuleOp"> {
  let summary = "Builds the training step of loss functions with settings";
  let description = [{
    For each function `@f` with a `convseq.training` dictionary (the front
    end puts one on `@forward_train`) adds its training step, `@train_step`
    for `@forward_train` and `@f_step` otherwise. `@f` must return one
    scalar loss and take an i64 argument `{convseq.io = "step"}`, the
    number of the update (1 for the first). The step:

    1. runs `@f` and its backward pass for every argument with
       `convseq.param` and without `convseq.frozen`;
    2. clips the gradients to the global norm `clip_norm` (0: off);
    3. computes the learning rate of this step from the schedule;
    4. updates each trainable parameter with `convseq.adamw_update` or
       `convseq.adafactor_update` (factored moments for matrices).

    Arguments: those of `@f`, then the optimizer state of each trainable
    parameter in order, named `opt.m.<p>`, `opt.v.<p>` (AdamW),
    `opt.v_row.<p>`, `opt.v_col.<p>` (Adafactor, matrices) or `opt.v.<p>`
    (Adafactor, others); zeros before the first step. Results: the loss,
    `grad_norm` and `learning_rate` (0-d f64), then the new parameters and
    the new state, each marked `convseq.in_place = <argument index>`.

    For gradient accumulation it can also build the step in two halves
    (key `entry_points`):
    - `@train_grad` (`@f_grad`): the forward and backward pass; takes an
      accumulator `grad.<p>` for each trainable parameter after the
      arguments of `@f` and adds the parameter's gradient to it in place.
      Results: the loss, then the accumulators.
    - `@train_apply` (`@f_apply`): takes the parameters of `@f`, `step`,
      `micro_batches` (i64, k) and the accumulators, then the optimizer
      state; clips and applies the mean of the k accumulated gradients as
      steps 2 to 4 above do. Results: `grad_norm` (of the mean) and
      `learning_rate`, then the new parameters and state, in place.

    The pass removes `convseq.training` from `@f`, so a second run adds
    nothing. Settings (absent keys take the model format's defaults):
    `optimizer` ("adafactor" | "adamw"), `learning_rate` (float; without it
    Adafactor takes relative steps), `schedule` ("constant" |
    "linear_warmup_decay" | "inverse_sqrt"), `warmup_steps`, `steps`,
    `weight_decay`, `clip_norm`, and `entry_points`: which functions to
    build, some of "step", "grad" and "apply" (default: ["step"]).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::convseq::ConvSeqDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // CONVSEQ_AUTODIFF_PASSES_TD
