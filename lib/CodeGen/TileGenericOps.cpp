//===- TileGenericOps.cpp - Parallel, vectorized element-wise ops ---------===//
//
// The CPU strategy for every linalg op that is not a contraction: element-
// wise ops, reductions (norms, softmax, the loss), the convolutions, copies
// and gathers. See the pass description in Passes.td and docs/pipelines.md.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/Passes.h"
#include "lib/CodeGen/Tiling.h"
#include "lib/Support/Philox.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_TILEGENERICOPSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// Marks the vector tiles to vectorize once peeling made them static.
constexpr llvm::StringLiteral kVectorTileAttr = "convseq.vector_tile";
/// Marks the vector loops to peel.
constexpr llvm::StringLiteral kPeelAttr = "convseq.peel";
/// Marks a vector tile whose rows along the given loop dimension share
/// their dropout masks' Philox evaluations.
constexpr llvm::StringLiteral kRowGroupAttr = "convseq.philox_row_group";
/// Marks a loop over a row tile by whole groups: it runs at most once.
constexpr llvm::StringLiteral kGroupLoopAttr = "convseq.group_loop";

using LoopType = scf::SCFTilingOptions::LoopType;

/// The number of iterations of `op` if every loop is static.
std::optional<int64_t> staticTripCount(linalg::LinalgOp op) {
  int64_t count = 1;
  for (int64_t range : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(range))
      return std::nullopt;
    count *= range;
  }
  return count;
}

/// The producers of `op`'s inputs worth computing inside `op`'s row tiles
/// (one per point of the `rowDims`): linalg ops that only `op` reads,
/// through an indexing map without windows (a projected permutation) that
/// uses every row dimension, so each row needs its own tile of the producer
/// and nothing is computed twice. The typical one is a norm's reduction,
/// fused into the op that scales by it. A transposed attention input, read
/// by every query row, is not one; contractions are not either, except the
/// partial sums of a dot product, which its sum reads row by row.
llvm::SmallPtrSet<Operation *, 4>
rowFusableProducers(linalg::LinalgOp op, ArrayRef<unsigned> rowDims) {
  llvm::SmallPtrSet<Operation *, 4> producers;
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto producer = input->get().getDefiningOp<linalg::LinalgOp>();
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!producer || !producer.hasPureTensorSemantics() ||
        !input->get().hasOneUse() || !map.isProjectedPermutation() ||
        (linalg::isaContractionOpInterface(producer) &&
         !producer->hasAttr(kPartialSumsAttr)) ||
        !llvm::all_of(rowDims,
                      [&](unsigned dim) { return map.isFunctionOfDim(dim); }))
      continue;
    producers.insert(producer);
  }
  return producers;
}

/// The loop dimension whose index `op`'s body divides into the row groups
/// of a dropout mask, if there is one, it is a parallel dimension other
/// than the last and no other dimension is divided so.
std::optional<unsigned> philoxRowDim(linalg::LinalgOp op) {
  llvm::SmallSetVector<unsigned, 2> dims = philoxGroupedDims(op);
  if (dims.size() != 1)
    return std::nullopt;
  unsigned dim = dims.front();
  if (dim + 1 == op.getNumLoops() ||
      op.getIteratorTypesArray()[dim] != utils::IteratorType::parallel)
    return std::nullopt;
  return dim;
}

