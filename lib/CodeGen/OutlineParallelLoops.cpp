//===- OutlineParallelLoops.cpp - One function per parallel loop ----------===//

#include "lib/CodeGen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_OUTLINEPARALLELLOOPSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

struct OutlineParallelLoopsPass
    : mlir::convseq::impl::OutlineParallelLoopsPassBase<
          OutlineParallelLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      SmallVector<scf::ParallelOp> loops;
      func.walk([&](scf::ParallelOp loop) {
        if (!loop->getParentOfType<scf::ParallelOp>())
          loops.push_back(loop);
      });
      for (auto [index, loop] : llvm::enumerate(loops)) {
        // outlineSingleBlockRegion outlines a region, so the loop goes into
        // one first; the call it leaves there then replaces the wrapper.
        Location loc = loop.getLoc();
        rewriter.setInsertionPoint(loop);
        auto wrapper = scf::ExecuteRegionOp::create(rewriter, loc, TypeRange{});
        Block *body = rewriter.createBlock(&wrapper.getRegion());
        rewriter.moveOpBefore(loop, body, body->end());
        rewriter.setInsertionPointToEnd(body);
        scf::YieldOp::create(rewriter, loc);
        std::string name =
            (func.getSymName() + "_parallel_" + Twine(index)).str();
        func::CallOp call;
        FailureOr<func::FuncOp> outlined = outlineSingleBlockRegion(
            rewriter, loc, wrapper.getRegion(), name, &call);
        if (failed(outlined)) {
          loop.emitError("cannot outline this parallel loop");
          return signalPassFailure();
        }
        outlined->setPrivate();
        rewriter.moveOpBefore(call, wrapper);
        rewriter.eraseOp(wrapper);
      }
    }
  }
};

} // namespace
