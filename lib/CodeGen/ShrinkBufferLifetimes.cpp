//===- ShrinkBufferLifetimes.cpp - Allocate late, free early --------------===//

#include "lib/CodeGen/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/BufferViewFlowAnalysis.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_SHRINKBUFFERLIFETIMESPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The ops of `block` that use `buffer` or a view of it, those in `skip`
/// aside, as their ancestors in `block`; failure if a use is outside it.
FailureOr<SmallVector<Operation *>>
usersInBlock(Value buffer, Block *block, ArrayRef<Operation *> skip,
             const BufferViewFlowAnalysis &aliases) {
  SmallVector<Operation *> users;
  for (Value alias : aliases.resolve(buffer)) {
    for (Operation *user : alias.getUsers()) {
      if (llvm::is_contained(skip, user))
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
      usersInBlock(alloc.getResult(), alloc->getBlock(), /*skip=*/{}, aliases);
  if (failed(users) || users->empty())
    return;
  Operation *first = users->front();
  for (Operation *user : *users)
    if (user->isBeforeInBlock(first))
      first = user;
  if (alloc->getNextNode() != first)
    alloc->moveBefore(first);
}

/// Whether `buffer` is new memory that nothing else aliases: a
/// `memref.alloc`, or a result of an `scf.if` whose branches each yield
/// such a buffer made inside them (a contraction versioned on its shape).
bool isFreshBuffer(Value buffer) {
  if (buffer.getDefiningOp<memref::AllocOp>())
    return true;
  auto ifOp = buffer.getDefiningOp<scf::IfOp>();
  if (!ifOp || ifOp.getElseRegion().empty())
    return false;
  unsigned index = cast<OpResult>(buffer).getResultNumber();
  return llvm::all_of(ifOp->getRegions(), [&](Region &branch) {
    Value yielded = branch.front().getTerminator()->getOperand(index);
    return branch.isAncestor(yielded.getParentRegion()) &&
           isFreshBuffer(yielded);
  });
}

/// Moves `dealloc` up to just after the last op that uses its buffer, or
/// the op that defines the buffer if nothing does. The buffer is fresh (see
/// above); the deallocation pipeline frees the result of an `scf.if`
/// through its base (`memref.extract_strided_metadata`), which then moves
/// along. The dealloc stays if the buffer is not defined in its block, or a
/// view of it is used outside that block or after the dealloc.
void hoistDealloc(memref::DeallocOp dealloc,
                  const BufferViewFlowAnalysis &aliases) {
  Block *block = dealloc->getBlock();
  Value buffer = dealloc.getMemref();
  SmallVector<Operation *, 2> moved = {dealloc};
  if (auto metadata = buffer.getDefiningOp<memref::ExtractStridedMetadataOp>();
      metadata && metadata.getBaseBuffer() == buffer &&
      metadata->getBlock() == block) {
    buffer = metadata.getSource();
    moved.insert(moved.begin(), metadata);
  }
  Operation *definition = buffer.getDefiningOp();
  if (!definition || definition->getBlock() != block || !isFreshBuffer(buffer))
    return;
  FailureOr<SmallVector<Operation *>> users =
      usersInBlock(buffer, block, moved, aliases);
  if (failed(users))
    return;
  Operation *last = definition;
  for (Operation *user : *users) {
    if (!user->isBeforeInBlock(moved.front()))
      return;
    if (last->isBeforeInBlock(user))
      last = user;
  }
  for (Operation *op : llvm::reverse(moved))
    op->moveAfter(last);
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
