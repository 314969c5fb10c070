//===- TileContractions.cpp - Cache and register tiling of contractions ---===//
//
// The matmul strategy of the CPU pipeline: a contraction becomes parallel
// row blocks, a reduction loop over L1 panels and a register-tile loop nest
// whose full tiles are `vector.contract`s accumulating in registers. See the
// pass description in Passes.td and docs/pipelines.md.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/Passes.h"
#include "lib/CodeGen/Tiling.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_TILECONTRACTIONSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// Marks the register tiles to vectorize once peeling made them static.
constexpr llvm::StringLiteral kRegisterTileAttr = "convseq.register_tile";
/// Marks the register loops to peel.
constexpr llvm::StringLiteral kPeelAttr = "convseq.peel";

/// The loop dimensions of a contraction the strategy tiles.
struct ContractionLoops {
  linalg::ContractionDimensions dims;
  unsigned m; // innermost m dimension: register rows
  unsigned n; // innermost n dimension: register columns, contiguous
  unsigned k; // the one reduction dimension
};

/// Whether `map` reads dimension `dim` as its last, contiguous result.
bool isInnermost(AffineMap map, unsigned dim) {
  return map.getNumResults() > 0 &&
         map.getResults().back() == getAffineDimExpr(dim, map.getContext());
}

bool canPackRightHandSide(linalg::LinalgOp op, const ContractionLoops &loops,
                          int64_t width);
bool canTransposeRightHandSide(linalg::LinalgOp op,
                               const ContractionLoops &loops);

/// The contractions this strategy handles: float, one reduction dimension,
/// the innermost `n` dimension contiguous in the output and either in the
/// right-hand side or after packing it (so a register row is one vector load
/// and store).
std::optional<ContractionLoops> matchContraction(linalg::LinalgOp op,
                                                 int64_t width) {
  if (!op.hasPureTensorSemantics() || !linalg::isaContractionOpInterface(op) ||
      op.getNumDpsInputs() != 2)
    return std::nullopt;
  if (!isa<FloatType>(getElementTypeOrSelf(op.getDpsInits()[0].getType())))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->k.size() != 1 || dims->m.empty() || dims->n.empty())
    return std::nullopt;
  ContractionLoops loops{*dims, dims->m.back(), dims->n.back(), dims->k[0]};
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!isInnermost(maps[2], loops.n) ||
      (!isInnermost(maps[1], loops.n) &&
       !canPackRightHandSide(op, loops, width) &&
       !canTransposeRightHandSide(op, loops)))
    return std::nullopt;
  return loops;
}

/// Whether `op` reads a right-hand side that is contiguous along the
/// reduction instead of `n` (attention's keys K[b, h, s, d] in the scores
/// Q K^T), which transposeRightHandSide can make contiguous in `n`.
bool canTransposeRightHandSide(linalg::LinalgOp op,
                               const ContractionLoops &loops) {
  AffineMap map = op.getIndexingMapsArray()[1];
  return map.isProjectedPermutation() && isInnermost(map, loops.k) &&
         map.getResultPosition(getAffineDimExpr(loops.n, op.getContext()));
}

/// `value` viewed, without a copy, with its static innermost dimension
/// split into [size / width, width].
tensor::ExpandShapeOp expandInnermost(RewriterBase &rewriter, Location loc,
                                      Value value, int64_t width) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  int64_t outer = type.getShape().back() / width;
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = outer;
  shape.push_back(width);
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t d = 0; d < rank - 1; ++d)
    reassociation.push_back({d});
  reassociation.push_back({rank - 1, rank});
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, value);
  sizes.back() = rewriter.getIndexAttr(outer);
  sizes.push_back(rewriter.getIndexAttr(width));
  return tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get(shape, type.getElementType()), value,
      reassociation, sizes);
}

/// Whether both operands of `op` are contiguous along its reduction, of
/// static size a multiple of `width`, so splitIntoDotProducts applies: the
/// scores q K^T of one query, the logits h E^T of one token.
bool canSplitIntoDotProducts(linalg::LinalgOp op, const ContractionLoops &loops,
                             int64_t width) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  int64_t k = op.getStaticLoopRanges()[loops.k];
  return maps[0].isProjectedPermutation() && maps[1].isProjectedPermutation() &&
         isInnermost(maps[0], loops.k) && isInnermost(maps[1], loops.k) &&
         !ShapedType::isDynamic(k) && k % width == 0;
}

