//===- TileGPUAttention.cpp - Attention kernels without a score matrix ----===//
//
// convseq.dot_product_attention becomes one kernel in the block-level form
// (BlockLoops.h) that never writes the [T, S] scores: a block per (batch,
// head, `rows` query rows), a thread per query row. The block stages `keys`
// keys and their values at a time in shared memory; each thread scores its
// row against them from its query in registers and folds them into its
// running maximum, running sum and weighted values with the online softmax
// of FlashAttention. Its gradient becomes two kernels that recompute the
// probabilities tile by tile: a row kernel for dQ (and each row's L and D)
// and a key kernel for dK and dV. See the pass description in Passes.td
// and docs/gpu.md.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/GPU/BlockLoops.h"
#include "lib/CodeGen/GPU/Passes.h"

#include "dialect/ConvSeqOps.h"
#include "lib/Support/Philox.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>
#include <optional>

namespace mlir::convseq {
#define GEN_PASS_DEF_TILEGPUATTENTIONPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// A row kernel's shape: query rows (and threads) per block, keys per
/// staged tile. The key gradient's kernel: keys (and threads) per block,
/// query rows per staged tile.
struct Tiles {
  int64_t rows, keys;
};

/// What the kernel reads (tensors) and the sizes it needs.
struct Attention {
  Value query, key, value, keyMask; // [B, H, T, E], [B, H, S, E],
                                    // [B, H, S, F], [B, S] or null
  Value batch, heads, numQueries, numKeys;
  int64_t headSize, valueSize; // E, F
  FloatType elementType;
  double scale;
  bool causal;
  // Attention dropout, the reference lowering's mask (lib/Support/Philox.h):
  // probability (b, h, i, j) is kept by word i mod 4 of the evaluation for
  // counter (j, g, stream, step), g = (b H + h) ceil(T / 4) + i / 4. Unset
  // without dropout.
  std::optional<DropoutKey> dropout;
  Value rowGroups; // ceil(T / 4)
  Value resultGrad; // dO, [B, H, T, F], for the gradient
};

/// Runs `body` in an `scf.if` on `index` < `bound`.
void ifBelow(OpBuilder &b, Location l, Value index, Value bound,
             function_ref<void(OpBuilder &, Location)> body) {
  scf::IfOp::create(b, l, isBelow(b, l, index, bound),
                    [&](OpBuilder &ib, Location il) {
                      body(ib, il);
                      scf::YieldOp::create(ib, il);
                    });
}

/// Runs `body` for each index in [0, `count`) in an `scf.for` (a loop in
/// the kernel, not unrolled).
void forEachIndex(OpBuilder &b, Location l, int64_t count,
                  function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ForOp::create(b, l, indexConstant(b, l, 0), indexConstant(b, l, count),
                     indexConstant(b, l, 1), ValueRange(),
                     [&](OpBuilder &fb, Location fl, Value i, ValueRange) {
                       body(fb, fl, i);
                       scf::YieldOp::create(fb, fl);
                     });
}

/// Runs `body` for each linear index t + i < `count`, i = 0, `threads`,
/// 2 `threads`, ...: the rounds in which `threads` threads cover `count`
/// elements. Only a last partial round tests its index.
void forEachElement(OpBuilder &b, Location loc, Value t, int64_t threads,
                    int64_t count,
                    function_ref<void(OpBuilder &, Location, Value)> body) {
  for (int64_t i = 0; i < count; i += threads) {
    Value linear = arith::AddIOp::create(b, loc, t, indexConstant(b, loc, i));
    if (i + threads <= count) {
      body(b, loc, linear);
      continue;
    }
    ifBelow(b, loc, linear, indexConstant(b, loc, count),
            [&](OpBuilder &ib, Location il) { body(ib, il, linear); });
  }
}

/// Static shared memory a block may use without opting in, in bytes.
constexpr int64_t kMaxSharedBytes = 48 * 1024;

/// Element (t, i) of a private buffer (or of a shared one of rows).
SmallVector<Value> at(OpBuilder &b, Location l, Value t, int64_t i) {
  return {t, indexConstant(b, l, i)};
}

/// Size `i` of `tensor`.
Value dim(OpBuilder &b, Location l, Value tensor, int64_t i) {
  return b.createOrFold<tensor::DimOp>(l, tensor, i);
}

/// -inf of `type`: a masked score, a maximum before any key.
Value negInfinity(OpBuilder &b, Location l, FloatType type) {
  return floatConstant(b, l, type, -std::numeric_limits<double>::infinity());
}

/// S - T: row i sees keys j <= i + S - T under a causal mask.
Value causalShift(OpBuilder &b, Location l, const Attention &a) {
  return arith::SubIOp::create(b, l, a.numKeys, a.numQueries);
}

/// `score` of (`row`, `key`), or -inf where a causal mask hides the key.
Value causallyMasked(OpBuilder &b, Location l, const Attention &a,
                     Value score, Value row, Value key) {
  if (!a.causal)
    return score;
  Value limit = arith::AddIOp::create(b, l, row, causalShift(b, l, a));
  Value visible =
      arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, key, limit);
  return arith::SelectOp::create(b, l, visible, score,
                                 negInfinity(b, l, a.elementType));
}

/// The Philox row group of row `row` (a multiple of 4) of head (`batch`,
/// `head`): (b H + h) ceil(T / 4) + row / 4.
Value philoxGroup(OpBuilder &b, Location l, const Attention &a, Value batch,
                  Value head, Value row) {
  Value batchHead = arith::AddIOp::create(
      b, l, arith::MulIOp::create(b, l, batch, a.heads), head);
  return arith::AddIOp::create(
      b, l, arith::MulIOp::create(b, l, batchHead, a.rowGroups),
      arith::DivUIOp::create(b, l, row,
                             indexConstant(b, l, kPhiloxRowsPerEvaluation)));
}

/// Thread `t`'s part (of `threads`) of staging rows [first, first + count)
/// of head (`batch`, `head`) of `source` ([B, H, size, width]) into
/// `buffer` ([count, width], or wider): consecutive threads read
/// consecutive elements of a row; zeros past `size`.
void stageRows(OpBuilder &b, Location l, Value source, Value buffer,
               Value batch, Value head, Value first, Value size, int64_t count,
               int64_t width, Value t, int64_t threads) {
  forEachElement(b, l, t, threads, count * width,
                 [&](OpBuilder &sb, Location sl, Value linear) {
                   auto split = affine::AffineDelinearizeIndexOp::create(
                       sb, sl, linear, ArrayRef<int64_t>{count, width});
                   Value r = split.getResult(0), c = split.getResult(1);
                   Value row = arith::AddIOp::create(sb, sl, first, r);
                   Value element =
                       loadOrZero(sb, sl, source, {batch, head, row, c},
                                  isBelow(sb, sl, row, size));
                   memref::StoreOp::create(sb, sl, element, buffer,
                                           ValueRange{r, c});
                 });
}

