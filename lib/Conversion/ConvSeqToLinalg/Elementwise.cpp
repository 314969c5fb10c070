//===- Elementwise.cpp - glu, relu, gelu, softmax to linalg ---------------===//

#include "lib/Conversion/ConvSeqToLinalg/PopulatePatterns.h"
#include "lib/Conversion/ConvSeqToLinalg/Utils.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::lowering;

namespace {

/// An element-wise op whose result has the shape of its first operand; the
/// body computes one element from the operands' elements.
template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using Body = Value (*)(OpBuilder &, Location, ValueRange);

  ElementwiseLowering(MLIRContext *context, Body body)
      : OpConversionPattern<OpTy>(context), body(body) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ValueRange operands = adaptor.getOperands();
    auto type = cast<RankedTensorType>(op.getType());
    Value init = createEmpty(rewriter, loc, getSizes(rewriter, loc, operands[0]),
                             type.getElementType());
    rewriter.replaceOp(
        op, buildElementwise(rewriter, loc, operands, init,
                             [&](OpBuilder &b, Location l, ValueRange args) {
                               return SmallVector<Value>{
                                   body(b, l, args.drop_back())};
                             }));
    return success();
  }

  Body body;
};

/// value * sigmoid(gate) = value / (1 + exp(-gate)).
Value gluBody(OpBuilder &b, Location loc, ValueRange args) {
  Type type = args[0].getType();
  Value negGate = arith::NegFOp::create(b, loc, args[1]);
  Value denominator = arith::AddFOp::create(
      b, loc, floatConstant(b, loc, type, 1.0),
      math::ExpOp::create(b, loc, negGate));
  return arith::DivFOp::create(b, loc, args[0], denominator);
}

Value reluBody(OpBuilder &b, Location loc, ValueRange args) {
  return arith::MaximumFOp::create(
      b, loc, args[0], floatConstant(b, loc, args[0].getType(), 0.0));
}

/// 0.5 * x * (1 + erf(x / sqrt(2))).
Value geluBody(OpBuilder &b, Location loc, ValueRange args) {
  Type type = args[0].getType();
  Value scaled = arith::MulFOp::create(b, loc, args[0],
                                       floatConstant(b, loc, type, M_SQRT1_2));
  Value onePlusErf = arith::AddFOp::create(b, loc,
                                           floatConstant(b, loc, type, 1.0),
                                           math::ErfOp::create(b, loc, scaled));
  Value half = arith::MulFOp::create(b, loc, args[0],
                                     floatConstant(b, loc, type, 0.5));
  return arith::MulFOp::create(b, loc, half, onePlusErf);
}

struct SoftmaxLowering : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op,
                       buildSoftmax(rewriter, op.getLoc(), adaptor.getInput()));
    return success();
  }
};

} // namespace

void lowering::populateElementwisePatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<ElementwiseLowering<GLUOp>>(context, gluBody);
  patterns.add<ElementwiseLowering<ReluOp>>(context, reluBody);
  patterns.add<ElementwiseLowering<GeluOp>>(context, geluBody);
  patterns.add<SoftmaxLowering>(context);
}
