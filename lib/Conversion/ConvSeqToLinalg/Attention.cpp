//===- Attention.cpp - dot_product_attention and its gradient to linalg ---===//
//
// The reference lowering: scores = Q K^T (a contraction over E), scaled and
// masked with -inf, a -inf-safe softmax, optional dropout, then P V. It
// materializes the [B, H, T, S] scores. On the CPU, convseq-tile-attention
// has already replaced the ops it handles by one loop with an online softmax
// (lib/CodeGen/TileAttention.cpp); what reaches this pattern there is
// attention with dropout, a decoder step's few queries, and every gradient.
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

/// Marks the ops of a gradient's recomputation of the forward pass.
constexpr llvm::StringLiteral kRecomputeAttrName = "convseq.recompute";

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

/// The loop expressions (b, h, i, j, e) of a 5-loop attention contraction.
struct Loops {
  AffineExpr batch, head, row, col, inner;

  explicit Loops(MLIRContext *ctx) {
    bindDims(ctx, batch, head, row, col, inner);
  }
  AffineMap map(ArrayRef<AffineExpr> exprs) const {
    return AffineMap::get(5, 0, exprs, batch.getContext());
  }
};

/// The attention probabilities softmax(Q K^T * scale + mask), before
/// dropout: -inf where the key is padding or in the causal future, so such
/// keys get probability 0 and a row with no admissible key all zeros.
Value buildProbabilities(OpBuilder &rewriter, Location loc, Value query,
                         Value key, Value keyMask, bool causal, double scale) {
  MLIRContext *ctx = rewriter.getContext();
  Type elementType = cast<RankedTensorType>(query.getType()).getElementType();
  SmallVector<OpFoldResult> q = getSizes(rewriter, loc, query);
  SmallVector<OpFoldResult> k = getSizes(rewriter, loc, key);

  // scores[b, h, i, j] = sum_e q[b, h, i, e] k[b, h, j, e], loops
  // (b, h, i, j, e): both rows are contiguous along e.
  Loops l(ctx);
  Value scores = contract(rewriter, loc, query, key,
                          l.map({l.batch, l.head, l.row, l.inner}),
                          l.map({l.batch, l.head, l.col, l.inner}),
                          l.map({l.batch, l.head, l.row, l.col}), 4,
                          {q[0], q[1], q[2], k[2]}, elementType);

  // Scale, and -inf where the key is padding or in the causal future.
  Value numQueries = tensor::DimOp::create(rewriter, loc, query, 2);
  Value numKeys = tensor::DimOp::create(rewriter, loc, key, 2);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
  SmallVector<Value> inputs = {scores};
  SmallVector<AffineMap> maps = {identity};
  if (keyMask) {
    inputs.push_back(keyMask);
    maps.push_back(AffineMap::get(
        4, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(3, ctx)}, ctx));
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
              admissible =
                  admissible ? arith::AndIOp::create(b, l, admissible, visible)
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
  return buildSoftmax(rewriter, loc, masked);
}

/// `probs` (or its gradient: dropout is linear) after the attention
/// dropout of `op`, the forward op or its gradient, which share the RNG key.
template <typename OpTy>
Value attentionDropout(OpBuilder &b, Location loc, OpTy op,
                       typename OpTy::Adaptor adaptor, Value probs) {
  double rate = op.getDropout().convertToDouble();
  if (rate == 0.0)
    return probs;
  return buildDropout(b, loc, probs, adaptor.getSeed(), adaptor.getStep(), rate,
                      op.getStream());
}

