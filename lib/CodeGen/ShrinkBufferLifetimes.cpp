//===- ShrinkBufferLifetimes.cpp - Allocate late, free early --------------===//

#include "lib/CodeGen/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/BufferViewFlowAnalysis.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_SHRINKBUFFERLIFETIMESPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The ops of `alloc`'s block that use the buffer or a view of it, `skip`
/// aside, as their ancestors in that block; failure if a use is outside it.
FailureOr<SmallVector<Operation *>>
usersInBlock(memref::AllocOp alloc, Operation *skip,
             const BufferViewFlowAnalysis &aliases) {
  Block *block = alloc->getBlock();
  SmallVector<Operation *> users;
  for (Value alias : aliases.resolve(alloc.getResult())) {
    for (Operation *user : alias.getUsers()) {
      if (user == skip)
        continue;
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor)
        return failure();
      users.push_back(ancestor);
    }
  }
  return users;
}

/// Moves `alloc` down to just before the first op that uses it.
void sinkAlloc(memref::AllocOp alloc, const BufferViewFlowAnalysis &aliases) {
  FailureOr<SmallVector<Operation *>> users =
      usersInBlock(alloc, /*skip=*/nullptr, aliases);
  if (failed(users) || users->empty())
    return;
  Operation *first = users->front();
  for (Operation *user : *users)
    if (user->isBeforeInBlock(first))
      first = user;
  if (alloc->getNextNode() != first)
    alloc->moveBefore(first);
}

/// Moves `dealloc` up to just after the last op that uses its buffer, or
/// the allocation itself if nothing does. It stays if the buffer is not
/// allocated in its block, or a view of it is used outside that block or
/// after the dealloc.
void hoistDealloc(memref::DeallocOp dealloc,
                  const BufferViewFlowAnalysis &aliases) {
  auto alloc = dealloc.getMemref().getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != dealloc->getBlock())
    return;
  FailureOr<SmallVector<Operation *>> users =
      usersInBlock(alloc, /*skip=*/dealloc, aliases);
  if (failed(users))
    return;
  Operation *last = alloc;
  for (Operation *user : *users) {
    if (!user->isBeforeInBlock(dealloc))
      return;
    if (last->isBeforeInBlock(user))
      last = user;
  }
  dealloc->moveAfter(last);
}

struct ShrinkBufferLifetimesPass
    : mlir::convseq::impl::ShrinkBufferLifetimesPassBase<
          ShrinkBufferLifetimesPass> {
  void runOnOperation() override {
    // A size read from a view (`memref.dim` of an expand_shape, which
    // bufferization leaves when a tensor.empty takes its sizes from another
    // one) would otherwise count as a use and pin the buffer there. A size
    // left unresolved only keeps a buffer longer.
    RewritePatternSet patterns(&getContext());
    memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));

    BufferViewFlowAnalysis aliases(getOperation());
    SmallVector<memref::AllocOp> allocs;
    SmallVector<memref::DeallocOp> deallocs;
    getOperation().walk([&](Operation *op) {
      if (auto alloc = dyn_cast<memref::AllocOp>(op))
        allocs.push_back(alloc);
      else if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
        deallocs.push_back(dealloc);
    });
    // Allocations moved before one op keep their order, and so do deallocs
    // moved after one op, in reverse.
    for (memref::AllocOp alloc : allocs)
      sinkAlloc(alloc, aliases);
    for (memref::DeallocOp dealloc : llvm::reverse(deallocs))
      hoistDealloc(dealloc, aliases);
  }
};

} // namespace
