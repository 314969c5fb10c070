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