/// Splits the reduction of `op` into `width` interleaved partial sums,
/// P[..., l] = sum_j A[.., j * width + l] B[.., j * width + l], and then
/// C += sum_l P[..., l]: for few rows, a right-hand side contiguous along
/// the reduction is then read once, a vector at a time, instead of being
/// packed or transposed first. The operands get expand_shape views; the
/// two generics are left to convseq-tile-generic-ops, which computes each
/// output's partial sums in its row.
void splitIntoDotProducts(RewriterBase &rewriter, linalg::LinalgOp op,
                          const ContractionLoops &loops, int64_t width) {
  MLIRContext *ctx = op.getContext();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  unsigned numLoops = op.getNumLoops();
  AffineExpr lane = getAffineDimExpr(numLoops, ctx);

  // An operand viewed with its innermost (reduction) dimension split into
  // [blocks, width], read at (..., k, lane).
  auto splitOperand = [&](Value operand, AffineMap map) {
    SmallVector<AffineExpr> results(map.getResults());
    results.push_back(lane);
    return std::make_pair(
        expandInnermost(rewriter, loc, operand, width).getResult(),
        AffineMap::get(numLoops + 1, 0, results, ctx));
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto [lhs, lhsMap] = splitOperand(op.getDpsInputs()[0], maps[0]);
  auto [rhs, rhsMap] = splitOperand(op.getDpsInputs()[1], maps[1]);

  // The partial sums, zero-initialized, one lane per output element.
  Value init = op.getDpsInits()[0];
  auto initType = cast<RankedTensorType>(init.getType());
  SmallVector<OpFoldResult> partialSizes =
      tensor::getMixedSizes(rewriter, loc, init);
  partialSizes.push_back(rewriter.getIndexAttr(width));
  Type elementType = initType.getElementType();
  Value partialInit =
      tensor::EmptyOp::create(rewriter, loc, partialSizes, elementType);
  Value zero = arith::ConstantOp::create(rewriter, loc, elementType,
                                         rewriter.getZeroAttr(elementType));
  partialInit =
      linalg::FillOp::create(rewriter, loc, zero, partialInit).getResult(0);
  SmallVector<AffineExpr> partialResults(maps[2].getResults());
  partialResults.push_back(lane);
  AffineMap partialMap = AffineMap::get(numLoops + 1, 0, partialResults, ctx);
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  iterators.push_back(utils::IteratorType::parallel);
  auto partial = linalg::GenericOp::create(
      rewriter, loc, partialInit.getType(), ValueRange{lhs, rhs}, partialInit,
      ArrayRef<AffineMap>{lhsMap, rhsMap, partialMap}, iterators,
      [&](OpBuilder &b, Location nestedLoc, ValueRange args) {
        IRMapping mapping;
        mapping.map(op.getBlock()->getArguments(), args);
        for (Operation &bodyOp : op.getBlock()->without_terminator())
          b.clone(bodyOp, mapping);
        Operation *yield = op.getBlock()->getTerminator();
        linalg::YieldOp::create(b, nestedLoc,
                                mapping.lookup(yield->getOperand(0)));
      });

  partial->setAttr(kPartialSumsAttr, rewriter.getUnitAttr());

  // C += the sum of the lanes.
  int64_t rank = initType.getRank();
  AffineMap outputMap =
      rewriter.getMultiDimIdentityMap(rank + 1).getMajorSubMap(rank);
  SmallVector<utils::IteratorType> combineIterators(
      rank, utils::IteratorType::parallel);
  combineIterators.push_back(utils::IteratorType::reduction);
  auto combine = linalg::GenericOp::create(
      rewriter, loc, initType, partial.getResult(0), init,
      ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank + 1), outputMap},
      combineIterators, [](OpBuilder &b, Location nestedLoc, ValueRange args) {
        Value sum = arith::AddFOp::create(b, nestedLoc, args[1], args[0]);
        linalg::YieldOp::create(b, nestedLoc, sum);
      });
  rewriter.replaceOp(op, combine.getResults());
}

/// Rewrites the contraction `op` to read its right-hand side through a
/// linalg.transpose that swaps the `n` and reduction dimensions, so a
/// register row of B is one vector load. The copy is O(k n) against the
/// contraction's O(m k n). Returns the new contraction.
linalg::LinalgOp transposeRightHandSide(RewriterBase &rewriter,
                                        linalg::LinalgOp op,
                                        const ContractionLoops &loops) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value rhs = op.getDpsInputs()[1];
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  int64_t rank = rhsType.getRank();
  unsigned nPos =
      *maps[1].getResultPosition(getAffineDimExpr(loops.n, op.getContext()));
  SmallVector<int64_t> permutation = llvm::to_vector(llvm::seq<int64_t>(rank));
  std::swap(permutation[nPos], permutation[rank - 1]);

  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, rhs);
  applyPermutationToVector(sizes, permutation);
  Value init =
      tensor::EmptyOp::create(rewriter, loc, sizes, rhsType.getElementType());
  auto transposed =
      linalg::TransposeOp::create(rewriter, loc, rhs, init, permutation);
  SmallVector<AffineExpr> rhsResults(maps[1].getResults());
  applyPermutationToVector(rhsResults, permutation);
  maps[1] =
      AffineMap::get(maps[1].getNumDims(), 0, rhsResults, op.getContext());
  auto contract = linalg::ContractOp::create(
      rewriter, loc, op->getResultTypes(),
      ValueRange{op.getDpsInputs()[0], transposed->getResult(0)},
      op.getDpsInits(), rewriter.getAffineMapArrayAttr(maps));
  rewriter.replaceOp(op, contract->getResults());
  return contract;
}

/// Whether `op` reads a 2-D right-hand side B[k, n] or B[n, k] whose `n`
/// size is static and a multiple of `width`, which packRightHandSide can
/// repack into contiguous panels.
bool canPackRightHandSide(linalg::LinalgOp op, const ContractionLoops &loops,
                          int64_t width) {
  if (loops.dims.n.size() != 1 || !loops.dims.batch.empty())
    return false;
  AffineMap map = op.getIndexingMapsArray()[1];
  auto type = dyn_cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  if (!type || type.getRank() != 2 || !map.isProjectedPermutation() ||
      map.getNumResults() != 2)
    return false;
  std::optional<unsigned> nPos =
      map.getResultPosition(getAffineDimExpr(loops.n, op.getContext()));
  if (!nPos || type.isDynamicDim(*nPos) || type.getDimSize(*nPos) % width)
    return false;
  // The output's innermost dimension must be n, so it can be expanded into
  // [n / width, width] without a copy.
  AffineMap out = op.getIndexingMapsArray()[2];
  return isInnermost(out, loops.n) &&
         !cast<ShapedType>(op.getDpsInits()[0].getType())
              .isDynamicDim(out.getNumResults() - 1);
}

