//===- TileAttention.cpp - Attention as one loop with an online softmax ---===//
//
// The CPU strategy for convseq.dot_product_attention: each thread takes a few
// query rows of one head and walks the keys in blocks of 32, keeping the
// rows' scores, running maxima, running sums and weighted values in
// registers (the online softmax of FlashAttention), so the [T, S] scores
// never exist in memory. See the pass description in Passes.td and
// docs/pipelines.md.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/Passes.h"

#include "dialect/ConvSeqOps.h"
#include "lib/Support/Constants.h"
#include "lib/Support/Philox.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <limits>
#include <optional>

namespace mlir::convseq {
#define GEN_PASS_DEF_TILEATTENTIONPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// Lanes of every vector: a block of 16 keys' scores, 16 values of a row.
constexpr int64_t kLanes = 16;
/// Vectors of scores per query row and block of keys. Two give each row two
/// independent FMA chains over E (four rows, eight chains: enough to hide
/// the FMA latency) and halve the softmax's per-block work.
constexpr int64_t kKeyVectors = 2;
/// Keys per block.
constexpr int64_t kKeyBlock = kLanes * kKeyVectors;
/// The longest head (E or F) unrolled into the loop body: the body holds
/// `rows * (2 E + 32 ceil(F / 16))` vector FMAs.
constexpr int64_t kMaxHeadSize = 256;

/// What the row blocks of one attention op read, prepared once per call.
struct Attention {
  Value query;  // [B, H, T, E]
  Value keysT;  // [B, H, E, S'], S' = S rounded up to kKeyBlock, zero padded
  Value values; // [B, H, S, F], as it is
  Value bias;   // [B, S']: 0 for a real key, -inf for masked and padding
  Value numQueries, numKeys, paddedKeys; // T, S, S'
  int64_t headSize, valueSize;           // E, F
  FloatType elementType;
  double scale;
  bool causal;
  // Attention dropout (lib/Support/Philox.h): probability (b, h, i, j) is
  // kept by word i mod 4 of the evaluation for counter (j, g, stream, step),
  // g = (b H + h) ceil(T / 4) + i / 4. Unset without dropout.
  std::optional<DropoutKey> dropout;
  Value heads, rowGroups; // H and ceil(T / 4)
};

Value splat(OpBuilder &b, Location loc, Value scalar, int64_t lanes) {
  return vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, scalar.getType()), scalar);
}

