//===- Norm.cpp - rms_norm, cross_entropy and their gradients to linalg ---===//

#include "lib/Conversion/ConvSeqToLinalg/PopulatePatterns.h"
#include "lib/Conversion/ConvSeqToLinalg/Utils.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::lowering;

namespace {

/// Maps of a loop nest of `rank` loops: the full identity, the leading
/// `rank - 1` dimensions (a row) and the innermost dimension (a channel).
struct RowMaps {
  AffineMap full, row, channel;
};

RowMaps getRowMaps(MLIRContext *ctx, unsigned rank) {
  return {AffineMap::getMultiDimIdentityMap(rank, ctx),
          getLeadingDimsMap(ctx, rank),
          AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx))};
}

Value addF(OpBuilder &b, Location loc, Value acc, Value x) {
  return arith::AddFOp::create(b, loc, acc, x);
}

/// sum_c x^2 per row of `input`.
Value sumOfSquares(OpBuilder &b, Location loc, Value input) {
  return reduceInnermost(
      b, loc, input, 0.0,
      [](OpBuilder &nb, Location l, Value x) -> Value {
        return arith::MulFOp::create(nb, l, x, x);
      },
      addF);
}

/// The width D of `input` as a float.
Value widthAsFloat(OpBuilder &b, Location loc, Value input) {
  auto type = cast<RankedTensorType>(input.getType());
  return indexToFloat(b, loc,
                      tensor::DimOp::create(b, loc, input, type.getRank() - 1),
                      type.getElementType());
}

/// 1 / sqrt(sumSquares / width + eps), in a linalg body.
Value inverseRMS(OpBuilder &b, Location loc, Value sumSquares, Value width,
                 double epsilon) {
  Value mean = arith::DivFOp::create(b, loc, sumSquares, width);
  Value shifted = arith::AddFOp::create(
      b, loc, mean, floatConstant(b, loc, mean.getType(), epsilon));
  return math::RsqrtOp::create(b, loc, shifted);
}

/// y = x * rsqrt(mean_c(x^2) + eps) * g.
struct RMSNormLowering : OpConversionPattern<RMSNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    Type elementType = type.getElementType();
    unsigned rank = type.getRank();

    Value sumSquares = sumOfSquares(rewriter, loc, input);
    Value width = widthAsFloat(rewriter, loc, input);
    double epsilon = op.getEpsilon().convertToDouble();

    RowMaps maps = getRowMaps(rewriter.getContext(), rank);
    Value init =
        createEmpty(rewriter, loc, getSizes(rewriter, loc, input), elementType);
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, loc, {input, sumSquares, adaptor.getScale()}, init,
                {maps.full, maps.row, maps.channel, maps.full}, parallel,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value inverse = inverseRMS(b, l, args[1], width, epsilon);
                  Value normed = arith::MulFOp::create(b, l, args[0], inverse);
                  return SmallVector<Value>{
                      arith::MulFOp::create(b, l, normed, args[2])};
                }));
    return success();
  }
};

/// With r = rsqrt(mean_c(x^2) + eps) and u = dy g:
/// dx = r u - x r^3 mean_c(u x).
struct RMSNormGradLowering : OpConversionPattern<RMSNormGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RMSNormGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), scale = adaptor.getScale(),
          dy = adaptor.getResultGrad();
    auto type = cast<RankedTensorType>(input.getType());
    Type elementType = type.getElementType();
    unsigned rank = type.getRank();
    RowMaps maps = getRowMaps(rewriter.getContext(), rank);
    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, input);
    SmallVector<OpFoldResult> rowSizes(sizes.begin(), sizes.end() - 1);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;

    Value sumSquares = sumOfSquares(rewriter, loc, input);
    // sum_c dy g x per row.
    Value dot =
        buildGeneric(
            rewriter, loc, {dy, scale, input},
            createFilled(rewriter, loc, rowSizes, elementType, 0.0),
            {maps.full, maps.channel, maps.full, maps.row}, iterators,
            [](OpBuilder &b, Location l, ValueRange args) {
              Value u = arith::MulFOp::create(b, l, args[0], args[1]);
              return SmallVector<Value>{
                  addF(b, l, args[3], arith::MulFOp::create(b, l, u, args[2]))};
            })
            .front();
    Value width = widthAsFloat(rewriter, loc, input);
    double epsilon = op.getEpsilon().convertToDouble();
    iterators.back() = utils::IteratorType::parallel;
    rewriter.replaceOp(
        op,
        buildGeneric(
            rewriter, loc, {input, scale, dy, sumSquares, dot},
            createEmpty(rewriter, loc, sizes, elementType),
            {maps.full, maps.channel, maps.full, maps.row, maps.row, maps.full},
            iterators, [&](OpBuilder &b, Location l, ValueRange args) {
              Value r = inverseRMS(b, l, args[3], width, epsilon);
              Value u = arith::MulFOp::create(b, l, args[2], args[1]);
              Value direct = arith::MulFOp::create(b, l, r, u);
              Value r3 = arith::MulFOp::create(
                  b, l, arith::MulFOp::create(b, l, r, r), r);
              Value meanDot = arith::DivFOp::create(b, l, args[4], width);
              Value radial = arith::MulFOp::create(
                  b, l, args[0], arith::MulFOp::create(b, l, r3, meanDot));
              return SmallVector<Value>{
                  arith::SubFOp::create(b, l, direct, radial)};
            }));
    return success();
  }
};

