//===- UpstreamVJPs.cpp - Gradient rules of upstream ops ------------------===//
//
// External models of DifferentiableOpInterface for the few upstream ops the
// model graphs contain between parameters and loss.
//
//===----------------------------------------------------------------------===//

#include "lib/Autodiff/Autodiff.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// x + y (a residual connection): both get dz.
struct AddFVJP
    : DifferentiableOpInterface::ExternalModel<AddFVJP, arith::AddFOp> {
  SmallVector<Value> buildVJP(Operation *op, OpBuilder &,
                              ValueRange resultGradients,
                              ArrayRef<bool> wanted) const {
    SmallVector<Value> grads(2);
    for (unsigned i = 0; i < 2; ++i)
      if (wanted[i])
        grads[i] = resultGradients[0];
    return grads;
  }
};

/// A reshape's gradient is the inverse reshape of dy.
struct ExpandShapeVJP
    : DifferentiableOpInterface::ExternalModel<ExpandShapeVJP,
                                               tensor::ExpandShapeOp> {
  SmallVector<Value> buildVJP(Operation *op, OpBuilder &b,
                              ValueRange resultGradients,
                              ArrayRef<bool> wanted) const {
    auto expand = cast<tensor::ExpandShapeOp>(op);
    SmallVector<Value> grads(op->getNumOperands());
    if (wanted[0])
      grads[0] = tensor::CollapseShapeOp::create(
          b, op->getLoc(), expand.getSrcType(), resultGradients[0],
          expand.getReassociationIndices());
    return grads;
  }
};

struct CollapseShapeVJP
    : DifferentiableOpInterface::ExternalModel<CollapseShapeVJP,
                                               tensor::CollapseShapeOp> {
  SmallVector<Value> buildVJP(Operation *op, OpBuilder &b,
                              ValueRange resultGradients,
                              ArrayRef<bool> wanted) const {
    auto collapse = cast<tensor::CollapseShapeOp>(op);
    SmallVector<Value> grads(op->getNumOperands());
    if (wanted[0])
      grads[0] = tensor::ExpandShapeOp::create(
          b, op->getLoc(), collapse.getSrcType(), resultGradients[0],
          collapse.getReassociationIndices(),
          tensor::getMixedSizes(b, op->getLoc(), collapse.getSrc()));
    return grads;
  }
};

} // namespace

void mlir::convseq::registerUpstreamVJPs(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *) {
    arith::AddFOp::attachInterface<AddFVJP>(*ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::ExpandShapeOp::attachInterface<ExpandShapeVJP>(*ctx);
    tensor::CollapseShapeOp::attachInterface<CollapseShapeVJP>(*ctx);
  });
}