/// Makes the rows of `tile`, a tile of `op` with at most
/// kPhiloxRowsPerEvaluation rows along `dim` starting at a multiple of it,
/// share their dropout group: tiling made the body's row `offset + i` for
/// the tile's own index i, so the group `(offset + i) / 4` is `offset / 4`,
/// computed once before the tile, and the word `(offset + i) mod 4` is i.
/// Every input of the rows' Philox evaluations is then the same, and the
/// vector tiles compute it once for all four. Returns whether it found a
/// group to rewrite.
bool shareRowGroups(RewriterBase &rewriter, linalg::LinalgOp tile,
                    unsigned dim) {
  bool shared = false;
  SmallVector<linalg::IndexOp> indices;
  tile.getBlock()->walk([&](linalg::IndexOp index) {
    if (index.getDim() == dim)
      indices.push_back(index);
  });
  for (linalg::IndexOp index : indices) {
    for (Operation *user : llvm::to_vector(index->getUsers())) {
      auto apply = dyn_cast<affine::AffineApplyOp>(user);
      if (!apply)
        continue;
      // `apply` must be the index plus terms defined before the tile.
      AffineMap map = apply.getAffineMap();
      auto operands = llvm::to_vector(apply.getMapOperands());
      auto position = llvm::find(operands, index.getResult());
      unsigned k = position - operands.begin();
      unsigned numDims = map.getNumDims();
      if (llvm::count(operands, index.getResult()) != 1 ||
          !llvm::all_of(operands, [&](Value operand) {
            return operand == index.getResult() ||
                   !tile->isAncestor(operand.getParentBlock()->getParentOp());
          }))
        continue;
      AffineExpr own = k < numDims
                           ? getAffineDimExpr(k, map.getContext())
                           : getAffineSymbolExpr(k - numDims, map.getContext());
      AffineExpr rest = simplifyAffineExpr(map.getResult(0) - own, numDims,
                                           map.getNumSymbols());
      if (k < numDims ? rest.isFunctionOfDim(k)
                      : rest.isFunctionOfSymbol(k - numDims))
        continue;
      SmallVector<Operation *> groups, words;
      for (Operation *row : apply->getUsers()) {
        if (isPhiloxRowGroupOp(row, apply, /*divide=*/true))
          groups.push_back(row);
        else if (isPhiloxRowGroupOp(row, apply, /*divide=*/false))
          words.push_back(row);
      }
      if (groups.empty())
        continue;
      rewriter.setInsertionPoint(tile);
      Location loc = apply.getLoc();
      operands[k] = arith::ConstantIndexOp::create(rewriter, loc, 0);
      Value offset =
          affine::AffineApplyOp::create(rewriter, loc, map, operands);
      Value group =
          arith::DivUIOp::create(rewriter, loc, offset,
                                 arith::ConstantIndexOp::create(
                                     rewriter, loc, kPhiloxRowsPerEvaluation));
      for (Operation *row : groups)
        rewriter.replaceOp(row, group);
      for (Operation *row : words)
        rewriter.replaceOp(row, index.getResult());
      shared = true;
    }
  }
  return shared;
}

/// The element of a single-element tensor that a vector write produced,
/// looking through slices, or null.
Value writtenSingleElement(PatternRewriter &rewriter, Location loc,
                           Value tensor) {
  while (auto slice = tensor.getDefiningOp<tensor::ExtractSliceOp>())
    tensor = slice.getSource();
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  auto write = tensor.getDefiningOp<vector::TransferWriteOp>();
  if (!type || !type.hasStaticShape() || type.getNumElements() != 1 ||
      !write || write.getMask() ||
      write.getVectorType().getNumElements() != 1 ||
      !llvm::all_of(write.getIndices(),
                    [](Value index) { return isZeroInteger(index); }))
    return nullptr;
  SmallVector<int64_t> position(write.getVectorType().getRank(), 0);
  return vector::ExtractOp::create(rewriter, loc, write.getVector(), position);
}

/// Reads a single-element tensor that a vector write produced from the
/// vector instead: a fused reduction's initial value and result (a norm's
/// sum of squares) then stay in registers, and the one-element tensor,
/// which would be a heap buffer per row, disappears.
struct ForwardSingleElementExtract : OpRewritePattern<tensor::ExtractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractOp extract,
                                PatternRewriter &rewriter) const override {
    if (extract.getTensor().getType().getNumElements() != 1)
      return failure();
    Value element =
        writtenSingleElement(rewriter, extract.getLoc(), extract.getTensor());
    if (!element)
      return failure();
    rewriter.replaceOp(extract, element);
    return success();
  }
};

struct ForwardSingleElementRead : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::TransferReadOp read,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(read.getBase().getType());
    if (!type || !type.hasStaticShape() || type.getNumElements() != 1 ||
        read.getMask() || read.getVectorType().getNumElements() != 1)
      return failure();
    Value element =
        writtenSingleElement(rewriter, read.getLoc(), read.getBase());
    if (!element)
      return failure();
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(
        read, read.getVectorType(), element);
    return success();
  }
};

