//===- TileGPUContractions.cpp - Shared-memory tiles for contractions -----===//
//
// A contraction (batch dims, m, n, k) on buffers becomes a kernel in the
// block-level form (BlockLoops.h): a block per (batch, tile-m x tile-n
// output tile); its threads stage a tile-k slice of the A and B tiles in
// shared memory, then each accumulates a thread-tile-m x thread-tile-n
// register tile from them, tile-k steps at a time. The accumulators start
// from the output's values and add the products in k order, with the
// op's own body: each output element is computed exactly as the op's loop
// nest computes it.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/GPU/BlockLoops.h"
#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_TILEGPUCONTRACTIONSPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// Tile sizes of the kernel.
struct Tiles {
  int64_t m, n, k;
  /// The register tile of a thread.
  int64_t threadM, threadN;

  int64_t threadRows() const { return m / threadM; }
  int64_t threadCols() const { return n / threadN; }
  int64_t threads() const { return threadRows() * threadCols(); }
};

/// An element-wise op that reads a contraction's output, computed from the
/// accumulators in the contraction's kernel instead of reading the output
/// back in a kernel of its own (a residual add, a ReLU, a GLU gate).
struct Epilogue {
  linalg::GenericOp op;
  /// The input of `op` that is the contraction's output.
  unsigned input;
  /// `op`'s output, where the kernel stores instead.
  Value output;
  /// The ops between the contraction and `op` that go before the kernel
  /// (index computations, `op`'s output allocation).
  SmallVector<Operation *> hoisted;
};

/// The loops of a contraction, by role.
struct Contraction {
  linalg::LinalgOp op;
  linalg::ContractionDimensions dims;
  /// The fill of the output the accumulators start from instead, if any.
  linalg::FillOp fill;
  /// The op computed from the accumulators, if any: the output is then
  /// never written, and its buffer is erased.
  std::optional<Epilogue> epilogue;
};