/// Thread `t`'s part of staging the keep decisions (i8, `keeps[row][key]`)
/// of `rows` rows (a multiple of 4, from the first row of Philox group
/// `firstGroup` on) for `keys` keys from `firstKey` on. One evaluation
/// decides four rows, so the `threads` threads draw rows / 4 evaluations a
/// key, consecutive threads taking consecutive keys.
void stageKeeps(OpBuilder &b, Location l, const Attention &a, Value keeps,
                Value t, int64_t threads, int64_t rows, int64_t keys,
                Value firstGroup, Value firstKey) {
  int64_t groups = rows / kPhiloxRowsPerEvaluation;
  forEachElement(
      b, l, t, threads, groups * keys,
      [&](OpBuilder &sb, Location sl, Value linear) {
        auto split = affine::AffineDelinearizeIndexOp::create(
            sb, sl, linear, ArrayRef<int64_t>{groups, keys});
        Value g = split.getResult(0), j = split.getResult(1);
        Type i32 = sb.getI32Type();
        auto word = [&](Value index) {
          return arith::IndexCastUIOp::create(sb, sl, i32, index).getResult();
        };
        std::array<Value, 4> words = philoxWords(
            sb, sl,
            {word(arith::AddIOp::create(sb, sl, firstKey, j)),
             word(arith::AddIOp::create(sb, sl, firstGroup, g)),
             a.dropout->streamWord(sb, sl, i32), a.dropout->step},
            {a.dropout->seed, a.dropout->seedHigh});
        Value firstOfGroup = arith::MulIOp::create(
            sb, sl, g, indexConstant(sb, sl, kPhiloxRowsPerEvaluation));
        for (auto [w, wordValue] : llvm::enumerate(words)) {
          Value keep = arith::ExtUIOp::create(
              sb, sl, sb.getI8Type(), a.dropout->keeps(sb, sl, wordValue));
          Value r = arith::AddIOp::create(
              sb, sl, firstOfGroup,
              indexConstant(sb, sl, static_cast<int64_t>(w)));
          memref::StoreOp::create(sb, sl, keep, keeps, ValueRange{r, j});
        }
      });
}

/// Whether staged row `row` keeps key `key` (i1).
Value loadKeep(OpBuilder &b, Location l, Value keeps, Value row, Value key) {
  return arith::CmpIOp::create(
      b, l, arith::CmpIPredicate::ne,
      memref::LoadOp::create(b, l, keeps, ValueRange{row, key}),
      arith::ConstantIntOp::create(b, l, /*value=*/0, /*width=*/8));
}

/// Dropout of `x`: x / (1 - rate) where kept, else 0.
Value dropped(OpBuilder &b, Location l, const Attention &a, Value keep,
              Value x) {
  return arith::SelectOp::create(
      b, l, keep,
      arith::MulFOp::create(
          b, l, x, floatConstant(b, l, a.elementType, a.dropout->keepScale)),
      floatConstant(b, l, a.elementType, 0.0));
}

/// dS scaled by the scores' scale: P (dPd - D) scale.
Value scaledScoreGrad(OpBuilder &b, Location l, const Attention &a, Value p,
                      Value dp, Value rowDelta) {
  Value ds = arith::MulFOp::create(
      b, l, p, arith::SubFOp::create(b, l, dp, rowDelta));
  return arith::MulFOp::create(b, l, ds,
                               floatConstant(b, l, a.elementType, a.scale));
}

/// The buffers and indices one block of a row kernel (the forward's or the
/// query gradient's) shares: the staged keys, values, biases and keep
/// decisions, and where the block is.
struct KeyTile {
  Value keys, values, bias; // shared [keys, E], [keys, F], [keys]
  Value keeps;              // shared i8 [rows, keys], with dropout
  Value batch, head;
  Value firstRow;   // the block's first query row
  Value firstGroup; // the Philox row group of firstRow, with dropout
};

/// Where block `block` of a row kernel is and its shared buffers: blocks
/// run over (batch, head, tile of `rows` query rows).
KeyTile allocKeyTile(OpBuilder &b, Location l, const Attention &a,
                     const Tiles &tiles, Value block, Value rowTiles) {
  KeyTile tile;
  auto position = affine::AffineDelinearizeIndexOp::create(
      b, l, block, ArrayRef<OpFoldResult>{a.batch, a.heads, rowTiles});
  tile.batch = position.getResult(0);
  tile.head = position.getResult(1);
  tile.firstRow = arith::MulIOp::create(b, l, position.getResult(2),
                                        indexConstant(b, l, tiles.rows));
  // Every thread of a warp reads the same staged element at once (a
  // broadcast), so the rows need no padding.
  tile.keys = allocBlockBuffer(b, l, {tiles.keys, a.headSize}, a.elementType,
                               kWorkgroupMemory);
  tile.values = allocBlockBuffer(b, l, {tiles.keys, a.valueSize},
                                 a.elementType, kWorkgroupMemory);
  tile.bias =
      allocBlockBuffer(b, l, {tiles.keys}, a.elementType, kWorkgroupMemory);
  if (a.dropout) {
    tile.keeps = allocBlockBuffer(b, l, {tiles.rows, tiles.keys},
                                  b.getI8Type(), kWorkgroupMemory);
    tile.firstGroup = philoxGroup(b, l, a, tile.batch, tile.head,
                                  tile.firstRow);
  }
  return tile;
}

/// The end of the keys a block of `rows` rows from `firstRow` on walks:
/// S, or with a causal mask (row i sees keys j <= i + S - T) the last row's
/// last visible key + 1.
Value keyEnd(OpBuilder &b, Location l, const Attention &a, Value firstRow,
             int64_t rows) {
  if (!a.causal)
    return a.numKeys;
  Value end = arith::AddIOp::create(
      b, l, arith::AddIOp::create(b, l, firstRow, causalShift(b, l, a)),
      indexConstant(b, l, rows));
  end = arith::MaxSIOp::create(b, l, end, indexConstant(b, l, 0));
  return arith::MinSIOp::create(b, l, a.numKeys, end);
}

