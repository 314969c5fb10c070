//===- FuseElementwiseOps.cpp - Element-wise fusion without recomputing ---===//
//
// Upstream's linalg-fuse-elementwise-ops with one change to when it fuses: a
// producer goes into its consumer only if the fused op still computes each
// of its elements once.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_FUSEELEMENTWISEOPSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The producer of `operand` has no other use (upstream's condition).
bool hasSingleUseProducer(OpOperand *operand) {
  Operation *producer = operand->get().getDefiningOp();
  return producer && producer->hasOneUse();
}

/// Upstream's condition, and the consumer reads the operand through a
/// permutation of its loops: every loop indexes it, so each element of the
/// producer is computed by exactly one iteration of the fused op. A
/// consumer with a loop the operand does not index (the `f` loop of
/// attention's P V, which reads P[b, h, i, j]) would recompute the producer
/// once per iteration of that loop, in its innermost loop.
bool fusesWithoutRecomputing(OpOperand *operand) {
  if (!hasSingleUseProducer(operand))
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
  return !consumer || consumer.getMatchingIndexingMap(operand).isPermutation();
}

struct FuseElementwiseOpsPass
    : convseq::impl::FuseElementwiseOpsPassBase<FuseElementwiseOpsPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    // The pattern set of upstream's pass, but for the fusion control.
    linalg::populateElementwiseOpsFusionPatterns(patterns,
                                                 fusesWithoutRecomputing);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns,
                                                      hasSingleUseProducer);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(
        patterns);
    linalg::populateConstantFoldLinalgOperations(patterns,
                                                 hasSingleUseProducer);

    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    // Not converging is not an error: the IR is valid after every pattern.
    (void)applyPatternsGreedily(getOperation(), std::move(patterns), config);
  }
};

} // namespace
