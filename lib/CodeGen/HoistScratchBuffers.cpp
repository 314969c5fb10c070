//===- HoistScratchBuffers.cpp - One stack buffer per thread --------------===//
//
// A small buffer allocated and freed within one loop iteration becomes a
// stack buffer of the thread's parallel region (or of the function), made
// once and reused by every iteration the thread runs.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_HOISTSCRATCHBUFFERSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The op whose stack holds `alloc`'s buffer for as long as a thread runs:
/// the nearest automatic allocation scope around it (an `omp.parallel`,
/// whose region every thread runs once, or the function), if there is a
/// loop in between and only sequential loops and branches are. A loop whose
/// iterations may run at once (`scf.parallel`, `scf.forall`) would need a
/// buffer per iteration.
Operation *threadScope(memref::AllocOp alloc) {
  bool inLoop = false;
  for (Operation *op = alloc->getParentOp(); op; op = op->getParentOp()) {
    // scf.for is an allocation scope too, but its lowering to LLVM frees
    // nothing at the end of an iteration: it is a loop here.
    if (isa<scf::ForOp, scf::WhileOp, omp::LoopNestOp>(op)) {
      inLoop = true;
      continue;
    }
    if (op->hasTrait<OpTrait::AutomaticAllocationScope>())
      return inLoop ? op : nullptr;
    if (!isa<scf::IfOp, scf::ExecuteRegionOp, omp::WsloopOp>(op))
      return nullptr;
  }
  return nullptr;
}

/// The deallocations of `alloc`'s buffer, if they are `memref.dealloc`s in
/// its block and every other use of it or of its views has known memory
/// effects and frees nothing: its lifetime then ends within the iteration
/// that made it, and nothing keeps it.
std::optional<SmallVector<memref::DeallocOp>>
deallocsInBlock(memref::AllocOp alloc) {
  SmallVector<memref::DeallocOp> deallocs;
  SmallVector<Value> buffers = {alloc.getResult()};
  while (!buffers.empty()) {
    Value buffer = buffers.pop_back_val();
    for (Operation *user : buffer.getUsers()) {
      if (auto dealloc = dyn_cast<memref::DeallocOp>(user)) {
        if (buffer != alloc.getResult() ||
            dealloc->getBlock() != alloc->getBlock())
          return std::nullopt;
        deallocs.push_back(dealloc);
        continue;
      }
      auto effects = dyn_cast<MemoryEffectOpInterface>(user);
      if (!effects || effects.getEffectOnValue<MemoryEffects::Free>(buffer))
        return std::nullopt;
      if (isa<ViewLikeOpInterface>(user))
        llvm::append_range(buffers, user->getResults());
    }
  }
  if (deallocs.empty())
    return std::nullopt;
  return deallocs;
}

struct HoistScratchBuffersPass
    : mlir::convseq::impl::HoistScratchBuffersPassBase<
          HoistScratchBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // Bytes already moved to each scope's stack.
    llvm::DenseMap<Operation *, int64_t> scopeBytes;
    SmallVector<memref::AllocOp> allocs;
    getOperation().walk(
        [&](memref::AllocOp alloc) { allocs.push_back(alloc); });
    for (memref::AllocOp alloc : allocs) {
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
          !type.getElementType().isIntOrFloat())
        continue;
      int64_t bytes = type.getNumElements() *
                      llvm::divideCeil(type.getElementTypeBitWidth(), 8);
      if (bytes > maxBytes)
        continue;
      Operation *scope = threadScope(alloc);
      if (!scope || scope->getNumRegions() != 1 ||
          !scope->getRegion(0).hasOneBlock() ||
          scopeBytes[scope] + bytes > maxScopeBytes)
        continue;
      std::optional<SmallVector<memref::DeallocOp>> deallocs =
          deallocsInBlock(alloc);
      if (!deallocs)
        continue;
      scopeBytes[scope] += bytes;
      rewriter.setInsertionPointToStart(&scope->getRegion(0).front());
      auto buffer = memref::AllocaOp::create(rewriter, alloc.getLoc(), type,
                                             alloc.getAlignmentAttr());
      for (memref::DeallocOp dealloc : *deallocs)
        rewriter.eraseOp(dealloc);
      rewriter.replaceOp(alloc, buffer);
    }
  }
};

} // namespace