/// Rewrites the contraction `op` so that its right-hand side is read from
/// panels Bp[n1][k][n0] = B(k, n1 * width + n0), `width` columns wide and
/// contiguous along k: a register tile's panel then spans consecutive cache
/// lines instead of one line per row of B, which for row strides of 2 or 4
/// KiB all fall into the same L1 set. The output is viewed (expand_shape,
/// no copy) as [..., n / width, width]. Returns the new contraction.
linalg::LinalgOp packRightHandSide(RewriterBase &rewriter, linalg::LinalgOp op,
                                   const ContractionLoops &loops,
                                   int64_t width) {
  MLIRContext *ctx = op.getContext();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value rhs = op.getDpsInputs()[1];
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  AffineMap rhsMap = op.getIndexingMapsArray()[1];
  unsigned nPos = *rhsMap.getResultPosition(getAffineDimExpr(loops.n, ctx));
  int64_t n = rhsType.getDimSize(nPos);
  int64_t k = rhsType.getDimSize(1 - nPos);
  Type elementType = rhsType.getElementType();

  // The packing copy: loops (n1, k, n0) over the panels.
  SmallVector<OpFoldResult> panelSizes = {rewriter.getIndexAttr(n / width),
                                          rewriter.getIndexAttr(k),
                                          rewriter.getIndexAttr(width)};
  if (ShapedType::isDynamic(k))
    panelSizes[1] = tensor::getMixedSize(rewriter, loc, rhs, 1 - nPos);
  Value panelsInit =
      tensor::EmptyOp::create(rewriter, loc, panelSizes, elementType);
  AffineExpr n1, kk, n0;
  bindDims(ctx, n1, kk, n0);
  AffineExpr column = n1 * width + n0;
  AffineMap readMap =
      AffineMap::get(3, 0,
                     nPos == 1 ? ArrayRef<AffineExpr>{kk, column}
                               : ArrayRef<AffineExpr>{column, kk},
                     ctx);
  SmallVector<utils::IteratorType> copyIterators(3,
                                                 utils::IteratorType::parallel);
  auto pack = linalg::GenericOp::create(
      rewriter, loc, panelsInit.getType(), rhs, panelsInit,
      ArrayRef<AffineMap>{readMap, rewriter.getMultiDimIdentityMap(3)},
      copyIterators, [](OpBuilder &b, Location loc, ValueRange args) {
        linalg::YieldOp::create(b, loc, args[0]);
      });

  // The output viewed as [..., n / width, width]. A zero-filled output is
  // filled after the reshape, so the fill can still be fused into the tiles.
  Value init = op.getDpsInits()[0];
  auto initType = cast<RankedTensorType>(init.getType());
  auto fill = init.getDefiningOp<linalg::FillOp>();
  auto expanded = expandInnermost(
      rewriter, loc, fill ? fill.getOutputs()[0] : init, width);
  SmallVector<ReassociationIndices> reassociation =
      expanded.getReassociationIndices();
  auto expandedType = cast<RankedTensorType>(expanded.getType());
  Value expandedInit = expanded;
  if (fill)
    expandedInit =
        linalg::FillOp::create(rewriter, loc, fill.getInputs()[0], expandedInit)
            .getResult(0);

  // The contraction over one more loop: n becomes n1, n0 is appended.
  unsigned numLoops = op.getNumLoops();
  AffineExpr newN0 = getAffineDimExpr(numLoops, ctx);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap lhsMap = AffineMap::get(numLoops + 1, 0, maps[0].getResults(), ctx);
  AffineMap panelMap = AffineMap::get(
      numLoops + 1, 0,
      {getAffineDimExpr(loops.n, ctx), getAffineDimExpr(loops.k, ctx), newN0},
      ctx);
  SmallVector<AffineExpr> outResults(maps[2].getResults());
  outResults.push_back(newN0);
  AffineMap outMap = AffineMap::get(numLoops + 1, 0, outResults, ctx);
  auto packed = linalg::ContractOp::create(
      rewriter, loc, TypeRange{expandedType},
      ValueRange{op.getDpsInputs()[0], pack.getResult(0)},
      ValueRange{expandedInit},
      rewriter.getAffineMapArrayAttr({lhsMap, panelMap, outMap}));
  Value result = tensor::CollapseShapeOp::create(
      rewriter, loc, initType, packed.getResult(0), reassociation);
  rewriter.replaceOp(op, result);
  return packed;
}

/// The product of the ranges of the loops `dims` of `op` if all are static.
std::optional<int64_t> staticProduct(linalg::LinalgOp op,
                                     ArrayRef<unsigned> dims) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t product = 1;
  for (unsigned dim : dims) {
    if (ShapedType::isDynamic(ranges[dim]))
      return std::nullopt;
    product *= ranges[dim];
  }
  return product;
}

/// The number of rows of `op` (the product of its `m` loops) if static.
std::optional<int64_t> staticRows(linalg::LinalgOp op,
                                  const ContractionLoops &loops) {
  return staticProduct(op, loops.dims.m);
}

/// Whether the number of rows of `op`, unknown at compile time, may be
/// small: it has one dynamic factor (the batch of a decoder step, one
/// position per sequence). With two (batch x positions) it is taken to be
/// large, and a version for few rows would only cost buffers: bufferization
/// gives each branch's result its own.
bool mayHaveFewRows(linalg::LinalgOp op, const ContractionLoops &loops) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  return llvm::count_if(loops.dims.m, [&](unsigned dim) {
           return ShapedType::isDynamic(ranges[dim]);
         }) == 1;
}

/// Replaces `op` by an scf.if on its number of rows at run time, with a
/// copy of `op` in each branch: the first for fewer than `minRows` rows,
/// the second for the others. Returns the two copies.
std::pair<linalg::LinalgOp, linalg::LinalgOp>
versionOnRows(RewriterBase &rewriter, linalg::LinalgOp op,
              const ContractionLoops &loops, int64_t minRows) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Range> ranges = op.createLoopRanges(rewriter, loc);
  Value rows = arith::ConstantIndexOp::create(rewriter, loc, 1);
  for (unsigned dim : loops.dims.m)
    rows = arith::MulIOp::create(
        rewriter, loc, rows,
        getValueOrCreateConstantIndexOp(rewriter, loc, ranges[dim].size));
  Value few = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::ult, rows,
      arith::ConstantIndexOp::create(rewriter, loc, minRows));
  auto ifOp = scf::IfOp::create(rewriter, loc, op->getResultTypes(), few,
                                /*addThenBlock=*/true, /*addElseBlock=*/true);
  auto cloneInto = [&](Block *block) {
    rewriter.setInsertionPointToStart(block);
    Operation *clone = rewriter.clone(*op);
    scf::YieldOp::create(rewriter, loc, clone->getResults());
    return cast<linalg::LinalgOp>(clone);
  };
  linalg::LinalgOp fewRows = cloneInto(ifOp.thenBlock());
  linalg::LinalgOp manyRows = cloneInto(ifOp.elseBlock());
  rewriter.replaceOp(op, ifOp.getResults());
  return {fewRows, manyRows};
}

