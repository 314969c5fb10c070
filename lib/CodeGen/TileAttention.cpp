//===- TileAttention.cpp - Attention as loops with an online softmax ------===//
//
// The CPU strategy for convseq.dot_product_attention and its gradient. The
// forward: each thread takes a few query rows of one head and walks the keys
// in blocks of 32, keeping the rows' scores, running maxima, running sums
// and weighted values in registers (the online softmax of FlashAttention),
// so the [T, S] scores never exist in memory. The gradient (FlashAttention-2's
// backward): the same walk gives every row its log-sum-exp L and D = dO . O;
// then each thread takes one head and walks its keys in blocks of 32, and for
// each block the query rows that see it, four at a time, recomputing P and
// dP for the 4 x 32 scores and adding their products into dQ, dK and dV.
// See the pass description in Passes.td and docs/pipelines.md.
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

/// Query rows the gradient's key loop takes together: the rows of one
/// Philox evaluation of the dropout mask.
constexpr int64_t kGradRows = kPhiloxRowsPerEvaluation;

/// What the row blocks of one attention op read, prepared once per call.
struct Attention {
  Value query; // [B, H, T, E] (the gradient's: zero padded to [B, H, T', E])
  // [B, H, S' / 32, E, 32], S' = S rounded up to kKeyBlock, zero padded:
  // each block of keys transposed, so that a block's E x 32 part of K^T is
  // 8 KiB in a row (f32) and stays in L1 while the gradient reuses it.
  Value keysT;
  Value values; // [B, H, S, F], as it is
  Value bias;   // [B, S']: 0 for a real key, -inf for masked and padding
  Value numQueries, numKeys, paddedKeys; // T, S, S'
  OpFoldResult batchSize, headCount, querySize, keySize; // B, H, T, S
  Value batch, keyBlocks; // B, S' / 32
  Value keys;             // [B, H, S', E], zero padded
  int64_t headSize, valueSize;           // E, F
  FloatType elementType;
  double scale;
  bool causal;
  // Attention dropout (lib/Support/Philox.h): probability (b, h, i, j) is
  // kept by word i mod 4 of the evaluation for counter (j, g, stream, step),
  // g = (b H + h) ceil(T / 4) + i / 4. Unset without dropout.
  std::optional<DropoutKey> dropout;
  Value heads;            // H
  Value rowGroups;        // ceil(T / 4), with dropout
};

Value splat(OpBuilder &b, Location loc, Value scalar, int64_t lanes) {
  return vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, scalar.getType()), scalar);
}

/// `width` elements of `source` along its last dimension from `indices` on,
/// all in bounds.
Value readVector(OpBuilder &b, Location loc, Value source, ValueRange indices,
                 int64_t width) {
  return vector::TransferReadOp::create(
      b, loc, VectorType::get({width}, getElementTypeOrSelf(source)), source,
      indices, /*padding=*/std::nullopt, ArrayRef<bool>{true});
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

/// The dropout's group (i32) of query row `row` of head (`batch`, `head`):
/// g = (b H + h) ceil(T / 4) + i / 4.
Value buildRowGroup(OpBuilder &b, Location loc, const Attention &a,
                    Value batch, Value head, Value row) {
  Value batchHead = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, batch, a.heads), head);
  Value group = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, batchHead, a.rowGroups),
      arith::DivUIOp::create(b, loc, row,
                             indexConstant(b, loc, kPhiloxRowsPerEvaluation)));
  return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), group);
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

/// Adds feature `x` of the products of buildBlockProducts to `sums` (null:
/// start them).
void addBlockProductTerm(OpBuilder &b, Location loc, Value rowsSource,
                         Value blockedT, Value x, Value batch, Value head,
                         Value keyBlock, ArrayRef<Value> queryRows,
                         MutableArrayRef<SmallVector<Value>> sums) {
  SmallVector<Value> columns;
  for (int64_t v = 0; v < kKeyVectors; ++v)
    columns.push_back(readVector(
        b, loc, blockedT,
        ValueRange{batch, head, keyBlock, x, indexConstant(b, loc, v * kLanes)},
        kLanes));
  for (auto [r, row] : llvm::enumerate(queryRows)) {
    Value element = splat(
        b, loc,
        tensor::ExtractOp::create(b, loc, rowsSource,
                                  ValueRange{batch, head, row, x}),
        kLanes);
    for (auto [sum, column] : llvm::zip(sums[r], columns))
      sum = sum ? vector::FMAOp::create(b, loc, element, column, sum)
                      .getResult()
                : arith::MulFOp::create(b, loc, element, column).getResult();
  }
}

