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

#endif // CONVSEQ_AUTODIFF_PASSES_TD