/// dg[c] = sum_rows dy x r.
struct RMSNormScaleGradLowering : OpConversionPattern<RMSNormScaleGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RMSNormScaleGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), dy = adaptor.getResultGrad();
    auto type = cast<RankedTensorType>(input.getType());
    Type elementType = type.getElementType();
    unsigned rank = type.getRank();
    RowMaps maps = getRowMaps(rewriter.getContext(), rank);
    Value sumSquares = sumOfSquares(rewriter, loc, input);
    Value width = widthAsFloat(rewriter, loc, input);
    double epsilon = op.getEpsilon().convertToDouble();
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::reduction);
    iterators.back() = utils::IteratorType::parallel;
    OpFoldResult channels = getSizes(rewriter, loc, input).back();
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, loc, {dy, input, sumSquares},
                createFilled(rewriter, loc, {channels}, elementType, 0.0),
                {maps.full, maps.full, maps.row, maps.channel}, iterators,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value r = inverseRMS(b, l, args[2], width, epsilon);
                  Value product = arith::MulFOp::create(
                      b, l, arith::MulFOp::create(b, l, args[0], args[1]), r);
                  return SmallVector<Value>{addF(b, l, args[3], product)};
                }));
    return success();
  }
};

/// The row statistics of a softmax over the innermost dimension of
/// `logits`: the maximum and sum(exp(x - max)) per row.
struct SoftmaxRows {
  Value max, sumExp;
};

SoftmaxRows softmaxRows(OpBuilder &b, Location loc, Value logits) {
  auto type = cast<RankedTensorType>(logits.getType());
  Type elementType = type.getElementType();
  unsigned rank = type.getRank();
  RowMaps maps = getRowMaps(b.getContext(), rank);
  Value max = reduceInnermost(
      b, loc, logits, -std::numeric_limits<double>::infinity(),
      [](OpBuilder &, Location, Value x) { return x; },
      [](OpBuilder &nb, Location l, Value acc, Value x) -> Value {
        return arith::MaximumFOp::create(nb, l, acc, x);
      });
  SmallVector<OpFoldResult> rowSizes = getSizes(b, loc, logits);
  rowSizes.pop_back();
  SmallVector<utils::IteratorType> rowReduction(rank,
                                                utils::IteratorType::parallel);
  rowReduction.back() = utils::IteratorType::reduction;
  Value sumExp =
      buildGeneric(b, loc, {logits, max},
                   createFilled(b, loc, rowSizes, elementType, 0.0),
                   {maps.full, maps.row, maps.row}, rowReduction,
                   [](OpBuilder &nb, Location l, ValueRange args) {
                     Value shifted =
                         arith::SubFOp::create(nb, l, args[0], args[1]);
                     return SmallVector<Value>{addF(
                         nb, l, args[2], math::ExpOp::create(nb, l, shifted))};
                   })
          .front();
  return {max, sumExp};
}

/// `target == padId` for an integer id in a linalg body.
Value isPadId(OpBuilder &b, Location loc, Value target, int64_t padId) {
  Value pad = intConstant(b, loc, target.getType(), padId);
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, target, pad);
}