/// For each row i of `queryRows` and key j of block `keyBlock`, the dot
/// product of row i of `rowsSource` ([B, H, T, X]) and column j of
/// `blockedT` ([B, H, S' / 32, X, 32]) of head (`batch`, `head`): per row,
/// kKeyVectors vectors of 16 keys. Per feature x, each vector of 16 keys
/// times a broadcast element of each row, the vectors read right before the
/// rows use them, so that only the rows' sums stay live: q . K^T for the
/// scores, dO . V^T for the gradient's dP. Unrolled over x (the forward's
/// loop), or an `scf.for` over x carrying the sums (the gradient's, whose
/// body is long enough that LLVM, given it unrolled, hoisted the row
/// elements of all x to its top and spilled them).
SmallVector<SmallVector<Value>>
buildBlockProducts(OpBuilder &b, Location loc, Value rowsSource,
                   Value blockedT, int64_t size, Value batch, Value head,
                   Value keyBlock, ArrayRef<Value> queryRows,
                   bool unrolled = true) {
  SmallVector<SmallVector<Value>> sums(queryRows.size(),
                                       SmallVector<Value>(kKeyVectors));
  if (unrolled) {
    for (int64_t x = 0; x < size; ++x)
      addBlockProductTerm(b, loc, rowsSource, blockedT,
                          indexConstant(b, loc, x), batch, head, keyBlock,
                          queryRows, sums);
    return sums;
  }
  auto type = cast<FloatType>(getElementTypeOrSelf(rowsSource));
  Value zeros = splat(b, loc, floatConstant(b, loc, type, 0.0), kLanes);
  SmallVector<Value> init(queryRows.size() * kKeyVectors, zeros);
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, size),
      indexConstant(b, loc, 1), init,
      [&](OpBuilder &nb, Location nl, Value x, ValueRange carried) {
        SmallVector<SmallVector<Value>> partial;
        for (size_t r = 0; r < queryRows.size(); ++r)
          partial.emplace_back(carried.slice(r * kKeyVectors, kKeyVectors));
        addBlockProductTerm(nb, nl, rowsSource, blockedT, x, batch, head,
                            keyBlock, queryRows, partial);
        SmallVector<Value> next;
        for (ArrayRef<Value> row : partial)
          llvm::append_range(next, row);
        scf::YieldOp::create(nb, nl, next);
      });
  for (size_t r = 0; r < queryRows.size(); ++r)
    for (int64_t v = 0; v < kKeyVectors; ++v)
      sums[r][v] = loop.getResult(r * kKeyVectors + v);
  return sums;
}

/// What the walk over the keys gives each of a block's query rows.
struct RowFold {
  /// The output: F values as vectors of `chunkWidths(F)` (none when only
  /// the statistics were asked for).
  SmallVector<SmallVector<Value>> values;
  /// log(sum_j exp(s_j)) of the scaled, masked scores (before dropout): P =
  /// exp(s - L). +inf for a row without a visible key, so that its P is 0.
  SmallVector<Value> logSumExp;
};