struct TileContractionsPass
    : mlir::convseq::impl::TileContractionsPassBase<TileContractionsPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult tileContraction(RewriterBase &rewriter, linalg::LinalgOp op,
                                const ContractionLoops &loops);
  LogicalResult tileFewRows(RewriterBase &rewriter, linalg::LinalgOp op,
                            const ContractionLoops &loops);
  std::optional<int64_t> columnBlockSize(linalg::LinalgOp op,
                                         const ContractionLoops &loops);
  int64_t rowBlockSize(linalg::LinalgOp op, const ContractionLoops &loops);
  LogicalResult tileRegisters(RewriterBase &rewriter, Operation *op,
                              const ContractionLoops &loops, bool fuseFill,
                              int64_t rows, int64_t columns);
};

/// Makes the panel `op` read its left-hand side A[m, k] (contiguous along
/// the reduction) from a compact copy of the panel, rows `blockK` floats
/// apart. A register tile reads 6 rows of A at once, and with the rows of
/// the whole A apart (16 KiB at k = 4096) they all fall into the same L1
/// set as the panel of B beside them: in paired runs the copy took a
/// 2048^3 matmul from 0.68 to 0.89 of OpenBLAS's speed (4096^3 is too noisy
/// here to say). It costs 1 / (2 n) of the panel's work. A weight
/// gradient's A[k, m] (contiguous along m) is copied the same way: its
/// register tile reads 6 floats from each of `blockK` rows of the whole
/// activation (4 KiB apart for 1024 features, one L1 set again), and from
/// the copy, rows of the row block's m apart.
void copyLeftPanel(RewriterBase &rewriter, linalg::LinalgOp op,
                   const ContractionLoops &loops) {
  AffineMap lhsMap = op.getIndexingMapsArray()[0];
  if (!isInnermost(lhsMap, loops.k) && !isInnermost(lhsMap, loops.m))
    return;
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value lhs = op.getDpsInputs()[0];
  Value init = tensor::EmptyOp::create(
      rewriter, loc, tensor::getMixedSizes(rewriter, loc, lhs),
      getElementTypeOrSelf(lhs.getType()));
  Value copy = linalg::CopyOp::create(rewriter, loc, lhs, init).getResult(0);
  rewriter.modifyOpInPlace(op, [&] { op.getDpsInputOperand(0)->set(copy); });
}

/// Whether `op` is an element-wise op that reads `value` element for
/// element, as it is written, into a new tensor: an epilogue for the
/// contraction producing it.
bool isEpilogueOf(linalg::GenericOp op, Value value) {
  if (!op.hasPureTensorSemantics() ||
      op.getNumParallelLoops() != op.getNumLoops() || op.getNumDpsInits() != 1)
    return false;
  // Not a dropout mask's (a row divided into its Philox groups,
  // lib/Support/Philox.h): in the blocks its groups of four rows were
  // bufferized with a copy of every tile, and the training step got 3%
  // slower where its forward pass got 3% faster. Such ops stay passes of
  // their own, where the groups share their evaluations.
  if (!philoxGroupedDims(op).empty())
    return false;
  // Only into a new tensor: one that must be written in place (a gradient
  // accumulated into its argument) stays a pass of its own.
  Value init = op.getDpsInits()[0];
  if (auto expand = init.getDefiningOp<tensor::ExpandShapeOp>())
    init = expand.getSrc();
  if (!init.getDefiningOp<tensor::EmptyOp>())
    return false;
  for (OpOperand *input : op.getDpsInputOperands())
    if (input->get() == value && !op.getMatchingIndexingMap(input).isIdentity())
      return false;
  return op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity();
}

/// Fuses the element-wise consumer of the contraction `block` that
/// `blocks` (the parallel row blocks) computes into the blocks, after the
/// contraction: each block's output is then read back from L2, not from
/// memory, and the whole output is no longer written and read again. The
/// GLU after its gate's projection and a ReLU without dropout are such
/// epilogues. The output of a packed right-hand side's product is viewed
/// as [..., n / register-n, register-n], and the consumer is first made to
/// read that view (upstream's reshape fusion by expansion). The fused
/// consumer is marked `convseq.epilogue`, for convseq-tile-generic-ops to
/// tile it in the block.
void fuseEpilogue(RewriterBase &rewriter, scf::ForallOp blocks,
                  linalg::LinalgOp block) {
  if (blocks.getNumResults() != 1 || !blocks.getResult(0).hasOneUse())
    return;

  Value output = blocks.getResult(0);
  Operation *user = *output.getUsers().begin();
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(user)) {
    if (!collapse->hasOneUse())
      return;
    auto consumer = dyn_cast<linalg::GenericOp>(*collapse->getUsers().begin());
    if (!consumer || !isEpilogueOf(consumer, collapse.getResult()))
      return;
    RewritePatternSet patterns(rewriter.getContext());
    linalg::populateFoldReshapeOpsByExpansionPatterns(
        patterns, [&](OpOperand *operand) {
          return operand->getOwner() == consumer &&
                 operand->get() == collapse.getResult();
        });
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    if (failed(applyOpPatternsGreedily({consumer.getOperation()},
                                       std::move(patterns), config)))
      return;
    // The expansion sized the consumer's output by the blocks' result and
    // its collapsed view, whose dynamic sizes are those of the blocks'
    // destination.
    Value destination = blocks.getOutputs()[0];
    auto resizeFromDestination = [&](Value value, auto dimension) {
      for (Operation *other : llvm::to_vector(value.getUsers())) {
        auto dim = dyn_cast<tensor::DimOp>(other);
        std::optional<int64_t> index =
            dim ? dim.getConstantIndex() : std::nullopt;
        if (!index)
          continue;
        std::optional<int64_t> source = dimension(*index);
        if (!source)
          continue;
        rewriter.setInsertionPoint(dim);
        rewriter.replaceOpWithNewOp<tensor::DimOp>(dim, destination, *source);
      }
    };
    resizeFromDestination(
        output, [](int64_t d) -> std::optional<int64_t> { return d; });
    resizeFromDestination(
        collapse.getResult(), [&](int64_t d) -> std::optional<int64_t> {
          ReassociationIndices group = collapse.getReassociationIndices()[d];
          if (group.size() != 1)
            return std::nullopt;
          return group.front();
        });
    if (isOpTriviallyDead(collapse))
      rewriter.eraseOp(collapse);
    if (!output.hasOneUse())
      return;
    user = *output.getUsers().begin();
  }
  auto consumer = dyn_cast<linalg::GenericOp>(user);
  if (!consumer || !isEpilogueOf(consumer, output))
    return;
  // The consumer's other operands must be there before the blocks. Only
  // shapes and views (the output's view the reshape fusion made after
  // them) are moved there: moving computation would make its results, and
  // everything they read, live longer. Fusing a residual's or a
  // gradient's sum whose other term came later raised light-small's
  // training peak from 940 MB to 1.3 GB so.
  DominanceInfo dominance;
  SmallVector<Value> others;
  SmallVector<Operation *> worklist;
  for (Value operand : consumer->getOperands()) {
    if (operand == output)
      continue;
    others.push_back(operand);
    if (!dominance.properlyDominates(operand, blocks))
      worklist.push_back(operand.getDefiningOp());
  }
  while (!worklist.empty()) {
    Operation *def = worklist.pop_back_val();
    if (!def || !isa<tensor::EmptyOp, tensor::DimOp, tensor::ExpandShapeOp,
                     tensor::CollapseShapeOp, arith::ConstantOp>(def))
      return;
    for (Value operand : def->getOperands())
      if (!dominance.properlyDominates(operand, blocks))
        worklist.push_back(operand.getDefiningOp());
  }
  if (failed(moveValueDefinitions(rewriter, others, blocks)))
    return;

  SmallVector<LoopLikeOpInterface> loops = {blocks};
  FailureOr<scf::SCFFuseConsumerOfSliceResult> fused =
      scf::tileAndFuseConsumer(rewriter, consumer, loops);
  if (failed(fused) || fused->tiledOps.empty())
    return;
  auto epilogue = cast<linalg::LinalgOp>(fused->tiledOps.front());
  epilogue->setAttr(kEpilogueAttr, rewriter.getUnitAttr());
  rewriter.eraseOp(consumer);

  // The block's product goes into a tensor of its own, a buffer per block
  // that stays in L2 for the epilogue, instead of a slice of the whole
  // product's tensor, which is no longer a result of the blocks (and is
  // the same `tensor.empty` as the epilogue's output).
  OpOperand &destination = block.getDpsInitsMutable()[0];
  auto fill = destination.get().getDefiningOp<linalg::FillOp>();
  OpOperand &filled = fill ? fill.getDpsInitsMutable()[0] : destination;
  Operation *owner = filled.getOwner();
  rewriter.setInsertionPoint(owner);
  Value own = tensor::EmptyOp::create(
      rewriter, owner->getLoc(),
      tensor::getMixedSizes(rewriter, owner->getLoc(), filled.get()),
      getElementTypeOrSelf(filled.get().getType()));
  rewriter.modifyOpInPlace(owner, [&] { filled.set(own); });
}