/// Reads a static tensor that one vector write filled entirely (the zeroed
/// partial sums of a dot product's row) from the vector instead, looking
/// through slices that keep every element: the tensor, which would be a
/// heap buffer per row, disappears.
struct ForwardWholeTensorRead : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::TransferReadOp read,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(read.getBase().getType());
    auto isWhole = [&](auto transfer, ShapedType shaped) {
      return shaped.hasStaticShape() && !transfer.getMask() &&
             transfer.getPermutationMap().isMinorIdentity() &&
             transfer.getVectorType().getNumElements() ==
                 shaped.getNumElements() &&
             llvm::all_of(transfer.getIndices(),
                          [](Value index) { return isZeroInteger(index); });
    };
    if (!type || !isWhole(read, type))
      return failure();
    Value tensor = read.getBase();
    while (auto slice = tensor.getDefiningOp<tensor::ExtractSliceOp>()) {
      if (slice.getSourceType().getNumElements() != type.getNumElements())
        return failure();
      tensor = slice.getSource();
    }
    auto write = tensor.getDefiningOp<vector::TransferWriteOp>();
    if (!write || !isWhole(write, cast<ShapedType>(tensor.getType())))
      return failure();
    Value vector = write.getVector();
    if (vector.getType() != read.getVectorType())
      vector = vector::ShapeCastOp::create(rewriter, read.getLoc(),
                                           read.getVectorType(), vector);
    rewriter.replaceOp(read, vector);
    return success();
  }
};

/// The two loops a transposing copy exchanges: the output's innermost
/// loop `write` and the input's innermost loop `read`.
struct TransposeLoops {
  unsigned read;
  unsigned write;
};

/// Whether `op` only copies its one input to its output with the innermost
/// dimension moved: linalg.transpose, or a generic that yields its input
/// (the packing of a right-hand side stored as B[n, k], attention's keys
/// turned into K^T). Tiled like any other op, each row would be a strided
/// gather of `vector-size` elements that bufferization turns into a
/// `memref.copy`, one runtime call per element.
std::optional<TransposeLoops> matchTransposingCopy(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumParallelLoops() != op.getNumLoops())
    return std::nullopt;
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!llvm::hasSingleElement(*body) || !yield || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != body->getArgument(0))
    return std::nullopt;
  AffineMap in = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (in.getNumResults() == 0 || out.getNumResults() == 0)
    return std::nullopt;
  auto read = dyn_cast<AffineDimExpr>(in.getResults().back());
  auto write = dyn_cast<AffineDimExpr>(out.getResults().back());
  if (!read || !write || read == write ||
      !in.isFunctionOfDim(write.getPosition()))
    return std::nullopt;
  return TransposeLoops{read.getPosition(), write.getPosition()};
}

struct TileGenericOpsPass
    : mlir::convseq::impl::TileGenericOpsPassBase<TileGenericOpsPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LoopType rowLoopType(linalg::LinalgOp op);
  LogicalResult tileRows(RewriterBase &rewriter, linalg::LinalgOp op);
  LogicalResult tileVectors(RewriterBase &rewriter, linalg::LinalgOp op,
                            std::optional<unsigned> groupDim = std::nullopt);
  LogicalResult tileTransposingCopy(RewriterBase &rewriter, linalg::LinalgOp op,
                                    const TransposeLoops &loops);
};

/// The loop of `op`'s rows: an scf.forall, or an scf.for when the op is
/// static and smaller than `min-parallel-work`, where forking costs more
/// than the work.
LoopType TileGenericOpsPass::rowLoopType(linalg::LinalgOp op) {
  if (op->hasAttr(kEpilogueAttr))
    return LoopType::ForOp;
  std::optional<int64_t> tripCount = staticTripCount(op);
  return tripCount && *tripCount < minParallelWork ? LoopType::ForOp
                                                   : LoopType::ForallOp;
}