/// The output of `rows` query rows from `row` on of head (`batch`, `head`);
/// without `withValues`, only their log-sum-exp: the walk over the keys then
/// reads no values and draws no dropout mask.
RowFold buildRows(OpBuilder &b, Location loc, const Attention &a, Value batch,
                  Value head, Value row, int64_t rows, bool withValues = true) {
  FloatType type = a.elementType;
  SmallVector<int64_t> widths;
  if (withValues)
    widths = chunkWidths(a.valueSize);
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
  if (a.dropout && withValues) {
    for (int64_t r = 0; r < rows; ++r)
      rowGroups.push_back(buildRowGroup(
          b, loc, a, batch, head,
          arith::AddIOp::create(b, loc, row, indexConstant(b, loc, r))));
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
          return readVector(nb, nl, source, indices, width);
        };
        // The IR is in the order the registers want: each vector of keys
        // or values is read right before the rows use it, so that only the
        // rows' scores and outputs stay live.
        SmallVector<Value> queryRows;
        for (int64_t r = 0; r < rows; ++r)
          queryRows.push_back(
              arith::AddIOp::create(nb, nl, row, indexConstant(nb, nl, r)));

        // The first key of each vector of 16 in the block.
        Value keyBlock = arith::DivUIOp::create(nb, nl, key, block);
        SmallVector<Value> firstKeys;
        for (int64_t v = 0; v < kKeyVectors; ++v)
          firstKeys.push_back(arith::AddIOp::create(
              nb, nl, key, indexConstant(nb, nl, v * kLanes)));

        SmallVector<SmallVector<Value>> scores = buildBlockProducts(
            nb, nl, a.query, a.keysT, a.headSize, batch, head, keyBlock,
            queryRows);

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
        if (a.dropout && withValues) {
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
        for (int64_t j = 0; withValues && j < kKeyBlock; ++j) {
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
  RowFold fold;
  // With dropout the kept values are scaled by 1 / (1 - rate) here.
  Value numerator =
      floatConstant(b, loc, type, a.dropout ? a.dropout->keepScale : 1.0);
  Value posInf =
      floatConstant(b, loc, type, std::numeric_limits<double>::infinity());
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
    if (withValues)
      fold.values.push_back(chunks);
    // The sum is of exp(s - max) (max finite once sum > 0).
    fold.logSumExp.push_back(arith::SelectOp::create(
        b, loc, positive,
        arith::AddFOp::create(b, loc, state[0],
                              math::LogOp::create(b, loc, state[1])),
        posInf));
  }
  return fold;
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
      buildRows(b, loc, a, ivs[0], ivs[1], row, rows).values;

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

/// A tensor type of `shape`, its constant sizes static.
RankedTensorType tensorType(ArrayRef<OpFoldResult> shape, Type elementType) {
  SmallVector<int64_t> sizes;
  for (OpFoldResult size : shape)
    sizes.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  return RankedTensorType::get(sizes, elementType);
}

/// `source` ([B, H, N, X]) followed by zero rows up to `rows`.
Value padRows(OpBuilder &b, Location loc, Value source, OpFoldResult rows) {
  SmallVector<OpFoldResult> shape = tensor::getMixedSizes(b, loc, source);
  SmallVector<OpFoldResult> paddedShape = shape;
  paddedShape[2] = rows;
  auto type = cast<FloatType>(getElementTypeOrSelf(source));
  return writePadded(b, loc, paddedShape, shape, floatConstant(b, loc, type, 0.0),
                     [&](Value) { return source; });
}

/// The reassociation of [B, H, N' / 32, 32, X] into [B, H, N', X].
SmallVector<ReassociationIndices> blockReassociation() {
  return {{0}, {1}, {2, 3}, {4}};
}

/// `padded` ([B, H, N', X], N' = `blocks` * kKeyBlock) as [B, H, N' / 32, X,
/// 32]: each block of 32 rows transposed.
Value blockTransposed(OpBuilder &b, Location loc, Value padded,
                      OpFoldResult blocks) {
  SmallVector<OpFoldResult> shape = tensor::getMixedSizes(b, loc, padded);
  Type elementType = getElementTypeOrSelf(padded);
  OpFoldResult block = b.getIndexAttr(kKeyBlock);
  SmallVector<OpFoldResult> expandedShape = {shape[0], shape[1], blocks, block,
                                             shape[3]};
  Value expanded = tensor::ExpandShapeOp::create(
      b, loc, tensorType(expandedShape, elementType), padded,
      blockReassociation(), expandedShape);
  Value init = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{shape[0], shape[1], blocks, shape[3], block},
      elementType);
  return linalg::TransposeOp::create(b, loc, expanded, init,
                                     ArrayRef<int64_t>{0, 1, 2, 4, 3})
      .getResult()[0];
}

/// The inverse of blockTransposed: `blocked` ([B, H, N' / 32, X, 32]) as
/// [B, H, `rows`, X], without the rows after `rows`.
Value unblocked(OpBuilder &b, Location loc, Value blocked, OpFoldResult rows) {
  SmallVector<OpFoldResult> shape = tensor::getMixedSizes(b, loc, blocked);
  Type elementType = getElementTypeOrSelf(blocked);
  Value init = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{shape[0], shape[1], shape[2], shape[4], shape[3]},
      elementType);
  Value transposed = linalg::TransposeOp::create(b, loc, blocked, init,
                                                 ArrayRef<int64_t>{0, 1, 2, 4, 3})
                         .getResult()[0];
  Value collapsed = tensor::CollapseShapeOp::create(b, loc, transposed,
                                                    blockReassociation());
  SmallVector<OpFoldResult> zeros(4, b.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(
      b, loc, collapsed, zeros,
      ArrayRef<OpFoldResult>{shape[0], shape[1], rows, shape[3]}, ones);
}

/// What the loops of the forward op or of its gradient `op` read.
template <typename OpTy>
Attention prepareAttention(OpBuilder &b, OpTy op) {
  Location loc = op.getLoc();
  Value query = op.getQuery(), key = op.getKey();
  auto queryType = cast<RankedTensorType>(query.getType());
  Attention a;
  a.elementType = cast<FloatType>(queryType.getElementType());
  // Sizes: static ones stay attributes, so the built tensors keep them.
  a.batchSize = tensor::getMixedSize(b, loc, query, 0);
  a.headCount = tensor::getMixedSize(b, loc, query, 1);
  a.querySize = tensor::getMixedSize(b, loc, query, 2);
  a.keySize = tensor::getMixedSize(b, loc, key, 2);
  auto value = [&](OpFoldResult size) {
    return getValueOrCreateConstantIndexOp(b, loc, size);
  };
  a.batch = value(a.batchSize);
  a.heads = value(a.headCount);
  a.numQueries = value(a.querySize);
  a.numKeys = value(a.keySize);
  Value block = indexConstant(b, loc, kKeyBlock);
  a.keyBlocks = arith::CeilDivUIOp::create(b, loc, a.numKeys, block);
  a.paddedKeys = arith::MulIOp::create(b, loc, a.keyBlocks, block);
  a.query = query;
  a.headSize = queryType.getDimSize(3);
  a.valueSize = cast<RankedTensorType>(op.getValue().getType()).getDimSize(3);
  a.scale = op.getEffectiveScale();
  a.causal = op.getCausal();
  if (double rate = op.getDropout().convertToDouble(); rate != 0.0) {
    a.rowGroups = arith::CeilDivUIOp::create(
        b, loc, a.numQueries, indexConstant(b, loc, kGradRows));
    a.dropout = buildDropoutKey(b, loc, op.getSeed(), op.getStep(), rate,
                                op.getStream());
  }
  a.keys = padRows(b, loc, key, a.paddedKeys);
  a.keysT = blockTransposed(b, loc, a.keys, a.keyBlocks);
  a.values = op.getValue();
  a.bias = buildKeyBias(b, loc, op.getKeyMask(), a.batchSize, a.keySize,
                        a.paddedKeys, a.elementType);
  return a;
}

Value tileAttention(OpBuilder &b, DotProductAttentionOp op, int64_t rows) {
  Location loc = op.getLoc();
  Attention a = prepareAttention(b, op);
  // Full blocks of `rows` queries, then the T mod rows last ones one by one.
  Value out = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{a.batchSize, a.headCount, a.querySize,
                             b.getIndexAttr(a.valueSize)},
      a.elementType);
  Value rowsValue = indexConstant(b, loc, rows);
  Value fullBlocks = arith::DivUIOp::create(b, loc, a.numQueries, rowsValue);
  Value c0 = indexConstant(b, loc, 0);
  out = buildRowBlocks(b, loc, a, out, a.batch, a.heads, fullBlocks, c0, rows);
  if (rows > 1) {
    Value tailStart = arith::MulIOp::create(b, loc, fullBlocks, rowsValue);
    Value tail = arith::SubIOp::create(b, loc, a.numQueries, tailStart);
    out = buildRowBlocks(b, loc, a, out, a.batch, a.heads, tail, tailStart, 1);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// The gradient
//===----------------------------------------------------------------------===//

/// What the gradient's loops read besides the forward's (whose `query` is
/// here padded with zero rows to T', a multiple of kGradRows).
struct AttentionGrad {
  Attention a;
  Value paddedQueries; // T'
  Value resultGrad;    // dO: [B, H, T', F], zero padded
  Value output;        // O: [B, H, T', F], zero padded, or null if not given
  Value valuesT;       // [B, H, S' / 32, F, 32], like the forward's keysT
  Value logSumExp;     // L: [B, H, T']
  Value rowDot;        // D = dO . O = sum_j P dP: [B, H, T']
};

/// L and D of every query row: `scf.forall` over (batch, head, block of
/// kGradRows rows), each block the forward's walk over the keys. With the
/// forward's output O given, the walk forms L alone (one product per key
/// instead of two) and D = dO . O reads O; without, it recomputes O. The
/// padding rows' D is 0 (their dO is), so they add nothing to dK and dV.
std::pair<Value, Value> buildRowStatistics(OpBuilder &b, Location loc,
                                           const AttentionGrad &g) {
  const Attention &a = g.a;
  Value blocks = arith::DivUIOp::create(b, loc, g.paddedQueries,
                                        indexConstant(b, loc, kGradRows));
  SmallVector<OpFoldResult> shape = {a.batchSize, a.headCount,
                                     g.paddedQueries};
  SmallVector<Value> inits;
  for (int i = 0; i < 2; ++i)
    inits.push_back(tensor::EmptyOp::create(b, loc, shape, a.elementType));
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{a.batchSize, a.headCount, blocks}, inits,
      std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  SmallVector<Value> ivs = forall.getInductionVars();
  Value batch = ivs[0], head = ivs[1];
  Value row = arith::MulIOp::create(b, loc, ivs[2],
                                    indexConstant(b, loc, kGradRows));
  RowFold fold = buildRows(b, loc, a, batch, head, row, kGradRows,
                           /*withValues=*/!g.output);

  SmallVector<Value> dots;
  for (int64_t r = 0; r < kGradRows; ++r) {
    Value i = arith::AddIOp::create(b, loc, row, indexConstant(b, loc, r));
    auto read = [&](Value source, int64_t c, int64_t width) {
      return readVector(
          b, loc, source,
          ValueRange{batch, head, i, indexConstant(b, loc, c * kLanes)}, width);
    };
    Value dot;
    for (auto [c, width] : llvm::enumerate(chunkWidths(a.valueSize))) {
      Value out = g.output ? read(g.output, c, width) : fold.values[r][c];
      Value grad = read(g.resultGrad, c, width);
      Value partial = vector::ReductionOp::create(
          b, loc, vector::CombiningKind::ADD,
          arith::MulFOp::create(b, loc, out, grad));
      dot = dot ? arith::AddFOp::create(b, loc, dot, partial).getResult()
                : partial;
    }
    dots.push_back(dot);
  }

  auto tileType = VectorType::get({kGradRows}, a.elementType);
  SmallVector<int64_t> tileShape = {1, 1, kGradRows};
  Value c0 = indexConstant(b, loc, 0);
  SmallVector<Value> tiles;
  for (ArrayRef<Value> rowValues :
       {ArrayRef<Value>(fold.logSumExp), ArrayRef<Value>(dots)})
    tiles.push_back(
        vector::TransferWriteOp::create(
            b, loc, vector::FromElementsOp::create(b, loc, tileType, rowValues),
            tensor::EmptyOp::create(b, loc, tileShape, a.elementType),
            ValueRange{c0, c0, c0}, ArrayRef<bool>{true})
            .getResult());

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  SmallVector<OpFoldResult> offsets = {batch, head, row};
  SmallVector<OpFoldResult> sizes =
      getAsIndexOpFoldResult(b.getContext(), tileShape);
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  for (auto [tile, dest] : llvm::zip(tiles, forall.getRegionIterArgs()))
    tensor::ParallelInsertSliceOp::create(b, loc, tile, dest, offsets, sizes,
                                          strides);
  return {forall.getResult(0), forall.getResult(1)};
}

/// One head's dQ ([1, 1, T', E]), dK^T and dV^T ([1, 1, S' / 32, E or F,
/// 32], blocked like keysT) while they are summed.
struct HeadGrads {
  Value query, keysT, valuesT;
};

/// Adds what the kGradRows query rows from `row` on and the keys of block
/// `keyBlock` of head (`batch`, `head`) contribute to `grads`.
HeadGrads buildKeyBlockRows(OpBuilder &b, Location loc, const AttentionGrad &g,
                            Value batch, Value head, Value keyBlock, Value row,
                            HeadGrads grads) {
  const Attention &a = g.a;
  FloatType type = a.elementType;
  auto vectorType = VectorType::get({kLanes}, type);
  auto indexType = VectorType::get({kLanes}, b.getIndexType());
  Value c0 = indexConstant(b, loc, 0);
  auto read = [&](Value source, ValueRange indices, int64_t width) {
    return readVector(b, loc, source, indices, width);
  };
  auto write = [&](Value vector, Value dest, ValueRange indices) {
    return vector::TransferWriteOp::create(b, loc, vector, dest, indices,
                                           ArrayRef<bool>{true})
        .getResult();
  };

  Value key = arith::MulIOp::create(b, loc, keyBlock,
                                    indexConstant(b, loc, kKeyBlock));
  SmallVector<Value> queryRows, lanes, firstKeys;
  for (int64_t r = 0; r < kGradRows; ++r)
    queryRows.push_back(
        arith::AddIOp::create(b, loc, row, indexConstant(b, loc, r)));
  for (int64_t v = 0; v < kKeyVectors; ++v) {
    lanes.push_back(indexConstant(b, loc, v * kLanes));
    firstKeys.push_back(arith::AddIOp::create(b, loc, key, lanes[v]));
  }

  // The rows x 32 scores s and dP before dropout, dO . v.
  SmallVector<SmallVector<Value>> scores =
      buildBlockProducts(b, loc, a.query, a.keysT, a.headSize, batch, head,
                         keyBlock, queryRows, /*unrolled=*/false);
  SmallVector<SmallVector<Value>> gradDots =
      buildBlockProducts(b, loc, g.resultGrad, g.valuesT, a.valueSize, batch,
                         head, keyBlock, queryRows, /*unrolled=*/false);

  // P = exp(s - L) (s scaled, biased, causally masked: 0 where the forward's
  // was), the kept P scaled by 1 / (1 - rate) (Pd), and dS = P (dP - D)
  // scale, dP the kept dO . v scaled alike.
  SmallVector<Value> bias, keyIndex;
  for (int64_t v = 0; v < kKeyVectors; ++v) {
    bias.push_back(read(a.bias, {batch, firstKeys[v]}, kLanes));
    if (a.causal)
      keyIndex.push_back(arith::AddIOp::create(
          b, loc, vector::StepOp::create(b, loc, indexType),
          vector::BroadcastOp::create(b, loc, indexType, firstKeys[v])));
  }
  // One Philox evaluation per vector of keys for the four rows (`row` is a
  // multiple of 4): row r takes its word r.
  SmallVector<std::array<Value, 4>> words;
  if (a.dropout) {
    Value group = buildRowGroup(b, loc, a, batch, head, row);
    for (int64_t v = 0; v < kKeyVectors; ++v)
      words.push_back(buildKeepWords(b, loc, a, firstKeys[v], group));
  }
  Value scale = splat(b, loc, floatConstant(b, loc, type, a.scale), kLanes);
  Value zeros = splat(b, loc, floatConstant(b, loc, type, 0.0), kLanes);
  Value negInfs = splat(
      b, loc,
      floatConstant(b, loc, type, -std::numeric_limits<double>::infinity()),
      kLanes);
  Value shift;
  if (a.causal)
    shift = arith::SubIOp::create(b, loc, a.numKeys, a.numQueries);
  SmallVector<SmallVector<Value>> kept(kGradRows), scoreGrads(kGradRows);
  for (int64_t r = 0; r < kGradRows; ++r) {
    auto rowValue = [&](Value source) {
      return splat(b, loc,
                   tensor::ExtractOp::create(
                       b, loc, source, ValueRange{batch, head, queryRows[r]}),
                   kLanes);
    };
    Value logSumExp = rowValue(g.logSumExp), rowDot = rowValue(g.rowDot);
    Value limit;
    if (a.causal)
      limit = vector::BroadcastOp::create(
          b, loc, indexType, arith::AddIOp::create(b, loc, queryRows[r], shift));
    for (int64_t v = 0; v < kKeyVectors; ++v) {
      Value s = vector::FMAOp::create(b, loc, scores[r][v], scale, bias[v]);
      if (a.causal) {
        Value visible = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::sle, keyIndex[v], limit);
        s = arith::SelectOp::create(b, loc, visible, s, negInfs);
      }
      Value p = math::ExpOp::create(
          b, loc, arith::SubFOp::create(b, loc, s, logSumExp));
      Value pd = p, dp = gradDots[r][v];
      if (a.dropout) {
        Value keep = a.dropout->keeps(b, loc, words[v][r]);
        Value keepScale = splat(
            b, loc, floatConstant(b, loc, type, a.dropout->keepScale), kLanes);
        pd = arith::SelectOp::create(
            b, loc, keep, arith::MulFOp::create(b, loc, p, keepScale), zeros);
        dp = arith::SelectOp::create(
            b, loc, keep, arith::MulFOp::create(b, loc, dp, keepScale), zeros);
      }
      kept[r].push_back(pd);
      scoreGrads[r].push_back(arith::MulFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, p,
                                arith::SubFOp::create(b, loc, dp, rowDot)),
          scale));
    }
  }

  // dV^T[f, keys] += sum_r dO[r, f] Pd[r, keys] and dK^T[e, keys] += sum_r
  // q[r, e] dS[r, keys]: the block's sums, 8 KiB each (f32), stay in L1.
  // Each row element is read as a broadcast.
  auto broadcastMap = AffineMap::get(
      4, 0, {getAffineConstantExpr(0, b.getContext())}, b.getContext());
  auto accumulate = [&](Value sums, Value rowsSource, int64_t size,
                        ArrayRef<SmallVector<Value>> weights) {
    // An scf.for over x, like the products (unrolled, LLVM kept the row
    // elements of every x live across the block).
    auto loop = scf::ForOp::create(b, loc, c0, indexConstant(b, loc, size),
                                   indexConstant(b, loc, 1), sums);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value x = loop.getInductionVar();
    Value partial = loop.getRegionIterArgs()[0];
    SmallVector<Value> elements;
    for (Value i : queryRows)
      elements.push_back(vector::TransferReadOp::create(
          b, loc, vectorType, rowsSource, ValueRange{batch, head, i, x},
          /*padding=*/std::nullopt, broadcastMap, ArrayRef<bool>{true}));
    for (int64_t v = 0; v < kKeyVectors; ++v) {
      SmallVector<Value> indices = {c0, c0, keyBlock, x, lanes[v]};
      Value sum = read(partial, indices, kLanes);
      for (int64_t r = 0; r < kGradRows; ++r)
        sum = vector::FMAOp::create(b, loc, elements[r], weights[r][v], sum);
      partial = write(sum, partial, indices);
    }
    scf::YieldOp::create(b, loc, partial);
    return loop.getResult(0);
  };
  grads.valuesT =
      accumulate(grads.valuesT, g.resultGrad, a.valueSize, kept);
  grads.keysT = accumulate(grads.keysT, a.query, a.headSize, scoreGrads);

  // dQ[r, :] += sum_j dS[r, j] k_j: the rows' E values in registers, each
  // key's row times a broadcast dS.
  SmallVector<int64_t> widths = chunkWidths(a.headSize);
  SmallVector<SmallVector<Value>> queryGrads(kGradRows);
  for (int64_t r = 0; r < kGradRows; ++r)
    for (auto [c, width] : llvm::enumerate(widths))
      queryGrads[r].push_back(
          read(grads.query,
               {c0, c0, queryRows[r], indexConstant(b, loc, c * kLanes)},
               width));
  for (int64_t j = 0; j < kKeyBlock; ++j) {
    Value position = arith::AddIOp::create(b, loc, key, indexConstant(b, loc, j));
    SmallVector<Value> weights;
    for (int64_t r = 0; r < kGradRows; ++r)
      weights.push_back(vector::ExtractOp::create(
          b, loc, scoreGrads[r][j / kLanes], j % kLanes));
    for (auto [c, width] : llvm::enumerate(widths)) {
      Value keyRow = read(a.keys,
                          {batch, head, position,
                           indexConstant(b, loc, c * kLanes)},
                          width);
      for (int64_t r = 0; r < kGradRows; ++r)
        queryGrads[r][c] = vector::FMAOp::create(
            b, loc, splat(b, loc, weights[r], width), keyRow,
            queryGrads[r][c]);
    }
  }
  for (int64_t r = 0; r < kGradRows; ++r)
    for (auto [c, sum] : llvm::enumerate(queryGrads[r]))
      grads.query = write(
          sum, grads.query,
          {c0, c0, queryRows[r], indexConstant(b, loc, c * kLanes)});
  return grads;
}

