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

/// The loops of a contraction, by role.
struct Contraction {
  linalg::LinalgOp op;
  linalg::ContractionDimensions dims;
  /// The fill of the output the accumulators start from instead, if any.
  linalg::FillOp fill;
};

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
  return Contraction{op, *dims, findInitFill(op)};
}

/// The indices of the operand `map` reads at the loop `indices`.
SmallVector<Value> operandIndices(AffineMap map, ArrayRef<Value> indices) {
  SmallVector<Value> result;
  for (AffineExpr expr : map.getResults())
    result.push_back(indices[cast<AffineDimExpr>(expr).getPosition()]);
  return result;
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

        // The accumulators into the output.
        buildThreadLoop(
            b, l, threads, [&](OpBuilder &tb, Location tl, Value t) {
              forEachElement(
                  tb, tl, t, [&](Value row, Value col, Value i, Value j) {
                    Value exists = setOutputIndices(tb, tl, row, col);
                    scf::IfOp::create(tb, tl, exists,
                                      [&](OpBuilder &then, Location il) {
                                        Value value = memref::LoadOp::create(
                                            then, il, acc, ValueRange{t, i, j});
                                        memref::StoreOp::create(
                                            then, il, value, out,
                                            operandIndices(maps[2], indices));
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
    IRRewriter rewriter(&getContext());
    for (const Contraction &contraction : contractions)
      tileContraction(rewriter, contraction, tiles);
  }
};

} // namespace