/// A transposing copy goes by square blocks of `transpose-block` elements
/// of the two exchanged loops: rows over the other dimensions (or over
/// blocks of the read loop when there are none and they divide it), then
/// the blocks, each a transposed vector read and a plain vector write,
/// which the vector lowering turns into register shuffles.
LogicalResult TileGenericOpsPass::tileTransposingCopy(
    RewriterBase &rewriter, linalg::LinalgOp op, const TransposeLoops &loops) {
  unsigned numLoops = op.getNumLoops();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto isStatic = [&](unsigned dim) {
    return !ShapedType::isDynamic(ranges[dim]);
  };

  SmallVector<int64_t> rowSizes(numLoops, 0);
  for (unsigned dim = 0; dim < numLoops; ++dim)
    if (dim != loops.read && dim != loops.write && ranges[dim] != 1)
      rowSizes[dim] = 1;
  if (llvm::all_of(rowSizes, [](int64_t size) { return size == 0; }) &&
      isStatic(loops.read) && ranges[loops.read] > transposeBlock &&
      ranges[loops.read] % transposeBlock == 0)
    rowSizes[loops.read] = transposeBlock;
  Operation *current = op;
  if (llvm::any_of(rowSizes, [](int64_t size) { return size != 0; })) {
    FailureOr<Tiled> rows =
        tileAndFuse(rewriter, cast<TilingInterface>(op.getOperation()),
                    rowSizes, rowLoopType(op));
    if (failed(rows))
      return op.emitError("cannot tile into parallel rows");
    current = rows->op;
    ranges = cast<linalg::LinalgOp>(current).getStaticLoopRanges();
  }

  // The blocks; a loop whose last block is partial is peeled.
  SmallVector<int64_t> sizes(numLoops, 0);
  SmallVector<bool> peel;
  for (unsigned dim : {loops.read, loops.write}) {
    if (isStatic(dim) && ranges[dim] <= transposeBlock)
      continue;
    sizes[dim] = transposeBlock;
    peel.push_back(!isStatic(dim) || ranges[dim] % transposeBlock != 0);
  }
  if (!peel.empty()) {
    SmallVector<int64_t> interchange;
    for (unsigned dim = 0; dim < numLoops; ++dim)
      if (dim != loops.read && dim != loops.write)
        interchange.push_back(dim);
    interchange.append({loops.read, loops.write});
    FailureOr<Tiled> blocks = tile(rewriter, cast<TilingInterface>(current),
                                   sizes, LoopType::ForOp, interchange);
    if (failed(blocks))
      return current->emitError("cannot tile into transposed blocks");
    current = blocks->op;
    for (auto [loop, peelLoop] : llvm::zip_equal(blocks->loops, peel))
      if (peelLoop)
        loop->setAttr(kPeelAttr, rewriter.getUnitAttr());
  }
  current->setAttr(kVectorTileAttr, rewriter.getUnitAttr());
  return success();
}

/// Level 1: one tile per row, i.e. per point of the parallel dimensions
/// other than the last loop, in an scf.forall (an scf.for for small static
/// ops, where a fork would cost more than the work). The fills of the
/// destinations and the row-fusable producers are fused into the rows;
/// every op in a row is then tiled for vectors.
LogicalResult TileGenericOpsPass::tileRows(RewriterBase &rewriter,
                                           linalg::LinalgOp op) {
  if (std::optional<TransposeLoops> loops = matchTransposingCopy(op))
    return tileTransposingCopy(rewriter, op, *loops);
  unsigned numLoops = op.getNumLoops();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<int64_t> rowSizes(numLoops, 0);
  SmallVector<unsigned> rowDims;
  for (unsigned dim = 0; dim + 1 < numLoops; ++dim) {
    if (iterators[dim] == utils::IteratorType::parallel && ranges[dim] != 1) {
      rowSizes[dim] = 1;
      rowDims.push_back(dim);
    }
  }
  if (rowDims.empty())
    return tileVectors(rewriter, op);

  // A dropout mask's rows go by the groups that share a Philox evaluation
  // (not in an epilogue: convseq-tile-contractions fuses none with a mask).
  std::optional<unsigned> groupDim = philoxRowDim(op);
  if (groupDim && rowSizes[*groupDim] == 1 && !op->hasAttr(kEpilogueAttr))
    rowSizes[*groupDim] = kPhiloxRowsPerEvaluation;
  else
    groupDim = std::nullopt;

  llvm::SmallPtrSet<Operation *, 4> producers = rowFusableProducers(op, rowDims);
  SmallVector<Operation *> fused;
  FailureOr<Tiled> rows = tileAndFuse(
      rewriter, cast<TilingInterface>(op.getOperation()), rowSizes,
      rowLoopType(op), /*interchange=*/{},
      [&](OpResult producer, bool isDestination) {
        // Fills are fused wherever they are read, also as the init of a
        // fused producer: a shared zero tensor would otherwise be copied
        // for every tile that writes into it.
        return isa<linalg::FillOp>(producer.getOwner()) ||
               (!isDestination && producers.contains(producer.getOwner()));
      },
      &fused);
  if (failed(rows))
    return op.emitError("cannot tile into parallel rows");
  auto tile = cast<linalg::LinalgOp>(rows->op);
  if (groupDim && !shareRowGroups(rewriter, tile, *groupDim))
    groupDim = std::nullopt;
  if (failed(tileVectors(rewriter, tile, groupDim)))
    return failure();
  for (Operation *producer : fused)
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(producer))
      if (failed(tileVectors(rewriter, linalgOp)))
        return failure();
  return success();
}