/// dQ ([B, H, T', E]), dK^T and dV^T (blocked): `scf.forall` over (batch,
/// head), each walking its blocks of keys and, for each, the groups of
/// kGradRows query rows that see it.
HeadGrads buildKeyBlocks(OpBuilder &b, Location loc, const AttentionGrad &g) {
  const Attention &a = g.a;
  Value zero = floatConstant(b, loc, a.elementType, 0.0);
  OpFoldResult block = b.getIndexAttr(kKeyBlock);
  OpFoldResult headSize = b.getIndexAttr(a.headSize);
  OpFoldResult valueSize = b.getIndexAttr(a.valueSize);
  auto zeros = [&](ArrayRef<OpFoldResult> shape) {
    return linalg::FillOp::create(
               b, loc, zero,
               tensor::EmptyOp::create(b, loc, shape, a.elementType)
                   .getResult())
        .getResult(0);
  };
  SmallVector<SmallVector<OpFoldResult>> shapes = {
      {a.batchSize, a.headCount, g.paddedQueries, headSize},
      {a.batchSize, a.headCount, a.keyBlocks, headSize, block},
      {a.batchSize, a.headCount, a.keyBlocks, valueSize, block}};
  SmallVector<Value> inits;
  for (ArrayRef<OpFoldResult> shape : shapes)
    inits.push_back(zeros(shape));
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{a.batchSize, a.headCount}, inits,
      std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  SmallVector<Value> ivs = forall.getInductionVars();
  Value batch = ivs[0], head = ivs[1];

  // The head's part of each gradient: [1, 1, ...].
  SmallVector<SmallVector<OpFoldResult>> offsets, sizes, strides;
  SmallVector<Value> slices;
  for (auto [shape, dest] : llvm::zip(shapes, forall.getRegionIterArgs())) {
    SmallVector<OpFoldResult> offset(shape.size(), b.getIndexAttr(0));
    offset[0] = batch;
    offset[1] = head;
    SmallVector<OpFoldResult> size = shape;
    size[0] = size[1] = b.getIndexAttr(1);
    strides.emplace_back(shape.size(), b.getIndexAttr(1));
    slices.push_back(tensor::ExtractSliceOp::create(b, loc, dest, offset, size,
                                                    strides.back()));
    offsets.push_back(offset);
    sizes.push_back(size);
  }

  Value c0 = indexConstant(b, loc, 0);
  Value c1 = indexConstant(b, loc, 1);
  Value groupRows = indexConstant(b, loc, kGradRows);
  auto keyLoop = scf::ForOp::create(
      b, loc, c0, a.keyBlocks, c1, slices,
      [&](OpBuilder &kb, Location kl, Value keyBlock, ValueRange keyCarried) {
        // Causal: the first row that sees the block's first key is
        // key - (S - T); from the group holding it.
        Value start = c0;
        if (a.causal) {
          Value key = arith::MulIOp::create(kb, kl, keyBlock,
                                            indexConstant(kb, kl, kKeyBlock));
          Value first = arith::MaxSIOp::create(
              kb, kl,
              arith::SubIOp::create(
                  kb, kl, key,
                  arith::SubIOp::create(kb, kl, a.numKeys, a.numQueries)),
              c0);
          start = arith::MulIOp::create(
              kb, kl, arith::DivUIOp::create(kb, kl, first, groupRows),
              groupRows);
        }
        auto rowLoop = scf::ForOp::create(
            kb, kl, start, g.paddedQueries, groupRows, keyCarried,
            [&](OpBuilder &rb, Location rl, Value row, ValueRange carried) {
              HeadGrads grads = buildKeyBlockRows(
                  rb, rl, g, batch, head, keyBlock, row,
                  {carried[0], carried[1], carried[2]});
              scf::YieldOp::create(
                  rb, rl, ValueRange{grads.query, grads.keysT, grads.valuesT});
            });
        scf::YieldOp::create(kb, kl, rowLoop.getResults());
      });

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  for (auto [i, dest] : llvm::enumerate(forall.getRegionIterArgs()))
    tensor::ParallelInsertSliceOp::create(b, loc, keyLoop.getResult(i), dest,
                                          offsets[i], sizes[i], strides[i]);
  return {forall.getResult(0), forall.getResult(1), forall.getResult(2)};
}

