//===- TileParallelLoopsForGPU.cpp - Parallel loops into blocks -----------===//

#include "lib/CodeGen/GPU/BlockLoops.h"
#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

namespace mlir::convseq {
#define GEN_PASS_DEF_TILEPARALLELLOOPSFORGPUPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The static trip count of the one dimension of `loop`, if known.
std::optional<int64_t> staticTripCount(scf::ParallelOp loop) {
  std::optional<int64_t> lower = getConstantIntValue(loop.getLowerBound()[0]);
  std::optional<int64_t> upper = getConstantIntValue(loop.getUpperBound()[0]);
  std::optional<int64_t> step = getConstantIntValue(loop.getStep()[0]);
  if (!lower || !upper || !step || *step <= 0)
    return std::nullopt;
  return llvm::divideCeil(std::max<int64_t>(*upper - *lower, 0), *step);
}

struct TileParallelLoopsForGPUPass
    : mlir::convseq::impl::TileParallelLoopsForGPUPassBase<
          TileParallelLoopsForGPUPass> {
  using TileParallelLoopsForGPUPassBase::TileParallelLoopsForGPUPassBase;

  void runOnOperation() override {
    if (blockSize <= 0) {
      getOperation().emitError("block-size must be positive");
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
      // Kernels in the block-level form have their blocks and threads.
      if (!loop->hasAttr(kBlockLoop))
        loops.push_back(loop);
      return WalkResult::skip();
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : loops) {
      if (loop.getNumReductions() != 0) {
        loop.emitError("cannot map a parallel loop with reductions");
        return signalPassFailure();
      }
      if (loop.getNumLoops() > 1) {
        // The collapsed loop replaces `loop` where it was.
        Operation *next = loop->getNextNode();
        std::vector<unsigned> all(loop.getNumLoops());
        std::iota(all.begin(), all.end(), 0);
        rewriter.setInsertionPoint(loop);
        collapseParallelLoops(rewriter, loop, {all});
        loop = cast<scf::ParallelOp>(next->getPrevNode());
      }
      int64_t tile = blockSize;
      if (std::optional<int64_t> trips = staticTripCount(loop))
        tile = std::min<int64_t>(
            blockSize, llvm::PowerOf2Ceil(std::max<int64_t>(*trips, 1)));
      tileParallelLoop(loop, {tile}, /*noMinMaxBounds=*/true);
    }
  }
};

} // namespace
