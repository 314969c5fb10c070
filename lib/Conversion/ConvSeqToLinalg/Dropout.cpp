//===- Dropout.cpp - dropout to linalg through Philox-4x32-10 -------------===//
//
// Element (lead..., i, j) of the input is kept with the Philox keep decision
// of lib/Support/Philox.h, and scaled by 1 / (1 - rate).
//
//===----------------------------------------------------------------------===//

#include "lib/Conversion/ConvSeqToLinalg/PopulatePatterns.h"
#include "lib/Conversion/ConvSeqToLinalg/Utils.h"

#include "dialect/ConvSeqOps.h"
#include "lib/Support/Philox.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::lowering;

namespace {

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
  // The sizes: R and the leading ones number the groups of four rows.
  SmallVector<Value> dims;
  for (int64_t d = 0; d < type.getRank(); ++d)
    dims.push_back(tensor::DimOp::create(b, loc, input, d));
  DropoutKey key = buildDropoutKey(b, loc, seed, step, rate, stream);
  Type i32 = b.getI32Type();
  Value stream32 = key.streamWord(b, loc, i32);
  int64_t rank = type.getRank();
  // Groups of four rows per leading index: ceil(R / 4).
  Value four = arith::ConstantIndexOp::create(b, loc, kPhiloxRowsPerEvaluation);
  Value groups =
      rank >= 2
          ? arith::CeilDivUIOp::create(b, loc, dims[rank - 2], four).getResult()
          : arith::ConstantIndexOp::create(b, loc, 1).getResult();

  Value init = createEmpty(b, loc, getSizes(b, loc, input), elementType);
  return buildElementwise(
      b, loc, input, init, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value zero = arith::ConstantIndexOp::create(nb, nl, 0);
        Value column =
            rank >= 1 ? linalg::IndexOp::create(nb, nl, rank - 1).getResult()
                      : zero;
        Value row = rank >= 2
                        ? linalg::IndexOp::create(nb, nl, rank - 2).getResult()
                        : zero;
        Value lead = zero;
        for (int64_t d = 0; d + 2 < rank; ++d)
          lead = arith::AddIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, lead, dims[d]),
              linalg::IndexOp::create(nb, nl, d));
        Value group = arith::AddIOp::create(
            nb, nl, arith::MulIOp::create(nb, nl, lead, groups),
            arith::DivUIOp::create(nb, nl, row,
                                   arith::ConstantIndexOp::create(
                                       nb, nl, kPhiloxRowsPerEvaluation)));
        std::array<Value, 4> words =
            philoxWords(nb, nl,
                        {arith::IndexCastUIOp::create(nb, nl, i32, column),
                         arith::IndexCastUIOp::create(nb, nl, i32, group),
                         stream32, key.step},
                        {key.seed, key.seedHigh});
        Value keep = key.keeps(nb, nl, selectWord(nb, nl, words, row));
        Value scaled = arith::MulFOp::create(
            nb, nl, args[0], floatConstant(nb, nl, elementType, key.keepScale));
        return SmallVector<Value>{arith::SelectOp::create(
            nb, nl, keep, scaled, floatConstant(nb, nl, elementType, 0.0))};
      });
}

void lowering::populateDropoutPatterns(RewritePatternSet &patterns) {
  patterns.add<DropoutLowering>(patterns.getContext());
}
