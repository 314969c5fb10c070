//===- Conv.cpp - The depthwise convolutions and gradients to linalg ------===//
//
// All three convolutions are one loop nest (b, i, j, c) over output position,
// tap and channel, reading a zero-padded copy of the (masked) input at
// position i + r * j. They differ only in where the tap weight comes from:
//
//   lightweight  weight[c floordiv (D/H), j]
//   dynamic      kernel[b, i, c floordiv (D/H), j]
//   dilated      weight[c, j]
//
// The input gradient is the same nest over dy padded the other way round
// (tap j of output t reads dy at t + r (k - 1 - j)); the weight gradients
// correlate dy with the padded input, reducing over what the taps share.
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
  Value init =
      createEmpty(b, loc, getSizes(b, loc, input), type.getElementType());
  SmallVector<utils::IteratorType> parallel(3, utils::IteratorType::parallel);
  return buildGeneric(b, loc, {input, mask}, init,
                      {identity, maskMap, identity}, parallel,
                      [&](OpBuilder &nb, Location nl, ValueRange args) {
                        Value zero =
                            floatConstant(nb, nl, type.getElementType(), 0.0);
                        return SmallVector<Value>{arith::SelectOp::create(
                            nb, nl, args[1], args[0], zero)};
                      })
      .front();
}

/// Pads `value` ([B, L, ...]) with `before` and `after` zero rows along L.
Value padPositions(OpBuilder &b, Location loc, Value value, int64_t before,
                   int64_t after) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> low(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> high(type.getRank(), b.getIndexAttr(0));
  low[1] = b.getIndexAttr(before);
  high[1] = b.getIndexAttr(after);
  return tensor::PadOp::create(
      b, loc, Type(), value, low, high,
      floatConstant(b, loc, type.getElementType(), 0.0));
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
  Value padded = padPositions(b, loc, input, before, after);

  // Loops (b, i, j, c): the channel innermost, so each tap streams a
  // contiguous row of the input into a contiguous row of the output.
  AffineExpr batch, pos, tap, chan;
  bindDims(ctx, batch, pos, tap, chan);
  AffineMap inputMap =
      AffineMap::get(4, 0, {batch, pos + tap * dilation, chan}, ctx);
  AffineMap outputMap = AffineMap::get(4, 0, {batch, pos, chan}, ctx);
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators[2] = utils::IteratorType::reduction;
  Value init = createFilled(b, loc, getSizes(b, loc, input), elementType, 0.0);
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
  return Taps{
      adaptor.getKernel(),
      AffineMap::get(4, 0,
                     {loops[0], loops[1], loops[2].floorDiv(*group), loops[3]},
                     op.getContext()),
      1};
}

FailureOr<Taps> getTaps(DilatedConvOp op, DilatedConvOp::Adaptor adaptor,
                        ArrayRef<AffineExpr> loops) {
  return Taps{adaptor.getWeight(),
              AffineMap::get(4, 0, {loops[2], loops[3]}, op.getContext()),
              static_cast<int64_t>(op.getDilation())};
}

/// The kernel width k, dilation r and padding p (in taps) of a convolution
/// gradient; fails when the heads need a static model width that
/// `sequence` ([B, L, D]) does not have.
struct ConvGeometry {
  int64_t k, r, p;
};

template <typename OpTy>
FailureOr<ConvGeometry> getConvGeometry(OpTy op, Value sequence) {
  if (op.getVariant() != ConvVariant::dilated &&
      cast<RankedTensorType>(sequence.getType()).isDynamicDim(2))
    return failure();
  int64_t k = op.getKernelSize();
  return ConvGeometry{k, static_cast<int64_t>(op.getDilation()),
                      convPaddingTaps(k, op.getCausal())};
}

/// dx[b, t, c] = sum_j w(b, t + r (p - j), c, j) dy[b, t + r (p - j), c]:
/// dy (and a dynamic kernel) padded with r (k - 1 - p) rows before and r p
/// after, read at t + r (k - 1 - j); masked positions get zero.
struct ConvInputGradLowering : OpConversionPattern<ConvInputGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConvInputGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value dy = adaptor.getResultGrad(), weight = adaptor.getWeight();
    Type elementType = cast<RankedTensorType>(dy.getType()).getElementType();
    ConvVariant variant = op.getVariant();
    FailureOr<ConvGeometry> geometry = getConvGeometry(op, dy);
    if (failed(geometry))
      return rewriter.notifyMatchFailure(op, "model width must be static");
    auto [k, r, p] = *geometry;
    Value padded = padPositions(rewriter, loc, dy, (k - 1 - p) * r, p * r);

    // Loops (b, t, j, c).
    AffineExpr batch, pos, tap, chan;
    bindDims(ctx, batch, pos, tap, chan);
    AffineExpr source = pos + (k - 1) * r - tap * r;
    AffineMap weightMap;
    switch (variant) {
    case ConvVariant::lightweight:
      weightMap =
          AffineMap::get(4, 0, {chan.floorDiv(op.getHeadWidth()), tap}, ctx);
      break;
    case ConvVariant::dynamic:
      weight = padPositions(rewriter, loc, weight, k - 1 - p, p);
      weightMap = AffineMap::get(
          4, 0, {batch, source, chan.floorDiv(op.getHeadWidth()), tap}, ctx);
      break;
    case ConvVariant::dilated:
      weightMap = AffineMap::get(4, 0, {chan, tap}, ctx);
      break;
    }
    SmallVector<utils::IteratorType> iterators(4,
                                               utils::IteratorType::parallel);
    iterators[2] = utils::IteratorType::reduction;
    Value init = createFilled(rewriter, loc, getSizes(rewriter, loc, dy),
                              elementType, 0.0);
    Value grad =
        buildGeneric(rewriter, loc, {padded, weight}, init,
                     {AffineMap::get(4, 0, {batch, source, chan}, ctx),
                      weightMap, AffineMap::get(4, 0, {batch, pos, chan}, ctx)},
                     iterators, multiplyAccumulate)
            .front();
    if (Value mask = adaptor.getMask())
      grad = applyMask(rewriter, loc, grad, mask);
    rewriter.replaceOp(op, grad);
    return success();
  }
};