/// Splits the first `blockK` steps of the reduction off the contraction
/// `op` when its output starts as a linalg.fill: returns that first part,
/// which reads the fill, and replaces `op` by the rest, which accumulates
/// into the first part's result. Returns null if the output is not filled.
linalg::LinalgOp splitFirstPanel(RewriterBase &rewriter, linalg::LinalgOp &op,
                                 const ContractionLoops &loops,
                                 int64_t blockK) {
  Value init = op.getDpsInits()[0];
  if (!init.getDefiningOp<linalg::FillOp>())
    return nullptr;
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto tileable = cast<TilingInterface>(op.getOperation());
  SmallVector<Range> domain = tileable.getIterationDomain(rewriter);
  SmallVector<OpFoldResult> offsets, sizes;
  for (const Range &range : domain) {
    offsets.push_back(range.offset);
    sizes.push_back(range.size);
  }
  OpFoldResult total = domain[loops.k].size;
  AffineExpr d0 = rewriter.getAffineDimExpr(0);
  OpFoldResult firstSize = affine::makeComposedFoldedAffineMin(
      rewriter, loc,
      AffineMap::get(1, 0, {rewriter.getAffineConstantExpr(blockK), d0},
                     rewriter.getContext()),
      {total});

  // Each part computes the whole output: tiling along a reduction slices
  // the inputs only, so the output slices are identities and each part
  // takes the previous value itself as its destination.
  auto part = [&](OpFoldResult offset, OpFoldResult size,
                  Value destination) -> linalg::LinalgOp {
    offsets[loops.k] = offset;
    sizes[loops.k] = size;
    FailureOr<TilingResult> tiled =
        tileable.getTiledImplementation(rewriter, offsets, sizes);
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return nullptr;
    auto tiledOp = cast<linalg::LinalgOp>(tiled->tiledOps.front());
    OpOperand &output = tiledOp.getDpsInitsMutable()[0];
    Operation *slice = output.get().getDefiningOp();
    if (destination.getType() != output.get().getType())
      destination = tensor::CastOp::create(rewriter, loc,
                                           output.get().getType(), destination);
    rewriter.modifyOpInPlace(tiledOp, [&] { output.set(destination); });
    if (slice && slice->use_empty())
      rewriter.eraseOp(slice);
    return tiledOp;
  };
  linalg::LinalgOp first = part(offsets[loops.k], firstSize, init);
  if (!first)
    return nullptr;
  OpFoldResult restOffset = affine::makeComposedFoldedAffineApply(
      rewriter, loc, d0 + rewriter.getAffineDimExpr(1),
      {offsets[loops.k], firstSize});
  OpFoldResult restSize = affine::makeComposedFoldedAffineApply(
      rewriter, loc, d0 - rewriter.getAffineDimExpr(1), {total, firstSize});
  linalg::LinalgOp rest = part(restOffset, restSize, first->getResult(0));
  if (!rest) {
    rewriter.eraseOp(first);
    return nullptr;
  }
  Value result = rest->getResult(0);
  if (result.getType() != op->getResult(0).getType())
    result = tensor::CastOp::create(rewriter, loc, op->getResult(0).getType(),
                                    result);
  rewriter.replaceOp(op, result);
  op = rest;
  return first;
}