/// An id clamped into [0, vocab) as an index, so a bad id cannot read out
/// of bounds.
Value clampedIndex(OpBuilder &b, Location loc, Value id, Value vocab) {
  Value target = arith::IndexCastOp::create(b, loc, b.getIndexType(), id);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value last = arith::SubIOp::create(b, loc, vocab,
                                     arith::ConstantIndexOp::create(b, loc, 1));
  return arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, target, zero), last);
}

/// Per position: lse = max + log(sum exp(x - max)); the loss is
/// (1 - eps) (lse - x[t]) + eps (lse - sum(x) / V), 0 at padding. The result
/// is the sum over positions divided by the number of non-pad targets.
struct CrossEntropyLowering : OpConversionPattern<CrossEntropyOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CrossEntropyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value logits = adaptor.getLogits(), targets = adaptor.getTargets();
    auto type = cast<RankedTensorType>(logits.getType());
    Type elementType = type.getElementType();
    unsigned rank = type.getRank();
    auto identity = [](OpBuilder &, Location, Value x) { return x; };

    auto [max, sumExp] = softmaxRows(rewriter, loc, logits);
    SmallVector<OpFoldResult> rowSizes = getSizes(rewriter, loc, logits);
    rowSizes.pop_back();
    // With label smoothing the loss also needs the sum of the logits.
    double smoothing = op.getLabelSmoothing().convertToDouble();
    SmallVector<Value> rowInputs = {targets, max, sumExp};
    if (smoothing > 0.0)
      rowInputs.push_back(
          reduceInnermost(rewriter, loc, logits, 0.0, identity, addF));

    // Loss per position, gathering the target's logit.
    Value vocab = tensor::DimOp::create(rewriter, loc, logits, rank - 1);
    int64_t padId = op.getPadId();
    auto isPad = [&](OpBuilder &b, Location l, Value target) {
      return isPadId(b, l, target, padId);
    };
    unsigned rowRank = rank - 1;
    AffineMap rowIdentity = AffineMap::getMultiDimIdentityMap(rowRank, ctx);
    SmallVector<utils::IteratorType> rowParallel(rowRank,
                                                 utils::IteratorType::parallel);
    Value perPosition =
        buildGeneric(
            rewriter, loc, rowInputs,
            createEmpty(rewriter, loc, rowSizes, elementType),
            SmallVector<AffineMap>(rowInputs.size() + 1, rowIdentity),
            rowParallel,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value clamped = clampedIndex(b, l, args[0], vocab);
              SmallVector<Value> indices;
              for (unsigned d = 0; d < rowRank; ++d)
                indices.push_back(linalg::IndexOp::create(b, l, d));
              indices.push_back(clamped);
              Value picked = tensor::ExtractOp::create(b, l, logits, indices);
              Value lse = arith::AddFOp::create(
                  b, l, args[1], math::LogOp::create(b, l, args[2]));
              Value loss = arith::SubFOp::create(b, l, lse, picked);
              if (smoothing > 0.0) {
                Value vocabF = indexToFloat(b, l, vocab, elementType);
                Value meanLogit = arith::DivFOp::create(b, l, args[3], vocabF);
                Value uniform = arith::SubFOp::create(b, l, lse, meanLogit);
                loss = arith::AddFOp::create(
                    b, l,
                    arith::MulFOp::create(
                        b, l, loss,
                        floatConstant(b, l, elementType, 1.0 - smoothing)),
                    arith::MulFOp::create(
                        b, l, uniform,
                        floatConstant(b, l, elementType, smoothing)));
              }
              return SmallVector<Value>{arith::SelectOp::create(
                  b, l, isPad(b, l, args[0]),
                  floatConstant(b, l, elementType, 0.0), loss)};
            })
            .front();

    // Sum of losses and count of real targets, both 0-d.
    AffineMap scalarMap = AffineMap::get(rowRank, 0, {}, ctx);
    SmallVector<utils::IteratorType> allReduction(
        rowRank, utils::IteratorType::reduction);
    SmallVector<Value> totals = buildGeneric(
        rewriter, loc, {perPosition, targets},
        {createFilled(rewriter, loc, {}, elementType, 0.0),
         createFilled(rewriter, loc, {}, elementType, 0.0)},
        {rowIdentity, rowIdentity, scalarMap, scalarMap}, allReduction,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value one = arith::SelectOp::create(
              b, l, isPad(b, l, args[1]), floatConstant(b, l, elementType, 0.0),
              floatConstant(b, l, elementType, 1.0));
          return SmallVector<Value>{addF(b, l, args[2], args[0]),
                                    addF(b, l, args[3], one)};
        });
    Value mean = buildElementwise(
        rewriter, loc, totals, createEmpty(rewriter, loc, {}, elementType),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value zero = floatConstant(b, l, elementType, 0.0);
          Value none = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                             args[1], zero);
          Value quotient = arith::DivFOp::create(b, l, args[0], args[1]);
          return SmallVector<Value>{
              arith::SelectOp::create(b, l, none, zero, quotient)};
        });
    rewriter.replaceOp(op, mean);
    return success();
  }
};