/// A tensor of `paddedShape` filled with `padding` whose leading `shape`
/// part `write` computes: `write` gets that part as its destination. After
/// bufferization it writes into the padded buffer, without a copy.
Value writePadded(OpBuilder &b, Location loc,
                  ArrayRef<OpFoldResult> paddedShape,
                  ArrayRef<OpFoldResult> shape, Value padding,
                  function_ref<Value(Value)> write) {
  Value filled =
      linalg::FillOp::create(
          b, loc, padding,
          tensor::EmptyOp::create(b, loc, paddedShape, padding.getType())
              .getResult())
          .getResult(0);
  SmallVector<OpFoldResult> zeros(shape.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(shape.size(), b.getIndexAttr(1));
  Value part =
      tensor::ExtractSliceOp::create(b, loc, filled, zeros, shape, ones);
  return tensor::InsertSliceOp::create(b, loc, write(part), filled, zeros,
                                       shape, ones);
}

/// The additive bias of every key of every sequence, `[B, S']`: 0 where the
/// key is real (and not masked), -inf for masked keys and the padding.
Value buildKeyBias(OpBuilder &b, Location loc, Value keyMask,
                   OpFoldResult batch, OpFoldResult numKeys, Value paddedKeys,
                   FloatType type) {
  Value zero = floatConstant(b, loc, type, 0.0);
  Value negInf =
      floatConstant(b, loc, type, -std::numeric_limits<double>::infinity());
  return writePadded(
      b, loc, {batch, paddedKeys}, {batch, numKeys}, negInf, [&](Value dest) {
        if (!keyMask)
          return linalg::FillOp::create(b, loc, zero, dest).getResult(0);
        AffineMap identity = b.getMultiDimIdentityMap(2);
        SmallVector<utils::IteratorType> parallel(
            2, utils::IteratorType::parallel);
        return linalg::GenericOp::create(
                   b, loc, dest.getType(), keyMask, dest,
                   ArrayRef<AffineMap>{identity, identity}, parallel,
                   [&](OpBuilder &nb, Location nl, ValueRange args) {
                     linalg::YieldOp::create(
                         nb, nl,
                         ValueRange{arith::SelectOp::create(nb, nl, args[0],
                                                            zero, negInf)});
                   })
            .getResult(0);
      });
}

/// The widths of the vectors a row of F values is split into.
SmallVector<int64_t> chunkWidths(int64_t size) {
  SmallVector<int64_t> widths(size / kLanes, kLanes);
  if (size % kLanes)
    widths.push_back(size % kLanes);
  return widths;
}

/// The four Philox words of the kLanes keys from `firstKey` on for the rows
/// of group `group` (i32): vectors of i32.
std::array<Value, 4> buildKeepWords(OpBuilder &b, Location loc,
                                    const Attention &a, Value firstKey,
                                    Value group) {
  auto words = VectorType::get({kLanes}, b.getI32Type());
  auto broadcast = [&](Value word) {
    return vector::BroadcastOp::create(b, loc, words, word).getResult();
  };
  Value keys = arith::AddIOp::create(
      b, loc,
      broadcast(arith::IndexCastUIOp::create(b, loc, b.getI32Type(), firstKey)),
      arith::IndexCastUIOp::create(
          b, loc, words,
          vector::StepOp::create(b, loc,
                                 VectorType::get({kLanes}, b.getIndexType()))));
  return philoxWords(
      b, loc,
      {keys, broadcast(group), a.dropout->streamWord(b, loc, words),
       broadcast(a.dropout->step)},
      {broadcast(a.dropout->seed), broadcast(a.dropout->seedHigh)});
}

/// The output of `rows` query rows from `row` on of head (`batch`, `head`):
/// for each row, its F values as vectors of `chunkWidths(F)`.
SmallVector<SmallVector<Value>> buildRows(OpBuilder &b, Location loc,
                                          const Attention &a, Value batch,
                                          Value head, Value row, int64_t rows) {
  FloatType type = a.elementType;
  SmallVector<int64_t> widths = chunkWidths(a.valueSize);
  Value zero = floatConstant(b, loc, type, 0.0);
  Value negInf =
      floatConstant(b, loc, type, -std::numeric_limits<double>::infinity());
  Value c0 = indexConstant(b, loc, 0);
  Value block = indexConstant(b, loc, kKeyBlock);

  // Causal rows see keys j <= i + S - T: the blocks after the last row's
  // limit hold no visible key and are skipped.
  Value upper = a.paddedKeys;
  Value lastKey =
      arith::SubIOp::create(b, loc, a.numKeys, indexConstant(b, loc, 1));
  Value shift;
  if (a.causal) {
    shift = arith::SubIOp::create(b, loc, a.numKeys, a.numQueries);
    Value end =
        arith::AddIOp::create(b, loc, arith::AddIOp::create(b, loc, row, shift),
                              indexConstant(b, loc, rows));
    end = arith::MaxSIOp::create(b, loc, end, c0);
    Value blocks = arith::CeilDivUIOp::create(b, loc, end, block);
    upper = arith::MinSIOp::create(
        b, loc, a.paddedKeys, arith::MulIOp::create(b, loc, blocks, block));
  }

  // With dropout, each row's group g (i32) of four rows. When the rows
  // come in aligned fours (`row` is a multiple of `rows`), row r takes word
  // r mod 4 of its group's evaluation, shared by the four; otherwise each
  // row evaluates its own and selects word i mod 4.
  bool sharedWords = rows % 4 == 0;
  SmallVector<Value> rowGroups;
  if (a.dropout) {
    Value batchHead = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, batch, a.heads), head);
    Value groupsBefore = arith::MulIOp::create(b, loc, batchHead, a.rowGroups);
    for (int64_t r = 0; r < rows; ++r) {
      Value i = arith::AddIOp::create(b, loc, row, indexConstant(b, loc, r));
      Value group = arith::AddIOp::create(
          b, loc, groupsBefore,
          arith::DivUIOp::create(b, loc, i, indexConstant(b, loc, 4)));
      rowGroups.push_back(
          arith::IndexCastUIOp::create(b, loc, b.getI32Type(), group));
    }
  }

  // Loop-carried per row: the running maximum, the running sum and the
  // weighted values.
  SmallVector<Value> init;
  for (int64_t r = 0; r < rows; ++r) {
    init.push_back(negInf);
    init.push_back(zero);
    for (int64_t width : widths)
      init.push_back(splat(b, loc, zero, width));
  }
  int64_t perRow = 2 + widths.size();

  auto loop = scf::ForOp::create(
      b, loc, c0, upper, block, init,
      [&](OpBuilder &nb, Location nl, Value key, ValueRange carried) {
        auto read = [&](Value source, ValueRange indices, int64_t width) {
          return vector::TransferReadOp::create(
              nb, nl, VectorType::get({width}, type), source, indices,
              /*padding=*/std::nullopt, ArrayRef<bool>{true});
        };
        // The IR is in the order the registers want: each vector of keys
        // or values is read right before the rows use it, so that only the
        // rows' scores and outputs stay live.
        SmallVector<Value> queryRows;
        for (int64_t r = 0; r < rows; ++r)
          queryRows.push_back(
              arith::AddIOp::create(nb, nl, row, indexConstant(nb, nl, r)));

        // The first key of each vector of 16 in the block.
        SmallVector<Value> firstKeys;
        for (int64_t v = 0; v < kKeyVectors; ++v)
          firstKeys.push_back(arith::AddIOp::create(
              nb, nl, key, indexConstant(nb, nl, v * kLanes)));

        // scores = q . K^T: per feature e, each vector of 16 keys times a
        // broadcast query element, for every row.
        SmallVector<SmallVector<Value>> scores(rows,
                                               SmallVector<Value>(kKeyVectors));
        for (int64_t e = 0; e < a.headSize; ++e) {
          Value eIndex = indexConstant(nb, nl, e);
          SmallVector<Value> keys;
          for (int64_t v = 0; v < kKeyVectors; ++v)
            keys.push_back(
                read(a.keysT, {batch, head, eIndex, firstKeys[v]}, kLanes));
          for (int64_t r = 0; r < rows; ++r) {
            Value q = tensor::ExtractOp::create(
                nb, nl, a.query, ValueRange{batch, head, queryRows[r], eIndex});
            Value qs = splat(nb, nl, q, kLanes);
            for (int64_t v = 0; v < kKeyVectors; ++v) {
              Value &acc = scores[r][v];
              acc =
                  acc ? vector::FMAOp::create(nb, nl, qs, keys[v], acc)
                            .getResult()
                      : arith::MulFOp::create(nb, nl, qs, keys[v]).getResult();
            }
          }
        }

        // Scaled, biased and causally masked; then the online softmax: a new
        // maximum rescales what was summed. While every key so far is masked
        // the maximum is -inf; subtracting 0 instead keeps exp(-inf) = 0
        // rather than exp(NaN).
        SmallVector<Value> bias, keyIndex;
        auto indexType = VectorType::get({kLanes}, nb.getIndexType());
        for (int64_t v = 0; v < kKeyVectors; ++v) {
          bias.push_back(read(a.bias, {batch, firstKeys[v]}, kLanes));
          if (a.causal)
            keyIndex.push_back(arith::AddIOp::create(
                nb, nl, vector::StepOp::create(nb, nl, indexType),
                vector::BroadcastOp::create(nb, nl, indexType, firstKeys[v])));
        }
        Value scale =
            splat(nb, nl, floatConstant(nb, nl, type, a.scale), kLanes);
        Value negInfs = splat(nb, nl, negInf, kLanes);
        SmallVector<Value> maxima(rows), sums(rows);
        SmallVector<SmallVector<Value>> probs(rows);
        SmallVector<SmallVector<Value>> acc(rows);
        for (int64_t r = 0; r < rows; ++r) {
          ValueRange state = carried.slice(r * perRow, perRow);
          SmallVector<Value> s;
          Value limit;
          if (a.causal)
            limit = vector::BroadcastOp::create(
                nb, nl, indexType,
                arith::AddIOp::create(nb, nl, queryRows[r], shift));
          Value blockMaxima;
          for (int64_t v = 0; v < kKeyVectors; ++v) {
            Value sv =
                vector::FMAOp::create(nb, nl, scores[r][v], scale, bias[v]);
            if (a.causal) {
              Value visible = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::sle, keyIndex[v], limit);
              sv = arith::SelectOp::create(nb, nl, visible, sv, negInfs);
            }
            s.push_back(sv);
            blockMaxima =
                blockMaxima ? arith::MaximumFOp::create(nb, nl, blockMaxima, sv)
                                  .getResult()
                            : sv;
          }
          Value blockMax = vector::ReductionOp::create(
              nb, nl, vector::CombiningKind::MAXIMUMF, blockMaxima);
          Value max = arith::MaximumFOp::create(nb, nl, state[0], blockMax);
          Value allMasked = arith::CmpFOp::create(
              nb, nl, arith::CmpFPredicate::OEQ, max, negInf);
          Value offset = arith::SelectOp::create(nb, nl, allMasked, zero, max);
          Value offsets = splat(nb, nl, offset, kLanes);
          Value blockSums;
          for (int64_t v = 0; v < kKeyVectors; ++v) {
            probs[r].push_back(math::ExpOp::create(
                nb, nl, arith::SubFOp::create(nb, nl, s[v], offsets)));
            blockSums = blockSums ? arith::AddFOp::create(nb, nl, blockSums,
                                                          probs[r][v])
                                        .getResult()
                                  : probs[r][v];
          }
          Value rescale = math::ExpOp::create(
              nb, nl,
              splat(nb, nl, arith::SubFOp::create(nb, nl, state[0], offset),
                    kLanes));
          Value factor = vector::ExtractOp::create(nb, nl, rescale, 0);
          maxima[r] = max;
          sums[r] = arith::AddFOp::create(
              nb, nl, arith::MulFOp::create(nb, nl, state[1], factor),
              vector::ReductionOp::create(nb, nl, vector::CombiningKind::ADD,
                                          blockSums));
          for (auto [c, width] : llvm::enumerate(widths)) {
            Value factors =
                width == kLanes ? rescale : splat(nb, nl, factor, width);
            acc[r].push_back(
                arith::MulFOp::create(nb, nl, state[2 + c], factors));
          }
        }

        // Dropout: the sums are of the probabilities; the values are
        // weighted by the kept ones (scaled by 1 / (1 - rate) after the
        // loop).
        if (a.dropout) {
          for (int64_t v = 0; v < kKeyVectors; ++v) {
            std::array<Value, 4> words;
            for (int64_t r = 0; r < rows; ++r) {
              if (!sharedWords || r % 4 == 0)
                words = buildKeepWords(nb, nl, a, firstKeys[v], rowGroups[r]);
              Value word = sharedWords
                               ? words[r % 4]
                               : selectWord(nb, nl, words, queryRows[r]);
              Value keep = a.dropout->keeps(nb, nl, word);
              probs[r][v] = arith::SelectOp::create(
                  nb, nl, keep, probs[r][v], splat(nb, nl, zero, kLanes));
            }
          }
        }

        // out += P V: per key, each vector of its values times a broadcast
        // probability, for every row. V is not padded: the padding keys,
        // whose probability is 0, read the last key's values.
        for (int64_t j = 0; j < kKeyBlock; ++j) {
          Value position = arith::MinSIOp::create(
              nb, nl,
              arith::AddIOp::create(nb, nl, key, indexConstant(nb, nl, j)),
              lastKey);
          SmallVector<Value> ps;
          for (int64_t r = 0; r < rows; ++r)
            ps.push_back(vector::ExtractOp::create(nb, nl, probs[r][j / kLanes],
                                                   j % kLanes));
          for (auto [c, width] : llvm::enumerate(widths)) {
            Value values =
                read(a.values,
                     {batch, head, position, indexConstant(nb, nl, c * kLanes)},
                     width);
            for (int64_t r = 0; r < rows; ++r)
              acc[r][c] = vector::FMAOp::create(
                  nb, nl, splat(nb, nl, ps[r], width), values, acc[r][c]);
          }
        }
        SmallVector<Value> next;
        for (int64_t r = 0; r < rows; ++r) {
          next.push_back(maxima[r]);
          next.push_back(sums[r]);
          llvm::append_range(next, acc[r]);
        }
        scf::YieldOp::create(nb, nl, next);
      });

  // Normalize; a row without a visible key (sum 0) is zeros.
  SmallVector<SmallVector<Value>> out;
  // With dropout the kept values are scaled by 1 / (1 - rate) here.
  Value numerator =
      floatConstant(b, loc, type, a.dropout ? a.dropout->keepScale : 1.0);
  for (int64_t r = 0; r < rows; ++r) {
    ValueRange state = loop.getResults().slice(r * perRow, perRow);
    Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                           state[1], zero);
    Value inverse = arith::SelectOp::create(
        b, loc, positive, arith::DivFOp::create(b, loc, numerator, state[1]),
        zero);
    SmallVector<Value> chunks;
    for (auto [c, width] : llvm::enumerate(widths))
      chunks.push_back(arith::MulFOp::create(b, loc, state[2 + c],
                                             splat(b, loc, inverse, width)));
    out.push_back(chunks);
  }
  return out;
}