/// The body of the thread loop that stages keys [firstKey, firstKey + keys)
/// of a row kernel: keys, values and biases (consecutive threads read
/// consecutive elements of a row; zeros, and a -inf bias, past the end),
/// and with dropout the keep decisions of the block's rows.
void stageKeyTile(OpBuilder &b, Location l, const Attention &a,
                  const Tiles &tiles, const KeyTile &tile, Value firstKey,
                  Value t) {
  Value zero = floatConstant(b, l, a.elementType, 0.0);
  Value negInf = negInfinity(b, l, a.elementType);
  stageRows(b, l, a.key, tile.keys, tile.batch, tile.head, firstKey,
            a.numKeys, tiles.keys, a.headSize, t, tiles.rows);
  stageRows(b, l, a.value, tile.values, tile.batch, tile.head, firstKey,
            a.numKeys, tiles.keys, a.valueSize, t, tiles.rows);
  // A key past the end reads as masked (false).
  forEachElement(b, l, t, tiles.rows, tiles.keys,
                 [&](OpBuilder &sb, Location sl, Value j) {
                   Value key = arith::AddIOp::create(sb, sl, firstKey, j);
                   Value admissible = isBelow(sb, sl, key, a.numKeys);
                   if (a.keyMask)
                     admissible = loadOrZero(sb, sl, a.keyMask,
                                             {tile.batch, key}, admissible);
                   Value bias =
                       arith::SelectOp::create(sb, sl, admissible, zero, negInf);
                   memref::StoreOp::create(sb, sl, bias, tile.bias,
                                           ValueRange{j});
                 });
  if (a.dropout)
    stageKeeps(b, l, a, tile.keeps, t, tiles.rows, tiles.rows, tiles.keys,
               tile.firstGroup, firstKey);
}

/// Thread `t`'s score against staged key `jIndex` (of those from `firstKey`
/// on): its query `q` (E values) times the key, scaled, plus the key's
/// bias, -inf past the causal limit of row `row`.
Value buildScore(OpBuilder &b, Location l, const Attention &a,
                 const KeyTile &tile, ArrayRef<Value> q, Value firstKey,
                 Value row, Value jIndex) {
  Value s;
  for (auto [i, qi] : llvm::enumerate(q)) {
    Value k = memref::LoadOp::create(
        b, l, tile.keys,
        ValueRange{jIndex, indexConstant(b, l, static_cast<int64_t>(i))});
    s = s ? math::FmaOp::create(b, l, qi, k, s).getResult()
          : arith::MulFOp::create(b, l, qi, k).getResult();
  }
  Value bias = memref::LoadOp::create(b, l, tile.bias, ValueRange{jIndex});
  s = math::FmaOp::create(b, l, s,
                          floatConstant(b, l, a.elementType, a.scale), bias);
  return causallyMasked(b, l, a, s, row,
                        arith::AddIOp::create(b, l, firstKey, jIndex));
}

/// The private state of a row kernel's thread: query [rows, E], weighted
/// values [rows, F], and (maximum, sum) [rows, 2].
struct RowState {
  Value query, acc, stats;
};

RowState allocRowState(OpBuilder &b, Location l, const Attention &a,
                       int64_t rows) {
  RowState state;
  state.query = allocBlockBuffer(b, l, {rows, a.headSize}, a.elementType,
                                 kPrivateMemory);
  state.acc = allocBlockBuffer(b, l, {rows, a.valueSize}, a.elementType,
                               kPrivateMemory);
  state.stats = allocBlockBuffer(b, l, {rows, 2}, a.elementType,
                                 kPrivateMemory);
  return state;
}

/// What turns thread `t`'s weighted values into its output: 1 / sum, and
/// the dropout's 1 / (1 - rate); 0 for a row without a visible key (sum 0).
Value normalizer(OpBuilder &b, Location l, const Attention &a,
                 const RowState &state, Value t) {
  Value sum = memref::LoadOp::create(b, l, state.stats, at(b, l, t, 1));
  Value zero = floatConstant(b, l, a.elementType, 0.0);
  Value positive =
      arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, sum, zero);
  double keepScale = a.dropout ? a.dropout->keepScale : 1.0;
  return arith::SelectOp::create(
      b, l, positive,
      arith::DivFOp::create(b, l, floatConstant(b, l, a.elementType, keepScale),
                            sum),
      zero);
}

/// Row `row`'s query into registers, nothing seen yet.
void initRowState(OpBuilder &b, Location l, const Attention &a,
                  const KeyTile &tile, const RowState &state, Value t,
                  Value row) {
  Value zero = floatConstant(b, l, a.elementType, 0.0);
  Value negInf = negInfinity(b, l, a.elementType);
  Value exists = isBelow(b, l, row, a.numQueries);
  for (int64_t i = 0; i < a.headSize; ++i)
    memref::StoreOp::create(
        b, l,
        loadOrZero(b, l, a.query,
                   {tile.batch, tile.head, row, indexConstant(b, l, i)},
                   exists),
        state.query, at(b, l, t, i));
  for (int64_t i = 0; i < a.valueSize; ++i)
    memref::StoreOp::create(b, l, zero, state.acc, at(b, l, t, i));
  memref::StoreOp::create(b, l, negInf, state.stats, at(b, l, t, 0));
  memref::StoreOp::create(b, l, zero, state.stats, at(b, l, t, 1));
}