/// dlogits = dloss / N (softmax(x) - (1 - eps) onehot(target) - eps / V) at
/// non-pad positions, 0 at padding; N counts the non-pad positions.
struct CrossEntropyGradLowering : OpConversionPattern<CrossEntropyGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CrossEntropyGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value logits = adaptor.getLogits(), targets = adaptor.getTargets();
    auto type = cast<RankedTensorType>(logits.getType());
    Type elementType = type.getElementType();
    unsigned rank = type.getRank(), rowRank = rank - 1;
    RowMaps maps = getRowMaps(ctx, rank);
    int64_t padId = op.getPadId();
    double smoothing = op.getLabelSmoothing().convertToDouble();
    auto [max, sumExp] = softmaxRows(rewriter, loc, logits);

    // The number of non-pad targets, 0-d.
    AffineMap rowIdentity = AffineMap::getMultiDimIdentityMap(rowRank, ctx);
    Value count =
        buildGeneric(rewriter, loc, targets,
                     createFilled(rewriter, loc, {}, elementType, 0.0),
                     {rowIdentity, AffineMap::get(rowRank, 0, {}, ctx)},
                     SmallVector<utils::IteratorType>(
                         rowRank, utils::IteratorType::reduction),
                     [&](OpBuilder &b, Location l, ValueRange args) {
                       Value one = arith::SelectOp::create(
                           b, l, isPadId(b, l, args[0], padId),
                           floatConstant(b, l, elementType, 0.0),
                           floatConstant(b, l, elementType, 1.0));
                       return SmallVector<Value>{addF(b, l, args[1], one)};
                     })
            .front();

    // The logits are the destination, not an input: they are dead after
    // this op in a training step, so bufferization writes the gradient over
    // them instead of allocating a second [B, T, V] buffer (it copies them
    // first where they are still read).
    Value vocab = tensor::DimOp::create(rewriter, loc, logits, rank - 1);
    AffineMap scalar = AffineMap::get(rank, 0, {}, ctx);
    rewriter.replaceOp(
        op,
        buildGeneric(
            rewriter, loc,
            {max, sumExp, targets, count, adaptor.getResultGrad()}, logits,
            {maps.row, maps.row, maps.row, scalar, scalar, maps.full},
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange args) {
              auto constant = [&](double value) {
                return floatConstant(b, l, elementType, value);
              };
              Value shifted = arith::SubFOp::create(b, l, args[5], args[0]);
              Value p = arith::DivFOp::create(
                  b, l, math::ExpOp::create(b, l, shifted), args[1]);
              Value column = linalg::IndexOp::create(b, l, rank - 1);
              Value isTarget =
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, column,
                                        clampedIndex(b, l, args[2], vocab));
              Value target = arith::SelectOp::create(
                  b, l, isTarget, constant(1.0 - smoothing), constant(0.0));
              Value grad = arith::SubFOp::create(b, l, p, target);
              if (smoothing > 0.0)
                grad = arith::SubFOp::create(
                    b, l, grad,
                    arith::DivFOp::create(
                        b, l, constant(smoothing),
                        indexToFloat(b, l, vocab, elementType)));
              Value weight = arith::DivFOp::create(b, l, args[4], args[3]);
              Value scaled = arith::MulFOp::create(b, l, grad, weight);
              return SmallVector<Value>{arith::SelectOp::create(
                  b, l, isPadId(b, l, args[2], padId), constant(0.0), scaled)};
            })
            .front());
    return success();
  }
};

} // namespace

void lowering::populateNormPatterns(RewritePatternSet &patterns) {
  patterns.add<RMSNormLowering, RMSNormGradLowering, RMSNormScaleGradLowering,
               CrossEntropyLowering, CrossEntropyGradLowering>(
      patterns.getContext());
}
