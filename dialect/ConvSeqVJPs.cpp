//===- ConvSeqVJPs.cpp - Gradient rules of the convseq primitives ---------===//
//
// DifferentiableOpInterface for every primitive between the parameters and
// the loss. A rule reads the forward op's operands and results and builds
// only the gradients that are wanted. Linear pieces reuse forward ops
// (dx = dy W^T is a convseq.linear, dropout's gradient is the same dropout,
// split_heads and merge_heads invert each other); the rest use the ops of
// ConvSeqGradientOps.td.
//
//===----------------------------------------------------------------------===//

#include "dialect/ConvSeqOps.h"

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// One null gradient per operand of `op`, for a rule to fill.
SmallVector<Value> noGradients(Operation *op) {
  return SmallVector<Value>(op->getNumOperands());
}

} // namespace

//===----------------------------------------------------------------------===//
// Dense layers and element-wise ops
//===----------------------------------------------------------------------===//

SmallVector<Value> LinearOp::buildVJP(OpBuilder &b, ValueRange resultGradients,
                                      ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  Value dy = resultGradients[0];
  double scale = getScale().convertToDouble();
  // y = s x W: dx = s dy W^T, the same weight read the other way round.
  if (wanted[0])
    grads[0] = LinearOp::create(b, getLoc(), dy, getWeight(),
                                !getTransposeWeight(), scale);
  if (wanted[1])
    grads[1] = LinearWeightGradOp::create(
        b, getLoc(), getWeight().getType(), getInput(), dy,
        getTransposeWeightAttr(), getScaleAttr());
  return grads;
}

SmallVector<Value> GLUOp::buildVJP(OpBuilder &b, ValueRange resultGradients,
                                   ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (!wanted[0] && !wanted[1])
    return grads;
  auto grad = GLUGradOp::create(b, getLoc(), getType(), getType(), getValue(),
                                getGate(), resultGradients[0]);
  if (wanted[0])
    grads[0] = grad.getValueGrad();
  if (wanted[1])
    grads[1] = grad.getGateGrad();
  return grads;
}

/// The tensor relu_grad reads its mask from, given the gradient `grad` of
/// relu's result: one positive exactly where relu's input is, wherever
/// `grad` is not zero, and kept for the backward pass anyway, so that relu's
/// input need not be.
/// - relu's result: positive exactly where its input is.
/// - In an FFN, relu's result goes through dropout (T5) into the output
///   projection, whose weight gradient keeps the dropout's result. `grad`
///   is then the same dropout (same key) of the dropout's gradient, zero
///   wherever the mask dropped an element; where it kept one, the
///   dropout's result is relu's times 1 / (1 - rate), with the same sign.
static Value maskForGradient(ReluOp relu, Value grad) {
  auto gradDropout = grad.getDefiningOp<DropoutOp>();
  if (!gradDropout)
    return relu.getResult();
  auto sameMask = [&](DropoutOp dropout) {
    return dropout.getSeed() == gradDropout.getSeed() &&
           dropout.getStep() == gradDropout.getStep() &&
           dropout.getRate() == gradDropout.getRate() &&
           dropout.getStream() == gradDropout.getStream() &&
           dropout.getType() == gradDropout.getType();
  };
  for (Operation *user : relu.getResult().getUsers())
    if (auto dropout = dyn_cast<DropoutOp>(user);
        dropout && dropout != gradDropout && sameMask(dropout))
      return dropout.getResult();
  return relu.getResult();
}

SmallVector<Value> ReluOp::buildVJP(OpBuilder &b, ValueRange resultGradients,
                                    ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (wanted[0])
    grads[0] = ReluGradOp::create(b, getLoc(),
                                  maskForGradient(*this, resultGradients[0]),
                                  resultGradients[0]);
  return grads;
}

SmallVector<Value> GeluOp::buildVJP(OpBuilder &b, ValueRange resultGradients,
                                    ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (wanted[0])
    grads[0] = GeluGradOp::create(b, getLoc(), getInput(), resultGradients[0]);
  return grads;
}

