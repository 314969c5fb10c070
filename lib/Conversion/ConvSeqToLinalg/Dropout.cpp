//===- Dropout.cpp - dropout to linalg through Philox-4x32-10 -------------===//
//
// Counter-based randomness (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3"): the keep decision of element e is a pure function of
// (seed, step, stream, e), so any tiling, thread count or recomputation in
// the backward pass draws the same mask.
//
//   key     = (seed[31:0], seed[63:32])
//   counter = (e[31:0], e[63:32], stream, step[31:0])
//   keep    = philox4x32_10(counter, key)[0] >= rate * 2^32
//
//===----------------------------------------------------------------------===//

#include "lib/Conversion/ConvSeqToLinalg/PopulatePatterns.h"
#include "lib/Conversion/ConvSeqToLinalg/Utils.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::lowering;

namespace {

constexpr uint32_t kMultiplier0 = 0xD2511F53, kMultiplier1 = 0xCD9E8D57;
constexpr uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;

Value i32Constant(OpBuilder &b, Location loc, uint32_t value) {
  return arith::ConstantOp::create(
      b, loc, b.getI32Type(),
      b.getI32IntegerAttr(static_cast<int32_t>(value)));
}

/// The low and high 32 bits of an i64.
std::pair<Value, Value> split64(OpBuilder &b, Location loc, Value value) {
  Type i32 = b.getI32Type();
  Value low = arith::TruncIOp::create(b, loc, i32, value);
  Value shifted = arith::ShRUIOp::create(
      b, loc, value,
      arith::ConstantOp::create(b, loc, b.getI64Type(),
                                b.getI64IntegerAttr(32)));
  return {low, arith::TruncIOp::create(b, loc, i32, shifted)};
}

/// The first output word of Philox-4x32 with 10 rounds.
Value philoxFirstWord(OpBuilder &b, Location loc, std::array<Value, 4> counter,
                      std::array<Value, 2> key) {
  Value m0 = i32Constant(b, loc, kMultiplier0);
  Value m1 = i32Constant(b, loc, kMultiplier1);
  Value w0 = i32Constant(b, loc, kWeyl0);
  Value w1 = i32Constant(b, loc, kWeyl1);
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
  return counter[0];
}

struct DropoutLowering : OpConversionPattern<DropoutOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildDropout(rewriter, op.getLoc(), adaptor.getInput(),
                         adaptor.getSeed(), adaptor.getStep(),
                         op.getRate().convertToDouble(), op.getStream()));
    return success();
  }
};

} // namespace

Value lowering::buildDropout(OpBuilder &b, Location loc, Value input, Value seed,
                           Value step, double rate, int64_t stream) {
  auto type = cast<RankedTensorType>(input.getType());
  Type elementType = type.getElementType();
  SmallVector<Value> dims;
  for (int64_t d = 0; d < type.getRank(); ++d)
    dims.push_back(tensor::DimOp::create(b, loc, input, d));
  // keep iff the word is >= threshold; rate < 1, so threshold < 2^32.
  uint32_t threshold = static_cast<uint32_t>(
      std::min(std::ldexp(rate, 32), 4294967295.0));
  double keepScale = 1.0 / (1.0 - rate);
  auto [key0, key1] = split64(b, loc, seed);
  Value step32 = split64(b, loc, step).first;
  Value stream32 = i32Constant(b, loc, static_cast<uint32_t>(stream));

  Value init = createEmpty(b, loc, getSizes(b, loc, input), elementType);
  return buildElementwise(
      b, loc, input, init, [&](OpBuilder &nb, Location nl, ValueRange args) {
        auto [e0, e1] = split64(nb, nl, linearIndex(nb, nl, dims));
        Value word = philoxFirstWord(nb, nl, {e0, e1, stream32, step32},
                                     {key0, key1});
        Value keep = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::uge,
                                           word,
                                           i32Constant(nb, nl, threshold));
        Value scaled = arith::MulFOp::create(
            nb, nl, args[0], floatConstant(nb, nl, elementType, keepScale));
        return SmallVector<Value>{arith::SelectOp::create(
            nb, nl, keep, scaled, floatConstant(nb, nl, elementType, 0.0))};
      });
}

void lowering::populateDropoutPatterns(RewritePatternSet &patterns) {
  patterns.add<DropoutLowering>(patterns.getContext());
}
