//===- GPUEmbeddingGrad.cpp - The embedding gradient over GPU threads -----===//
//
// convseq.embedding_grad adds each position's row of dy into the row of the
// table its id names. The common lowering is a serial loop over positions,
// right for a CPU's vector registers; on a GPU it would be one thread. Here
// each thread owns one column of a block of table rows and walks all the
// positions, adding those whose id falls in its rows: every element of the
// gradient is written by one thread, in position order, so the result is
// the serial loop's to the bit, with V / rows-per-thread x D threads.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/GPU/Passes.h"

#include "dialect/ConvSeqOps.h"
#include "lib/Support/FlattenPositions.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_GPUEMBEDDINGGRADPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// `op` as an scf.forall over (row block, column), each thread looping over
/// the positions; failure if the table's shape is not static.
LogicalResult lowerEmbeddingGrad(RewriterBase &rewriter, EmbeddingGradOp op,
                                 int64_t rowsPerThread) {
  Location loc = op.getLoc();
  auto tableType = cast<RankedTensorType>(op.getType());
  if (!tableType.hasStaticShape())
    return op.emitError("the GPU lowering needs a static table shape, not ")
           << tableType;
  int64_t vocab = tableType.getDimSize(0), width = tableType.getDimSize(1);
  Type elementType = tableType.getElementType();
  rewriter.setInsertionPoint(op);

  Value ids = op.getIds(), dy = op.getResultGrad();
  if (cast<RankedTensorType>(ids.getType()).getRank() == 0)
    return op.emitError("the GPU lowering needs at least one id dimension");
  flattenPositions(rewriter, loc, ids, dy);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value count = tensor::DimOp::create(rewriter, loc, ids, 0);
  Value zeros = linalg::FillOp::create(
                    rewriter, loc,
                    ValueRange{arith::ConstantOp::create(
                        rewriter, loc, rewriter.getZeroAttr(elementType))},
                    ValueRange{tensor::EmptyOp::create(
                        rewriter, loc, tableType.getShape(), elementType)})
                    .getResult(0);

  Value rowsConstant =
      arith::ConstantIndexOp::create(rewriter, loc, rowsPerThread);
  Value vocabConstant = arith::ConstantIndexOp::create(rewriter, loc, vocab);
  int64_t blocks = llvm::divideCeil(vocab, rowsPerThread);
  auto loop = scf::ForallOp::create(
      rewriter, loc,
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(blocks),
                             rewriter.getIndexAttr(width)},
      ValueRange{zeros}, /*mapping=*/std::nullopt);
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(loop.getBody());
  Value block = loop.getInductionVars()[0];
  Value column = loop.getInductionVars()[1];
  Value table = loop.getRegionIterArgs()[0];
  // Rows [first, first + rows) of the column.
  Value first = arith::MulIOp::create(rewriter, loc, block, rowsConstant);
  Value rows = arith::MinSIOp::create(
      rewriter, loc, rowsConstant,
      arith::SubIOp::create(rewriter, loc, vocabConstant, first));
  SmallVector<OpFoldResult> offsets = {first, column};
  SmallVector<OpFoldResult> sizes = {rows, rewriter.getIndexAttr(1)};
  SmallVector<OpFoldResult> strides(2, rewriter.getIndexAttr(1));
  Value slice = tensor::ExtractSliceOp::create(
      rewriter, loc, RankedTensorType::get({ShapedType::kDynamic}, elementType),
      table, offsets, sizes, strides);
  auto positions = scf::ForOp::create(
      rewriter, loc, zero, count, one, ValueRange{slice},
      [&](OpBuilder &b, Location l, Value position, ValueRange acc) {
        Value id = arith::IndexCastOp::create(
            b, l, b.getIndexType(),
            tensor::ExtractOp::create(b, l, ids, position));
        // Ids outside [0, V) are in no thread's rows: skipped.
        Value row = arith::SubIOp::create(b, l, id, first);
        Value mine = arith::AndIOp::create(
            b, l,
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, row, zero),
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, row, rows));
        auto add = scf::IfOp::create(
            b, l, mine,
            [&](OpBuilder &tb, Location tl) {
              Value sum = arith::AddFOp::create(
                  tb, tl, tensor::ExtractOp::create(tb, tl, acc[0], row),
                  tensor::ExtractOp::create(tb, tl, dy,
                                            ValueRange{position, column}));
              scf::YieldOp::create(
                  tb, tl,
                  tensor::InsertOp::create(tb, tl, sum, acc[0], row)
                      .getResult());
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, acc[0]);
            });
        scf::YieldOp::create(b, l, add.getResults());
      });
  rewriter.setInsertionPointToStart(loop.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(rewriter, loc, positions.getResult(0),
                                        table, offsets, sizes, strides);
  rewriter.setInsertionPoint(op);
  rewriter.replaceOp(op, loop.getResults());
  return success();
}

struct GPUEmbeddingGradPass
    : mlir::convseq::impl::GPUEmbeddingGradPassBase<GPUEmbeddingGradPass> {
  using GPUEmbeddingGradPassBase::GPUEmbeddingGradPassBase;

  void runOnOperation() override {
    if (rowsPerThread <= 0) {
      getOperation().emitError("rows-per-thread must be positive");
      return signalPassFailure();
    }
    SmallVector<EmbeddingGradOp> ops;
    getOperation().walk([&](EmbeddingGradOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (EmbeddingGradOp op : ops)
      if (failed(lowerEmbeddingGrad(rewriter, op, rowsPerThread)))
        return signalPassFailure();
  }
};

} // namespace
