//===- MapGPUBlockLoops.cpp - Block-level kernels onto gpu.launch ---------===//
//
// A kernel in the block-level form (BlockLoops.h) becomes a gpu.launch:
// the block loop's iterations are the grid, its thread loops run in every
// thread of a block with a barrier after each, its workgroup buffers are
// shared memory and its private ones each thread's own.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/GPU/BlockLoops.h"
#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_MAPGPUBLOCKLOOPSPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// Whether `loop` is a one-dimensional loop from 0 by 1.
bool isCountingLoop(scf::ParallelOp loop) {
  return loop.getNumLoops() == 1 && loop.getNumReductions() == 0 &&
         isConstantIntValue(loop.getLowerBound()[0], 0) &&
         isConstantIntValue(loop.getStep()[0], 1);
}

bool isThreadLoop(Operation *op) {
  return isa<scf::ParallelOp>(op) && op->hasAttr(kThreadLoop);
}

/// The pieces of a block loop, checked.
struct BlockLoop {
  scf::ParallelOp loop;
  SmallVector<scf::ParallelOp> threadLoops;
  int64_t threads = 0;
  SmallVector<memref::AllocOp> workgroup, privates;
};

FailureOr<BlockLoop> analyzeBlockLoop(scf::ParallelOp loop) {
  BlockLoop result{loop, {}, 0, {}, {}};
  if (!isCountingLoop(loop))
    return loop.emitError("a block loop must have one dimension, from 0 by 1");
  WalkResult walk =
      loop.getBody()->walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (auto inner = dyn_cast<scf::ParallelOp>(op)) {
          std::optional<int64_t> count =
              getConstantIntValue(inner.getUpperBound().front());
          if (!isThreadLoop(op) || !isCountingLoop(inner) || !count ||
              (result.threads != 0 && *count != result.threads)) {
            op->emitError("a parallel loop in a block loop must be a thread "
                          "loop from 0 by 1 to the same constant as the "
                          "others");
            return WalkResult::interrupt();
          }
          result.threads = *count;
          result.threadLoops.push_back(inner);
          // Nested parallel loops are checked by the lowering of the
          // thread loop's body as ordinary loops.
          return WalkResult::skip();
        }
        if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
          auto space = alloc->getAttrOfType<StringAttr>(kMemorySpace);
          if (!space ||
              (space.getValue() != kWorkgroupMemory &&
               space.getValue() != kPrivateMemory) ||
              !alloc.getType().hasStaticShape() ||
              alloc->getBlock() != loop.getBody() ||
              llvm::count_if(alloc->getUsers(), [](Operation *user) {
                return isa<memref::DeallocOp>(user);
              }) != 1) {
            op->emitError("a buffer of a block loop must have a static shape, "
                          "be workgroup or private memory, and be allocated "
                          "and freed once in the block loop's body");
            return WalkResult::interrupt();
          }
          (space.getValue() == kWorkgroupMemory ? result.workgroup
                                                : result.privates)
              .push_back(alloc);
          return WalkResult::advance();
        }
        if (auto dealloc = dyn_cast<memref::DeallocOp>(op);
            dealloc && dealloc.getMemref().getDefiningOp<memref::AllocOp>() &&
            dealloc.getMemref().getDefiningOp()->hasAttr(kMemorySpace))
          return WalkResult::advance();
        auto effects = dyn_cast<MemoryEffectOpInterface>(op);
        if (effects ? !effects.onlyHasEffect<MemoryEffects::Read>() &&
                          !effects.hasNoEffect()
                    : !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>()) {
          op->emitError("runs in every thread of a block: it must not write, "
                        "allocate or free memory outside a thread loop");
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
  if (walk.wasInterrupted())
    return failure();
  if (result.threadLoops.empty())
    return loop.emitError("a block loop needs a thread loop");
  for (memref::AllocOp alloc : result.privates) {
    if (alloc.getType().getRank() == 0 ||
        alloc.getType().getDimSize(0) != result.threads)
      return alloc.emitError("a private buffer's leading dimension must be "
                             "the threads of the block");
    for (Operation *user : alloc->getUsers()) {
      if (isa<memref::DeallocOp>(user))
        continue;
      Value first;
      if (auto load = dyn_cast<memref::LoadOp>(user))
        first = load.getIndices().front();
      else if (auto store = dyn_cast<memref::StoreOp>(user);
               store && store.getMemRef() == alloc.getResult())
        first = store.getIndices().front();
      auto thread = dyn_cast_or_null<BlockArgument>(first);
      if (!thread || !isThreadLoop(thread.getOwner()->getParentOp()))
        return user->emitError("a private buffer must be loaded and stored "
                               "at the index of the enclosing thread loop");
    }
  }
  return result;
}