/// Thread `t` (row `row`) folds the staged keys into its state with the
/// online softmax of FlashAttention: a new maximum rescales the sum and the
/// weighted values. With dropout the sum is of all probabilities and the
/// values are weighted by the kept ones.
void foldKeyTile(OpBuilder &b, Location l, const Attention &a,
                 const Tiles &tiles, const KeyTile &tile,
                 const RowState &state, Value firstKey, Value t, Value row) {
  Value zero = floatConstant(b, l, a.elementType, 0.0);
  Value negInf = negInfinity(b, l, a.elementType);
  SmallVector<Value> q;
  for (int64_t i = 0; i < a.headSize; ++i)
    q.push_back(memref::LoadOp::create(b, l, state.query, at(b, l, t, i)));
  SmallVector<Value> scores;
  for (int64_t j = 0; j < tiles.keys; ++j)
    scores.push_back(
        buildScore(b, l, a, tile, q, firstKey, row, indexConstant(b, l, j)));
  Value blockMax = negInf;
  for (Value s : scores)
    blockMax = arith::MaximumFOp::create(b, l, blockMax, s);

  // While every key so far is masked the maximum is -inf; subtracting 0
  // instead keeps exp(-inf) = 0, not exp(NaN).
  Value oldMax = memref::LoadOp::create(b, l, state.stats, at(b, l, t, 0));
  Value max = arith::MaximumFOp::create(b, l, oldMax, blockMax);
  Value allMasked =
      arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, max, negInf);
  Value offset = arith::SelectOp::create(b, l, allMasked, zero, max);
  Value factor = math::ExpOp::create(
      b, l, arith::SubFOp::create(b, l, oldMax, offset));
  SmallVector<Value> probs;
  Value sum = arith::MulFOp::create(
      b, l, memref::LoadOp::create(b, l, state.stats, at(b, l, t, 1)),
      factor);
  for (Value s : scores) {
    probs.push_back(
        math::ExpOp::create(b, l, arith::SubFOp::create(b, l, s, offset)));
    sum = arith::AddFOp::create(b, l, sum, probs.back());
  }
  memref::StoreOp::create(b, l, max, state.stats, at(b, l, t, 0));
  memref::StoreOp::create(b, l, sum, state.stats, at(b, l, t, 1));
  if (a.dropout)
    for (int64_t j = 0; j < tiles.keys; ++j)
      probs[j] = arith::SelectOp::create(
          b, l, loadKeep(b, l, tile.keeps, t, indexConstant(b, l, j)),
          probs[j], zero);

  // acc = acc * factor + P V, per value element.
  for (int64_t i = 0; i < a.valueSize; ++i) {
    Value iIndex = indexConstant(b, l, i);
    Value o = arith::MulFOp::create(
        b, l, memref::LoadOp::create(b, l, state.acc, at(b, l, t, i)), factor);
    for (auto [j, p] : llvm::enumerate(probs)) {
      Value v = memref::LoadOp::create(
          b, l, tile.values,
          ValueRange{indexConstant(b, l, static_cast<int64_t>(j)), iIndex});
      o = math::FmaOp::create(b, l, p, v, o);
    }
    memref::StoreOp::create(b, l, o, state.acc, at(b, l, t, i));
  }
}

/// The blocks of a row kernel over `tiles.rows` query rows each, and the
/// row tiles per head.
std::pair<Value, Value> rowBlocks(OpBuilder &b, Location l, const Attention &a,
                                  const Tiles &tiles) {
  Value rowTiles = tileCount(b, l, a.numQueries, tiles.rows);
  Value blocks = arith::MulIOp::create(
      b, l, arith::MulIOp::create(b, l, a.batch, a.heads), rowTiles);
  return {blocks, rowTiles};
}

/// For each tile of keys a block of `tiles.rows` rows from `firstRow` on
/// sees: stage it, then run `body` in each thread.
void forEachKeyTile(
    OpBuilder &b, Location l, const Attention &a, const Tiles &tiles,
    const KeyTile &tile,
    function_ref<void(OpBuilder &, Location, Value firstKey, Value t)> body) {
  scf::ForOp::create(
      b, l, indexConstant(b, l, 0),
      keyEnd(b, l, a, tile.firstRow, tiles.rows),
      indexConstant(b, l, tiles.keys), ValueRange(),
      [&](OpBuilder &fb, Location fl, Value firstKey, ValueRange) {
        buildThreadLoop(fb, fl, tiles.rows,
                        [&](OpBuilder &tb, Location tl, Value t) {
                          stageKeyTile(tb, tl, a, tiles, tile, firstKey, t);
                        });
        buildThreadLoop(fb, fl, tiles.rows,
                        [&](OpBuilder &tb, Location tl, Value t) {
                          body(tb, tl, firstKey, t);
                        });
        scf::YieldOp::create(fb, fl);
      });
}

/// The query row of thread `t` of a row kernel's block.
Value rowOf(OpBuilder &b, Location l, const KeyTile &tile, Value t) {
  return arith::AddIOp::create(b, l, tile.firstRow, t);
}

/// Folds every key the block's rows see into their state.
void foldKeys(OpBuilder &b, Location l, const Attention &a, const Tiles &tiles,
              const KeyTile &tile, const RowState &state) {
  forEachKeyTile(b, l, a, tiles, tile,
                 [&](OpBuilder &tb, Location tl, Value firstKey, Value t) {
                   foldKeyTile(tb, tl, a, tiles, tile, state, firstKey, t,
                               rowOf(tb, tl, tile, t));
                 });
}

/// The forward kernel, writing `out` ([B, H, T, F]).
void buildForwardKernel(OpBuilder &builder, Location loc, const Attention &a,
                        Value out, const Tiles &tiles) {
  Value blocks, rowTiles;
  std::tie(blocks, rowTiles) = rowBlocks(builder, loc, a, tiles);
  buildBlockLoop(builder, loc, blocks, [&](OpBuilder &b, Location l,
                                           Value block) {
    KeyTile tile = allocKeyTile(b, l, a, tiles, block, rowTiles);
    RowState state = allocRowState(b, l, a, tiles.rows);
    buildThreadLoop(b, l, tiles.rows, [&](OpBuilder &tb, Location tl,
                                          Value t) {
      initRowState(tb, tl, a, tile, state, t, rowOf(tb, tl, tile, t));
    });
    foldKeys(b, l, a, tiles, tile, state);

    // Normalize (and scale the kept probabilities by 1 / (1 - rate)) and
    // write the row; a row without a visible key (sum 0) is zeros.
    buildThreadLoop(b, l, tiles.rows, [&](OpBuilder &tb, Location tl,
                                          Value t) {
      Value row = rowOf(tb, tl, tile, t);
      ifBelow(tb, tl, row, a.numQueries, [&](OpBuilder &ib, Location il) {
        Value inverse = normalizer(ib, il, a, state, t);
        for (int64_t i = 0; i < a.valueSize; ++i) {
          Value o = arith::MulFOp::create(
              ib, il, memref::LoadOp::create(ib, il, state.acc, at(ib, il, t, i)),
              inverse);
          memref::StoreOp::create(
              ib, il, o, out,
              ValueRange{tile.batch, tile.head, row, indexConstant(ib, il, i)});
        }
      });
    });
    // No deallocations: bufferization's deallocation pipeline, which runs
    // after this pass and accepts none in its input, frees the buffers at
    // the end of the block loop's body.
  });
}