/// `scf.forall` over (batch, head, block) writing `rows` query rows per
/// block into `dest`, the rows of block `k` starting at `firstRow + k *
/// rows`.
Value buildRowBlocks(OpBuilder &b, Location loc, const Attention &a, Value dest,
                     Value batch, Value heads, Value blocks, Value firstRow,
                     int64_t rows) {
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{batch, heads, blocks}, ValueRange{dest},
      std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  SmallVector<Value> ivs = forall.getInductionVars();
  Value row = arith::AddIOp::create(
      b, loc, firstRow,
      arith::MulIOp::create(b, loc, ivs[2], indexConstant(b, loc, rows)));
  SmallVector<SmallVector<Value>> out =
      buildRows(b, loc, a, ivs[0], ivs[1], row, rows);

  SmallVector<int64_t> tileShape = {1, 1, rows, a.valueSize};
  Value tile = tensor::EmptyOp::create(b, loc, tileShape, a.elementType);
  Value c0 = indexConstant(b, loc, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (auto [c, chunk] : llvm::enumerate(out[r]))
      tile = vector::TransferWriteOp::create(
                 b, loc, chunk, tile,
                 ValueRange{c0, c0, indexConstant(b, loc, r),
                            indexConstant(b, loc, c * kLanes)},
                 ArrayRef<bool>{true})
                 .getResult();

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  SmallVector<OpFoldResult> offsets = {ivs[0], ivs[1], row, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes =
      getAsIndexOpFoldResult(b.getContext(), tileShape);
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  tensor::ParallelInsertSliceOp::create(
      b, loc, tile, forall.getRegionIterArgs()[0], offsets, sizes, strides);
  return forall.getResult(0);
}

Value tileAttention(OpBuilder &b, DotProductAttentionOp op, int64_t rows) {
  Location loc = op.getLoc();
  Value query = op.getQuery(), key = op.getKey(), values = op.getValue();
  auto queryType = cast<RankedTensorType>(query.getType());
  auto type = cast<FloatType>(queryType.getElementType());
  Value zero = floatConstant(b, loc, type, 0.0);
  // Sizes: static ones stay attributes, so the built tensors keep them.
  OpFoldResult batchSize = tensor::getMixedSize(b, loc, query, 0);
  OpFoldResult headCount = tensor::getMixedSize(b, loc, query, 1);
  OpFoldResult querySize = tensor::getMixedSize(b, loc, query, 2);
  auto value = [&](OpFoldResult size) {
    return getValueOrCreateConstantIndexOp(b, loc, size);
  };
  Value batch = value(batchSize), heads = value(headCount);
  Value numQueries = value(querySize);
  OpFoldResult keySize = tensor::getMixedSize(b, loc, key, 2);
  Value numKeys = value(keySize);
  Value block = indexConstant(b, loc, kKeyBlock);
  Value paddedKeys = arith::MulIOp::create(
      b, loc, arith::CeilDivUIOp::create(b, loc, numKeys, block), block);

  Attention a;
  a.query = query;
  a.numQueries = numQueries;
  a.numKeys = numKeys;
  a.paddedKeys = paddedKeys;
  a.headSize = queryType.getDimSize(3);
  a.valueSize = cast<RankedTensorType>(values.getType()).getDimSize(3);
  a.elementType = type;
  a.scale = op.getEffectiveScale();
  a.causal = op.getCausal();
  if (double rate = op.getDropout().convertToDouble(); rate != 0.0) {
    a.heads = heads;
    a.rowGroups = arith::CeilDivUIOp::create(b, loc, numQueries,
                                             indexConstant(b, loc, 4));
    a.dropout = buildDropoutKey(b, loc, op.getSeed(), op.getStep(), rate,
                                op.getStream());
  }
  // K^T, contiguous along the keys: a block's scores are E vector FMAs.
  OpFoldResult headSize = b.getIndexAttr(a.headSize);
  a.keysT = writePadded(
      b, loc, {batchSize, headCount, headSize, paddedKeys},
      {batchSize, headCount, headSize, keySize}, zero, [&](Value dest) {
        return linalg::TransposeOp::create(b, loc, key, dest,
                                           ArrayRef<int64_t>{0, 1, 3, 2})
            .getResult()[0];
      });
  a.values = values;
  a.bias = buildKeyBias(b, loc, op.getKeyMask(), batchSize, keySize, paddedKeys,
                        type);

  // Full blocks of `rows` queries, then the T mod rows last ones one by one.
  Value out = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{batchSize, headCount, querySize,
                             b.getIndexAttr(a.valueSize)},
      type);
  Value rowsValue = indexConstant(b, loc, rows);
  Value fullBlocks = arith::DivUIOp::create(b, loc, numQueries, rowsValue);
  Value c0 = indexConstant(b, loc, 0);
  out = buildRowBlocks(b, loc, a, out, batch, heads, fullBlocks, c0, rows);
  if (rows > 1) {
    Value tailStart = arith::MulIOp::create(b, loc, fullBlocks, rowsValue);
    Value tail = arith::SubIOp::create(b, loc, numQueries, tailStart);
    out = buildRowBlocks(b, loc, a, out, batch, heads, tail, tailStart, 1);
  }
  return out;
}

struct TileAttentionPass
    : mlir::convseq::impl::TileAttentionPassBase<TileAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    if (rows < 1) {
      getOperation()->emitError()
          << "convseq-tile-attention: rows must be positive, got "
          << static_cast<int64_t>(rows);
      return signalPassFailure();
    }
    SmallVector<DotProductAttentionOp> ops;
    getOperation()->walk([&](DotProductAttentionOp op) {
      // Others keep the reference lowering of convert-convseq-to-linalg: a
      // head too long to unroll, a decoder step (whose one query per head
      // reads the keys as they are). Dropout (the verifier ensures an RNG
      // key with it) draws its mask in the loop.
      if (op.fitsRowKernels(minRows, kMaxHeadSize))
        ops.push_back(op);
    });
    for (DotProductAttentionOp op : ops) {
      OpBuilder b(op);
      Value out = tileAttention(b, op, rows);
      op.getResult().replaceAllUsesWith(out);
      op.erase();
    }
  }
};

} // namespace
