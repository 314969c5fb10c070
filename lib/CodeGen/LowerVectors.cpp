//===- LowerVectors.cpp - n-D vector ops to 1-D vector ops ----------------===//

#include "lib/CodeGen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_LOWERVECTORSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;

namespace {

/// A multi-reduction of a whole 1-D vector (a dot product or a row sum
/// over the innermost dimension) as one vector.reduction: the upstream
/// inner-parallel lowering would extract every element and add them one
/// by one.
struct OneDimMultiReductionToReduction
    : OpRewritePattern<vector::MultiDimReductionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MultiDimReductionOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getSourceVectorType().getRank() != 1 ||
        op.getReductionDims().size() != 1 ||
        isa<vector::MaskOp>(op->getParentOp()))
      return failure();
    rewriter.replaceOpWithNewOp<vector::ReductionOp>(
        op, op.getKind(), op.getSource(), op.getAcc());
    return success();
  }
};

/// An `arith.mului_extended` of i32 vectors as two multiplies of 64-bit
/// lanes, one of the even i32 lanes and one of the odd, each with the other
/// half of every 64-bit lane zero: x86 selects each as one `vpmuludq`. The
/// default lowering widens to i64 lanes and shuffles the halves back into
/// place; the Philox rounds of the dropout masks, ten such products per
/// element, were 60% shuffles and widening moves.
struct MulUIExtendedByEvenAndOddLanes
    : OpRewritePattern<arith::MulUIExtendedOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(arith::MulUIExtendedOp op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<VectorType>(op.getLhs().getType());
    if (!type || type.getRank() != 1 || type.isScalable() ||
        !type.getElementType().isInteger(32) || type.getNumElements() % 2)
      return failure();
    Location loc = op.getLoc();
    auto wide =
        VectorType::get({type.getNumElements() / 2}, rewriter.getI64Type());
    auto splat = [&](uint64_t value) -> Value {
      return arith::ConstantOp::create(
          rewriter, loc, wide, DenseElementsAttr::get(wide, APInt(64, value)));
    };
    Value lowHalf = splat(0xFFFFFFFFull);
    Value highHalf = splat(0xFFFFFFFF00000000ull);
    Value shift = splat(32);
    // Lane 2i of an i32 vector is the low half of lane i of its i64 view.
    Value lhs = vector::BitCastOp::create(rewriter, loc, wide, op.getLhs());
    Value rhs = vector::BitCastOp::create(rewriter, loc, wide, op.getRhs());
    auto evenLanes = [&](Value value) -> Value {
      return arith::AndIOp::create(rewriter, loc, value, lowHalf);
    };
    auto oddLanes = [&](Value value) -> Value {
      return arith::ShRUIOp::create(rewriter, loc, value, shift);
    };
    Value even =
        arith::MulIOp::create(rewriter, loc, evenLanes(lhs), evenLanes(rhs));
    Value odd =
        arith::MulIOp::create(rewriter, loc, oddLanes(lhs), oddLanes(rhs));
    Value low =
        arith::OrIOp::create(rewriter, loc, evenLanes(even),
                             arith::ShLIOp::create(rewriter, loc, odd, shift));
    Value high = arith::OrIOp::create(
        rewriter, loc, oddLanes(even),
        arith::AndIOp::create(rewriter, loc, odd, highHalf));
    rewriter.replaceOp(op,
                       {vector::BitCastOp::create(rewriter, loc, type, low),
                        vector::BitCastOp::create(rewriter, loc, type, high)});
    return success();
  }
};

struct LowerVectorsPass
    : mlir::convseq::impl::LowerVectorsPassBase<LowerVectorsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    vector::populateVectorToVectorCanonicalizationPatterns(patterns);
    vector::populateVectorContractLoweringPatterns(
        patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
    patterns.add<OneDimMultiReductionToReduction>(ctx, /*benefit=*/2);
    patterns.add<MulUIExtendedByEvenAndOddLanes>(ctx);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerParallel);
    vector::populateVectorBroadcastLoweringPatterns(patterns);
    vector::populateVectorMaskOpLoweringPatterns(patterns);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::populateVectorTransposeLoweringPatterns(
        patterns, vector::VectorTransposeLowering::EltWise);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorTransferLoweringPatterns(patterns,
                                                   /*maxTransferRank=*/1);
    vector::populateVectorMaskMaterializationPatterns(
        patterns, /*force32BitVectorIndices=*/true);
    vector::populateVectorInsertExtractStridedSliceTransforms(patterns);
    vector::populateVectorStepLoweringPatterns(patterns);
    vector::populateVectorRankReducingFMAPattern(patterns);
    // f32 transcendental functions become vector polynomials instead of one
    // libm call per element (f64 keeps libm).
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return llvm::is_contained({"math.exp", "math.expm1", "math.log",
                                 "math.log1p", "math.log2", "math.tanh",
                                 "math.erf"},
                                name);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // A horizontal sum in order is one dependent add per element; allowing
    // reassociation lets LLVM add the halves of the vector pairwise, which
    // is both faster and no less accurate.
    getOperation().walk([](vector::ReductionOp reduction) {
      if (isa<FloatType>(reduction.getDest().getType()) &&
          (reduction.getKind() == vector::CombiningKind::ADD ||
           reduction.getKind() == vector::CombiningKind::MUL))
        reduction.setFastmath(reduction.getFastmath() |
                              arith::FastMathFlags::reassoc);
    });
  }
};

} // namespace