/// Level 2: loops of one over every other dimension and of `vector-size`
/// over the last one, which becomes the vector. The reduction dimensions
/// before the last are innermost, so a vector accumulator is loop-invariant
/// there and stays in a register. Along `groupDim`, whose rows share their
/// dropout words, tiles have a whole group of rows, split into rows again
/// when vectorized.
LogicalResult
TileGenericOpsPass::tileVectors(RewriterBase &rewriter, linalg::LinalgOp op,
                                std::optional<unsigned> groupDim) {
  unsigned numLoops = op.getNumLoops();
  if (numLoops == 0)
    return success();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned last = numLoops - 1;
  SmallVector<int64_t> sizes(numLoops, 0);
  for (unsigned dim = 0; dim < last; ++dim)
    if (ranges[dim] != 1)
      sizes[dim] = 1;
  // A static reduction up to four vectors wide is vectorized whole: one
  // horizontal sum per output instead of one per vector.
  bool lastIsParallel = iterators[last] == utils::IteratorType::parallel;
  int64_t maxWidth = lastIsParallel ? vectorSize : 4 * vectorSize;
  bool tileLast =
      ShapedType::isDynamic(ranges[last]) || ranges[last] > maxWidth;
  if (tileLast)
    sizes[last] = vectorSize;
  // The row tile has at most a group of rows: a static one is whole, and
  // a dynamic one has its full group peeled from a partial one.
  bool peelGroup = groupDim && ShapedType::isDynamic(ranges[*groupDim]);
  if (groupDim)
    sizes[*groupDim] = peelGroup ? kPhiloxRowsPerEvaluation : 0;

  SmallVector<int64_t> interchange;
  for (unsigned dim = 0; dim < last; ++dim)
    if (iterators[dim] == utils::IteratorType::parallel)
      interchange.push_back(dim);
  if (lastIsParallel)
    interchange.push_back(last);
  for (unsigned dim = 0; dim < last; ++dim)
    if (iterators[dim] == utils::IteratorType::reduction)
      interchange.push_back(dim);
  if (!lastIsParallel)
    interchange.push_back(last);

  Operation *vectorTile = op;
  if (llvm::any_of(sizes, [](int64_t size) { return size != 0; })) {
    FailureOr<Tiled> tiled =
        tile(rewriter, cast<TilingInterface>(op.getOperation()), sizes,
             LoopType::ForOp, interchange);
    if (failed(tiled))
      return op.emitError("cannot tile into vectors");
    vectorTile = tiled->op;
    // Loops come in interchange order, one per tiled dimension.
    auto loopOf = [&](unsigned tiledDim) {
      unsigned position = 0;
      for (int64_t dim : interchange) {
        if (dim == tiledDim)
          break;
        if (sizes[dim] != 0)
          ++position;
      }
      return tiled->loops[position];
    };
    // The loop over the last dimension is peeled unless its tiles are all
    // full.
    if (tileLast &&
        (ShapedType::isDynamic(ranges[last]) || ranges[last] % vectorSize != 0))
      loopOf(last)->setAttr(kPeelAttr, rewriter.getUnitAttr());
    if (peelGroup) {
      LoopLikeOpInterface loop = loopOf(*groupDim);
      loop->setAttr(kPeelAttr, rewriter.getUnitAttr());
      loop->setAttr(kGroupLoopAttr, rewriter.getUnitAttr());
    }
  }
  vectorTile->setAttr(kVectorTileAttr, rewriter.getUnitAttr());
  if (groupDim)
    vectorTile->setAttr(kRowGroupAttr, rewriter.getIndexAttr(*groupDim));
  return success();
}