/// dQ, dK and dV of `op` without the [B, H, T, S] probabilities.
SmallVector<Value> tileAttentionGrad(OpBuilder &b,
                                     DotProductAttentionGradOp op) {
  Location loc = op.getLoc();
  AttentionGrad g;
  g.a = prepareAttention(b, op);
  Attention &a = g.a;
  Value groupRows = indexConstant(b, loc, kGradRows);
  g.paddedQueries = arith::MulIOp::create(
      b, loc, arith::CeilDivUIOp::create(b, loc, a.numQueries, groupRows),
      groupRows);
  a.query = padRows(b, loc, op.getQuery(), g.paddedQueries);
  g.resultGrad = padRows(b, loc, op.getResultGrad(), g.paddedQueries);
  if (Value output = op.getOutput())
    g.output = padRows(b, loc, output, g.paddedQueries);
  g.valuesT = blockTransposed(
      b, loc, padRows(b, loc, op.getValue(), a.paddedKeys), a.keyBlocks);
  std::tie(g.logSumExp, g.rowDot) = buildRowStatistics(b, loc, g);
  HeadGrads grads = buildKeyBlocks(b, loc, g);

  SmallVector<OpFoldResult> zeros(4, b.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
  Value queryGrad = tensor::ExtractSliceOp::create(
      b, loc, grads.query, zeros,
      ArrayRef<OpFoldResult>{a.batchSize, a.headCount, a.querySize,
                             b.getIndexAttr(a.headSize)},
      ones);
  return {queryGrad, unblocked(b, loc, grads.keysT, a.keySize),
          unblocked(b, loc, grads.valuesT, a.keySize)};
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
    // Others keep the reference lowering of convert-convseq-to-linalg: a
    // head too long to unroll, a decoder step (whose one query per head
    // reads the keys as they are). Dropout (the verifier ensures an RNG key
    // with it) draws its mask in the loops.
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (auto forward = dyn_cast<DotProductAttentionOp>(op);
          forward && forward.fitsRowKernels(minRows, kMaxHeadSize))
        ops.push_back(op);
      if (auto grad = dyn_cast<DotProductAttentionGradOp>(op);
          grad && gradients && grad.fitsRowKernels(minRows, kMaxHeadSize))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      if (auto forward = dyn_cast<DotProductAttentionOp>(op)) {
        Value out = tileAttention(b, forward, rows);
        forward.getResult().replaceAllUsesWith(out);
      } else {
        op->replaceAllUsesWith(
            tileAttentionGrad(b, cast<DotProductAttentionGradOp>(op)));
      }
      op->erase();
    }
  }
};

} // namespace
