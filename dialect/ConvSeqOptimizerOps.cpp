//===- ConvSeqOptimizerOps.cpp - Verifiers of the optimizer ops -----------===//

#include "dialect/ConvSeqOps.h"
#include "dialect/ShapeChecks.h"

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::detail;

namespace {

/// Checks that the hyperparameter `name` lies in [low, high) (or (low, high)
/// when `lowOpen`).
LogicalResult checkRange(Operation *op, StringRef name, APFloat value,
                         double low, double high, bool lowOpen = false) {
  double v = value.convertToDouble();
  bool aboveLow = lowOpen ? v > low : v >= low;
  if (aboveLow && v < high)
    return success();
  return op->emitOpError() << name << " must be in " << (lowOpen ? "(" : "[")
                           << formatNumber(low) << ", " << formatNumber(high)
                           << "), got " << formatNumber(v);
}

constexpr double kInf = std::numeric_limits<double>::infinity();

} // namespace

LogicalResult SumOfSquaresOp::verify() {
  if (getInputs().empty())
    return emitOpError("expects at least one input");
  return success();
}

LogicalResult AdamWUpdateOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRange(op, "beta1", getBeta1Attr().getValue(), 0.0, 1.0)) ||
      failed(checkRange(op, "beta2", getBeta2Attr().getValue(), 0.0, 1.0)) ||
      failed(checkRange(op, "epsilon", getEpsilonAttr().getValue(), 0.0, kInf,
                        /*lowOpen=*/true)))
    return failure();
  return checkRange(op, "weight_decay", getWeightDecayAttr().getValue(), 0.0,
                    kInf);
}

LogicalResult AdafactorUpdateOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getParam().getType());
  llvm::append_range(types, adaptor.getState().getTypes());
  return success();
}

LogicalResult AdafactorUpdateOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRange(op, "epsilon1", getEpsilon1Attr().getValue(), 0.0,
                        kInf, /*lowOpen=*/true)) ||
      failed(checkRange(op, "epsilon2", getEpsilon2Attr().getValue(), 0.0,
                        kInf)) ||
      failed(checkRange(op, "clip_threshold",
                        getClipThresholdAttr().getValue(), 0.0, kInf,
                        /*lowOpen=*/true)) ||
      failed(checkRange(op, "decay_rate", getDecayRateAttr().getValue(), 0.0,
                        kInf, /*lowOpen=*/true)) ||
      failed(checkRange(op, "weight_decay", getWeightDecayAttr().getValue(),
                        0.0, kInf)))
    return failure();
  RankedTensorType param = getParam().getType();
  for (Value state : getState())
    if (tensorType(state).getElementType() != param.getElementType())
      return emitOpError() << "expects the state of element type "
                           << param.getElementType() << ", got "
                           << state.getType();
  if (getState().size() == 1)
    return checkShape(op, "state", getState()[0], param.getShape(),
                      "the parameter's shape");
  if (getState().size() != 2)
    return emitOpError() << "expects one state operand (the second moment) or "
                            "two (factored row and column moments), got "
                         << getState().size();
  if (failed(checkRank(op, "param", getParam(), 2,
                       "[n, m] to factor its second moments")))
    return failure();
  if (failed(checkShape(op, "row state", getState()[0],
                        {param.getDimSize(0)}, "[n]")))
    return failure();
  return checkShape(op, "column state", getState()[1], {param.getDimSize(1)},
                    "[m]");
}