/// The tile size of the outermost `n` loop of `op` that makes column blocks
/// of about `blockN` columns, if the output is wider than that: the panels
/// n1 of a packed right-hand side (the n0 columns of each go whole), or `n`
/// itself.
std::optional<int64_t>
TileContractionsPass::columnBlockSize(linalg::LinalgOp op,
                                      const ContractionLoops &loops) {
  std::optional<int64_t> columns = staticProduct(op, loops.dims.n);
  if (!columns || *columns <= blockN)
    return std::nullopt;
  unsigned outer = loops.dims.n.front();
  int64_t inner = *columns / op.getStaticLoopRanges()[outer];
  return std::max<int64_t>(1, blockN / inner);
}

/// Rows per parallel block of `op`: `m-block`, or fewer when the blocks'
/// number is static and not a multiple of `threads`: then the fewest rows,
/// a multiple of `register-m`, that make it one. A weight gradient has the
/// layer's input width as rows: 256 rows in blocks of 96 made three blocks,
/// and one of two threads computed two of them while the other waited.
int64_t TileContractionsPass::rowBlockSize(linalg::LinalgOp op,
                                           const ContractionLoops &loops) {
  if (threads <= 1)
    return blockM;
  SmallVector<unsigned> outer(loops.dims.batch.begin(), loops.dims.batch.end());
  llvm::append_range(outer, ArrayRef<unsigned>(loops.dims.m).drop_back());
  std::optional<int64_t> others = staticProduct(op, outer);
  int64_t rows = op.getStaticLoopRanges()[loops.m];
  if (!others || ShapedType::isDynamic(rows))
    return blockM;
  auto isBalanced = [&](int64_t size) {
    return llvm::divideCeil(rows, size) * *others % threads == 0;
  };
  for (int64_t blocks = llvm::divideCeil(rows, blockM);
       blocks * registerM <= rows; ++blocks) {
    int64_t size = llvm::alignTo(llvm::divideCeil(rows, blocks), registerM);
    if (isBalanced(size))
      return size;
  }
  return blockM;
}

LogicalResult TileContractionsPass::tileRegisters(RewriterBase &rewriter,
                                                  Operation *op,
                                                  const ContractionLoops &loops,
                                                  bool fuseFill, int64_t rows,
                                                  int64_t columns) {
  // Register tiles: n, then m (the reduction loop of step 1 comes after
  // peeling, in vectorizeRegisterTiles). Outer n dimensions (panels) go one
  // at a time; the others are already 1 from the row blocks.
  unsigned numLoops = cast<linalg::LinalgOp>(op).getNumLoops();
  SmallVector<int64_t> registerSizes(numLoops, 0);
  for (unsigned dim : loops.dims.n)
    registerSizes[dim] = 1;
  registerSizes[loops.n] = columns;
  registerSizes[loops.m] = rows;
  SmallVector<int64_t> interchange;
  for (unsigned dim = 0; dim < numLoops; ++dim)
    if (dim != loops.n && dim != loops.m)
      interchange.push_back(dim);
  interchange.append({loops.n, loops.m});
  auto registerTiling = scf::SCFTilingOptions::LoopType::ForOp;
  FailureOr<Tiled> registers =
      fuseFill ? tileAndFuse(rewriter, cast<TilingInterface>(op), registerSizes,
                             registerTiling, interchange)
               : tile(rewriter, cast<TilingInterface>(op), registerSizes,
                      registerTiling, interchange);
  if (failed(registers))
    return op->emitError("cannot tile into register tiles");
  registers->op->setAttr(kRegisterTileAttr, rewriter.getUnitAttr());
  for (LoopLikeOpInterface loop : registers->loops) {
    loop->setAttr(kPeelAttr, rewriter.getUnitAttr());
    // The fills fused into the register loops become vector stores of
    // zeros, which the accumulators' loads then fold away.
    loop->walk([&](linalg::FillOp fill) {
      fill->setAttr(kRegisterTileAttr, rewriter.getUnitAttr());
    });
  }
  return success();
}

LogicalResult
TileContractionsPass::tileContraction(RewriterBase &rewriter,
                                      linalg::LinalgOp op,
                                      const ContractionLoops &loops) {
  unsigned numLoops = op.getNumLoops();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();

  // 1. Parallel row blocks: every batch and m dimension, all of n.
  SmallVector<int64_t> blockSizes(numLoops, 0);
  for (unsigned dim : loops.dims.batch)
    blockSizes[dim] = 1;
  for (unsigned dim : loops.dims.m)
    blockSizes[dim] = 1;
  blockSizes[loops.m] = rowBlockSize(op, loops);
  FailureOr<Tiled> blocks =
      tileAndFuse(rewriter, cast<TilingInterface>(op.getOperation()),
                  blockSizes, scf::SCFTilingOptions::LoopType::ForallOp);
  if (failed(blocks))
    return op.emitError("cannot tile into parallel row blocks");
  auto current = cast<linalg::LinalgOp>(blocks->op);
  if (auto forall =
          dyn_cast<scf::ForallOp>(blocks->loops.front().getOperation()))
    fuseEpilogue(rewriter, forall, current);

  // Without a loop over the reduction, each register tile starts from zero
  // (the fill fused into the tiles).
  bool panelLoop =
      ShapedType::isDynamic(ranges[loops.k]) || ranges[loops.k] > blockK;
  if (!panelLoop)
    return tileRegisters(rewriter, current, loops, /*fuseFill=*/true, registerM,
                         registerN);

  // 2. Column blocks: with a loop over the reduction, the row block's
  // output is read and written once per panel, and it should stay in L2
  // between them. At 96 x 4096 floats (1.5 MiB) it did not.
  if (std::optional<int64_t> size = columnBlockSize(current, loops)) {
    SmallVector<int64_t> columnSizes(numLoops, 0);
    columnSizes[loops.dims.n.front()] = *size;
    FailureOr<Tiled> columns =
        tileAndFuse(rewriter, cast<TilingInterface>(current.getOperation()),
                    columnSizes, scf::SCFTilingOptions::LoopType::ForOp);
    if (failed(columns))
      return op.emitError("cannot tile into column blocks");
    current = cast<linalg::LinalgOp>(columns->op);
  }

  // 3. L1 panels along the reduction, each reading a compact copy of its
  // part of A. A zero-filled output first has its first panel split off,
  // whose register tiles then start from zero too; otherwise the row
  // block's output is zeroed in memory and read back, and at 96 x 8000
  // floats it does not stay in L2 between the two.
  if (linalg::LinalgOp first =
          splitFirstPanel(rewriter, current, loops, blockK)) {
    copyLeftPanel(rewriter, first, loops);
    if (failed(tileRegisters(rewriter, first, loops, /*fuseFill=*/true,
                             registerM, registerN)))
      return failure();
  }
  SmallVector<int64_t> panelSizes(numLoops, 0);
  panelSizes[loops.k] = blockK;
  FailureOr<Tiled> panels =
      tile(rewriter, cast<TilingInterface>(current.getOperation()), panelSizes,
           scf::SCFTilingOptions::LoopType::ForOp);
  if (failed(panels))
    return op.emitError("cannot tile the reduction into panels");
  copyLeftPanel(rewriter, cast<linalg::LinalgOp>(panels->op), loops);

  // 4. Register tiles.
  return tileRegisters(rewriter, panels->op, loops, /*fuseFill=*/false,
                       registerM, registerN);
}

