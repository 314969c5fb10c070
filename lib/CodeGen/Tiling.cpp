//===- Tiling.cpp - Tiling helpers shared by the CPU strategies -----------===//

#include "lib/CodeGen/Tiling.h"
#include "lib/Support/Philox.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

using namespace mlir;
using namespace mlir::convseq;

bool mlir::convseq::isPhiloxRowGroupOp(Operation *user, Value index,
                                        bool divide) {
  if (!(divide ? isa<arith::DivUIOp>(user) : isa<arith::RemUIOp>(user)) ||
      user->getOperand(0) != index)
    return false;
  std::optional<int64_t> divisor = getConstantIntValue(user->getOperand(1));
  return divisor && *divisor == kPhiloxRowsPerEvaluation;
}

llvm::SmallSetVector<unsigned, 2>
mlir::convseq::philoxGroupedDims(linalg::LinalgOp op) {
  llvm::SmallSetVector<unsigned, 2> dims;
  op.getBlock()->walk([&](linalg::IndexOp index) {
    if (llvm::any_of(index->getUsers(), [&](Operation *user) {
          return isPhiloxRowGroupOp(user, index, /*divide=*/true);
        }))
      dims.insert(index.getDim());
  });
  return dims;
}

scf::SCFTilingOptions
mlir::convseq::tilingOptions(MLIRContext *ctx, ArrayRef<int64_t> sizes,
                             scf::SCFTilingOptions::LoopType loopType,
                             ArrayRef<int64_t> interchange) {
  scf::SCFTilingOptions options;
  options.setTileSizes(getAsIndexOpFoldResult(ctx, sizes));
  options.setLoopType(loopType);
  if (!interchange.empty())
    options.setInterchange(interchange);
  return options;
}

FailureOr<Tiled> mlir::convseq::tile(RewriterBase &rewriter, TilingInterface op,
                                     ArrayRef<int64_t> sizes,
                                     scf::SCFTilingOptions::LoopType loopType,
                                     ArrayRef<int64_t> interchange) {
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, op,
      tilingOptions(rewriter.getContext(), sizes, loopType, interchange));
  if (failed(tiled))
    return failure();
  rewriter.replaceOp(op, tiled->replacements);
  return Tiled{tiled->tiledOps.front(), tiled->loops};
}

bool mlir::convseq::fuseDestinationFills(OpResult producer,
                                         bool isDestination) {
  return isDestination && isa<linalg::FillOp>(producer.getOwner());
}

FailureOr<Tiled> mlir::convseq::tileAndFuse(
    RewriterBase &rewriter, TilingInterface op, ArrayRef<int64_t> sizes,
    scf::SCFTilingOptions::LoopType loopType, ArrayRef<int64_t> interchange,
    FuseProducerFn shouldFuse, SmallVectorImpl<Operation *> *fused) {
  scf::SCFTileAndFuseOptions options;
  options.setTilingOptions(
      tilingOptions(rewriter.getContext(), sizes, loopType, interchange));
  options.setFusionControlFn(
      [&](tensor::ExtractSliceOp, OpResult producer, bool isDestination)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        if (shouldFuse(producer, isDestination))
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        return std::nullopt;
      });
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTileAndFuseResult> tiled =
      scf::tileConsumerAndFuseProducersUsingSCF(rewriter, op, options);
  if (failed(tiled))
    return failure();
  for (OpResult result : op->getResults())
    rewriter.replaceAllUsesWith(result, tiled->replacements.lookup(result));
  rewriter.eraseOp(op);
  // The tiled consumer comes first, the fused producers after it.
  Operation *tiledConsumer = tiled->tiledAndFusedOps.front();
  if (fused)
    for (Operation *tiledOp : llvm::drop_begin(tiled->tiledAndFusedOps))
      fused->push_back(tiledOp);
  return Tiled{tiledConsumer, tiled->loops};
}

LogicalResult mlir::convseq::peelMarkedLoops(RewriterBase &rewriter,
                                             func::FuncOp func,
                                             StringRef marker) {
  SmallVector<scf::ForOp> marked;
  func.walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
    if (loop->hasAttr(marker))
      marked.push_back(loop);
  });
  for (scf::ForOp loop : marked) {
    scf::ForOp partial;
    (void)scf::peelForLoopAndSimplifyBounds(rewriter, loop, partial);
  }
  // The partial iterations are clones of marked loops.
  func.walk([&](scf::ForOp loop) { loop->removeAttr(marker); });
  // Fold the peeled bounds into static slice shapes.
  RewritePatternSet patterns(func.getContext());
  linalg::populateLinalgTilingCanonicalizationPatterns(patterns);
  tensor::populateFoldTensorEmptyPatterns(patterns);
  return applyPatternsGreedily(func, std::move(patterns));
}

void mlir::convseq::vectorizeInPlace(RewriterBase &rewriter,
                                     linalg::LinalgOp op,
                                     bool vectorizeNDExtract,
                                     bool createNamedContraction) {
  rewriter.setInsertionPoint(op);
  FailureOr<linalg::VectorizationResult> result = linalg::vectorize(
      rewriter, op, /*inputVectorSizes=*/{}, /*inputScalableVecDims=*/{},
      vectorizeNDExtract, /*flatten1DDepthwiseConv=*/false,
      /*assumeDynamicDimsMatchVecSizes=*/false, createNamedContraction);
  if (succeeded(result))
    rewriter.replaceOp(op, result->replacements);
}

LogicalResult mlir::convseq::cleanUpVectorTiles(RewriterBase &rewriter,
                                                func::FuncOp func) {
  MLIRContext *ctx = func.getContext();
  RewritePatternSet patterns(ctx);
  vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
  vector::populateVectorTransferDropUnitDimsPatterns(patterns);
  vector::populateDropUnitDimWithShapeCastPatterns(patterns);
  linalg::populateLinalgTilingCanonicalizationPatterns(patterns);
  vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
  vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
  if (failed(applyPatternsGreedily(func, std::move(patterns))))
    return failure();
  func.walk([&](scf::ForOp loop) {
    (void)hoistLoopInvariantSubsets(rewriter, loop);
  });
  return success();
}
