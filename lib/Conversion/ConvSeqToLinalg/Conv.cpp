//===- Conv.cpp - The depthwise convolutions to linalg --------------------===//
//
// All three convolutions are one loop nest (b, i, j, c) over output position,
// tap and channel, reading a zero-padded copy of the (masked) input at
// position i + r * j. They differ only in where the tap weight comes from:
//
//   lightweight  weight[c floordiv (D/H), j]
//   dynamic      kernel[b, i, c floordiv (D/H), j]
//   dilated      weight[c, j]
//
//===----------------------------------------------------------------------===//

#include "lib/Conversion/ConvSeqToLinalg/PopulatePatterns.h"
#include "lib/Conversion/ConvSeqToLinalg/Utils.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::lowering;

namespace {

/// Zeroes the positions of `input` ([B, L, D]) where `mask` ([B, L]) is false.
Value applyMask(OpBuilder &b, Location loc, Value input, Value mask) {
  MLIRContext *ctx = b.getContext();
  AffineExpr batch, pos, chan;
  bindDims(ctx, batch, pos, chan);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(3, ctx);
  AffineMap maskMap = AffineMap::get(3, 0, {batch, pos}, ctx);
  auto type = cast<RankedTensorType>(input.getType());
  Value init = createEmpty(b, loc, getSizes(b, loc, input),
                           type.getElementType());
  SmallVector<utils::IteratorType> parallel(3, utils::IteratorType::parallel);
  return buildGeneric(
             b, loc, {input, mask}, init, {identity, maskMap, identity},
             parallel,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value zero =
                   floatConstant(nb, nl, type.getElementType(), 0.0);
               return SmallVector<Value>{
                   arith::SelectOp::create(nb, nl, args[1], args[0], zero)};
             })
      .front();
}

/// The shared loop nest. `weightMap` maps the loops (b, i, j, c) to the
/// weight operand.
Value buildDepthwiseConv(OpBuilder &b, Location loc, Value input, Value mask,
                         Value weight, AffineMap weightMap, int64_t kernelSize,
                         int64_t dilation, bool causal) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  Type elementType = type.getElementType();
  if (mask)
    input = applyMask(b, loc, input, mask);

  // Inputs outside [0, L) read as zero: pad p*r rows before, (k-1-p)*r after.
  int64_t before = convPaddingTaps(kernelSize, causal) * dilation;
  int64_t after = (kernelSize - 1) * dilation - before;
  SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(before),
                                   b.getIndexAttr(0)};
  SmallVector<OpFoldResult> high = {b.getIndexAttr(0), b.getIndexAttr(after),
                                    b.getIndexAttr(0)};
  Value padded = tensor::PadOp::create(b, loc, Type(), input, low, high,
                                       floatConstant(b, loc, elementType, 0.0));

  // Loops (b, i, j, c): the channel innermost, so each tap streams a
  // contiguous row of the input into a contiguous row of the output.
  AffineExpr batch, pos, tap, chan;
  bindDims(ctx, batch, pos, tap, chan);
  AffineMap inputMap =
      AffineMap::get(4, 0, {batch, pos + tap * dilation, chan}, ctx);
  AffineMap outputMap = AffineMap::get(4, 0, {batch, pos, chan}, ctx);
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators[2] = utils::IteratorType::reduction;
  Value init =
      createFilled(b, loc, getSizes(b, loc, input), elementType, 0.0);
  return buildGeneric(b, loc, {padded, weight}, init,
                      {inputMap, weightMap, outputMap}, iterators,
                      multiplyAccumulate)
      .front();
}

/// The static number of channels per head, D / H.
FailureOr<int64_t> channelsPerHead(Value input, int64_t heads) {
  int64_t width = cast<RankedTensorType>(input.getType()).getDimSize(2);
  if (ShapedType::isDynamic(width))
    return failure();
  return width / heads;
}

/// Where a convolution reads its tap weights: the operand, its map over the
/// loops (b, i, j, c), and the spacing of the taps. `loops` holds the loop
/// expressions named as batch, position, channel, tap.
struct Taps {
  Value weight;
  AffineMap map;
  int64_t dilation;
};

FailureOr<Taps> getTaps(LightweightConvOp op,
                        LightweightConvOp::Adaptor adaptor,
                        ArrayRef<AffineExpr> loops) {
  FailureOr<int64_t> group = channelsPerHead(adaptor.getInput(), op.getHeads());
  if (failed(group))
    return failure();
  return Taps{adaptor.getWeight(),
              AffineMap::get(4, 0, {loops[2].floorDiv(*group), loops[3]},
                             op.getContext()),
              1};
}

FailureOr<Taps> getTaps(DynamicConvOp op, DynamicConvOp::Adaptor adaptor,
                        ArrayRef<AffineExpr> loops) {
  FailureOr<int64_t> group = channelsPerHead(adaptor.getInput(), op.getHeads());
  if (failed(group))
    return failure();
  return Taps{adaptor.getKernel(),
              AffineMap::get(4, 0,
                             {loops[0], loops[1], loops[2].floorDiv(*group),
                              loops[3]},
                             op.getContext()),
              1};
}

FailureOr<Taps> getTaps(DilatedConvOp op, DilatedConvOp::Adaptor adaptor,
                        ArrayRef<AffineExpr> loops) {
  return Taps{adaptor.getWeight(),
              AffineMap::get(4, 0, {loops[2], loops[3]}, op.getContext()),
              static_cast<int64_t>(op.getDilation())};
}

struct ApplyMaskLowering : OpConversionPattern<ApplyMaskOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ApplyMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, applyMask(rewriter, op.getLoc(), adaptor.getInput(),
                                     adaptor.getMask()));
    return success();
  }
};

template <typename OpTy>
struct DepthwiseConvLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // batch, position, channel, tap of the loop nest (b, i, j, c).
    SmallVector<AffineExpr, 4> loops = {
        rewriter.getAffineDimExpr(0), rewriter.getAffineDimExpr(1),
        rewriter.getAffineDimExpr(3), rewriter.getAffineDimExpr(2)};
    FailureOr<Taps> taps = getTaps(op, adaptor, loops);
    if (failed(taps))
      return rewriter.notifyMatchFailure(op, "model width must be static");
    rewriter.replaceOp(
        op, buildDepthwiseConv(rewriter, op.getLoc(), adaptor.getInput(),
                               adaptor.getMask(), taps->weight, taps->map,
                               op.getKernelSize(), taps->dilation,
                               op.getCausal()));
    return success();
  }
};

} // namespace

void lowering::populateConvPatterns(RewritePatternSet &patterns) {
  patterns.add<ApplyMaskLowering, DepthwiseConvLowering<LightweightConvOp>,
               DepthwiseConvLowering<DynamicConvOp>,
               DepthwiseConvLowering<DilatedConvOp>>(patterns.getContext());
}