/// Whether `op` or an op in its regions has a buffer operand that is a view
/// of one of `buffers`, or effects that are not known.
bool touchesAny(Operation *op, const llvm::SmallPtrSetImpl<Value> &buffers) {
  WalkResult result = op->walk([&](Operation *nested) {
    if (!isa<MemoryEffectOpInterface>(nested) &&
        !nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::interrupt();
    for (Value operand : nested->getOperands())
      if (isa<BaseMemRefType>(operand.getType()) &&
          buffers.contains(rootBuffer(operand)))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// The epilogue of `contraction` (whose output starts from `fill`): the
/// only other reader of its output, a fresh buffer, when it is a
/// `linalg.generic` on buffers with only parallel loops, one output, the
/// contraction's output read and its own written at the identity, and a
/// body without memory effects, and the ops between the two touch none of
/// its buffers; its output must not be a view of the contraction's inputs,
/// nor of its own inputs but those it reads at the identity.
std::optional<Epilogue> matchEpilogue(linalg::LinalgOp contraction,
                                      linalg::FillOp fill) {
  Value out = contraction.getDpsInits()[0];
  if (!fill || !out.getDefiningOp<memref::AllocOp>())
    return std::nullopt;
  linalg::GenericOp consumer;
  for (Operation *user : out.getUsers()) {
    if (user == contraction.getOperation() || user == fill.getOperation() ||
        isa<memref::DeallocOp>(user))
      continue;
    auto generic = dyn_cast<linalg::GenericOp>(user);
    if (!generic || consumer)
      return std::nullopt;
    consumer = generic;
  }
  if (!consumer || consumer->getBlock() != contraction->getBlock() ||
      !contraction->isBeforeInBlock(consumer) ||
      !consumer.hasPureBufferSemantics() || consumer.getNumDpsInits() != 1 ||
      consumer.getNumLoops() != consumer.getNumParallelLoops() ||
      consumer.getNumLoops() !=
          cast<MemRefType>(out.getType()).getRank() ||
      !consumer.getIndexingMapsArray().back().isIdentity())
    return std::nullopt;
  std::optional<unsigned> input;
  for (OpOperand *operand : consumer.getDpsInputOperands()) {
    if (operand->get() != out)
      continue;
    if (input || !consumer.getMatchingIndexingMap(operand).isIdentity())
      return std::nullopt;
    input = operand->getOperandNumber();
  }
  if (!input || llvm::any_of(consumer.getBlock()->without_terminator(),
                             [](Operation &op) {
                               return !isMemoryEffectFree(&op);
                             }))
    return std::nullopt;

  // Each thread writes its elements of the epilogue's output while other
  // blocks read the contraction's inputs, and reads the epilogue's inputs
  // at their maps: only an input read at the identity (the element it
  // writes) may share its buffer.
  Value result = rootBuffer(consumer.getDpsInits()[0]);
  for (Value operand : contraction.getDpsInputs())
    if (rootBuffer(operand) == result)
      return std::nullopt;
  for (OpOperand *operand : consumer.getDpsInputOperands())
    if (rootBuffer(operand->get()) == result &&
        !consumer.getMatchingIndexingMap(operand).isIdentity())
      return std::nullopt;
  // The epilogue is computed where the contraction was: what lies between
  // must not touch its buffers. Allocations and ops without memory effects
  // move before the kernel (the epilogue's output may be allocated there).
  llvm::SmallPtrSet<Value, 8> used;
  for (Value operand : consumer->getOperands())
    used.insert(rootBuffer(operand));
  Epilogue epilogue{consumer, *input, consumer.getDpsInits()[0], {}};
  llvm::SmallPtrSet<Operation *, 8> hoisted;
  // Whether `value` is defined before the contraction, or by an op that
  // moves there.
  auto availableBefore = [&](Value value) {
    Operation *def = value.getDefiningOp();
    if (!def || def->getBlock() != contraction->getBlock())
      return true;
    return def->isBeforeInBlock(contraction) || hoisted.contains(def);
  };
  for (Operation *op = contraction->getNextNode(); op != consumer;
       op = op->getNextNode()) {
    if ((isa<memref::AllocOp>(op) || isMemoryEffectFree(op)) &&
        llvm::all_of(op->getOperands(), availableBefore)) {
      epilogue.hoisted.push_back(op);
      hoisted.insert(op);
      continue;
    }
    if (touchesAny(op, used))
      return std::nullopt;
  }
  SetVector<Value> captured;
  getUsedValuesDefinedAbove(consumer->getRegions(), captured);
  if (!llvm::all_of(consumer->getOperands(), availableBefore) ||
      !llvm::all_of(captured, availableBefore))
    return std::nullopt;
  return epilogue;
}

/// `op` as a contraction the kernel computes: two inputs and one output of
/// one float type on buffers, indexed by loops that are each a batch, m, n
/// or k loop, with at least one m and one n loop.
FailureOr<Contraction> matchContraction(linalg::LinalgOp op) {
  if (!isBinaryFloatBufferOp(op) || !linalg::isaContractionOpInterface(op))
    return failure();
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  // A matrix-vector product (no n or no m loop) would leave most threads of
  // a tile idle: a thread per output element suits it better.
  if (failed(dims) || dims->m.empty() || dims->n.empty() ||
      dims->batch.size() + dims->m.size() + dims->n.size() + dims->k.size() !=
          op.getNumLoops())
    return failure();
  linalg::FillOp fill = findInitFill(op);
  return Contraction{op, *dims, fill, matchEpilogue(op, fill)};
}

/// The indices of the operand `map` reads at the loop `indices`.
SmallVector<Value> operandIndices(AffineMap map, ArrayRef<Value> indices) {
  SmallVector<Value> result;
  for (AffineExpr expr : map.getResults())
    result.push_back(indices[cast<AffineDimExpr>(expr).getPosition()]);
  return result;
}

/// The epilogue's element at the loop `indices` with `value` as the
/// contraction's output there: its other inputs loaded at their maps, its
/// output's current value loaded only if its body reads it.
Value applyEpilogue(OpBuilder &b, Location loc, const Epilogue &epilogue,
                    Value value, ArrayRef<Value> indices) {
  linalg::GenericOp op = epilogue.op;
  SmallVector<Value> known(op.getNumDpsInputs());
  known[epilogue.input] = value;
  Value init = op.getDpsInits()[0];
  Value current =
      op.getRegionOutputArgs()[0].use_empty()
          ? arith::ConstantOp::create(
                b, loc, b.getZeroAttr(getElementTypeOrSelf(init.getType())))
                .getResult()
          : memref::LoadOp::create(b, loc, init, indices).getResult();
  return applyBodyAt(b, loc, op, indices, current, known).front();
}

/// Replaces `contraction` with its kernel in the block-level form.
void tileContraction(RewriterBase &rewriter, const Contraction &contraction,
                     const Tiles &tiles) {
  linalg::LinalgOp op = contraction.op;
  const linalg::ContractionDimensions &dims = contraction.dims;
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> sizes = loopSizes(rewriter, op);
  Value batch = linearizedSize(rewriter, loc, sizes, dims.batch);
  Value m = linearizedSize(rewriter, loc, sizes, dims.m);
  Value n = linearizedSize(rewriter, loc, sizes, dims.n);
  Value k = linearizedSize(rewriter, loc, sizes, dims.k);
  Value mTiles = tileCount(rewriter, loc, m, tiles.m);
  Value nTiles = tileCount(rewriter, loc, n, tiles.n);
  Value blocks = rewriter.createOrFold<arith::MulIOp>(
      loc, batch, rewriter.createOrFold<arith::MulIOp>(loc, mTiles, nTiles));

  Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
  Value out = op.getDpsInits()[0];
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Type element = getElementTypeOrSelf(out.getType());
  Block *body = op.getBlock();
  int64_t threads = tiles.threads();
  const std::optional<Epilogue> &epilogue = contraction.epilogue;
  // Where the kernel stores: the output, or the epilogue's output. The
  // kernel takes the epilogue's place: what it uses goes before it.
  Value result = out;
  if (epilogue) {
    result = epilogue->output;
    for (Operation *hoisted : epilogue->hoisted)
      rewriter.moveOpBefore(hoisted, op);
  }
  Value initValue = contraction.fill
                        ? linalg::FillOp(contraction.fill).getInputs()[0]
                        : Value();

  buildBlockLoop(
      rewriter, loc, blocks, [&](OpBuilder &b, Location l, Value block) {
        auto blockTile = affine::AffineDelinearizeIndexOp::create(
            b, l, block, ArrayRef<OpFoldResult>{batch, mTiles, nTiles});
        Value batchIndex = blockTile.getResult(0);
        Value mBase = arith::MulIOp::create(b, l, blockTile.getResult(1),
                                            indexConstant(b, l, tiles.m));
        Value nBase = arith::MulIOp::create(b, l, blockTile.getResult(2),
                                            indexConstant(b, l, tiles.n));

        // Shared tiles [k][m] and [k][n], rows padded by one element so
        // that the threads staging a k-major operand hit different banks.
        auto makeBuffer = [&](ArrayRef<int64_t> shape, StringRef space) {
          return allocBlockBuffer(b, l, shape, element, space);
        };
        Value lhsTile = makeBuffer({tiles.k, tiles.m + 1}, kWorkgroupMemory);
        Value rhsTile = makeBuffer({tiles.k, tiles.n + 1}, kWorkgroupMemory);
        Value acc =
            makeBuffer({threads, tiles.threadM, tiles.threadN}, kPrivateMemory);

        // The loop indices of output element (row, col) of this block's
        // tile, and whether it exists.
        SmallVector<Value> indices(op.getNumLoops());
        auto setOutputIndices = [&](OpBuilder &tb, Location tl, Value row,
                                    Value col) {
          Value mIndex = arith::AddIOp::create(tb, tl, mBase, row);
          Value nIndex = arith::AddIOp::create(tb, tl, nBase, col);
          if (!dims.batch.empty())
            delinearizeInto(tb, tl, batchIndex, sizes, dims.batch, indices);
          delinearizeInto(tb, tl, mIndex, sizes, dims.m, indices);
          delinearizeInto(tb, tl, nIndex, sizes, dims.n, indices);
          return arith::AndIOp::create(tb, tl, isBelow(tb, tl, mIndex, m),
                                       isBelow(tb, tl, nIndex, n));
        };
        // Thread t's register tile: rows ty + threadRows * i, columns
        // tx + threadCols * j, so that neighbouring threads take
        // neighbouring columns.
        struct RegisterTile {
          SmallVector<Value> rows, cols;
        };
        auto registerTile = [&](OpBuilder &tb, Location tl, Value t) {
          auto position = affine::AffineDelinearizeIndexOp::create(
              tb, tl, t,
              ArrayRef<int64_t>{tiles.threadRows(), tiles.threadCols()});
          RegisterTile tile;
          for (int64_t i = 0; i < tiles.threadM; ++i)
            tile.rows.push_back(arith::AddIOp::create(
                tb, tl, position.getResult(0),
                indexConstant(tb, tl, tiles.threadRows() * i)));
          for (int64_t j = 0; j < tiles.threadN; ++j)
            tile.cols.push_back(arith::AddIOp::create(
                tb, tl, position.getResult(1),
                indexConstant(tb, tl, tiles.threadCols() * j)));
          return tile;
        };
        auto forEachElement =
            [&](OpBuilder &tb, Location tl, Value t,
                function_ref<void(Value row, Value col, Value i, Value j)> fn) {
              RegisterTile tile = registerTile(tb, tl, t);
              for (auto [i, row] : llvm::enumerate(tile.rows))
                for (auto [j, col] : llvm::enumerate(tile.cols))
                  fn(row, col, indexConstant(tb, tl, i),
                     indexConstant(tb, tl, j));
            };

        // The accumulators start from the output, or from the value it
        // was filled with.
        buildThreadLoop(
            b, l, threads, [&](OpBuilder &tb, Location tl, Value t) {
              forEachElement(
                  tb, tl, t, [&](Value row, Value col, Value i, Value j) {
                    Value init = initValue;
                    if (!init) {
                      Value exists = setOutputIndices(tb, tl, row, col);
                      init =
                          loadOrZero(tb, tl, out,
                                     operandIndices(maps[2], indices), exists);
                    }
                    memref::StoreOp::create(tb, tl, init, acc,
                                            ValueRange{t, i, j});
                  });
            });

        scf::ForOp::create(
            b, l, indexConstant(b, l, 0), k, indexConstant(b, l, tiles.k),
            ValueRange(),
            [&](OpBuilder &fb, Location fl, Value k0, ValueRange) {
              // Stage the slices [k0, k0 + tile-k) of both tiles, zero
              // outside the operands. Consecutive threads take
              // consecutive elements of the operand's innermost dimension.
              buildThreadLoop(
                  fb, fl, threads, [&](OpBuilder &tb, Location tl, Value t) {
                    auto stage = [&](Value operand, AffineMap map, Value tile,
                                     int64_t tileCols,
                                     ArrayRef<unsigned> colDims, Value base,
                                     Value bound) {
                      unsigned innermost =
                          cast<AffineDimExpr>(map.getResults().back())
                              .getPosition();
                      bool kMajor = llvm::is_contained(dims.k, innermost);
                      for (int64_t e = 0; e < tiles.k * tileCols / threads;
                           ++e) {
                        Value linear = arith::AddIOp::create(
                            tb, tl, t, indexConstant(tb, tl, e * threads));
                        auto split = affine::AffineDelinearizeIndexOp::create(
                            tb, tl, linear,
                            kMajor ? ArrayRef<int64_t>{tileCols, tiles.k}
                                   : ArrayRef<int64_t>{tiles.k, tileCols});
                        Value kk = split.getResult(kMajor ? 1 : 0);
                        Value cc = split.getResult(kMajor ? 0 : 1);
                        Value kIndex = arith::AddIOp::create(tb, tl, k0, kk);
                        Value cIndex = arith::AddIOp::create(tb, tl, base, cc);
                        if (!dims.batch.empty())
                          delinearizeInto(tb, tl, batchIndex, sizes, dims.batch,
                                          indices);
                        delinearizeInto(tb, tl, kIndex, sizes, dims.k, indices);
                        delinearizeInto(tb, tl, cIndex, sizes, colDims,
                                        indices);
                        Value exists = arith::AndIOp::create(
                            tb, tl, isBelow(tb, tl, kIndex, k),
                            isBelow(tb, tl, cIndex, bound));
                        Value value =
                            loadOrZero(tb, tl, operand,
                                       operandIndices(map, indices), exists);
                        memref::StoreOp::create(tb, tl, value, tile,
                                                ValueRange{kk, cc});
                      }
                    };
                    stage(lhs, maps[0], lhsTile, tiles.m, dims.m, mBase, m);
                    stage(rhs, maps[1], rhsTile, tiles.n, dims.n, nBase, n);
                  });

              // Accumulate the staged steps in k order.
              Value steps = affine::AffineMinOp::create(
                  fb, fl,
                  AffineMap::get(
                      2, 0,
                      {getAffineConstantExpr(tiles.k, fb.getContext()),
                       getAffineDimExpr(1, fb.getContext()) -
                           getAffineDimExpr(0, fb.getContext())},
                      fb.getContext()),
                  ValueRange{k0, k});
              // Each step reads the thread's rows of A and columns of B
              // from the shared slices once, then updates its tile.
              buildThreadLoop(
                  fb, fl, threads, [&](OpBuilder &tb, Location tl, Value t) {
                    RegisterTile tile = registerTile(tb, tl, t);
                    scf::ForOp::create(
                        tb, tl, indexConstant(tb, tl, 0), steps,
                        indexConstant(tb, tl, 1), ValueRange(),
                        [&](OpBuilder &kb, Location kl, Value kk, ValueRange) {
                          SmallVector<Value> as, bs;
                          for (Value row : tile.rows)
                            as.push_back(memref::LoadOp::create(
                                kb, kl, lhsTile, ValueRange{kk, row}));
                          for (Value col : tile.cols)
                            bs.push_back(memref::LoadOp::create(
                                kb, kl, rhsTile, ValueRange{kk, col}));
                          for (auto [i, a] : llvm::enumerate(as)) {
                            for (auto [j, c] : llvm::enumerate(bs)) {
                              SmallVector<Value> at = {
                                  t, indexConstant(kb, kl, i),
                                  indexConstant(kb, kl, j)};
                              Value sum =
                                  memref::LoadOp::create(kb, kl, acc, at);
                              Value next =
                                  applyBody(kb, *body, ValueRange{a, c, sum});
                              memref::StoreOp::create(kb, kl, next, acc, at);
                            }
                          }
                          scf::YieldOp::create(kb, kl);
                        });
                  });
              scf::YieldOp::create(fb, fl);
            });

        // The accumulators into the output, or through the epilogue into
        // its output: the epilogue's loops are the output's indices.
        buildThreadLoop(
            b, l, threads, [&](OpBuilder &tb, Location tl, Value t) {
              forEachElement(
                  tb, tl, t, [&](Value row, Value col, Value i, Value j) {
                    Value exists = setOutputIndices(tb, tl, row, col);
                    scf::IfOp::create(
                        tb, tl, exists, [&](OpBuilder &then, Location il) {
                          Value value = memref::LoadOp::create(
                              then, il, acc, ValueRange{t, i, j});
                          SmallVector<Value> at =
                              operandIndices(maps[2], indices);
                          if (epilogue)
                            value = applyEpilogue(then, il, *epilogue, value,
                                                  at);
                          memref::StoreOp::create(then, il, value, result, at);
                          scf::YieldOp::create(then, il);
                        });
                  });
            });
        for (Value buffer : {lhsTile, rhsTile, acc})
          memref::DeallocOp::create(b, l, buffer);
      });
  rewriter.eraseOp(op);
  if (contraction.fill)
    rewriter.eraseOp(contraction.fill);
  if (!epilogue)
    return;
  // Nothing reads the output any more: its buffer goes.
  rewriter.eraseOp(epilogue->op);
  for (Operation *user : llvm::make_early_inc_range(out.getUsers()))
    rewriter.eraseOp(user);
  rewriter.eraseOp(out.getDefiningOp());
}

struct TileGPUContractionsPass
    : mlir::convseq::impl::TileGPUContractionsPassBase<
          TileGPUContractionsPass> {
  using TileGPUContractionsPassBase::TileGPUContractionsPassBase;

  void runOnOperation() override {
    Tiles tiles{tileM, tileN, tileK, threadTileM, threadTileN};
    if (tiles.m <= 0 || tiles.n <= 0 || tiles.k <= 0 || tiles.threadM <= 0 ||
        tiles.threadN <= 0 || tiles.m % tiles.threadM != 0 ||
        tiles.n % tiles.threadN != 0) {
      getOperation().emitError(
          "tile-m and tile-n must be positive multiples of thread-tile-m and "
          "thread-tile-n, and tile-k positive");
      return signalPassFailure();
    }
    int64_t threads = tiles.threads();
    if (threads > 1024 || threads % 32 != 0 ||
        (tiles.m * tiles.k) % threads != 0 ||
        (tiles.n * tiles.k) % threads != 0) {
      getOperation().emitError()
          << "the tiles give " << threads
          << " threads per block; they must be a multiple of 32, at most "
             "1024, and divide tile-m * tile-k and tile-n * tile-k";
      return signalPassFailure();
    }

    SmallVector<Contraction> contractions =
        matchHostOps<Contraction>(getOperation(), matchContraction);
    if (!epilogues)
      for (Contraction &contraction : contractions)
        contraction.epilogue.reset();
    IRRewriter rewriter(&getContext());
    for (const Contraction &contraction : contractions)
      tileContraction(rewriter, contraction, tiles);
  }
};

} // namespace
