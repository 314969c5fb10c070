//===- Philox.h - Philox-4x32-10 keep decisions in IR -----------*- C++ -*-===//
//
// Counter-based randomness (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3"): the keep decision of a dropout element is a pure function of
// (seed, step, stream, position), so any tiling, thread count or
// recomputation in the backward pass draws the same mask. One evaluation
// gives four words, used by four rows: element (lead..., i, j) of a tensor
// [..., R, C] (a vector is one row, i = 0) with g = lead * ceil(R / 4) +
// i / 4, `lead` the row-major index of the leading dimensions, is kept iff
//
//   key     = (seed[31:0], seed[63:32])
//   counter = (j, g, stream, step[31:0])        (32 bits each)
//   keep    = philox4x32_10(counter, key)[i mod 4] >= rate * 2^32
//
// The lowering of convseq.dropout (scalars in a linalg.generic),
// convseq-tile-attention's loop (vectors of keys, one evaluation for four
// query rows) and convseq-tile-gpu-attention's kernels (one evaluation a
// thread for four rows, staged in shared memory) build the same rounds.
// Header-only: users link the arith dialect already.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_SUPPORT_PHILOX_H
#define CONVSEQ_LIB_SUPPORT_PHILOX_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>

namespace mlir::convseq {

/// The rows that share one evaluation, each taking one of its words.
constexpr int64_t kPhiloxRowsPerEvaluation = 4;

/// An i32 constant of `type`: i32, or a vector of i32 (a splat).
inline Value philoxConstant(OpBuilder &b, Location loc, Type type,
                            uint32_t value) {
  APInt bits(32, value);
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(vector, bits));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, bits));
}

/// The low and high 32 bits of an i64.
inline std::pair<Value, Value> splitWords(OpBuilder &b, Location loc,
                                          Value value) {
  Type i32 = b.getI32Type();
  Value low = arith::TruncIOp::create(b, loc, i32, value);
  Value high = arith::ShRUIOp::create(
      b, loc, value,
      arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(32)));
  return {low, arith::TruncIOp::create(b, loc, i32, high)};
}

/// The four output words of Philox-4x32 with 10 rounds. The counter and key
/// words are all i32 or all vectors of i32 of one shape.
inline std::array<Value, 4> philoxWords(OpBuilder &b, Location loc,
                                        std::array<Value, 4> counter,
                                        std::array<Value, 2> key) {
  Type type = counter[0].getType();
  Value m0 = philoxConstant(b, loc, type, 0xD2511F53);
  Value m1 = philoxConstant(b, loc, type, 0xCD9E8D57);
  Value w0 = philoxConstant(b, loc, type, 0x9E3779B9);
  Value w1 = philoxConstant(b, loc, type, 0xBB67AE85);
  for (int round = 0; round < 10; ++round) {
    auto p0 = arith::MulUIExtendedOp::create(b, loc, m0, counter[0]);
    auto p1 = arith::MulUIExtendedOp::create(b, loc, m1, counter[2]);
    Value x0 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, p1.getHigh(), counter[1]),
        key[0]);
    Value x2 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, p0.getHigh(), counter[3]),
        key[1]);
    counter = {x0, p1.getLow(), x2, p0.getLow()};
    key = {arith::AddIOp::create(b, loc, key[0], w0),
           arith::AddIOp::create(b, loc, key[1], w1)};
  }
  return counter;
}

/// `words[row mod 4]` for an index `row` (the same for every lane).
inline Value selectWord(OpBuilder &b, Location loc, std::array<Value, 4> words,
                        Value row) {
  Value which = arith::RemUIOp::create(
      b, loc, row,
      arith::ConstantIndexOp::create(b, loc, kPhiloxRowsPerEvaluation));
  Value word = words[3];
  for (int k = 2; k >= 0; --k) {
    Value isK =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, which,
                              arith::ConstantIndexOp::create(b, loc, k));
    word = arith::SelectOp::create(b, loc, isK, words[k], word);
  }
  return word;
}

/// Elements are kept where their word is >= this: rate * 2^32, clamped
/// (rate < 1, so it is below 2^32).
inline uint32_t dropoutThreshold(double rate) {
  return static_cast<uint32_t>(std::min(std::ldexp(rate, 32), 4294967295.0));
}

/// What a dropout's keep decisions share, all but the position: the key
/// and step words, the stream, the threshold and the scale of what is kept.
struct DropoutKey {
  Value seed, seedHigh; // i32: seed[31:0], seed[63:32]
  Value step;           // i32: step[31:0]
  uint32_t stream = 0, threshold = 0;
  double keepScale = 1.0; // 1 / (1 - rate)

  /// The i32 counter word of the stream.
  Value streamWord(OpBuilder &b, Location loc, Type type) const {
    return philoxConstant(b, loc, type, stream);
  }
  /// The i1 (or vector of i1) decision: `word` >= threshold.
  Value keeps(OpBuilder &b, Location loc, Value word) const {
    return arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::uge, word,
        philoxConstant(b, loc, word.getType(), threshold));
  }
};

/// The key of a dropout with i64 `seed` and `step`, keeping with
/// probability 1 - `rate` (0 <= rate < 1), on stream `stream`.
inline DropoutKey buildDropoutKey(OpBuilder &b, Location loc, Value seed,
                                  Value step, double rate, int64_t stream) {
  DropoutKey key;
  std::tie(key.seed, key.seedHigh) = splitWords(b, loc, seed);
  key.step = splitWords(b, loc, step).first;
  key.stream = static_cast<uint32_t>(stream);
  key.threshold = dropoutThreshold(rate);
  key.keepScale = 1.0 / (1.0 - rate);
  return key;
}

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_SUPPORT_PHILOX_H
