//===- SplitGPUReductions.cpp - Full reductions over many threads ---------===//
//
// A linalg op whose loops are all reductions (a loss, a gradient's sum of
// squares) has no parallel loop to map onto threads: the GPU mapping runs
// it on one thread. This pass splits each such op over many threads: a
// parallel loop in which thread p combines the elements p, p + P, p + 2P,
// ... (neighbouring threads read neighbouring elements) into partial
// buffers of P values, then the original op's combiners fold the partials
// into the outputs, itself split again while it is too long for one thread.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_SPLITGPUREDUCTIONSPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The combiner of each output of `op` if `op` is a full reduction the
/// split applies to: every loop a reduction, every output 0-d and updated
/// by one op with a neutral element that only it uses, and a body that
/// writes no memory.
FailureOr<SmallVector<Operation *>> matchFullReduction(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0 ||
      op.getNumParallelLoops() != 0 || op.getNumReductionLoops() == 0)
    return failure();
  Block *body = op.getBlock();
  WalkResult writes = body->walk([](Operation *nested) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(nested);
    if (effects ? effects.hasEffect<MemoryEffects::Write>()
                : !nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (writes.wasInterrupted())
    return failure();
  SmallVector<Operation *> combiners;
  for (auto [index, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    if (op.getMatchingIndexingMap(&init).getNumResults() != 0)
      return failure();
    SmallVector<Operation *> ops;
    BlockArgument output = op.getMatchingBlockArgument(&init);
    if (!matchReduction(op.getRegionOutputArgs(), index, ops) ||
        ops.size() != 1 || !output.hasOneUse() ||
        !arith::getNeutralElement(ops.front()))
      return failure();
    combiners.push_back(ops.front());
  }
  return combiners;
}

/// Replaces the full reduction `op` with a parallel loop of `partials`
/// threads writing partial results, and a reduction of those into `op`'s
/// outputs by its `combiners`, which is returned.
linalg::GenericOp splitReduction(RewriterBase &rewriter, linalg::LinalgOp op,
                                 ArrayRef<Operation *> combiners,
                                 int64_t partials) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> sizes;
  for (Range range : op.createLoopRanges(rewriter, loc))
    sizes.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, range.size));
  Value total = sizes.front();
  for (Value size : ArrayRef(sizes).drop_front())
    total = rewriter.createOrFold<arith::MulIOp>(loc, total, size);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value count = arith::ConstantIndexOp::create(rewriter, loc, partials);

  SmallVector<Value> buffers, identities;
  for (auto [init, combiner] : llvm::zip(op.getDpsInits(), combiners)) {
    buffers.push_back(memref::AllocOp::create(
        rewriter, loc,
        MemRefType::get({partials}, getElementTypeOrSelf(init.getType()))));
    identities.push_back(arith::ConstantOp::create(
        rewriter, loc, *arith::getNeutralElement(combiner)));
  }

  Block *body = op.getBlock();
  auto combineElements = [&](OpBuilder &b, Location l, Value linear,
                             ValueRange partial) {
    // The loop indices of element `linear`, the last loop fastest.
    SmallVector<Value> indices(sizes.size());
    for (int64_t d = sizes.size() - 1; d > 0; --d) {
      indices[d] = arith::RemUIOp::create(b, l, linear, sizes[d]);
      linear = arith::DivUIOp::create(b, l, linear, sizes[d]);
    }
    indices[0] = linear;
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value value = input->get();
      if (isa<MemRefType>(value.getType())) {
        AffineMap map = op.getMatchingIndexingMap(input);
        SmallVector<Value> at;
        for (AffineExpr expr : map.getResults())
          at.push_back(getValueOrCreateConstantIndexOp(
              b, l,
              affine::makeComposedFoldedAffineApply(
                  b, l, AffineMap::get(map.getNumDims(), 0, expr),
                  getAsOpFoldResult(indices))));
        value = memref::LoadOp::create(b, l, value, at);
      }
      mapping.map(op.getMatchingBlockArgument(input), value);
    }
    mapping.map(op.getRegionOutputArgs(), partial);
    for (Operation &nested : body->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(nested))
        mapping.map(index.getResult(), indices[index.getDim()]);
      else
        b.clone(nested, mapping);
    }
    SmallVector<Value> next;
    for (Value value : body->getTerminator()->getOperands())
      next.push_back(mapping.lookupOrDefault(value));
    scf::YieldOp::create(b, l, next);
  };
  scf::ParallelOp::create(
      rewriter, loc, ValueRange{zero}, ValueRange{count}, ValueRange{one},
      [&](OpBuilder &b, Location l, ValueRange thread) {
        auto loop = scf::ForOp::create(b, l, thread[0], total, count,
                                       identities, combineElements);
        for (auto [buffer, result] : llvm::zip(buffers, loop.getResults()))
          memref::StoreOp::create(b, l, result, buffer, thread);
      });

  // The outputs, folded with the partials by the original combiners.
  MLIRContext *context = rewriter.getContext();
  SmallVector<AffineMap> maps(buffers.size(),
                              AffineMap::getMultiDimIdentityMap(1, context));
  maps.append(buffers.size(), AffineMap::get(1, 0, context));
  auto fold = linalg::GenericOp::create(
      rewriter, loc, TypeRange{}, buffers, op.getDpsInits(), maps,
      {utils::IteratorType::reduction},
      [&](OpBuilder &b, Location l, ValueRange args) {
        SmallVector<Value> results;
        for (auto [index, combiner] : llvm::enumerate(combiners)) {
          BlockArgument output = op.getRegionOutputArgs()[index];
          IRMapping mapping;
          for (Value operand : combiner->getOperands())
            mapping.map(operand, operand == output
                                     ? args[buffers.size() + index]
                                     : args[index]);
          results.push_back(b.clone(*combiner, mapping)->getResult(0));
        }
        linalg::YieldOp::create(b, l, results);
      });
  for (Value buffer : buffers)
    memref::DeallocOp::create(rewriter, loc, buffer);
  rewriter.eraseOp(op);
  return fold;
}

struct SplitGPUReductionsPass
    : mlir::convseq::impl::SplitGPUReductionsPassBase<SplitGPUReductionsPass> {
  using SplitGPUReductionsPassBase::SplitGPUReductionsPassBase;

  void runOnOperation() override {
    if (serialLimit <= 0 || partials <= 1 || finalPartials <= 1) {
      getOperation().emitError("serial-limit must be positive and the "
                               "partial counts above 1");
      return signalPassFailure();
    }
    SmallVector<linalg::LinalgOp> worklist;
    getOperation().walk([&](linalg::LinalgOp op) { worklist.push_back(op); });
    IRRewriter rewriter(&getContext());
    while (!worklist.empty()) {
      linalg::LinalgOp op = worklist.pop_back_val();
      FailureOr<SmallVector<Operation *>> combiners = matchFullReduction(op);
      if (failed(combiners))
        continue;
      int64_t total = 1;
      for (int64_t size : op.getStaticLoopRanges())
        total = ShapedType::isDynamic(size) || ShapedType::isDynamic(total)
                    ? ShapedType::kDynamic
                    : total * size;
      if (!ShapedType::isDynamic(total) && total <= serialLimit)
        continue;
      // Many threads for a long or dynamic reduction, few for a short one
      // and for the partials of a long one: one thread then folds those.
      int64_t count =
          !ShapedType::isDynamic(total) && total <= finalPartials * serialLimit
              ? finalPartials
              : partials;
      if (!ShapedType::isDynamic(total) && total <= count)
        continue;
      worklist.push_back(splitReduction(rewriter, op, *combiners, count));
    }
  }
};

} // namespace