/// The taps' gradient: dy times the masked input padded as the forward op
/// pads it, read at i + r j, reduced over what shares the tap.
struct ConvWeightGradLowering : OpConversionPattern<ConvWeightGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConvWeightGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value input = adaptor.getInput(), dy = adaptor.getResultGrad();
    Type elementType = cast<RankedTensorType>(input.getType()).getElementType();
    ConvVariant variant = op.getVariant();
    FailureOr<ConvGeometry> geometry = getConvGeometry(op, input);
    if (failed(geometry))
      return rewriter.notifyMatchFailure(op, "model width must be static");
    auto [k, r, p] = *geometry;
    if (Value mask = adaptor.getMask())
      input = applyMask(rewriter, loc, input, mask);
    Value padded = padPositions(rewriter, loc, input, p * r, (k - 1 - p) * r);

    using utils::IteratorType;
    SmallVector<AffineMap> maps;
    SmallVector<IteratorType> iterators;
    SmallVector<OpFoldResult> x = getSizes(rewriter, loc, input);
    SmallVector<OpFoldResult> sizes;
    OpFoldResult taps = rewriter.getIndexAttr(k);
    switch (variant) {
    case ConvVariant::lightweight:
    case ConvVariant::dynamic: {
      // Loops (h, j, b, i, e) for lightweight, (b, i, h, j, e) for dynamic;
      // channel c = h E + e.
      bool dynamic = variant == ConvVariant::dynamic;
      AffineExpr h, j, batch, pos, e;
      if (dynamic)
        bindDims(ctx, batch, pos, h, j, e);
      else
        bindDims(ctx, h, j, batch, pos, e);
      // Channels split as [heads, E], so every loop is some operand's
      // dimension (linalg infers the loop bounds from them).
      int64_t width = op.getHeadWidth();
      auto splitHeads = [&](Value sequence) -> Value {
        auto seqType = cast<RankedTensorType>(sequence.getType());
        SmallVector<OpFoldResult> seqSizes = getSizes(rewriter, loc, sequence);
        return tensor::ExpandShapeOp::create(
            rewriter, loc,
            RankedTensorType::get({seqType.getDimSize(0), seqType.getDimSize(1),
                                   static_cast<int64_t>(op.getHeads()), width},
                                  elementType),
            sequence, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}},
            ArrayRef<OpFoldResult>{seqSizes[0], seqSizes[1],
                                   rewriter.getIndexAttr(op.getHeads()),
                                   rewriter.getIndexAttr(width)});
      };
      padded = splitHeads(padded);
      dy = splitHeads(dy);
      maps = {AffineMap::get(5, 0, {batch, pos + j, h, e}, ctx),
              AffineMap::get(5, 0, {batch, pos, h, e}, ctx),
              dynamic ? AffineMap::get(5, 0, {batch, pos, h, j}, ctx)
                      : AffineMap::get(5, 0, {h, j}, ctx)};
      OpFoldResult heads = rewriter.getIndexAttr(op.getHeads());
      if (dynamic) {
        iterators = {IteratorType::parallel, IteratorType::parallel,
                     IteratorType::parallel, IteratorType::parallel,
                     IteratorType::reduction};
        sizes = {x[0], x[1], heads, taps};
      } else {
        iterators = {IteratorType::parallel, IteratorType::parallel,
                     IteratorType::reduction, IteratorType::reduction,
                     IteratorType::reduction};
        sizes = {heads, taps};
      }
      break;
    }
    case ConvVariant::dilated: {
      // Loops (c, j, b, i).
      AffineExpr chan, j, batch, pos;
      bindDims(ctx, chan, j, batch, pos);
      maps = {AffineMap::get(4, 0, {batch, pos + j * r, chan}, ctx),
              AffineMap::get(4, 0, {batch, pos, chan}, ctx),
              AffineMap::get(4, 0, {chan, j}, ctx)};
      iterators = {IteratorType::parallel, IteratorType::parallel,
                   IteratorType::reduction, IteratorType::reduction};
      sizes = {x[2], taps};
      break;
    }
    }
    Value init = createFilled(rewriter, loc, sizes, elementType, 0.0);
    rewriter.replaceOp(op, buildGeneric(rewriter, loc, {padded, dy}, init, maps,
                                        iterators, multiplyAccumulate));
    return success();
  }
};

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
    rewriter.replaceOp(op, buildDepthwiseConv(rewriter, op.getLoc(),
                                              adaptor.getInput(),
                                              adaptor.getMask(), taps->weight,
                                              taps->map, op.getKernelSize(),
                                              taps->dilation, op.getCausal()));
    return success();
  }
};

} // namespace

void lowering::populateConvPatterns(RewritePatternSet &patterns) {
  patterns.add<ApplyMaskLowering, DepthwiseConvLowering<LightweightConvOp>,
               DepthwiseConvLowering<DynamicConvOp>,
               DepthwiseConvLowering<DilatedConvOp>, ConvInputGradLowering,
               ConvWeightGradLowering>(patterns.getContext());
}
