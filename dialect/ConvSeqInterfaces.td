//===- ConvSeqInterfaces.td - Op interfaces of convseq ------*- tablegen -*-===//
//
// The interface reverse-mode differentiation (lib/Autodiff) builds the
// backward pass through. Every differentiable convseq primitive implements
// it in dialect/ConvSeqVJPs.cpp; the upstream ops the model graphs use
// (tensor arith.addf, tensor.expand_shape, tensor.collapse_shape) get
// external models in lib/Autodiff/UpstreamVJPs.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_INTERFACES_TD
#define CONVSEQ_INTERFACES_TD

include "mlir/IR/OpBase.td"

def ConvSeq_DifferentiableOpInterface
    : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::mlir::convseq";
  let description = [{
    An op whose vector-Jacobian product can be built from ops: given the
    gradient of the loss with respect to each result, the gradient with
    respect to each operand. Rules are written with the value semantics of
    the forward op: they may read its operands and results, never modify
    them, and they add no side effects, so the backward ops can be placed
    anywhere after the forward op.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at `builder`'s insertion point, the gradients of this op's
        operands from `resultGradients` (one per result, never null).
        Returns one value per operand: its gradient, with the operand's
        type, where `wanted` is true and the operand is differentiable, and
        a null value elsewhere. A rule builds nothing for an operand that
        is not wanted, so a frozen weight costs no weight-gradient math.
        A rule that cannot build a gradient it is asked for reports an
        error at the op and returns an empty vector.
      }],
      "::llvm::SmallVector<::mlir::Value>", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$resultGradients,
           "::llvm::ArrayRef<bool>":$wanted)>
  ];
}

#endif // CONVSEQ_INTERFACES_TD
