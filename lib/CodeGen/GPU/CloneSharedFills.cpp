//===- CloneSharedFills.cpp - A linalg.fill per initialized op ------------===//
//
// One fill shared by several destination-passing ops becomes a copy per op
// once bufferized; a fill per op is filled in place, and the GPU kernels
// fold it into their accumulators' start.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_CLONESHAREDFILLSPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

struct CloneSharedFillsPass
    : mlir::convseq::impl::CloneSharedFillsPassBase<CloneSharedFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && !fill.getResult(0).hasOneUse())
        fills.push_back(fill);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::FillOp fill : fills) {
      // Each init use gets its own fill of its own empty tensor; reads of the
      // filled tensor share the original.
      for (OpOperand &use :
           llvm::make_early_inc_range(fill.getResult(0).getUses())) {
        auto user = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
        if (!user || !user.isDpsInit(&use))
          continue;
        rewriter.setInsertionPoint(user);
        Value destination = fill.getDpsInits()[0];
        if (auto empty = destination.getDefiningOp<tensor::EmptyOp>())
          destination = rewriter.clone(*empty)->getResult(0);
        auto clone = linalg::FillOp::create(rewriter, fill.getLoc(),
                                            fill.getInputs(), destination);
        rewriter.modifyOpInPlace(user, [&] { use.set(clone.getResult(0)); });
      }
      if (fill->use_empty())
        rewriter.eraseOp(fill);
    }
  }
};

} // namespace