SmallVector<Value> SoftmaxOp::buildVJP(OpBuilder &b, ValueRange resultGradients,
                                       ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  // The rule reads the softmax's own result, so nothing is recomputed.
  if (wanted[0])
    grads[0] =
        SoftmaxGradOp::create(b, getLoc(), getResult(), resultGradients[0]);
  return grads;
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

namespace {

/// The rule all three convolutions share: the input gradient is the
/// transposed convolution with the same taps, the taps' gradient a
/// correlation of the input with dy. `heads` is 1 and `dilation` 1 where
/// the variant has none.
SmallVector<Value> buildConvVJP(OpBuilder &b, Operation *op,
                                ConvVariant variant, Value input, Value taps,
                                Value mask, Value dy, int64_t kernelSize,
                                int64_t heads, int64_t dilation, bool causal,
                                ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(op);
  Location loc = op->getLoc();
  if (wanted[0])
    grads[0] =
        ConvInputGradOp::create(b, loc, input.getType(), taps, dy, mask,
                                variant, kernelSize, heads, dilation, causal);
  if (wanted[1])
    grads[1] =
        ConvWeightGradOp::create(b, loc, taps.getType(), input, dy, mask,
                                 variant, kernelSize, heads, dilation, causal);
  return grads;
}

} // namespace

SmallVector<Value> LightweightConvOp::buildVJP(OpBuilder &b,
                                               ValueRange resultGradients,
                                               ArrayRef<bool> wanted) {
  return buildConvVJP(b, *this, ConvVariant::lightweight, getInput(),
                      getWeight(), getMask(), resultGradients[0],
                      getKernelSize(), getHeads(), /*dilation=*/1, getCausal(),
                      wanted);
}

SmallVector<Value> DynamicConvOp::buildVJP(OpBuilder &b,
                                           ValueRange resultGradients,
                                           ArrayRef<bool> wanted) {
  return buildConvVJP(b, *this, ConvVariant::dynamic, getInput(), getKernel(),
                      getMask(), resultGradients[0], getKernelSize(),
                      getHeads(), /*dilation=*/1, getCausal(), wanted);
}

SmallVector<Value> DilatedConvOp::buildVJP(OpBuilder &b,
                                           ValueRange resultGradients,
                                           ArrayRef<bool> wanted) {
  return buildConvVJP(b, *this, ConvVariant::dilated, getInput(), getWeight(),
                      getMask(), resultGradients[0], getKernelSize(),
                      /*heads=*/1, getDilation(), getCausal(), wanted);
}

SmallVector<Value> ApplyMaskOp::buildVJP(OpBuilder &b,
                                         ValueRange resultGradients,
                                         ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (wanted[0])
    grads[0] = ApplyMaskOp::create(b, getLoc(), resultGradients[0], getMask());
  return grads;
}

//===----------------------------------------------------------------------===//
// Normalization, embedding, positions, dropout
//===----------------------------------------------------------------------===//

SmallVector<Value> RMSNormOp::buildVJP(OpBuilder &b, ValueRange resultGradients,
                                       ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  Value dy = resultGradients[0];
  if (wanted[0])
    grads[0] = RMSNormGradOp::create(b, getLoc(), getType(), getInput(),
                                     getScale(), dy, getEpsilonAttr());
  if (wanted[1])
    grads[1] = RMSNormScaleGradOp::create(b, getLoc(), getScale().getType(),
                                          getInput(), dy, getEpsilonAttr());
  return grads;
}

SmallVector<Value> EmbeddingOp::buildVJP(OpBuilder &b,
                                         ValueRange resultGradients,
                                         ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (wanted[1])
    grads[1] = EmbeddingGradOp::create(b, getLoc(), getTable().getType(),
                                       getIds(), resultGradients[0]);
  return grads;
}

SmallVector<Value> AddPositionsOp::buildVJP(OpBuilder &,
                                            ValueRange resultGradients,
                                            ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (wanted[0])
    grads[0] = resultGradients[0];
  return grads;
}

SmallVector<Value> DropoutOp::buildVJP(OpBuilder &b, ValueRange resultGradients,
                                       ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  // Dropout is linear in its input: the same key drops the same elements
  // and scales the kept ones by the same 1 / (1 - rate).
  if (wanted[0])
    grads[0] =
        DropoutOp::create(b, getLoc(), getType(), resultGradients[0], getSeed(),
                          getStep(), getRateAttr(), getStreamAttr());
  return grads;
}

//===----------------------------------------------------------------------===//
// Attention and the loss
//===----------------------------------------------------------------------===//

SmallVector<Value> SplitHeadsOp::buildVJP(OpBuilder &b,
                                          ValueRange resultGradients,
                                          ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (wanted[0])
    grads[0] = MergeHeadsOp::create(b, getLoc(), resultGradients[0]);
  return grads;
}

SmallVector<Value> MergeHeadsOp::buildVJP(OpBuilder &b,
                                          ValueRange resultGradients,
                                          ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (!wanted[0])
    return grads;
  int64_t heads = getInput().getType().getDimSize(1);
  if (ShapedType::isDynamic(heads)) {
    emitOpError("cannot be differentiated with a dynamic number of heads");
    return {};
  }
  grads[0] = SplitHeadsOp::create(b, getLoc(), resultGradients[0], heads);
  return grads;
}

SmallVector<Value> DotProductAttentionOp::buildVJP(OpBuilder &b,
                                                   ValueRange resultGradients,
                                                   ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (!wanted[0] && !wanted[1] && !wanted[2])
    return grads;
  auto grad = DotProductAttentionGradOp::create(
      b, getLoc(),
      TypeRange{getQuery().getType(), getKey().getType(), getValue().getType()},
      getQuery(), getKey(), getValue(), resultGradients[0], getResult(),
      getKeyMask(),
      getSeed(), getStep(), getScaleAttr(), getCausalAttr(), getDropoutAttr(),
      getStreamAttr());
  for (unsigned i = 0; i < 3; ++i)
    if (wanted[i])
      grads[i] = grad->getResult(i);
  return grads;
}

SmallVector<Value> CrossEntropyOp::buildVJP(OpBuilder &b,
                                            ValueRange resultGradients,
                                            ArrayRef<bool> wanted) {
  SmallVector<Value> grads = noGradients(*this);
  if (wanted[0])
    grads[0] = CrossEntropyGradOp::create(
        b, getLoc(), getLogits().getType(), getLogits(), getTargets(),
        resultGradients[0], getPadIdAttr(), getLabelSmoothingAttr());
  return grads;
}