/// The query gradient's kernel, a row kernel: writes dQ ([B, H, T, E]) and
/// each row's log-sum-exp L and D = rowsum(dP * P) ([B, H, T]), which the
/// key gradient's kernel reads. The first walk over the keys is the
/// forward's (maximum, sum, output O); D = dO . O. The second recomputes
/// P = exp(s - L) and adds dS K to dQ, dS = P (dPd - D) scale, dPd the
/// dropped dO V^T.
void buildQueryGradKernel(OpBuilder &builder, Location loc,
                          const Attention &a, Value dQuery, Value lse,
                          Value delta, const Tiles &tiles) {
  FloatType type = a.elementType;
  int64_t e = a.headSize, f = a.valueSize;
  Value blocks, rowTiles;
  std::tie(blocks, rowTiles) = rowBlocks(builder, loc, a, tiles);
  buildBlockLoop(builder, loc, blocks, [&](OpBuilder &b, Location l,
                                           Value block) {
    KeyTile tile = allocKeyTile(b, l, a, tiles, block, rowTiles);
    RowState state = allocRowState(b, l, a, tiles.rows);
    // Private: the row's dO. Its dQ accumulates in shared memory, each
    // thread's own row (padded by one element, so that the threads hit
    // distinct banks): with the query, dO and a key in registers, a fourth
    // row of E values there would spill.
    Value dOut = allocBlockBuffer(b, l, {tiles.rows, f}, type, kPrivateMemory);
    Value dq =
        allocBlockBuffer(b, l, {tiles.rows, e + 1}, type, kWorkgroupMemory);
    buildThreadLoop(b, l, tiles.rows, [&](OpBuilder &tb, Location tl,
                                          Value t) {
      Value row = rowOf(tb, tl, tile, t);
      initRowState(tb, tl, a, tile, state, t, row);
      Value exists = isBelow(tb, tl, row, a.numQueries);
      Value zero = floatConstant(tb, tl, type, 0.0);
      for (int64_t i = 0; i < f; ++i)
        memref::StoreOp::create(
            tb, tl,
            loadOrZero(tb, tl, a.resultGrad,
                       {tile.batch, tile.head, row, indexConstant(tb, tl, i)},
                       exists),
            dOut, at(tb, tl, t, i));
      for (int64_t i = 0; i < e; ++i)
        memref::StoreOp::create(tb, tl, zero, dq, at(tb, tl, t, i));
    });
    foldKeys(b, l, a, tiles, tile, state);

    // L = max + log(sum), +inf for a row without a visible key (so that
    // exp(s - L) is 0 for every key); D = dO . O. The stats now hold them.
    buildThreadLoop(b, l, tiles.rows, [&](OpBuilder &tb, Location tl,
                                          Value t) {
      Value max = memref::LoadOp::create(tb, tl, state.stats, at(tb, tl, t, 0));
      Value sum = memref::LoadOp::create(tb, tl, state.stats, at(tb, tl, t, 1));
      Value positive = arith::CmpFOp::create(
          tb, tl, arith::CmpFPredicate::OGT, sum,
          floatConstant(tb, tl, type, 0.0));
      Value logSumExp = arith::SelectOp::create(
          tb, tl, positive,
          arith::AddFOp::create(tb, tl, max, math::LogOp::create(tb, tl, sum)),
          floatConstant(tb, tl, type, std::numeric_limits<double>::infinity()));
      Value dot;
      for (int64_t i = 0; i < f; ++i) {
        Value o = memref::LoadOp::create(tb, tl, state.acc, at(tb, tl, t, i));
        Value d = memref::LoadOp::create(tb, tl, dOut, at(tb, tl, t, i));
        dot = dot ? math::FmaOp::create(tb, tl, d, o, dot).getResult()
                  : arith::MulFOp::create(tb, tl, d, o).getResult();
      }
      Value rowDelta = arith::MulFOp::create(
          tb, tl, dot, normalizer(tb, tl, a, state, t));
      memref::StoreOp::create(tb, tl, logSumExp, state.stats, at(tb, tl, t, 0));
      memref::StoreOp::create(tb, tl, rowDelta, state.stats, at(tb, tl, t, 1));
    });

    forEachKeyTile(
        b, l, a, tiles, tile,
        [&](OpBuilder &tb, Location tl, Value firstKey, Value t) {
          SmallVector<Value> q;
          for (int64_t i = 0; i < e; ++i)
            q.push_back(
                memref::LoadOp::create(tb, tl, state.query, at(tb, tl, t, i)));
          Value logSumExp =
              memref::LoadOp::create(tb, tl, state.stats, at(tb, tl, t, 0));
          Value rowDelta =
              memref::LoadOp::create(tb, tl, state.stats, at(tb, tl, t, 1));
          SmallVector<Value> d;
          for (int64_t i = 0; i < f; ++i)
            d.push_back(memref::LoadOp::create(tb, tl, dOut, at(tb, tl, t, i)));
          // One key at a time, so that only one key's E values are live
          // between its score and its dS K; a loop, not unrolled (the
          // unrolled tile made ptxas take a second a kernel).
          Value row = rowOf(tb, tl, tile, t);
          forEachIndex(tb, tl, tiles.keys, [&](OpBuilder &tb, Location tl,
                                               Value jIndex) {
            Value s = buildScore(tb, tl, a, tile, q, firstKey, row, jIndex);
            Value p = math::ExpOp::create(
                tb, tl, arith::SubFOp::create(tb, tl, s, logSumExp));
            Value dp;
            for (int64_t i = 0; i < f; ++i) {
              Value v = memref::LoadOp::create(
                  tb, tl, tile.values,
                  ValueRange{jIndex, indexConstant(tb, tl, i)});
              dp = dp ? math::FmaOp::create(tb, tl, d[i], v, dp).getResult()
                      : arith::MulFOp::create(tb, tl, d[i], v).getResult();
            }
            if (a.dropout)
              dp = dropped(tb, tl, a,
                           loadKeep(tb, tl, tile.keeps, t, jIndex), dp);
            Value ds = scaledScoreGrad(tb, tl, a, p, dp, rowDelta);
            for (int64_t i = 0; i < e; ++i) {
              Value k = memref::LoadOp::create(
                  tb, tl, tile.keys,
                  ValueRange{jIndex, indexConstant(tb, tl, i)});
              Value g = memref::LoadOp::create(tb, tl, dq, at(tb, tl, t, i));
              memref::StoreOp::create(tb, tl,
                                      math::FmaOp::create(tb, tl, ds, k, g),
                                      dq, at(tb, tl, t, i));
            }
          });
        });

    buildThreadLoop(b, l, tiles.rows, [&](OpBuilder &tb, Location tl,
                                          Value t) {
      Value row = rowOf(tb, tl, tile, t);
      ifBelow(tb, tl, row, a.numQueries, [&](OpBuilder &ib, Location il) {
        for (int64_t i = 0; i < e; ++i)
          memref::StoreOp::create(
              ib, il, memref::LoadOp::create(ib, il, dq, at(ib, il, t, i)),
              dQuery,
              ValueRange{tile.batch, tile.head, row, indexConstant(ib, il, i)});
        SmallVector<Value> position{tile.batch, tile.head, row};
        memref::StoreOp::create(
            ib, il, memref::LoadOp::create(ib, il, state.stats, at(ib, il, t, 0)),
            lse, position);
        memref::StoreOp::create(
            ib, il, memref::LoadOp::create(ib, il, state.stats, at(ib, il, t, 1)),
            delta, position);
      });
    });
  });
}