/// Reads every input of `op` that holds a single element (a tile of a
/// per-head or per-row value) as a scalar before the op, so the body uses
/// it directly. Its indexing map (`c floordiv 64` for the head of channel
/// `c`) then no longer keeps the op from being vectorized.
void scalarizeSingleElementInputs(RewriterBase &rewriter,
                                  linalg::GenericOp op) {
  Block *body = op.getBody();
  for (int64_t i = op.getNumDpsInputs() - 1; i >= 0; --i) {
    OpOperand *input = op.getDpsInputOperand(i);
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    if (!type || !type.hasStaticShape() || type.getNumElements() != 1)
      continue;
    // The remaining maps must still determine the loop ranges.
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    maps.erase(maps.begin() + i);
    if (!inversePermutation(concatAffineMaps(maps, op.getContext())))
      continue;
    rewriter.setInsertionPoint(op);
    Value zero = arith::ConstantIndexOp::create(rewriter, op.getLoc(), 0);
    SmallVector<Value> indices(type.getRank(), zero);
    Value element = tensor::ExtractOp::create(rewriter, op.getLoc(),
                                              input->get(), indices);
    rewriter.modifyOpInPlace(op, [&] {
      BlockArgument argument = body->getArgument(i);
      argument.replaceAllUsesWith(element);
      op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
      op.getInputsMutable().erase(i);
      body->eraseArgument(i);
    });
  }
}

/// Whether `op` reads or writes booleans. LLVM packs a vector of i1 into
/// bits while a memref of i1 holds one byte per element, so such tiles stay
/// scalar.
bool hasBooleanOperand(linalg::LinalgOp op) {
  return llvm::any_of(op->getOperandTypes(), [](Type type) {
    return getElementTypeOrSelf(type).isInteger(1);
  });
}

/// Makes `op` read the static source of every input that is a tensor.cast
/// erasing static sizes. Folding the peeled bounds leaves such a cast on a
/// tile's input when its output does not change type: a reduction's
/// loop-carried accumulator. The tiles of every long reduction (the row
/// sums of a softmax over keys) then stayed scalar loops.
void foldStaticInputCasts(RewriterBase &rewriter, linalg::LinalgOp op) {
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto cast = input->get().getDefiningOp<tensor::CastOp>();
    if (cast && tensor::canFoldIntoConsumerOp(cast))
      rewriter.modifyOpInPlace(op, [&] { input->set(cast.getSource()); });
  }
}

/// Replaces `loop`, which runs at most once, by an `scf.if` on whether it
/// runs, its body at the lower bound. The loop by whole groups over a row
/// tile of at most one group and the partial group peeled from it are
/// such: the rows' dropout words are then constants in the tiles.
/// Replacing only the induction variable by the lower bound was wrong: the
/// tiles' slices, then loop-invariant, were hoisted out of the loop and
/// read and wrote four rows also where it did not run, past the tensor's
/// end.
void runAtMostOnce(RewriterBase &rewriter, scf::ForOp loop) {
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  Value runs =
      arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt,
                            loop.getLowerBound(), loop.getUpperBound());
  auto ifOp = scf::IfOp::create(rewriter, loc, loop.getResultTypes(), runs,
                                /*addThenBlock=*/true, /*addElseBlock=*/true);
  SmallVector<Value> arguments = {loop.getLowerBound()};
  llvm::append_range(arguments, loop.getInitArgs());
  // The builder adds terminators only to an if without results.
  for (Block *block : {ifOp.thenBlock(), ifOp.elseBlock()})
    if (!block->empty())
      rewriter.eraseOp(block->getTerminator());
  rewriter.mergeBlocks(loop.getBody(), ifOp.thenBlock(), arguments);
  rewriter.setInsertionPointToEnd(ifOp.elseBlock());
  scf::YieldOp::create(rewriter, loc, loop.getInitArgs());
  rewriter.replaceOp(loop, ifOp.getResults());
}

