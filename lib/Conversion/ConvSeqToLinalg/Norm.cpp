//===- Norm.cpp - rms_norm and cross_entropy to linalg --------------------===//

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

    Value sumSquares = reduceInnermost(
        rewriter, loc, input, 0.0,
        [](OpBuilder &b, Location l, Value x) -> Value {
          return arith::MulFOp::create(b, l, x, x);
        },
        addF);
    Value width = indexToFloat(
        rewriter, loc, tensor::DimOp::create(rewriter, loc, input, rank - 1),
        elementType);
    double epsilon = op.getEpsilon().convertToDouble();

    RowMaps maps = getRowMaps(rewriter.getContext(), rank);
    Value init = createEmpty(rewriter, loc, getSizes(rewriter, loc, input),
                             elementType);
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, loc, {input, sumSquares, adaptor.getScale()}, init,
                {maps.full, maps.row, maps.channel, maps.full}, parallel,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value mean = arith::DivFOp::create(b, l, args[1], width);
                  Value shifted = arith::AddFOp::create(
                      b, l, mean, floatConstant(b, l, elementType, epsilon));
                  Value inverse = math::RsqrtOp::create(b, l, shifted);
                  Value normed = arith::MulFOp::create(b, l, args[0], inverse);
                  return SmallVector<Value>{
                      arith::MulFOp::create(b, l, normed, args[2])};
                }));
    return success();
  }
};

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
    RowMaps maps = getRowMaps(ctx, rank);
    auto identity = [](OpBuilder &, Location, Value x) { return x; };

    Value max = reduceInnermost(
        rewriter, loc, logits, -std::numeric_limits<double>::infinity(),
        identity, [](OpBuilder &b, Location l, Value acc, Value x) -> Value {
          return arith::MaximumFOp::create(b, l, acc, x);
        });
    SmallVector<OpFoldResult> rowSizes = getSizes(rewriter, loc, logits);
    rowSizes.pop_back();
    SmallVector<utils::IteratorType> rowReduction(rank,
                                                  utils::IteratorType::parallel);
    rowReduction.back() = utils::IteratorType::reduction;
    Value sumExp =
        buildGeneric(rewriter, loc, {logits, max},
                     createFilled(rewriter, loc, rowSizes, elementType, 0.0),
                     {maps.full, maps.row, maps.row}, rowReduction,
                     [](OpBuilder &b, Location l, ValueRange args) {
                       Value shifted =
                           arith::SubFOp::create(b, l, args[0], args[1]);
                       return SmallVector<Value>{addF(
                           b, l, args[2], math::ExpOp::create(b, l, shifted))};
                     })
            .front();
    // With label smoothing the loss also needs the sum of the logits.
    double smoothing = op.getLabelSmoothing().convertToDouble();
    SmallVector<Value> rowInputs = {targets, max, sumExp};
    if (smoothing > 0.0)
      rowInputs.push_back(
          reduceInnermost(rewriter, loc, logits, 0.0, identity, addF));

    // Loss per position, gathering the target's logit.
    Value vocab = tensor::DimOp::create(rewriter, loc, logits, rank - 1);
    int64_t padId = op.getPadId();
    auto isPad = [&](OpBuilder &b, Location l, Value target) -> Value {
      Value pad = intConstant(b, l, target.getType(), padId);
      return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, target,
                                   pad);
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
              Value target = arith::IndexCastOp::create(b, l, b.getIndexType(),
                                                        args[0]);
              // Clamp to [0, V) so a bad id cannot read out of bounds.
              Value zeroIndex = arith::ConstantIndexOp::create(b, l, 0);
              Value last = arith::SubIOp::create(
                  b, l, vocab, arith::ConstantIndexOp::create(b, l, 1));
              Value clamped = arith::MinSIOp::create(
                  b, l, arith::MaxSIOp::create(b, l, target, zeroIndex), last);
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

} // namespace

void lowering::populateNormPatterns(RewritePatternSet &patterns) {
  patterns.add<RMSNormLowering, CrossEntropyLowering>(patterns.getContext());
}