/// The key gradient's kernel: a block per (batch, head, `keys.rows` keys),
/// a thread per key, which walks the query rows that see the block's keys,
/// `keys.keys` rows (a multiple of 4) a tile staged in shared memory with
/// their dO, L and D: dV += Pd^T dO, dK += dS^T Q, P = exp(s - L) as the
/// query kernel has it. The thread holds its key and value in registers;
/// its dK and dV accumulate in shared memory, its own rows, padded by one
/// element so that the threads hit distinct banks (the same buffers first
/// stage the block's keys and values, read coalesced). It takes the tile's
/// rows one at a time, so that only one query row is live between its
/// score and its dS q.
void buildKeyGradKernel(OpBuilder &builder, Location loc, const Attention &a,
                        Value dKey, Value dValue, Value lse, Value delta,
                        const Tiles &keys) {
  FloatType type = a.elementType;
  int64_t e = a.headSize, f = a.valueSize;
  int64_t threads = keys.rows, rows = keys.keys;
  Value keyTiles = tileCount(builder, loc, a.numKeys, threads);
  Value blocks = arith::MulIOp::create(
      builder, loc, arith::MulIOp::create(builder, loc, a.batch, a.heads),
      keyTiles);
  buildBlockLoop(builder, loc, blocks, [&](OpBuilder &b, Location l,
                                           Value block) {
    auto position = affine::AffineDelinearizeIndexOp::create(
        b, l, block, ArrayRef<OpFoldResult>{a.batch, a.heads, keyTiles});
    Value batch = position.getResult(0), head = position.getResult(1);
    Value firstKey = arith::MulIOp::create(b, l, position.getResult(2),
                                           indexConstant(b, l, threads));
    Value zero = floatConstant(b, l, type, 0.0);
    Value negInf = negInfinity(b, l, type);
    Value posInf =
        floatConstant(b, l, type, std::numeric_limits<double>::infinity());

    Value dk = allocBlockBuffer(b, l, {threads, e + 1}, type,
                                kWorkgroupMemory);
    Value dv = allocBlockBuffer(b, l, {threads, f + 1}, type,
                                kWorkgroupMemory);
    Value queryTile =
        allocBlockBuffer(b, l, {rows, e}, type, kWorkgroupMemory);
    Value gradTile = allocBlockBuffer(b, l, {rows, f}, type, kWorkgroupMemory);
    // Per staged row: L and D.
    Value rowStats =
        allocBlockBuffer(b, l, {rows, 2}, type, kWorkgroupMemory);
    Value keeps;
    if (a.dropout)
      keeps = allocBlockBuffer(b, l, {rows, threads}, b.getI8Type(),
                               kWorkgroupMemory);
    Value ownKey = allocBlockBuffer(b, l, {threads, e}, type, kPrivateMemory);
    Value ownValue =
        allocBlockBuffer(b, l, {threads, f}, type, kPrivateMemory);
    Value bias = allocBlockBuffer(b, l, {threads, 1}, type, kPrivateMemory);

    auto keyOf = [&](OpBuilder &tb, Location tl, Value t) {
      return arith::AddIOp::create(tb, tl, firstKey, t).getResult();
    };
    // The block's keys and values into dK's and dV's rows, coalesced...
    buildThreadLoop(b, l, threads, [&](OpBuilder &tb, Location tl, Value t) {
      stageRows(tb, tl, a.key, dk, batch, head, firstKey, a.numKeys, threads,
                e, t, threads);
      stageRows(tb, tl, a.value, dv, batch, head, firstKey, a.numKeys,
                threads, f, t, threads);
    });
    // ... then each thread's own into its registers, its rows zeroed.
    buildThreadLoop(b, l, threads, [&](OpBuilder &tb, Location tl, Value t) {
      auto take = [&](Value buffer, Value own, int64_t width) {
        for (int64_t i = 0; i < width; ++i) {
          memref::StoreOp::create(
              tb, tl, memref::LoadOp::create(tb, tl, buffer, at(tb, tl, t, i)),
              own, at(tb, tl, t, i));
          memref::StoreOp::create(tb, tl, zero, buffer, at(tb, tl, t, i));
        }
      };
      take(dk, ownKey, e);
      take(dv, ownValue, f);
      Value key = keyOf(tb, tl, t);
      Value admissible = isBelow(tb, tl, key, a.numKeys);
      if (a.keyMask)
        admissible = loadOrZero(tb, tl, a.keyMask, {batch, key}, admissible);
      memref::StoreOp::create(
          tb, tl, arith::SelectOp::create(tb, tl, admissible, zero, negInf),
          bias, at(tb, tl, t, 0));
    });

    // Causal: key j is seen by rows i >= j - (S - T); the walk starts at
    // the tile of the block's first key's first row.
    Value firstRow = indexConstant(b, l, 0);
    if (a.causal) {
      Value start = arith::MaxSIOp::create(
          b, l, arith::SubIOp::create(b, l, firstKey, causalShift(b, l, a)),
          indexConstant(b, l, 0));
      Value rowsIndex = indexConstant(b, l, rows);
      firstRow = arith::MulIOp::create(
          b, l, arith::DivUIOp::create(b, l, start, rowsIndex), rowsIndex);
    }
    Value groupsBefore;
    if (a.dropout)
      groupsBefore = philoxGroup(b, l, a, batch, head, indexConstant(b, l, 0));

    scf::ForOp::create(
        b, l, firstRow, a.numQueries, indexConstant(b, l, rows), ValueRange(),
        [&](OpBuilder &fb, Location fl, Value tileRow, ValueRange) {
          // Stage rows [tileRow, tileRow + rows): their queries, dO, L (+inf
          // past the end, so P = 0 there) and D, and with dropout their keep
          // decisions for the block's keys.
          buildThreadLoop(fb, fl, threads, [&](OpBuilder &tb, Location tl,
                                               Value t) {
            stageRows(tb, tl, a.query, queryTile, batch, head, tileRow,
                      a.numQueries, rows, e, t, threads);
            stageRows(tb, tl, a.resultGrad, gradTile, batch, head, tileRow,
                      a.numQueries, rows, f, t, threads);
            forEachElement(
                tb, tl, t, threads, rows,
                [&](OpBuilder &sb, Location sl, Value r) {
                  Value row = arith::AddIOp::create(sb, sl, tileRow, r);
                  Value exists = isBelow(sb, sl, row, a.numQueries);
                  Value logSumExp = arith::SelectOp::create(
                      sb, sl, exists,
                      loadOrZero(sb, sl, lse, {batch, head, row}, exists),
                      posInf);
                  memref::StoreOp::create(
                      sb, sl, logSumExp, rowStats,
                      ValueRange{r, indexConstant(sb, sl, 0)});
                  memref::StoreOp::create(
                      sb, sl,
                      loadOrZero(sb, sl, delta, {batch, head, row}, exists),
                      rowStats, ValueRange{r, indexConstant(sb, sl, 1)});
                });
            if (a.dropout)
              stageKeeps(
                  tb, tl, a, keeps, t, threads, rows, threads,
                  arith::AddIOp::create(
                      tb, tl, groupsBefore,
                      arith::DivUIOp::create(
                          tb, tl, tileRow,
                          indexConstant(tb, tl, kPhiloxRowsPerEvaluation))),
                  firstKey);
          });

          buildThreadLoop(fb, fl, threads, [&](OpBuilder &tb, Location tl,
                                               Value t) {
            Value key = keyOf(tb, tl, t);
            Value scale = floatConstant(tb, tl, type, a.scale);
            Value keyBias =
                memref::LoadOp::create(tb, tl, bias, at(tb, tl, t, 0));
            SmallVector<Value> k, v;
            for (int64_t i = 0; i < e; ++i)
              k.push_back(
                  memref::LoadOp::create(tb, tl, ownKey, at(tb, tl, t, i)));
            for (int64_t i = 0; i < f; ++i)
              v.push_back(
                  memref::LoadOp::create(tb, tl, ownValue, at(tb, tl, t, i)));
            // The tile's rows in a loop, not unrolled (the unrolled tile
            // made ptxas take a second a kernel).
            forEachIndex(tb, tl, rows, [&](OpBuilder &rb, Location rl,
                                           Value r) {
              auto load = [&](Value buffer, int64_t i) {
                return memref::LoadOp::create(
                           rb, rl, buffer,
                           ValueRange{r, indexConstant(rb, rl, i)})
                    .getResult();
              };
              // buffer[t][i] += x * y.
              auto accumulate = [&](Value buffer, int64_t i, Value x,
                                    Value y) {
                Value g =
                    memref::LoadOp::create(rb, rl, buffer, at(rb, rl, t, i));
                memref::StoreOp::create(rb, rl,
                                        math::FmaOp::create(rb, rl, x, y, g),
                                        buffer, at(rb, rl, t, i));
              };
              Value s;
              for (int64_t i = 0; i < e; ++i)
                s = s ? math::FmaOp::create(rb, rl, load(queryTile, i), k[i],
                                            s)
                            .getResult()
                      : arith::MulFOp::create(rb, rl, load(queryTile, i), k[i])
                            .getResult();
              s = causallyMasked(
                  rb, rl, a, math::FmaOp::create(rb, rl, s, scale, keyBias),
                  arith::AddIOp::create(rb, rl, tileRow, r), key);
              Value p = math::ExpOp::create(
                  rb, rl, arith::SubFOp::create(rb, rl, s, load(rowStats, 0)));
              Value keep, pd = p;
              if (a.dropout) {
                keep = loadKeep(rb, rl, keeps, r, t);
                pd = dropped(rb, rl, a, keep, p);
              }
              // dO . v, and dV += Pd dO, each dO element read once.
              Value dp;
              for (int64_t i = 0; i < f; ++i) {
                Value d = load(gradTile, i);
                dp = dp ? math::FmaOp::create(rb, rl, d, v[i], dp).getResult()
                        : arith::MulFOp::create(rb, rl, d, v[i]).getResult();
                accumulate(dv, i, pd, d);
              }
              if (a.dropout)
                dp = dropped(rb, rl, a, keep, dp);
              Value ds = scaledScoreGrad(rb, rl, a, p, dp, load(rowStats, 1));
              for (int64_t i = 0; i < e; ++i)
                accumulate(dk, i, ds, load(queryTile, i));
            });
          });
          scf::YieldOp::create(fb, fl);
        });

    buildThreadLoop(b, l, threads, [&](OpBuilder &tb, Location tl, Value t) {
      Value key = keyOf(tb, tl, t);
      ifBelow(tb, tl, key, a.numKeys, [&](OpBuilder &ib, Location il) {
        for (int64_t i = 0; i < e; ++i)
          memref::StoreOp::create(
              ib, il, memref::LoadOp::create(ib, il, dk, at(ib, il, t, i)),
              dKey, ValueRange{batch, head, key, indexConstant(ib, il, i)});
        for (int64_t i = 0; i < f; ++i)
          memref::StoreOp::create(
              ib, il, memref::LoadOp::create(ib, il, dv, at(ib, il, t, i)),
              dValue, ValueRange{batch, head, key, indexConstant(ib, il, i)});
      });
    });
  });
}