struct DotProductAttentionLowering
    : OpConversionPattern<DotProductAttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DotProductAttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value query = adaptor.getQuery(), value = adaptor.getValue();
    Type elementType = cast<RankedTensorType>(query.getType()).getElementType();
    Value probs = buildProbabilities(rewriter, loc, query, adaptor.getKey(),
                                     adaptor.getKeyMask(), op.getCausal(),
                                     op.getEffectiveScale());
    probs = attentionDropout(rewriter, loc, op, adaptor, probs);

    // out[b, h, i, f] = sum_j p[b, h, i, j] v[b, h, j, f], loops
    // (b, h, i, j, f): f innermost streams a row of V into a row of out.
    SmallVector<OpFoldResult> q = getSizes(rewriter, loc, query);
    SmallVector<OpFoldResult> v = getSizes(rewriter, loc, value);
    Loops l(rewriter.getContext());
    Value out = contract(rewriter, loc, probs, value,
                         l.map({l.batch, l.head, l.row, l.col}),
                         l.map({l.batch, l.head, l.col, l.inner}),
                         l.map({l.batch, l.head, l.row, l.inner}), 3,
                         {q[0], q[1], q[2], v[3]}, elementType);
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// Recomputes P (and the dropout mask) and applies the chain rule through
/// P V, the dropout, the softmax and the scaled Q K^T.
struct DotProductAttentionGradLowering
    : OpConversionPattern<DotProductAttentionGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DotProductAttentionGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value query = adaptor.getQuery(), key = adaptor.getKey(),
          value = adaptor.getValue(), dOut = adaptor.getResultGrad();
    Type elementType = cast<RankedTensorType>(query.getType()).getElementType();
    double scale = op.getEffectiveScale();
    Operation *previous = op->getPrevNode();
    Value probs = buildProbabilities(
        rewriter, loc, query, key, adaptor.getKeyMask(), op.getCausal(), scale);
    Value dropped = attentionDropout(rewriter, loc, op, adaptor, probs);
    // The recomputation repeats the forward op's exactly; marked, CSE keeps
    // it instead of reusing the forward's P and dropped P, which would then
    // stay alive, [B, H, T, S] each, from the forward pass to this one.
    for (Operation &built :
         llvm::make_range(previous ? std::next(previous->getIterator())
                                   : op->getBlock()->begin(),
                          op->getIterator()))
      built.setAttr(kRecomputeAttrName, rewriter.getUnitAttr());

    SmallVector<OpFoldResult> q = getSizes(rewriter, loc, query);
    SmallVector<OpFoldResult> k = getSizes(rewriter, loc, key);
    SmallVector<OpFoldResult> v = getSizes(rewriter, loc, value);
    Loops l(rewriter.getContext());
    // dV[b, h, j, f] = sum_i Pd[b, h, i, j] dO[b, h, i, f]: loops
    // (b, h, j, i, f), i reduced.
    Value dValue = contract(rewriter, loc, dropped, dOut,
                            l.map({l.batch, l.head, l.col, l.row}),
                            l.map({l.batch, l.head, l.col, l.inner}),
                            l.map({l.batch, l.head, l.row, l.inner}), 3,
                            {v[0], v[1], v[2], v[3]}, elementType);
    // dPd[b, h, i, j] = sum_f dO[b, h, i, f] V[b, h, j, f].
    Value dDropped = contract(rewriter, loc, dOut, value,
                              l.map({l.batch, l.head, l.row, l.inner}),
                              l.map({l.batch, l.head, l.col, l.inner}),
                              l.map({l.batch, l.head, l.row, l.col}), 4,
                              {q[0], q[1], q[2], k[2]}, elementType);
    // Through the dropout (linear) and the softmax; the scale of the
    // scores goes into dS.
    Value dScores =
        scaleBy(rewriter, loc,
                buildSoftmaxGrad(
                    rewriter, loc, probs,
                    attentionDropout(rewriter, loc, op, adaptor, dDropped)),
                scale);
    // dQ[b, h, i, e] = sum_j dS[b, h, i, j] K[b, h, j, e].
    Value dQuery = contract(
        rewriter, loc, dScores, key, l.map({l.batch, l.head, l.row, l.col}),
        l.map({l.batch, l.head, l.col, l.inner}),
        l.map({l.batch, l.head, l.row, l.inner}), 3, q, elementType);
    // dK[b, h, j, e] = sum_i dS[b, h, i, j] Q[b, h, i, e]: loops
    // (b, h, j, i, e), i reduced.
    Value dKey = contract(
        rewriter, loc, dScores, query, l.map({l.batch, l.head, l.col, l.row}),
        l.map({l.batch, l.head, l.col, l.inner}),
        l.map({l.batch, l.head, l.row, l.inner}), 3, k, elementType);
    rewriter.replaceOp(op, ValueRange{dQuery, dKey, dValue});
    return success();
  }
};

} // namespace

void lowering::populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<DotProductAttentionLowering, DotProductAttentionGradLowering>(
      patterns.getContext());
}