MemRefType inAddressSpace(MemRefType type, ArrayRef<int64_t> shape,
                          gpu::AddressSpace space) {
  return MemRefType::get(shape, type.getElementType(),
                         MemRefLayoutAttrInterface(),
                         gpu::AddressSpaceAttr::get(type.getContext(), space));
}

void mapBlockLoop(RewriterBase &rewriter, const BlockLoop &blockLoop) {
  scf::ParallelOp loop = blockLoop.loop;
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  SmallVector<Type> workgroupTypes, privateTypes;
  for (memref::AllocOp alloc : blockLoop.workgroup)
    workgroupTypes.push_back(inAddressSpace(alloc.getType(),
                                            alloc.getType().getShape(),
                                            gpu::AddressSpace::Workgroup));
  for (memref::AllocOp alloc : blockLoop.privates)
    privateTypes.push_back(
        inAddressSpace(alloc.getType(), alloc.getType().getShape().drop_front(),
                       gpu::AddressSpace::Private));
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value threads =
      arith::ConstantIndexOp::create(rewriter, loc, blockLoop.threads);
  auto launch = gpu::LaunchOp::create(
      rewriter, loc, loop.getUpperBound().front(), one, one, threads, one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, workgroupTypes, privateTypes);

  // The block loop's body, in every thread of each block.
  Block &body = launch.getBody().front();
  rewriter.setInsertionPointToEnd(&body);
  auto terminator = gpu::TerminatorOp::create(rewriter, loc);
  Block *loopBody = loop.getBody();
  rewriter.eraseOp(loopBody->getTerminator());
  rewriter.inlineBlockBefore(loopBody, terminator, {launch.getBlockIds().x});

  // Buffers: shared memory, and each thread's own without the thread index.
  auto eraseDeallocs = [&](memref::AllocOp alloc) {
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        rewriter.eraseOp(user);
  };
  for (auto [alloc, attribution] :
       llvm::zip(blockLoop.workgroup, launch.getWorkgroupAttributions())) {
    eraseDeallocs(alloc);
    rewriter.replaceOp(alloc, attribution);
  }
  for (auto [alloc, attribution] :
       llvm::zip(blockLoop.privates, launch.getPrivateAttributions())) {
    eraseDeallocs(alloc);
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers())) {
      rewriter.setInsertionPoint(user);
      if (auto load = dyn_cast<memref::LoadOp>(user)) {
        rewriter.replaceOpWithNewOp<memref::LoadOp>(
            load, attribution, load.getIndices().drop_front());
      } else {
        auto store = cast<memref::StoreOp>(user);
        rewriter.replaceOpWithNewOp<memref::StoreOp>(
            store, store.getValueToStore(), attribution,
            store.getIndices().drop_front());
      }
    }
    rewriter.eraseOp(alloc);
  }

  // Thread loops: their body in every thread, then a barrier if they touch
  // shared memory (the threads' own buffers need none) and another thread
  // loop may follow: not after the last one of the block, outside any loop.
  Value thread = launch.getThreadIds().x;
  for (scf::ParallelOp threadLoop : blockLoop.threadLoops) {
    bool last = threadLoop == blockLoop.threadLoops.back() &&
                threadLoop->getParentOp() == launch.getOperation();
    bool shared =
        !last &&
        threadLoop.getBody()
            ->walk([&](Operation *op) {
              for (Value operand : op->getOperands())
                if (llvm::is_contained(launch.getWorkgroupAttributions(),
                                       dyn_cast<BlockArgument>(operand)))
                  return WalkResult::interrupt();
              return WalkResult::advance();
            })
            .wasInterrupted();
    Block *threadBody = threadLoop.getBody();
    rewriter.eraseOp(threadBody->getTerminator());
    rewriter.inlineBlockBefore(threadBody, threadLoop, {thread});
    rewriter.setInsertionPoint(threadLoop);
    if (shared)
      gpu::BarrierOp::create(rewriter, threadLoop.getLoc());
    rewriter.eraseOp(threadLoop);
  }
  rewriter.eraseOp(loop);
}

struct MapGPUBlockLoopsPass
    : mlir::convseq::impl::MapGPUBlockLoopsPassBase<MapGPUBlockLoopsPass> {
  using MapGPUBlockLoopsPassBase::MapGPUBlockLoopsPassBase;

  void runOnOperation() override {
    SmallVector<BlockLoop> blockLoops;
    WalkResult walk =
        getOperation().walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
          if (!loop->hasAttr(kBlockLoop))
            return WalkResult::advance();
          FailureOr<BlockLoop> blockLoop = analyzeBlockLoop(loop);
          if (failed(blockLoop))
            return WalkResult::interrupt();
          blockLoops.push_back(std::move(*blockLoop));
          return WalkResult::skip();
        });
    if (walk.wasInterrupted())
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    for (const BlockLoop &blockLoop : blockLoops)
      mapBlockLoop(rewriter, blockLoop);
  }
};

} // namespace