/// What the kernels of `op` (the forward op or its gradient) read.
template <typename OpTy>
Attention describe(OpBuilder &b, OpTy op) {
  Location loc = op.getLoc();
  auto queryType = cast<RankedTensorType>(op.getQuery().getType());
  Attention a;
  a.query = op.getQuery();
  a.key = op.getKey();
  a.value = op.getValue();
  a.keyMask = op.getKeyMask();
  a.batch = dim(b, loc, op.getQuery(), 0);
  a.heads = dim(b, loc, op.getQuery(), 1);
  a.numQueries = dim(b, loc, op.getQuery(), 2);
  a.numKeys = dim(b, loc, op.getKey(), 2);
  a.headSize = queryType.getDimSize(3);
  a.valueSize = cast<RankedTensorType>(op.getValue().getType()).getDimSize(3);
  a.elementType = cast<FloatType>(queryType.getElementType());
  a.scale = op.getEffectiveScale();
  a.causal = op.getCausal();
  if (double rate = op.getDropout().convertToDouble(); rate != 0.0) {
    a.rowGroups = arith::CeilDivUIOp::create(
        b, loc, a.numQueries,
        indexConstant(b, loc, kPhiloxRowsPerEvaluation));
    a.dropout = buildDropoutKey(b, loc, op.getSeed(), op.getStep(), rate,
                                op.getStream());
  }
  return a;
}

