//===- TileGPURowReductions.cpp - A warp per row of a reduction -----------===//
//
// A reduction over the innermost, contiguous dimension of its inputs (the
// max and sum of a softmax, a norm's sum of squares, the loss's over the
// vocabulary) runs on the simple mapping as one thread per row: the thread
// walks its row alone, and the threads of a warp read 32 different rows, a
// memory transaction per element each. This pass makes each such op a
// kernel in the block-level form (BlockLoops.h) in which the `lanes`
// threads of a row share it: lane l folds the elements l, l + lanes, ...
// into a partial (a warp reads consecutive elements), the partials meet in
// shared memory, and one thread per row folds them into the output, with
// the op's own combiner.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/GPU/BlockLoops.h"
#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_TILEGPUROWREDUCTIONSPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// A row reduction and what the kernel starts each output from.
struct RowReduction {
  linalg::LinalgOp op;
  /// The combiner of each output.
  SmallVector<Operation *> combiners;
  /// Each output's fill, whose value the output starts from instead, if
  /// any.
  SmallVector<linalg::FillOp> fills;
};

/// `op` as a row reduction: parallel loops and then one reduction loop
/// (the last), with combiners (matchReductionCombiners), every input that
/// the reduction loop indexes reading it as its innermost, unit-stride
/// index and nowhere else, and a reduction at least `minLength` long or
/// of dynamic length.
FailureOr<RowReduction> matchRowReduction(linalg::LinalgOp op,
                                          int64_t minLength) {
  unsigned loops = op.getNumLoops();
  if (loops < 2 || op.getNumReductionLoops() != 1 ||
      op.getIteratorTypesArray().back() != utils::IteratorType::reduction)
    return failure();
  FailureOr<SmallVector<Operation *>> combiners = matchReductionCombiners(op);
  if (failed(combiners))
    return failure();
  unsigned reduction = loops - 1;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!map.isFunctionOfDim(reduction))
      continue;
    auto type = dyn_cast<MemRefType>(input->get().getType());
    if (!type || !type.isLastDimUnitStride() ||
        map.getResults().back() != getAffineDimExpr(reduction, op.getContext()))
      return failure();
    for (AffineExpr result : map.getResults().drop_back())
      if (result.isFunctionOfDim(reduction))
        return failure();
  }
  for (Value init : op.getDpsInits())
    if (!isa<FloatType>(getElementTypeOrSelf(init.getType())))
      return failure();
  int64_t length = op.getStaticLoopRanges().back();
  if (!ShapedType::isDynamic(length) && length < minLength)
    return failure();
  RowReduction row{op, std::move(*combiners), {}};
  for (unsigned init = 0, e = op.getNumDpsInits(); init < e; ++init)
    row.fills.push_back(findInitFill(op, init));
  return row;
}