/// The strategy for fewer than `pack-min-rows` rows (a decoder step), whose
/// right-hand side is read as it is: the row blocks of tileContraction would
/// leave one block, on one thread, whose 1 x `register-n` tiles are two
/// dependent chains of `k` FMAs each, reading one cache line per 4 KiB row
/// of the weight. Instead, every row and every `few-rows-n` columns is a
/// parallel block, columns outermost so that each thread reads its own part
/// of the weight once for all rows, and the block is one register tile of
/// `few-rows-n` accumulators over the whole reduction.
LogicalResult TileContractionsPass::tileFewRows(RewriterBase &rewriter,
                                                linalg::LinalgOp op,
                                                const ContractionLoops &loops) {
  unsigned numLoops = op.getNumLoops();
  SmallVector<int64_t> blockSizes(numLoops, 0);
  SmallVector<int64_t> interchange;
  for (unsigned dim : loops.dims.n) {
    blockSizes[dim] = 1;
    interchange.push_back(dim);
  }
  blockSizes[loops.n] = fewRowsN;
  for (unsigned dim :
       llvm::concat<const unsigned>(loops.dims.batch, loops.dims.m)) {
    blockSizes[dim] = 1;
    interchange.push_back(dim);
  }
  interchange.push_back(loops.k);
  FailureOr<Tiled> blocks = tileAndFuse(
      rewriter, cast<TilingInterface>(op.getOperation()), blockSizes,
      scf::SCFTilingOptions::LoopType::ForallOp, interchange);
  if (failed(blocks))
    return op.emitError("cannot tile into parallel column blocks");
  return tileRegisters(rewriter, blocks->op, loops, /*fuseFill=*/true,
                       /*rows=*/1, fewRowsN);
}

/// Vectorizes every marked register tile to a vector.contract inside a
/// reduction loop of step 1. Full tiles are static after peeling; a partial
/// tile (the last rows or columns) is first split along its dynamic
/// dimensions into static tiles of size one, so the edges are vector code
/// too, one register row at a time.
void vectorizeRegisterTiles(RewriterBase &rewriter, func::FuncOp func) {
  SmallVector<linalg::LinalgOp> tiles;
  func.walk([&](linalg::LinalgOp op) {
    if (op->hasAttr(kRegisterTileAttr))
      tiles.push_back(op);
  });
  for (linalg::LinalgOp op : tiles) {
    op->removeAttr(kRegisterTileAttr);
    if (isa<linalg::FillOp>(op.getOperation())) {
      if (op.hasDynamicShape())
        continue;
      vectorizeInPlace(rewriter, op);
      continue;
    }
    if (op.hasDynamicShape()) {
      SmallVector<int64_t> unitSizes;
      for (int64_t range : op.getStaticLoopRanges())
        unitSizes.push_back(ShapedType::isDynamic(range) ? 1 : 0);
      FailureOr<Tiled> rows =
          tile(rewriter, cast<TilingInterface>(op.getOperation()), unitSizes,
               scf::SCFTilingOptions::LoopType::ForOp);
      if (failed(rows))
        continue;
      op = cast<linalg::LinalgOp>(rows->op);
      if (op.hasDynamicShape())
        continue;
    }
    SmallVector<int64_t> reductionSizes;
    for (utils::IteratorType iterator : op.getIteratorTypesArray())
      reductionSizes.push_back(iterator == utils::IteratorType::reduction ? 1
                                                                          : 0);
    FailureOr<Tiled> steps =
        tile(rewriter, cast<TilingInterface>(op.getOperation()), reductionSizes,
             scf::SCFTilingOptions::LoopType::ForOp);
    if (failed(steps))
      continue;
    vectorizeInPlace(rewriter, cast<linalg::LinalgOp>(steps->op),
                     /*vectorizeNDExtract=*/false,
                     /*createNamedContraction=*/true);
  }
}

/// The loops of `dims` as one group, if there are at least two, they are
/// adjacent and every operand reads them contiguously in that order.
std::optional<ReassociationIndices> collapsibleGroup(linalg::LinalgOp op,
                                                     ArrayRef<unsigned> dims) {
  if (dims.size() < 2)
    return std::nullopt;
  ReassociationIndices group(dims.begin(), dims.end());
  llvm::sort(group);
  bool adjacent =
      llvm::all_of(llvm::seq<size_t>(1, group.size()),
                   [&](size_t i) { return group[i] == group[i - 1] + 1; });
  if (!adjacent ||
      !linalg::areDimSequencesPreserved(op.getIndexingMapsArray(), {group}))
    return std::nullopt;
  return group;
}