/// Vectorizes every marked tile that peeling made static. Partial tiles
/// keep their dynamic shape and become scalar loops.
void vectorizeTiles(RewriterBase &rewriter, func::FuncOp func) {
  SmallVector<linalg::LinalgOp> tiles;
  func.walk([&](linalg::LinalgOp op) {
    if (op->hasAttr(kVectorTileAttr))
      tiles.push_back(op);
  });
  SmallVector<scf::ForOp> groups;
  for (linalg::LinalgOp op : tiles) {
    op->removeAttr(kVectorTileAttr);
    foldStaticInputCasts(rewriter, op);
    auto groupDim = op->getAttrOfType<IntegerAttr>(kRowGroupAttr);
    op->removeAttr(kRowGroupAttr);
    if (op.hasDynamicShape() || hasBooleanOperand(op))
      continue;
    // A group of rows sharing their dropout words goes row by row in a
    // loop, unrolled once vectorized: the rows' Philox evaluations are then
    // the same ops on the same values, which CSE merges.
    if (groupDim) {
      SmallVector<int64_t> rowSizes(op.getNumLoops(), 0);
      rowSizes[groupDim.getInt()] = 1;
      FailureOr<Tiled> rows =
          tile(rewriter, cast<TilingInterface>(op.getOperation()), rowSizes,
               LoopType::ForOp);
      if (succeeded(rows) && !rows->loops.empty()) {
        op = cast<linalg::LinalgOp>(rows->op);
        groups.push_back(cast<scf::ForOp>(rows->loops.front().getOperation()));
      }
    }
    // The tiles' unit loops go first: a window read `x[t + k]` with unit
    // `t` and `k` is then a plain read the vectorizer accepts.
    if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation())) {
      linalg::ControlDropUnitDims control;
      control.rankReductionStrategy = linalg::ControlDropUnitDims::
          RankReductionStrategy::ExtractInsertSlice;
      rewriter.setInsertionPoint(generic);
      FailureOr<linalg::DropUnitDimsResult> dropped =
          linalg::dropUnitDims(rewriter, generic, control);
      if (succeeded(dropped)) {
        rewriter.replaceOp(generic, dropped->replacements);
        generic = cast<linalg::GenericOp>(dropped->resultOp.getOperation());
        op = generic;
      }
      scalarizeSingleElementInputs(rewriter, generic);
    }
    vectorizeInPlace(rewriter, op, /*vectorizeNDExtract=*/true);
  }
  for (scf::ForOp group : groups)
    (void)loopUnrollFull(group);
}

/// Appends the linalg ops on tensors of `region` that are not in a loop, in
/// order: those at the top and in the branches of `scf.if`s (the packing of
/// a weight in the many-rows version of a contraction).
void collectUntiledOps(Region &region, SmallVectorImpl<linalg::LinalgOp> &ops) {
  for (Block &block : region) {
    for (Operation &op : block) {
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
        if (linalgOp.hasPureTensorSemantics())
          ops.push_back(linalgOp);
      } else if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
        collectUntiledOps(ifOp.getThenRegion(), ops);
        collectUntiledOps(ifOp.getElseRegion(), ops);
      }
    }
  }
}

void TileGenericOpsPass::runOnOperation() {
  func::FuncOp func = getOperation();
  MLIRContext *ctx = &getContext();
  if (vectorSize <= 0 || minParallelWork < 0 || transposeBlock <= 0) {
    func.emitError() << "convseq-tile-generic-ops: vector-size and "
                        "transpose-block must be positive and "
                        "min-parallel-work not negative";
    return signalPassFailure();
  }

  // The ops still outside loops: contractions were already tiled into
  // loops by convseq-tile-contractions. Consumers go first, so their
  // producers can be fused into them.
  SmallVector<linalg::LinalgOp> ops;
  collectUntiledOps(func.getBody(), ops);
  IRRewriter rewriter(ctx);
  for (linalg::LinalgOp op : llvm::reverse(ops)) {
    if (op->use_empty()) {
      // Fused into all its consumers.
      rewriter.eraseOp(op);
      continue;
    }
    if (failed(tileRows(rewriter, op)))
      return signalPassFailure();
  }
  // The element-wise epilogues fused into contractions' row blocks: rows
  // and vectors inside each block.
  SmallVector<linalg::LinalgOp> epilogues;
  func.walk([&](linalg::LinalgOp op) {
    if (op->hasAttr(kEpilogueAttr))
      epilogues.push_back(op);
  });
  for (linalg::LinalgOp op : epilogues)
    if (failed(tileRows(rewriter, op)))
      return signalPassFailure();
  // Their tiles are clones, marked too.
  func.walk([](linalg::LinalgOp op) { op->removeAttr(kEpilogueAttr); });

  if (failed(peelMarkedLoops(rewriter, func, kPeelAttr)))
    return signalPassFailure();
  SmallVector<scf::ForOp> groupLoops;
  func.walk([&](scf::ForOp loop) {
    if (loop->removeAttr(kGroupLoopAttr))
      groupLoops.push_back(loop);
  });
  for (scf::ForOp loop : groupLoops)
    runAtMostOnce(rewriter, loop);
  vectorizeTiles(rewriter, func);
  if (failed(cleanUpVectorTiles(rewriter, func)))
    return signalPassFailure();
  {
    RewritePatternSet patterns(ctx);
    patterns.add<ForwardSingleElementExtract, ForwardSingleElementRead,
                 ForwardWholeTensorRead>(ctx);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();
  }
}

} // namespace
