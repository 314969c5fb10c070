//===- Linear.cpp - linear, its weight gradient and head reshapes to linalg
//===//

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

/// Maps of a nest of `rows` leading loops and two inner ones, the form
/// of both contractions here: the leading loops are a linear layer's rows,
/// kept for its input and output or reduced for its weight gradient.
struct RowLoops {
  RowLoops(MLIRContext *ctx, unsigned rows) : ctx(ctx), count(rows + 2) {
    for (unsigned d = 0; d < rows; ++d)
      leading.push_back(getAffineDimExpr(d, ctx));
  }

  /// Inner loop 0 or 1.
  AffineExpr inner(unsigned index) const {
    return getAffineDimExpr(leading.size() + index, ctx);
  }
  /// Reads the leading loops, then `last`.
  AffineMap withLast(AffineExpr last) const {
    SmallVector<AffineExpr> exprs(leading);
    exprs.push_back(last);
    return map(exprs);
  }
  AffineMap map(ArrayRef<AffineExpr> exprs) const {
    return AffineMap::get(count, 0, exprs, ctx);
  }

  MLIRContext *ctx;
  unsigned count;
  SmallVector<AffineExpr> leading;
};

/// scale * (the linalg.contract of lhs and rhs with `maps` into zeros of
/// `sizes`); the scale, when not 1, is an element-wise epilogue.
Value buildScaledContraction(OpBuilder &b, Location loc, Value lhs, Value rhs,
                             ArrayRef<AffineMap> maps,
                             ArrayRef<OpFoldResult> sizes, double scale) {
  Type elementType = cast<RankedTensorType>(lhs.getType()).getElementType();
  Value init = createFilled(b, loc, sizes, elementType, 0.0);
  Value product = linalg::ContractOp::create(
                      b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
                      ValueRange{init}, b.getAffineMapArrayAttr(maps))
                      .getResult(0);
  return scaleBy(b, loc, product, scale);
}

/// [d0, ..., dn-2, K] x [K, N] (or [N, K] transposed) as one linalg.contract
/// over the leading loops and k, n. The input keeps its shape: reshaping
/// it to a matrix would need an expand_shape of one dynamic size into two
/// (batch and length), which upstream expand-strided-metadata cannot lower.
struct LinearLowering : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), weight = adaptor.getWeight();
    unsigned rank = cast<RankedTensorType>(op.getType()).getRank();
    bool transposed = op.getTransposeWeight();

    // Loops: the leading dimensions, then k and n with the contiguous one
    // innermost: n for a [K, N] weight (the loop then streams a weight row
    // into an output row, which vectorizes without reassociating the sum), k
    // for a transposed [N, K] weight, whose rows are contiguous along k.
    RowLoops loops(rewriter.getContext(), rank - 1);
    AffineExpr n = loops.inner(transposed ? 0 : 1);
    AffineExpr k = loops.inner(transposed ? 1 : 0);
    AffineMap weightMap = transposed ? loops.map({n, k}) : loops.map({k, n});

    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, input);
    sizes.back() = getSizes(rewriter, loc, weight)[transposed ? 0 : 1];

    // The scale goes on the narrower side: on the input when a row of it is
    // shorter than a row of the output (the tied logits: K = 256 against
    // N = 8000). The output is then the contraction's own result, one
    // buffer instead of the contraction's and its scaled copy.
    double scale = op.getScale().convertToDouble();
    int64_t inWidth = cast<RankedTensorType>(input.getType()).getShape().back();
    int64_t outWidth = cast<RankedTensorType>(op.getType()).getShape().back();
    if (scale != 1.0 && !ShapedType::isDynamic(inWidth) &&
        !ShapedType::isDynamic(outWidth) && inWidth < outWidth) {
      input = scaleBy(rewriter, loc, input, scale);
      scale = 1.0;
    }
    rewriter.replaceOp(op, buildScaledContraction(rewriter, loc, input, weight,
                                                  {loops.withLast(k), weightMap,
                                                   loops.withLast(n)},
                                                  sizes, scale));
    return success();
  }
};

/// dW[k, n] = scale * sum_rows x[..., k] dy[..., n] as one linalg.contract
/// whose leading loops (the rows) are reduced; convseq-tile-contractions
/// collapses them into one. The operand contiguous along the result's inner
/// dimension comes second, as the tiling strategy reads it in vectors: dy
/// for an [in, out] weight, x for a transposed [out, in] one (the tied
/// embedding).
struct LinearWeightGradLowering : OpConversionPattern<LinearWeightGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LinearWeightGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), dy = adaptor.getResultGrad();
    bool transposed = op.getTransposeWeight();
    Value lhs = transposed ? dy : input, rhs = transposed ? input : dy;

    // Loops (rows..., m, n).
    RowLoops loops(rewriter.getContext(),
                   cast<RankedTensorType>(input.getType()).getRank() - 1);
    AffineExpr m = loops.inner(0), n = loops.inner(1);
    SmallVector<OpFoldResult> sizes = {getSizes(rewriter, loc, lhs).back(),
                                       getSizes(rewriter, loc, rhs).back()};
    rewriter.replaceOp(
        op, buildScaledContraction(
                rewriter, loc, lhs, rhs,
                {loops.withLast(m), loops.withLast(n), loops.map({m, n})},
                sizes, op.getScale().convertToDouble()));
    return success();
  }
};

/// [B, L, D] -> [B, L, H, D/H] -> transpose -> [B, H, L, D/H].
struct SplitHeadsLowering : OpConversionPattern<SplitHeadsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SplitHeadsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> r = resultType.getShape();
    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, input);
    if (ShapedType::isDynamic(r[3]))
      return rewriter.notifyMatchFailure(op, "head width must be static");
    OpFoldResult heads = rewriter.getIndexAttr(r[1]);
    OpFoldResult headWidth = rewriter.getIndexAttr(r[3]);
    auto expandedType = RankedTensorType::get({r[0], r[2], r[1], r[3]},
                                              resultType.getElementType());
    Value expanded = tensor::ExpandShapeOp::create(
        rewriter, loc, expandedType, input,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}},
        ArrayRef<OpFoldResult>{sizes[0], sizes[1], heads, headWidth});
    Value init =
        createEmpty(rewriter, loc, {sizes[0], heads, sizes[1], headWidth},
                    resultType.getElementType());
    rewriter.replaceOp(op, linalg::TransposeOp::create(
                               rewriter, loc, expanded, init,
                               rewriter.getDenseI64ArrayAttr({0, 2, 1, 3}))
                               .getResult());
    return success();
  }
};

/// [B, H, L, E] -> transpose -> [B, L, H, E] -> [B, L, H * E].
struct MergeHeadsLowering : OpConversionPattern<MergeHeadsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MergeHeadsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    SmallVector<OpFoldResult> s = getSizes(rewriter, loc, input);
    Type elementType = cast<RankedTensorType>(input.getType()).getElementType();
    Value init =
        createEmpty(rewriter, loc, {s[0], s[2], s[1], s[3]}, elementType);
    Value transposed =
        linalg::TransposeOp::create(rewriter, loc, input, init,
                                    rewriter.getDenseI64ArrayAttr({0, 2, 1, 3}))
            .getResult()
            .front();
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, op.getType(), transposed,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    return success();
  }
};

} // namespace

void lowering::populateLinearPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearLowering, LinearWeightGradLowering, SplitHeadsLowering,
               MergeHeadsLowering>(patterns.getContext());
}