/// Collapses the reduction loops of contractions that reduce over several
/// adjacent loops read contiguously by every operand (a weight gradient
/// summed over batch and positions) into one loop, and likewise their
/// column loops (a projection into heads, [b, t, k] by [k, h, e]), into the
/// form the strategy tiles. The operands get collapse_shape views, the
/// result an expand_shape back.
void collapseContractionLoops(RewriterBase &rewriter, func::FuncOp func) {
  SmallVector<linalg::LinalgOp> candidates;
  func.walk([&](linalg::LinalgOp op) {
    if (op.hasPureTensorSemantics() && linalg::isaContractionOpInterface(op) &&
        op.getNumDpsInputs() == 2)
      candidates.push_back(op);
  });
  for (linalg::LinalgOp op : candidates) {
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(op);
    if (failed(dims))
      continue;
    SmallVector<ReassociationIndices> groups;
    for (ArrayRef<unsigned> loops :
         {ArrayRef<unsigned>(dims->k), ArrayRef<unsigned>(dims->n)})
      if (std::optional<ReassociationIndices> group =
              collapsibleGroup(op, loops))
        groups.push_back(*group);
    if (groups.empty())
      continue;
    llvm::sort(groups, [](const ReassociationIndices &a,
                          const ReassociationIndices &b) {
      return a.front() < b.front();
    });
    rewriter.setInsertionPoint(op);
    auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic) {
      FailureOr<linalg::GenericOp> generalized =
          linalg::generalizeNamedOp(rewriter, op);
      if (failed(generalized))
        continue;
      generic = *generalized;
    }
    FailureOr<linalg::CollapseResult> collapsed =
        linalg::collapseOpIterationDims(generic, groups, rewriter);
    if (failed(collapsed))
      continue;
    rewriter.replaceOp(generic, collapsed->results);
    // A zero-filled output is filled in its collapsed shape, so the strategy
    // still sees the fill and folds it into the first reduction steps
    // instead of writing the output an extra time.
    for (OpOperand &init : collapsed->collapsedOp.getDpsInitsMutable()) {
      auto view = init.get().getDefiningOp<tensor::CollapseShapeOp>();
      auto fill = view ? view.getSrc().getDefiningOp<linalg::FillOp>()
                       : linalg::FillOp();
      if (!fill)
        continue;
      rewriter.setInsertionPoint(view);
      Value empty = tensor::CollapseShapeOp::create(
          rewriter, view.getLoc(), fill.getOutputs()[0],
          view.getReassociationIndices());
      Value filled = linalg::FillOp::create(rewriter, fill.getLoc(),
                                            fill.getInputs(), empty)
                         .getResult(0);
      rewriter.modifyOpInPlace(collapsed->collapsedOp,
                               [&] { init.set(filled); });
    }
  }
}

void TileContractionsPass::runOnOperation() {
  func::FuncOp func = getOperation();
  MLIRContext *ctx = &getContext();
  if (registerM <= 0 || registerN <= 0 || blockM <= 0 || blockK <= 0 ||
      blockN <= 0 || fewRowsN <= 0 || threads <= 0 || blockM % registerM != 0 ||
      blockN % registerN != 0 || fewRowsN % registerN != 0 || packMinRows < 0) {
    func.emitError()
        << "convseq-tile-contractions: tile sizes and threads "
           "must be positive, m-block a multiple of register-m, n-block "
           "a multiple of register-n, few-rows-n a multiple of "
           "register-n and pack-min-rows not negative";
    return signalPassFailure();
  }

  IRRewriter rewriter(ctx);
  collapseContractionLoops(rewriter, func);

  SmallVector<std::pair<linalg::LinalgOp, ContractionLoops>> contractions;
  func.walk([&](linalg::LinalgOp op) {
    if (std::optional<ContractionLoops> loops = matchContraction(op, registerN))
      contractions.push_back({op, *loops});
  });
  for (auto [original, originalLoops] : contractions) {
    linalg::LinalgOp op = original;
    ContractionLoops loops = originalLoops;
    // Packing pays when the panels are reused by many rows. With few (a
    // decoder step), it would read and write the whole right-hand side
    // once more than the contraction reads it, so a right-hand side that
    // is contiguous in `n` is then read as it is, and one contiguous along
    // the reduction as dot products; a dynamic number of rows that may be
    // small gets both versions.
    bool readsDirectly = isInnermost(op.getIndexingMapsArray()[1], loops.n);
    std::optional<int64_t> rows = staticRows(op, loops);
    bool fewRows = rows && *rows < packMinRows;
    bool versioned = !rows && packMinRows > 0 && mayHaveFewRows(op, loops);
    if (!readsDirectly && canSplitIntoDotProducts(op, loops, registerN)) {
      if (fewRows) {
        splitIntoDotProducts(rewriter, op, loops, registerN);
        continue;
      }
      if (versioned) {
        auto [few, many] = versionOnRows(rewriter, op, loops, packMinRows);
        splitIntoDotProducts(rewriter, few, loops, registerN);
        op = many;
      }
    }
    linalg::LinalgOp current = op;
    StringRef layout;
    if (canPackRightHandSide(op, loops, registerN) &&
        !(readsDirectly && fewRows)) {
      if (readsDirectly && versioned) {
        auto [direct, packed] = versionOnRows(rewriter, op, loops, packMinRows);
        if (failed(tileFewRows(rewriter, direct, loops)))
          return signalPassFailure();
        current = packed;
      }
      current = packRightHandSide(rewriter, current, loops, registerN);
      layout = "packed";
    } else if (!isInnermost(op.getIndexingMapsArray()[1], loops.n)) {
      current = transposeRightHandSide(rewriter, op, loops);
      layout = "transposed";
    }
    if (!layout.empty()) {
      std::optional<ContractionLoops> rewritten =
          matchContraction(current, registerN);
      if (!rewritten ||
          !isInnermost(current.getIndexingMapsArray()[1], rewritten->n)) {
        current.emitError()
            << "internal error: the contraction with a " << layout
            << " right-hand side is not one the strategy "
               "tiles";
        return signalPassFailure();
      }
      loops = *rewritten;
    }
    bool direct = layout.empty() && readsDirectly && fewRows;
    if (failed(direct ? tileFewRows(rewriter, current, loops)
                      : tileContraction(rewriter, current, loops)))
      return signalPassFailure();
  }

  if (failed(peelMarkedLoops(rewriter, func, kPeelAttr)))
    return signalPassFailure();
  vectorizeRegisterTiles(rewriter, func);

  // Drop the unit batch dimensions of the vector ops, then keep the
  // accumulators in registers for the whole reduction loop.
  if (failed(cleanUpVectorTiles(rewriter, func)))
    return signalPassFailure();
}

} // namespace