/// Replaces `row.op` with the kernel: a block per `threads / lanes` rows.
void tileRowReduction(RewriterBase &rewriter, const RowReduction &row,
                      int64_t threads, int64_t lanes) {
  linalg::LinalgOp op = row.op;
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> sizes = loopSizes(rewriter, op);
  unsigned reduction = sizes.size() - 1;
  SmallVector<unsigned> rowDims = llvm::to_vector(llvm::seq(reduction));
  Value rows = linearizedSize(rewriter, loc, sizes, rowDims);
  int64_t rowsPerBlock = threads / lanes;
  Value blocks = tileCount(rewriter, loc, rows, rowsPerBlock);
  Value length = sizes[reduction];
  SmallVector<Value> neutrals;
  for (Operation *combiner : row.combiners)
    neutrals.push_back(arith::ConstantOp::create(
        rewriter, loc, *arith::getNeutralElement(combiner)));

  buildBlockLoop(
      rewriter, loc, blocks, [&](OpBuilder &b, Location l, Value block) {
        // The lanes' partials per output, a padding column apart so that
        // the threads folding them read different banks.
        SmallVector<Value> partials;
        for (Value init : op.getDpsInits())
          partials.push_back(allocBlockBuffer(
              b, l, {rowsPerBlock, lanes + 1},
              getElementTypeOrSelf(init.getType()), kWorkgroupMemory));
        Value firstRow = arith::MulIOp::create(
            b, l, block, indexConstant(b, l, rowsPerBlock));
        // The loop indices of the block's row `inBlock`, and whether the
        // row exists.
        auto rowIndices = [&](OpBuilder &tb, Location tl, Value inBlock,
                              SmallVector<Value> &indices) {
          Value linear = arith::AddIOp::create(tb, tl, firstRow, inBlock);
          indices.assign(sizes.size(), indexConstant(tb, tl, 0));
          delinearizeInto(tb, tl, linear, sizes, rowDims, indices);
          return isBelow(tb, tl, linear, rows);
        };

        // Lane l of a row folds its elements l, l + lanes, ... (none when
        // the row does not exist) from the neutral elements.
        buildThreadLoop(
            b, l, threads, [&](OpBuilder &tb, Location tl, Value t) {
              Value laneCount = indexConstant(tb, tl, lanes);
              Value inBlock = arith::DivUIOp::create(tb, tl, t, laneCount);
              Value lane = arith::RemUIOp::create(tb, tl, t, laneCount);
              SmallVector<Value> indices;
              Value exists = rowIndices(tb, tl, inBlock, indices);
              Value end = arith::SelectOp::create(tb, tl, exists, length,
                                                  indexConstant(tb, tl, 0));
              auto loop = scf::ForOp::create(
                  tb, tl, lane, end, laneCount, neutrals,
                  [&](OpBuilder &fb, Location fl, Value element,
                      ValueRange partial) {
                    indices[reduction] = element;
                    scf::YieldOp::create(
                        fb, fl, applyBodyAt(fb, fl, op, indices, partial));
                  });
              for (auto [buffer, partial] :
                   llvm::zip(partials, loop.getResults()))
                memref::StoreOp::create(tb, tl, partial, buffer,
                                        ValueRange{inBlock, lane});
            });

        // Thread r folds row r's partials, lane by lane, into the output's
        // value (or its fill's) and stores it.
        buildThreadLoop(
            b, l, threads, [&](OpBuilder &tb, Location tl, Value t) {
              SmallVector<Value> indices;
              Value exists = rowIndices(tb, tl, t, indices);
              Value folds = arith::AndIOp::create(
                  tb, tl,
                  isBelow(tb, tl, t, indexConstant(tb, tl, rowsPerBlock)),
                  exists);
              auto ifOp = scf::IfOp::create(tb, tl, folds, /*withElse=*/false);
              OpBuilder ib = ifOp.getThenBodyBuilder();
              for (unsigned index = 0, e = op.getNumDpsInits(); index < e;
                   ++index) {
                OpOperand &init = op.getDpsInitsMutable()[index];
                SmallVector<Value> at = applyIndexingMap(
                    ib, tl, op.getMatchingIndexingMap(&init), indices);
                Value start =
                    row.fills[index]
                        ? linalg::FillOp(row.fills[index]).getInputs()[0]
                        : memref::LoadOp::create(ib, tl, init.get(), at)
                              .getResult();
                auto fold = scf::ForOp::create(
                    ib, tl, indexConstant(ib, tl, 0),
                    indexConstant(ib, tl, lanes), indexConstant(ib, tl, 1),
                    ValueRange{start},
                    [&](OpBuilder &fb, Location fl, Value lane,
                        ValueRange acc) {
                      Value partial = memref::LoadOp::create(
                          fb, fl, partials[index], ValueRange{t, lane});
                      scf::YieldOp::create(
                          fb, fl,
                          applyCombiner(fb, row.combiners[index],
                                        op.getRegionOutputArgs()[index],
                                        acc.front(), partial));
                    });
                memref::StoreOp::create(ib, tl, fold.getResult(0), init.get(),
                                        at);
              }
            });
        for (Value buffer : partials)
          memref::DeallocOp::create(b, l, buffer);
      });
  rewriter.eraseOp(op);
  for (linalg::FillOp fill : row.fills)
    if (fill)
      rewriter.eraseOp(fill);
}

struct TileGPURowReductionsPass
    : mlir::convseq::impl::TileGPURowReductionsPassBase<
          TileGPURowReductionsPass> {
  using TileGPURowReductionsPassBase::TileGPURowReductionsPassBase;

  void runOnOperation() override {
    if (threads <= 0 || threads > 1024 || threads % 32 != 0 || lanes <= 0 ||
        threads % lanes != 0) {
      getOperation().emitError()
          << "threads must be a multiple of 32 up to 1024 and of lanes; got "
             "threads="
          << static_cast<int64_t>(threads)
          << ", lanes=" << static_cast<int64_t>(lanes);
      return signalPassFailure();
    }
    SmallVector<RowReduction> reductions =
        matchHostOps<RowReduction>(getOperation(), [&](linalg::LinalgOp op) {
          return matchRowReduction(op, minLength);
        });
    IRRewriter rewriter(&getContext());
    for (const RowReduction &row : reductions)
      tileRowReduction(rewriter, row, threads, lanes);
  }
};

} // namespace
