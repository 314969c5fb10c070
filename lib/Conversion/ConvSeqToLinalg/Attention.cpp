//===- Attention.cpp - dot_product_attention to linalg --------------------===//
//
// The reference lowering: scores = Q K^T (a contraction over E), scaled and
// masked with -inf, a -inf-safe softmax, optional dropout, then P V. It
// materializes the [B, H, T, S] scores; the CPU pipeline's attention strategy
// tiles this chain so long sequences never hold the whole matrix.
//
//===----------------------------------------------------------------------===//

#include "lib/Conversion/ConvSeqToLinalg/PopulatePatterns.h"
#include "lib/Conversion/ConvSeqToLinalg/Utils.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::lowering;

namespace {

using utils::IteratorType;

/// A contraction over a 5-loop nest whose loop `reduced` is summed; the
/// maps say how lhs, rhs and the output are read.
Value contract(OpBuilder &b, Location loc, Value lhs, Value rhs,
               AffineMap lhsMap, AffineMap rhsMap, AffineMap outMap,
               unsigned reduced, ArrayRef<OpFoldResult> outSizes,
               Type elementType) {
  SmallVector<IteratorType> iterators(5, IteratorType::parallel);
  iterators[reduced] = IteratorType::reduction;
  Value init = createFilled(b, loc, outSizes, elementType, 0.0);
  return buildGeneric(b, loc, {lhs, rhs}, init, {lhsMap, rhsMap, outMap},
                      iterators, multiplyAccumulate)
      .front();
}

struct DotProductAttentionLowering
    : OpConversionPattern<DotProductAttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DotProductAttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value query = adaptor.getQuery(), key = adaptor.getKey(),
          value = adaptor.getValue();
    Type elementType = cast<RankedTensorType>(query.getType()).getElementType();
    SmallVector<OpFoldResult> q = getSizes(rewriter, loc, query);
    SmallVector<OpFoldResult> k = getSizes(rewriter, loc, key);
    SmallVector<OpFoldResult> v = getSizes(rewriter, loc, value);

    AffineExpr batch, head, row, col, inner;
    bindDims(ctx, batch, head, row, col, inner);
    // scores[b, h, i, j] = sum_e q[b, h, i, e] k[b, h, j, e], loops
    // (b, h, i, j, e): both rows are contiguous along e.
    Value scores = contract(
        rewriter, loc, query, key,
        AffineMap::get(5, 0, {batch, head, row, inner}, ctx),
        AffineMap::get(5, 0, {batch, head, col, inner}, ctx),
        AffineMap::get(5, 0, {batch, head, row, col}, ctx), 4,
        {q[0], q[1], q[2], k[2]}, elementType);

    // Scale, and -inf where the key is padding or in the causal future.
    Value keyMask = adaptor.getKeyMask();
    bool causal = op.getCausal();
    double scale = op.getEffectiveScale();
    Value numQueries = tensor::DimOp::create(rewriter, loc, query, 2);
    Value numKeys = tensor::DimOp::create(rewriter, loc, key, 2);
    AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
    SmallVector<Value> inputs = {scores};
    SmallVector<AffineMap> maps = {identity};
    if (keyMask) {
      inputs.push_back(keyMask);
      maps.push_back(AffineMap::get(4, 0, {getAffineDimExpr(0, ctx),
                                           getAffineDimExpr(3, ctx)},
                                    ctx));
    }
    maps.push_back(identity);
    Value masked =
        buildGeneric(
            rewriter, loc, inputs,
            createEmpty(rewriter, loc, getSizes(rewriter, loc, scores),
                        elementType),
            maps, SmallVector<IteratorType>(4, IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value scaled = arith::MulFOp::create(
                  b, l, args[0], floatConstant(b, l, elementType, scale));
              Value admissible;
              if (keyMask)
                admissible = args[1];
              if (causal) {
                // j <= i + S - T
                Value i = linalg::IndexOp::create(b, l, 2);
                Value j = linalg::IndexOp::create(b, l, 3);
                Value limit = arith::SubIOp::create(
                    b, l, arith::AddIOp::create(b, l, i, numKeys), numQueries);
                Value visible = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::sle, j, limit);
                admissible = admissible ? arith::AndIOp::create(b, l,
                                                                admissible,
                                                                visible)
                                        : visible;
              }
              if (!admissible)
                return SmallVector<Value>{scaled};
              Value negInf = floatConstant(
                  b, l, elementType, -std::numeric_limits<double>::infinity());
              return SmallVector<Value>{
                  arith::SelectOp::create(b, l, admissible, scaled, negInf)};
            })
            .front();

    Value probs = buildSoftmax(rewriter, loc, masked);
    double rate = op.getDropout().convertToDouble();
    if (rate > 0.0)
      probs = buildDropout(rewriter, loc, probs, adaptor.getSeed(),
                           adaptor.getStep(), rate, op.getStream());

    // out[b, h, i, f] = sum_j p[b, h, i, j] v[b, h, j, f], loops
    // (b, h, i, j, f): f innermost streams a row of V into a row of out.
    Value out = contract(rewriter, loc, probs, value,
                         AffineMap::get(5, 0, {batch, head, row, col}, ctx),
                         AffineMap::get(5, 0, {batch, head, col, inner}, ctx),
                         AffineMap::get(5, 0, {batch, head, row, inner}, ctx),
                         3, {q[0], q[1], q[2], v[3]}, elementType);
    rewriter.replaceOp(op, out);
    return success();
  }
};

} // namespace

void lowering::populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<DotProductAttentionLowering>(patterns.getContext());
}