/// A fresh buffer of `type`, its dynamic sizes those of `sizes`.
Value allocLike(OpBuilder &b, Location loc, Type tensorType, Value sizes) {
  auto type = cast<RankedTensorType>(tensorType);
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      dynamicSizes.push_back(dim(b, loc, sizes, i));
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()),
      dynamicSizes);
}

/// The tensor a kernel wrote into `buffer`, for bufferization.
Value writtenTensor(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  return bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(type.getShape(), type.getElementType()),
      buffer, /*restrict=*/b.getUnitAttr(), /*writable=*/b.getUnitAttr());
}

/// Replaces `op` with the forward kernel, which reads the operands with
/// `tensor.extract` and writes a fresh buffer, the result.
void tileAttention(OpBuilder &b, DotProductAttentionOp op,
                   const Tiles &tiles) {
  Attention a = describe(b, op);
  // The result's sizes are the query's but for F, which is static.
  Value out = allocLike(b, op.getLoc(), op.getResult().getType(),
                        op.getQuery());
  buildForwardKernel(b, op.getLoc(), a, out, tiles);
  op.getResult().replaceAllUsesWith(writtenTensor(b, op.getLoc(), out));
  op.erase();
}

/// Replaces `op` with the query gradient's kernel then the key gradient's,
/// which pass L and D in two [B, H, T] buffers.
void tileAttentionGrad(OpBuilder &b, DotProductAttentionGradOp op,
                       const Tiles &tiles, const Tiles &keyTiles) {
  Location loc = op.getLoc();
  Attention a = describe(b, op);
  a.resultGrad = op.getResultGrad();
  Value dQuery = allocLike(b, loc, op.getQuery().getType(), op.getQuery());
  Value dKey = allocLike(b, loc, op.getKey().getType(), op.getKey());
  Value dValue = allocLike(b, loc, op.getValue().getType(), op.getValue());
  auto rowsType = MemRefType::get(
      cast<RankedTensorType>(op.getQuery().getType()).getShape().drop_back(),
      a.elementType);
  SmallVector<Value> rowSizes;
  for (auto [i, size] : llvm::enumerate(rowsType.getShape()))
    if (ShapedType::isDynamic(size))
      rowSizes.push_back(dim(b, loc, op.getQuery(), i));
  Value lse = memref::AllocOp::create(b, loc, rowsType, rowSizes);
  Value delta = memref::AllocOp::create(b, loc, rowsType, rowSizes);
  buildQueryGradKernel(b, loc, a, dQuery, lse, delta, tiles);
  buildKeyGradKernel(b, loc, a, dKey, dValue, lse, delta, keyTiles);
  op.getQueryGrad().replaceAllUsesWith(writtenTensor(b, loc, dQuery));
  op.getKeyGrad().replaceAllUsesWith(writtenTensor(b, loc, dKey));
  op.getValueGrad().replaceAllUsesWith(writtenTensor(b, loc, dValue));
  op.erase();
}

/// The key gradient kernel's shape for heads of E and F: `tiles.rows` keys
/// (threads) a block, halved while its shared memory exceeds
/// `kMaxSharedBytes` (down to 32), and `tiles.keys` rows a tile rounded up
/// to a multiple of 4 (a Philox evaluation's rows); nothing if it does not
/// fit.
std::optional<Tiles> keyGradTiles(const Tiles &tiles, int64_t e, int64_t f,
                                  unsigned elementBytes) {
  int64_t rows = llvm::alignTo(tiles.keys, kPhiloxRowsPerEvaluation);
  for (int64_t threads = tiles.rows; threads >= 32 && threads % 32 == 0;
       threads /= 2) {
    int64_t bytes = (threads * (e + 1 + f + 1) + rows * (e + f + 2)) *
                        static_cast<int64_t>(elementBytes) +
                    rows * threads;
    if (bytes <= kMaxSharedBytes)
      return Tiles{threads, rows};
  }
  return std::nullopt;
}

struct TileGPUAttentionPass
    : mlir::convseq::impl::TileGPUAttentionPassBase<TileGPUAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    Tiles tiles{rows, keys};
    if (tiles.rows <= 0 || tiles.rows > 1024 || tiles.rows % 32 != 0 ||
        tiles.keys <= 0 || maxHeadSize <= 0) {
      getOperation()->emitError()
          << "convseq-tile-gpu-attention: rows must be a multiple of 32 up "
             "to 1024 and keys and max-head-size positive, got rows "
          << static_cast<int64_t>(rows) << ", keys "
          << static_cast<int64_t>(keys) << ", max-head-size "
          << static_cast<int64_t>(maxHeadSize);
      return signalPassFailure();
    }
    // A thread's query and weighted values (and gradients) live in
    // registers: the ops must fit the row kernels.
    SmallVector<DotProductAttentionOp> forward;
    SmallVector<std::pair<DotProductAttentionGradOp, Tiles>> grads;
    getOperation()->walk([&](Operation *op) {
      if (auto attention = dyn_cast<DotProductAttentionOp>(op)) {
        if (attention.fitsRowKernels(minRows, maxHeadSize))
          forward.push_back(attention);
      } else if (auto grad = dyn_cast<DotProductAttentionGradOp>(op)) {
        if (!grad.fitsRowKernels(minRows, maxHeadSize))
          return;
        auto type = cast<RankedTensorType>(grad.getQuery().getType());
        if (std::optional<Tiles> keyTiles = keyGradTiles(
                tiles, type.getDimSize(3),
                cast<RankedTensorType>(grad.getValue().getType())
                    .getDimSize(3),
                type.getElementTypeBitWidth() / 8))
          grads.push_back({grad, *keyTiles});
      }
    });
    for (DotProductAttentionOp op : forward) {
      OpBuilder b(op);
      tileAttention(b, op, tiles);
    }
    for (auto [op, keyTiles] : grads) {
      OpBuilder b(op);
      tileAttentionGrad(b, op, tiles, keyTiles);
    }
  }
};

} // namespace
