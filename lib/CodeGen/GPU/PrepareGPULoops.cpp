//===- PrepareGPULoops.cpp - Every buffer computation in a parallel loop --===//

#include "lib/CodeGen/GPU/BlockLoops.h"
#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_PREPAREGPULOOPSPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// Whether the control of `op` reads a buffer: a load outside the bodies of
/// the linalg ops it holds (those become loops of their own).
bool controlReadsBuffers(Operation *op) {
  WalkResult result = op->walk<WalkOrder::PreOrder>([](Operation *nested) {
    if (isa<linalg::LinalgOp>(nested))
      return WalkResult::skip();
    if (isa<memref::LoadOp>(nested))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Puts the parallel loops of `op` outside its reduction loops, as
/// generic op: `convert-linalg-to-parallel-loops` makes one scf.parallel of
/// the leading parallel loops only, and a reduction before a parallel loop
/// (a column sum) would otherwise be a host loop launching a kernel per
/// row.
LogicalResult hoistParallelLoops(RewriterBase &rewriter, linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> order;
  for (auto [index, iterator] : llvm::enumerate(iterators))
    if (iterator == utils::IteratorType::parallel)
      order.push_back(index);
  size_t numParallel = order.size();
  if (numParallel == 0 ||
      llvm::all_of(llvm::seq<unsigned>(0, numParallel),
                   [&](unsigned i) { return order[i] == i; }))
    return success();
  for (auto [index, iterator] : llvm::enumerate(iterators))
    if (iterator != utils::IteratorType::parallel)
      order.push_back(index);
  rewriter.setInsertionPoint(op);
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    FailureOr<linalg::GenericOp> generalized =
        linalg::generalizeNamedOp(rewriter, op);
    if (failed(generalized))
      return op.emitError("cannot reorder the loops of this op for the GPU");
    generic = *generalized;
  }
  if (failed(linalg::interchangeGenericOp(rewriter, generic, order)))
    return generic.emitError("cannot reorder the loops of this op for the GPU");
  return success();
}

/// A new one-iteration scf.parallel before `op`.
scf::ParallelOp createSingleIteration(RewriterBase &rewriter, Operation *op) {
  Location loc = op->getLoc();
  rewriter.setInsertionPoint(op);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  return scf::ParallelOp::create(rewriter, loc, ValueRange{zero},
                                 ValueRange{one}, ValueRange{one});
}

/// Moves `op` into a new one-iteration scf.parallel where it was.
void moveIntoSingleIteration(RewriterBase &rewriter, Operation *op) {
  scf::ParallelOp loop = createSingleIteration(rewriter, op);
  rewriter.moveOpBefore(op, loop.getBody()->getTerminator());
}

/// Whether an op between a load and the store of its value may write
/// memory the load read: anything that writes, allocations aside.
bool writesMemory(Operation *op) {
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
           op->getNumRegions() != 0;
  return effects.hasEffect<MemoryEffects::Write>() ||
         effects.hasEffect<MemoryEffects::Free>();
}

/// The loads and pure scalar ops `root` depends on among the ops
/// `inScope` accepts, in order (`root` itself if `inclusive`); buffers and
/// values from outside the scope are left where they are. Failure if
/// `root` depends on any other op in the scope.
FailureOr<SetVector<Operation *>>
scalarSlice(Operation *root, bool inclusive,
            llvm::function_ref<bool(Operation *)> inScope) {
  BackwardSliceOptions options;
  options.inclusive = inclusive;
  options.omitBlockArguments = true;
  bool movable = true;
  options.filter = [&](Operation *op) {
    if (op == root && !inclusive)
      return true;
    if (!inScope(op) ||
        llvm::any_of(op->getResultTypes(), llvm::IsaPred<BaseMemRefType>))
      return false;
    if (isa<memref::LoadOp>(op) || isPure(op))
      return true;
    movable = false;
    return false;
  };
  SetVector<Operation *> slice;
  if (failed(getBackwardSlice(root, &slice, options)) || !movable)
    return failure();
  return slice;
}

/// Moves a scalar that bufferization passes through the host (a
/// `tensor.extract` feeding `tensor.from_elements`: a load, pure scalar
/// ops, a store) into a one-iteration scf.parallel at the store. The slice
/// is cloned; what the host no longer uses is erased.
LogicalResult moveScalarStore(RewriterBase &rewriter, memref::StoreOp store) {
  Block *block = store->getBlock();
  FailureOr<SetVector<Operation *>> slice =
      scalarSlice(store, /*inclusive=*/false,
                  [&](Operation *op) { return op->getBlock() == block; });
  if (failed(slice))
    return store.emitError("cannot move this store of a host value into a "
                           "GPU kernel");
  // Every load moves down to the store: nothing in between may write.
  for (Operation *op : *slice) {
    if (!isa<memref::LoadOp>(op))
      continue;
    for (Operation *next = op->getNextNode(); next != store;
         next = next->getNextNode())
      if (!slice->contains(next) && writesMemory(next))
        return store.emitError("cannot move this store into a GPU kernel: "
                               "memory changes between the load of its "
                               "value and the store");
  }
  scf::ParallelOp loop = createSingleIteration(rewriter, store);
  rewriter.setInsertionPoint(loop.getBody()->getTerminator());
  IRMapping mapping;
  for (Operation *op : *slice)
    rewriter.clone(*op, mapping);
  rewriter.clone(*store, mapping);
  rewriter.eraseOp(store);
  for (Operation *op : llvm::reverse(*slice))
    if (isOpTriviallyDead(op))
      rewriter.eraseOp(op);
  return success();
}

/// Whether `op` or an op in its regions may write or free `buffer`: a write
/// to (or free of) a view of it or an unknown place, or an op whose effects
/// are unknown. A load moved after a free would read released memory.
bool mayWrite(Operation *op, Value buffer) {
  WalkResult result = op->walk([&](Operation *nested) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(nested);
    if (!effects) {
      if (nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        return WalkResult::advance();
      return WalkResult::interrupt();
    }
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &effect : instances)
      if (isa<MemoryEffects::Write, MemoryEffects::Free>(effect.getEffect()) &&
          (!effect.getValue() || rootBuffer(effect.getValue()) == buffer))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Whether `op` runs on the host: it is in no linalg body or parallel loop.
bool onHost(Operation *op) {
  return !op->getParentOfType<scf::ParallelOp>() &&
         !op->getParentOfType<linalg::LinalgOp>();
}

/// Recomputes, in each linalg body and parallel loop that uses it, a
/// scalar the host would compute from a buffer (the global gradient norm,
/// read back and turned into a clipping factor by scalar ops): the loads
/// and the pure ops after them are cloned at the start of the consumer,
/// which then runs on the device with the buffer. Only if nothing writes
/// the buffer between the load and the consumer; otherwise the load stays
/// and convseq-gpu-host-buffers reports it.
void sinkHostScalars(RewriterBase &rewriter, func::FuncOp func) {
  // The host slice of `value`, if it reads a buffer that nothing writes
  // between the read and `consumer`.
  auto hostSlice =
      [](Value value,
         Operation *consumer) -> std::optional<SetVector<Operation *>> {
    Operation *def = value.getDefiningOp();
    if (!def || !onHost(def) || isa<BaseMemRefType>(value.getType()))
      return std::nullopt;
    FailureOr<SetVector<Operation *>> slice =
        scalarSlice(def, /*inclusive=*/true, onHost);
    if (failed(slice) || !llvm::any_of(*slice, llvm::IsaPred<memref::LoadOp>))
      return std::nullopt;
    for (Operation *op : *slice) {
      auto load = dyn_cast<memref::LoadOp>(op);
      if (!load)
        continue;
      Operation *until = load->getBlock()->findAncestorOpInBlock(*consumer);
      if (!until)
        return std::nullopt;
      Value buffer = rootBuffer(load.getMemRef());
      for (Operation *next = load->getNextNode(); next != until;
           next = next->getNextNode())
        if (mayWrite(next, buffer))
          return std::nullopt;
    }
    return *slice;
  };

  // Consumers: the outermost parallel loops and linalg ops.
  SmallVector<Operation *> consumers;
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<scf::ParallelOp, linalg::LinalgOp>(op)) {
      consumers.push_back(op);
      return WalkResult::skip();
    }
    return WalkResult::advance();
  });
  for (Operation *consumer : consumers) {
    Block &entry = consumer->getRegion(0).front();
    IRMapping mapping;
    Operation *lastClone = nullptr;
    consumer->walk([&](Operation *op) {
      for (OpOperand &operand : op->getOpOperands()) {
        Value value = operand.get();
        if (mapping.contains(value)) {
          operand.set(mapping.lookup(value));
          continue;
        }
        std::optional<SetVector<Operation *>> slice =
            hostSlice(value, consumer);
        if (!slice)
          continue;
        if (lastClone)
          rewriter.setInsertionPointAfter(lastClone);
        else
          rewriter.setInsertionPointToStart(&entry);
        for (Operation *sliced : *slice)
          if (!llvm::all_of(sliced->getResults(), [&](Value result) {
                return mapping.contains(result);
              }))
            lastClone = rewriter.clone(*sliced, mapping);
        operand.set(mapping.lookup(value));
      }
    });
  }
  // What the host no longer uses.
  SmallVector<Operation *> hostOps;
  func.walk([&](Operation *op) {
    if (onHost(op) && !isa<func::FuncOp>(op))
      hostOps.push_back(op);
  });
  for (Operation *op : llvm::reverse(hostOps))
    if (isOpTriviallyDead(op))
      rewriter.eraseOp(op);
}

struct PrepareGPULoopsPass
    : mlir::convseq::impl::PrepareGPULoopsPassBase<PrepareGPULoopsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());

    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                  copy.getTarget());
    }

    SmallVector<linalg::LinalgOp> linalgOps;
    func.walk([&](linalg::LinalgOp op) { linalgOps.push_back(op); });
    for (linalg::LinalgOp op : linalgOps)
      if (failed(hoistParallelLoops(rewriter, op)))
        return signalPassFailure();

    // What runs on one thread: linalg ops without a parallel iterator, and
    // host control that reads buffers. Loops already parallel are left to
    // the mapping.
    SmallVector<Operation *> serial;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<scf::ParallelOp>(op))
        return WalkResult::skip();
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
        if (linalgOp.getNumParallelLoops() == 0)
          serial.push_back(op);
        return WalkResult::skip();
      }
      if (op != func && op->getNumRegions() != 0 && controlReadsBuffers(op)) {
        serial.push_back(op);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });

    // Stores of scalars the host holds (bufferized tensor.from_elements).
    SmallVector<memref::StoreOp> stores;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<scf::ParallelOp, linalg::LinalgOp>(op) ||
          llvm::is_contained(serial, op))
        return WalkResult::skip();
      if (auto store = dyn_cast<memref::StoreOp>(op))
        stores.push_back(store);
      return WalkResult::advance();
    });
    for (memref::StoreOp store : stores)
      if (failed(moveScalarStore(rewriter, store)))
        return signalPassFailure();
    sinkHostScalars(rewriter, func);

    for (Operation *op : serial) {
      if (op->getNumResults() != 0 && !isa<linalg::LinalgOp>(op)) {
        op->emitError("cannot run on the GPU: this op's control reads a "
                      "buffer and it returns values");
        return signalPassFailure();
      }
      if (!isa<linalg::LinalgOp>(op)) {
        SmallVector<linalg::LinalgOp> nested;
        op->walk(
            [&](linalg::LinalgOp linalgOp) { nested.push_back(linalgOp); });
        for (linalg::LinalgOp linalgOp : nested) {
          rewriter.setInsertionPoint(linalgOp);
          if (failed(linalg::linalgOpToLoops(rewriter, linalgOp))) {
            linalgOp->emitError("cannot lower this op to loops");
            return signalPassFailure();
          }
          rewriter.eraseOp(linalgOp);
        }
      }
      moveIntoSingleIteration(rewriter, op);
    }
  }
};

} // namespace
