//===- SplitGPUReductions.cpp - Reductions over many GPU threads ----------===//
//
// A linalg op whose loops are all reductions (a loss, a gradient's sum of
// squares) has no parallel loop to map onto threads: the GPU mapping runs
// it on one thread; one with a few outputs and long reductions (a bias
// gradient's column sums) runs on a few. This pass splits each such op over
// many threads: a parallel loop in which thread (p, j) combines the
// elements p, p + P, p + 2P, ... of output j's reduction into partial
// buffers of P values per output, then the original op's combiners fold
// the partials into the outputs, itself split again while it is too long
// for one thread.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/GPU/BlockLoops.h"
#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_SPLITGPUREDUCTIONSPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// Replaces the reduction `op` with a parallel loop over (partial, output
/// element) in which thread (q, j) folds the reduction elements q, q +
/// `partials`, ... of output element j into partial buffers, and a
/// reduction of the partials into `op`'s outputs by its `combiners`, which
/// is returned.
linalg::GenericOp splitReduction(RewriterBase &rewriter, linalg::LinalgOp op,
                                 ArrayRef<Operation *> combiners,
                                 int64_t partials) {
  Location loc = op.getLoc();
  MLIRContext *context = rewriter.getContext();
  rewriter.setInsertionPoint(op);
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<Value> sizes;
  for (Range range : op.createLoopRanges(rewriter, loc))
    sizes.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, range.size));
  SmallVector<unsigned> parallelDims, reductionDims;
  for (auto [dim, iterator] : llvm::enumerate(iterators))
    (iterator == utils::IteratorType::parallel ? parallelDims : reductionDims)
        .push_back(dim);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value count = arith::ConstantIndexOp::create(rewriter, loc, partials);
  Value total = one;
  for (unsigned dim : reductionDims)
    total = rewriter.createOrFold<arith::MulIOp>(loc, total, sizes[dim]);

  // A buffer of partials per output: [partials] and the output's shape.
  SmallVector<Value> buffers, identities;
  for (auto [init, combiner] : llvm::zip(op.getDpsInits(), combiners)) {
    auto type = cast<MemRefType>(init.getType());
    SmallVector<int64_t> shape = {partials};
    llvm::append_range(shape, type.getShape());
    SmallVector<Value> dynamicSizes;
    for (auto [dim, size] : llvm::enumerate(type.getShape()))
      if (ShapedType::isDynamic(size))
        dynamicSizes.push_back(memref::DimOp::create(rewriter, loc, init, dim));
    buffers.push_back(memref::AllocOp::create(
        rewriter, loc, MemRefType::get(shape, type.getElementType()),
        dynamicSizes));
    identities.push_back(arith::ConstantOp::create(
        rewriter, loc, *arith::getNeutralElement(combiner)));
  }

  // The thread's loop indices: its output element's parallel ones, and the
  // reduction ones of `linear` (the last loop fastest) once set.
  SmallVector<Value> indices(sizes.size(), zero);
  auto combineElements = [&](OpBuilder &b, Location l, Value linear,
                             ValueRange partial) {
    for (unsigned dim : llvm::reverse(ArrayRef(reductionDims).drop_front())) {
      indices[dim] = arith::RemUIOp::create(b, l, linear, sizes[dim]);
      linear = arith::DivUIOp::create(b, l, linear, sizes[dim]);
    }
    indices[reductionDims.front()] = linear;
    SmallVector<Value> next = applyBodyAt(b, l, op, indices, partial);
    scf::YieldOp::create(b, l, next);
  };
  SmallVector<Value> lowerBounds(parallelDims.size() + 1, zero);
  SmallVector<Value> upperBounds = {count};
  for (unsigned dim : parallelDims)
    upperBounds.push_back(sizes[dim]);
  SmallVector<Value> steps(parallelDims.size() + 1, one);
  scf::ParallelOp::create(
      rewriter, loc, lowerBounds, upperBounds, steps,
      [&](OpBuilder &b, Location l, ValueRange thread) {
        for (auto [dim, index] : llvm::zip(parallelDims, thread.drop_front()))
          indices[dim] = index;
        auto loop = scf::ForOp::create(b, l, thread.front(), total, count,
                                       identities, combineElements);
        // The outputs read the parallel indices only; the reduction ones
        // are the loop body's.
        for (unsigned dim : reductionDims)
          indices[dim] = zero;
        for (auto [init, buffer, result] :
             llvm::zip(op.getDpsInitsMutable(), buffers, loop.getResults())) {
          SmallVector<Value> at = {thread.front()};
          llvm::append_range(
              at, applyIndexingMap(b, l, op.getMatchingIndexingMap(&init),
                                   indices));
          memref::StoreOp::create(b, l, result, buffer, at);
        }
      });

  // The outputs, folded with the partials by the original combiners: the
  // parallel loops, in order, then one over the partials.
  unsigned numDims = parallelDims.size() + 1;
  SmallVector<AffineExpr> replacements(iterators.size(),
                                       getAffineConstantExpr(0, context));
  for (auto [position, dim] : llvm::enumerate(parallelDims))
    replacements[dim] = getAffineDimExpr(position, context);
  SmallVector<AffineMap> partialMaps, outputMaps;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init).replaceDimsAndSymbols(
        replacements, {}, numDims, 0);
    outputMaps.push_back(map);
    partialMaps.push_back(
        map.insertResult(getAffineDimExpr(numDims - 1, context), 0));
  }
  SmallVector<utils::IteratorType> foldIterators(parallelDims.size(),
                                                 utils::IteratorType::parallel);
  foldIterators.push_back(utils::IteratorType::reduction);
  llvm::append_range(partialMaps, outputMaps);
  auto fold = linalg::GenericOp::create(
      rewriter, loc, TypeRange{}, buffers, op.getDpsInits(), partialMaps,
      foldIterators, [&](OpBuilder &b, Location l, ValueRange args) {
        SmallVector<Value> results;
        for (auto [index, combiner] : llvm::enumerate(combiners))
          results.push_back(
              applyCombiner(b, combiner, op.getRegionOutputArgs()[index],
                            args[buffers.size() + index], args[index]));
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
      FailureOr<SmallVector<Operation *>> combiners =
          matchReductionCombiners(op);
      if (failed(combiners))
        continue;
      // The output elements (one for a full reduction) and the elements
      // each folds, if static.
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      int64_t outputs = 1, total = 1;
      for (auto [size, iterator] :
           llvm::zip(ranges, op.getIteratorTypesArray())) {
        int64_t &product =
            iterator == utils::IteratorType::parallel ? outputs : total;
        product = ShapedType::isDynamic(size) || ShapedType::isDynamic(product)
                      ? ShapedType::kDynamic
                      : product * size;
      }
      // Enough threads already: one per output element of many.
      if (ShapedType::isDynamic(outputs) || 2 * outputs > partials)
        continue;
      if (!ShapedType::isDynamic(total) && total <= serialLimit)
        continue;
      // `partials` threads in all for a long or dynamic reduction; at most
      // `final-partials` per output for a short one and for the partials of
      // a long one: a thread then folds those.
      int64_t count = partials / outputs;
      if (!ShapedType::isDynamic(total) && total <= finalPartials * serialLimit)
        count = std::min<int64_t>(count, finalPartials);
      if (!ShapedType::isDynamic(total) && total <= count)
        continue;
      worklist.push_back(splitReduction(rewriter, op, *combiners, count));
    }
  }
};

} // namespace
