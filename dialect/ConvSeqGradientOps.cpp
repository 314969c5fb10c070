//===- ConvSeqGradientOps.cpp - Verifiers of the backward-pass ops --------===//
//
// The gradient ops take the forward op's operands and attributes, so they
// check the same shapes, plus the gradient operand against the forward
// result and the result against the forward operand it is the gradient of.
//
//===----------------------------------------------------------------------===//

#include "dialect/ConvSeqOps.h"
#include "dialect/ShapeChecks.h"

#include <cmath>

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::detail;

LogicalResult LinearWeightGradOp::verify() {
  Operation *op = getOperation();
  if (failed(checkMinRank(op, "input", getInput(), 1)))
    return failure();
  ArrayRef<int64_t> x = getInput().getType().getShape();
  int64_t outWidth = getResultGrad().getType().getShape().empty()
                         ? kDyn
                         : getResultGrad().getType().getShape().back();
  SmallVector<int64_t> expected(x.drop_back());
  expected.push_back(outWidth);
  if (failed(checkShape(op, "result_grad", getResultGrad(), expected,
                        "the input's shape with the output width")))
    return failure();
  return getTransposeWeight() ? checkShape(op, "result", getResult(),
                                           {outWidth, x.back()}, "[out, in]")
                              : checkShape(op, "result", getResult(),
                                           {x.back(), outWidth}, "[in, out]");
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

namespace {

/// Checks a convolution gradient's attributes, the `[B, L, D]` sequence
/// operand `sequence` (called `name`), the mask, and the taps `weight`
/// (called `weightName`) against the shape the variant gives them.
LogicalResult verifyConvGrad(Operation *op, ConvVariant variant, StringRef name,
                             Value sequence, StringRef weightName, Value weight,
                             Value mask, int64_t kernelSize, int64_t heads,
                             int64_t dilation) {
  if (failed(checkRank(op, name, sequence, 3, "[B, L, D]")) ||
      failed(checkConvAttrs(op, kernelSize, dilation)))
    return failure();
  ArrayRef<int64_t> s = tensorType(sequence).getShape();
  if (failed(checkMask(op, "mask", mask, s[0], s[1])))
    return failure();
  if (variant != ConvVariant::dilated) {
    if (dilation != 1)
      return op->emitOpError()
             << "dilation must be 1 for a " << stringifyConvVariant(variant)
             << " convolution, got " << dilation;
    if (failed(checkHeads(op, s[2], heads)))
      return failure();
  }
  switch (variant) {
  case ConvVariant::lightweight:
    return checkShape(op, weightName, weight, {heads, kernelSize},
                      "[heads, kernel_size]");
  case ConvVariant::dynamic:
    return checkShape(op, weightName, weight, {s[0], s[1], heads, kernelSize},
                      "[B, L, heads, kernel_size]");
  case ConvVariant::dilated:
    return checkShape(op, weightName, weight, {s[2], kernelSize},
                      "[D, kernel_size]");
  }
  llvm_unreachable("unknown conv variant");
}

} // namespace

LogicalResult ConvInputGradOp::verify() {
  return verifyConvGrad(getOperation(), getVariant(), "result_grad",
                        getResultGrad(), "weight", getWeight(), getMask(),
                        getKernelSize(), getHeads(), getDilation());
}

LogicalResult ConvWeightGradOp::verify() {
  return verifyConvGrad(getOperation(), getVariant(), "input", getInput(),
                        "weight_grad", getWeightGrad(), getMask(),
                        getKernelSize(), getHeads(), getDilation());
}

//===----------------------------------------------------------------------===//
// Normalization, embedding, attention, loss
//===----------------------------------------------------------------------===//

LogicalResult RMSNormGradOp::verify() {
  return verifyRMSNorm(getOperation(), getInput(), "scale", getScale(),
                       getEpsilon().convertToDouble());
}

LogicalResult RMSNormScaleGradOp::verify() {
  return verifyRMSNorm(getOperation(), getInput(), "scale_grad", getScaleGrad(),
                       getEpsilon().convertToDouble());
}

LogicalResult EmbeddingGradOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "table_grad", getTableGrad(), 2, "[V, D]")))
    return failure();
  ArrayRef<int64_t> table = getTableGrad().getType().getShape();
  if (isDyn(table[0]))
    return emitOpError("needs a static vocabulary size in 'table_grad'");
  SmallVector<int64_t> expected(getIds().getType().getShape());
  expected.push_back(table[1]);
  return checkShape(op, "result_grad", getResultGrad(), expected,
                    "the ids' shape with D");
}

double DotProductAttentionGradOp::getEffectiveScale() {
  return attentionScale(getScale(), getQuery());
}

LogicalResult DotProductAttentionGradOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "query", getQuery(), 4, "[B, H, T, E]")) ||
      failed(checkRank(op, "value", getValue(), 4, "[B, H, S, F]")) ||
      failed(verifyAttentionOperands(
          op, getQuery(), getKey(), getValue(), getKeyMask(), getScale(),
          getCausal(), getDropout().convertToDouble(), getSeed() != nullptr)))
    return failure();
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  SmallVector<int64_t> resultShape = {q[0], q[1], q[2],
                                      getValue().getType().getDimSize(3)};
  if (failed(checkShape(op, "result_grad", getResultGrad(), resultShape,
                        "[B, H, T, F]")))
    return failure();
  Value output = getOutput();
  if (!output)
    return success();
  if (failed(checkShape(op, "output", output, resultShape, "[B, H, T, F]")))
    return failure();
  if (tensorType(output).getElementType() !=
      getQuery().getType().getElementType())
    return emitOpError("expects 'output' of the query's element type, got ")
           << output.getType();
  return success();
}

LogicalResult CrossEntropyGradOp::verify() {
  Operation *op = getOperation();
  if (failed(checkMinRank(op, "logits", getLogits(), 1)) ||
      failed(checkRank(op, "result_grad", getResultGrad(), 0, "(the loss)")))
    return failure();
  return verifyCrossEntropy(op, getLogits(), getTargets(),
                            getLabelSmoothing().convertToDouble());
}
