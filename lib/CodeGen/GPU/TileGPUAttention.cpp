//===- TileGPUAttention.cpp - Attention in one kernel, no score matrix ----===//
//
// convseq.dot_product_attention becomes one kernel in the block-level form
// (BlockLoops.h) that never writes the [T, S] scores: a block per (batch,
// head, `rows` query rows), a thread per query row. The block stages `keys`
// keys and their values at a time in shared memory; each thread scores its
// row against them from its query in registers and folds them into its
// running maximum, running sum and weighted values with the online softmax
// of FlashAttention. See the pass description in Passes.td and docs/gpu.md.
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

namespace mlir::convseq {
#define GEN_PASS_DEF_TILEGPUATTENTIONPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The kernel's shape: query rows (and threads) per block, keys per staged
/// tile.
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
  // counter (j, g, stream, step), g = (b H + h) ceil(T / 4) + i / 4. `seed`
  // is null without dropout.
  Value seed, seedHigh, step; // i32: seed[31:0], seed[63:32], step[31:0]
  Value rowGroups;            // ceil(T / 4)
  uint32_t stream = 0, threshold = 0;
  double keepScale = 1.0;
};

Value floatConstant(OpBuilder &b, Location loc, FloatType type, double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

/// Builds the kernel, writing `out` ([B, H, T, F]).
void buildKernel(OpBuilder &builder, Location loc, const Attention &a,
                 Value out, const Tiles &tiles) {
  FloatType type = a.elementType;
  int64_t e = a.headSize, f = a.valueSize;
  Value rowTiles = tileCount(builder, loc, a.numQueries, tiles.rows);
  Value blocks = arith::MulIOp::create(
      builder, loc, arith::MulIOp::create(builder, loc, a.batch, a.heads),
      rowTiles);

  buildBlockLoop(builder, loc, blocks, [&](OpBuilder &b, Location l,
                                           Value block) {
    auto position = affine::AffineDelinearizeIndexOp::create(
        b, l, block, ArrayRef<OpFoldResult>{a.batch, a.heads, rowTiles});
    Value batch = position.getResult(0), head = position.getResult(1);
    Value batchHead = arith::AddIOp::create(
        b, l, arith::MulIOp::create(b, l, batch, a.heads), head);
    Value firstRow = arith::MulIOp::create(b, l, position.getResult(2),
                                           indexConstant(b, l, tiles.rows));
    Value zero = floatConstant(b, l, type, 0.0);
    Value negInf =
        floatConstant(b, l, type, -std::numeric_limits<double>::infinity());

    // Shared: the staged keys and values, and each staged key's additive
    // bias (0, or -inf for a masked key or one past the end). Every thread
    // of a warp reads the same element at once (a broadcast), so the rows
    // need no padding. Private: the thread's query, weighted values, and
    // running maximum and sum.
    Value keyTile = allocBlockBuffer(b, l, {tiles.keys, e}, type,
                                     kWorkgroupMemory);
    Value valueTile = allocBlockBuffer(b, l, {tiles.keys, f}, type,
                                       kWorkgroupMemory);
    Value biasTile =
        allocBlockBuffer(b, l, {tiles.keys}, type, kWorkgroupMemory);
    Value query =
        allocBlockBuffer(b, l, {tiles.rows, e}, type, kPrivateMemory);
    Value acc = allocBlockBuffer(b, l, {tiles.rows, f}, type, kPrivateMemory);
    Value stats =
        allocBlockBuffer(b, l, {tiles.rows, 2}, type, kPrivateMemory);

    auto rowOf = [&](OpBuilder &tb, Location tl, Value t) {
      return arith::AddIOp::create(tb, tl, firstRow, t).getResult();
    };
    auto at = [&](OpBuilder &tb, Location tl, Value t, int64_t i) {
      return SmallVector<Value>{t, indexConstant(tb, tl, i)};
    };

    // The query into registers; nothing seen yet.
    buildThreadLoop(b, l, tiles.rows, [&](OpBuilder &tb, Location tl,
                                          Value t) {
      Value row = rowOf(tb, tl, t);
      Value exists = isBelow(tb, tl, row, a.numQueries);
      for (int64_t i = 0; i < e; ++i)
        memref::StoreOp::create(
            tb, tl,
            loadOrZero(tb, tl, a.query,
                       {batch, head, row, indexConstant(tb, tl, i)}, exists),
            query, at(tb, tl, t, i));
      for (int64_t i = 0; i < f; ++i)
        memref::StoreOp::create(tb, tl, zero, acc, at(tb, tl, t, i));
      memref::StoreOp::create(tb, tl, negInf, stats, at(tb, tl, t, 0));
      memref::StoreOp::create(tb, tl, zero, stats, at(tb, tl, t, 1));
    });

    // Causal rows see keys j <= i + S - T: the block's last row bounds the
    // keys it walks.
    Value keyEnd = a.numKeys;
    Value shift;
    if (a.causal) {
      shift = arith::SubIOp::create(b, l, a.numKeys, a.numQueries);
      Value end = arith::AddIOp::create(
          b, l, arith::AddIOp::create(b, l, firstRow, shift),
          indexConstant(b, l, tiles.rows));
      end = arith::MaxSIOp::create(b, l, end, indexConstant(b, l, 0));
      keyEnd = arith::MinSIOp::create(b, l, keyEnd, end);
    }

    scf::ForOp::create(
        b, l, indexConstant(b, l, 0), keyEnd, indexConstant(b, l, tiles.keys),
        ValueRange(),
        [&](OpBuilder &fb, Location fl, Value firstKey, ValueRange) {
          // Stage keys [firstKey, firstKey + keys): consecutive threads
          // read consecutive elements of a row; zeros past the end.
          buildThreadLoop(fb, fl, tiles.rows, [&](OpBuilder &tb, Location tl,
                                                  Value t) {
            auto stage = [&](Value source, Value tile, int64_t width) {
              int64_t elements = tiles.keys * width;
              for (int64_t i = 0; i < elements; i += tiles.rows) {
                Value linear = arith::AddIOp::create(
                    tb, tl, t, indexConstant(tb, tl, i));
                auto split = affine::AffineDelinearizeIndexOp::create(
                    tb, tl, linear, ArrayRef<int64_t>{tiles.keys, width});
                Value j = split.getResult(0), c = split.getResult(1);
                Value key = arith::AddIOp::create(tb, tl, firstKey, j);
                Value exists = isBelow(tb, tl, key, a.numKeys);
                // The last round may have more threads than elements.
                Value inTile;
                if (i + tiles.rows > elements) {
                  inTile =
                      isBelow(tb, tl, linear, indexConstant(tb, tl, elements));
                  exists = arith::AndIOp::create(tb, tl, exists, inTile);
                }
                Value element = loadOrZero(tb, tl, source,
                                           {batch, head, key, c}, exists);
                if (!inTile) {
                  memref::StoreOp::create(tb, tl, element, tile,
                                          ValueRange{j, c});
                  continue;
                }
                scf::IfOp::create(tb, tl, inTile,
                                  [&](OpBuilder &sb, Location sl) {
                                    memref::StoreOp::create(sb, sl, element,
                                                            tile,
                                                            ValueRange{j, c});
                                    scf::YieldOp::create(sb, sl);
                                  });
              }
            };
            stage(a.key, keyTile, e);
            stage(a.value, valueTile, f);
            // Thread t < keys: the bias of key firstKey + t.
            for (int64_t i = 0; i < tiles.keys; i += tiles.rows) {
              Value j = arith::AddIOp::create(tb, tl, t,
                                              indexConstant(tb, tl, i));
              Value key = arith::AddIOp::create(tb, tl, firstKey, j);
              Value admissible = isBelow(tb, tl, key, a.numKeys);
              // A key past the end reads as masked (false).
              if (a.keyMask)
                admissible = loadOrZero(tb, tl, a.keyMask, {batch, key},
                                        admissible);
              Value bias =
                  arith::SelectOp::create(tb, tl, admissible, zero, negInf);
              scf::IfOp::create(
                  tb, tl, isBelow(tb, tl, j, indexConstant(tb, tl, tiles.keys)),
                  [&](OpBuilder &sb, Location sl) {
                    memref::StoreOp::create(sb, sl, bias, biasTile,
                                            ValueRange{j});
                    scf::YieldOp::create(sb, sl);
                  });
            }
          });

          // Each thread folds the staged keys into its row.
          buildThreadLoop(fb, fl, tiles.rows, [&](OpBuilder &tb, Location tl,
                                                  Value t) {
            SmallVector<Value> q;
            for (int64_t i = 0; i < e; ++i)
              q.push_back(
                  memref::LoadOp::create(tb, tl, query, at(tb, tl, t, i)));
            Value limit;
            if (a.causal)
              limit = arith::AddIOp::create(tb, tl, rowOf(tb, tl, t), shift);
            Value scale = floatConstant(tb, tl, type, a.scale);

            // The scores, scaled, biased and causally masked.
            SmallVector<Value> scores;
            Value blockMax = negInf;
            for (int64_t j = 0; j < tiles.keys; ++j) {
              Value jIndex = indexConstant(tb, tl, j);
              Value s;
              for (int64_t i = 0; i < e; ++i) {
                Value k = memref::LoadOp::create(
                    tb, tl, keyTile,
                    ValueRange{jIndex, indexConstant(tb, tl, i)});
                s = s ? math::FmaOp::create(tb, tl, q[i], k, s).getResult()
                      : arith::MulFOp::create(tb, tl, q[i], k).getResult();
              }
              Value bias =
                  memref::LoadOp::create(tb, tl, biasTile, ValueRange{jIndex});
              s = math::FmaOp::create(tb, tl, s, scale, bias);
              if (a.causal) {
                Value key = arith::AddIOp::create(tb, tl, firstKey, jIndex);
                Value visible = arith::CmpIOp::create(
                    tb, tl, arith::CmpIPredicate::sle, key, limit);
                s = arith::SelectOp::create(tb, tl, visible, s, negInf);
              }
              scores.push_back(s);
              blockMax = arith::MaximumFOp::create(tb, tl, blockMax, s);
            }

            // The online softmax: a new maximum rescales what was summed.
            // While every key so far is masked the maximum is -inf;
            // subtracting 0 instead keeps exp(-inf) = 0, not exp(NaN).
            Value oldMax =
                memref::LoadOp::create(tb, tl, stats, at(tb, tl, t, 0));
            Value max = arith::MaximumFOp::create(tb, tl, oldMax, blockMax);
            Value allMasked = arith::CmpFOp::create(
                tb, tl, arith::CmpFPredicate::OEQ, max, negInf);
            Value offset =
                arith::SelectOp::create(tb, tl, allMasked, zero, max);
            Value factor = math::ExpOp::create(
                tb, tl, arith::SubFOp::create(tb, tl, oldMax, offset));
            SmallVector<Value> probs;
            Value sum = arith::MulFOp::create(
                tb, tl,
                memref::LoadOp::create(tb, tl, stats, at(tb, tl, t, 1)),
                factor);
            for (Value s : scores) {
              probs.push_back(math::ExpOp::create(
                  tb, tl, arith::SubFOp::create(tb, tl, s, offset)));
              sum = arith::AddFOp::create(tb, tl, sum, probs.back());
            }
            memref::StoreOp::create(tb, tl, max, stats, at(tb, tl, t, 0));
            memref::StoreOp::create(tb, tl, sum, stats, at(tb, tl, t, 1));

            // Dropout: the sum is of the probabilities; the values are
            // weighted by the kept ones (scaled by 1 / (1 - rate) at the
            // end).
            if (a.seed) {
              Type i32 = tb.getI32Type();
              Value row = rowOf(tb, tl, t);
              Value group = arith::AddIOp::create(
                  tb, tl, arith::MulIOp::create(tb, tl, batchHead, a.rowGroups),
                  arith::DivUIOp::create(
                      tb, tl, row,
                      indexConstant(tb, tl, kPhiloxRowsPerEvaluation)));
              Value group32 = arith::IndexCastUIOp::create(tb, tl, i32, group);
              Value stream = philoxConstant(tb, tl, i32, a.stream);
              Value threshold = philoxConstant(tb, tl, i32, a.threshold);
              for (int64_t j = 0; j < tiles.keys; ++j) {
                Value key = arith::AddIOp::create(
                    tb, tl, firstKey, indexConstant(tb, tl, j));
                std::array<Value, 4> words = philoxWords(
                    tb, tl,
                    {arith::IndexCastUIOp::create(tb, tl, i32, key), group32,
                     stream, a.step},
                    {a.seed, a.seedHigh});
                Value keep = arith::CmpIOp::create(
                    tb, tl, arith::CmpIPredicate::uge,
                    selectWord(tb, tl, words, row), threshold);
                probs[j] = arith::SelectOp::create(tb, tl, keep, probs[j], zero);
              }
            }

            // out = out * factor + P V, per value element.
            for (int64_t i = 0; i < f; ++i) {
              Value iIndex = indexConstant(tb, tl, i);
              Value o = arith::MulFOp::create(
                  tb, tl,
                  memref::LoadOp::create(tb, tl, acc, at(tb, tl, t, i)),
                  factor);
              for (auto [j, p] : llvm::enumerate(probs)) {
                Value v = memref::LoadOp::create(
                    tb, tl, valueTile,
                    ValueRange{indexConstant(tb, tl, j), iIndex});
                o = math::FmaOp::create(tb, tl, p, v, o);
              }
              memref::StoreOp::create(tb, tl, o, acc, at(tb, tl, t, i));
            }
          });
          scf::YieldOp::create(fb, fl);
        });

    // Normalize (and scale the kept probabilities by 1 / (1 - rate)) and
    // write the row; a row without a visible key (sum 0) is zeros.
    buildThreadLoop(b, l, tiles.rows, [&](OpBuilder &tb, Location tl,
                                          Value t) {
      Value row = rowOf(tb, tl, t);
      scf::IfOp::create(
          tb, tl, isBelow(tb, tl, row, a.numQueries),
          [&](OpBuilder &ib, Location il) {
            Value sum = memref::LoadOp::create(ib, il, stats, at(ib, il, t, 1));
            Value positive = arith::CmpFOp::create(
                ib, il, arith::CmpFPredicate::OGT, sum, zero);
            Value inverse = arith::SelectOp::create(
                ib, il, positive,
                arith::DivFOp::create(
                    ib, il, floatConstant(ib, il, type, a.keepScale), sum),
                zero);
            for (int64_t i = 0; i < f; ++i) {
              Value o = arith::MulFOp::create(
                  ib, il,
                  memref::LoadOp::create(ib, il, acc, at(ib, il, t, i)),
                  inverse);
              memref::StoreOp::create(
                  ib, il, o, out,
                  ValueRange{batch, head, row, indexConstant(ib, il, i)});
            }
            scf::YieldOp::create(ib, il);
          });
    });
    // No deallocations: bufferization's deallocation pipeline, which runs
    // after this pass and accepts none in its input, frees the buffers at
    // the end of the block loop's body.
  });
}

/// Replaces `op` with the kernel, which reads the operands with
/// `tensor.extract` and writes a fresh buffer, the result.
void tileAttention(OpBuilder &b, DotProductAttentionOp op,
                   const Tiles &tiles) {
  Location loc = op.getLoc();
  auto queryType = cast<RankedTensorType>(op.getQuery().getType());
  auto resultType = cast<RankedTensorType>(op.getResult().getType());
  Attention a;
  a.query = op.getQuery();
  a.key = op.getKey();
  a.value = op.getValue();
  a.keyMask = op.getKeyMask();
  auto dim = [&](Value tensor, int64_t i) {
    return b.createOrFold<tensor::DimOp>(loc, tensor, i);
  };
  a.batch = dim(op.getQuery(), 0);
  a.heads = dim(op.getQuery(), 1);
  a.numQueries = dim(op.getQuery(), 2);
  a.numKeys = dim(op.getKey(), 2);
  a.headSize = queryType.getDimSize(3);
  a.valueSize = resultType.getDimSize(3);
  a.elementType = cast<FloatType>(queryType.getElementType());
  a.scale = op.getEffectiveScale();
  a.causal = op.getCausal();
  if (double rate = op.getDropout().convertToDouble(); rate != 0.0) {
    a.rowGroups = arith::CeilDivUIOp::create(
        b, loc, a.numQueries,
        arith::ConstantIndexOp::create(b, loc, kPhiloxRowsPerEvaluation));
    std::tie(a.seed, a.seedHigh) = splitWords(b, loc, op.getSeed());
    a.step = splitWords(b, loc, op.getStep()).first;
    a.stream = static_cast<uint32_t>(op.getStream());
    a.threshold = dropoutThreshold(rate);
    a.keepScale = 1.0 / (1.0 - rate);
  }

  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0; i < 3; ++i)
    if (resultType.isDynamicDim(i))
      dynamicSizes.push_back(dim(op.getQuery(), i));
  Value out = memref::AllocOp::create(
      b, loc,
      MemRefType::get(resultType.getShape(), resultType.getElementType()),
      dynamicSizes);
  buildKernel(b, loc, a, out, tiles);
  Value result = bufferization::ToTensorOp::create(
      b, loc, resultType, out, /*restrict=*/b.getUnitAttr(),
      /*writable=*/b.getUnitAttr());
  op.getResult().replaceAllUsesWith(result);
  op.erase();
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
    SmallVector<DotProductAttentionOp> ops;
    getOperation()->walk([&](DotProductAttentionOp op) {
      // The thread's query and weighted values live in registers.
      if (op.fitsRowKernels(minRows, maxHeadSize))
        ops.push_back(op);
    });
    for (DotProductAttentionOp op : ops) {
      OpBuilder b(op);
      tileAttention(b, op, tiles);
    }
  }
};

} // namespace
