//===- Elementwise.cpp - glu, relu, gelu, softmax and gradients to linalg -===//

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
    Value init =
        createEmpty(rewriter, loc, getSizes(rewriter, loc, operands[0]),
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
  Value denominator =
      arith::AddFOp::create(b, loc, floatConstant(b, loc, type, 1.0),
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
  Value onePlusErf =
      arith::AddFOp::create(b, loc, floatConstant(b, loc, type, 1.0),
                            math::ErfOp::create(b, loc, scaled));
  Value half =
      arith::MulFOp::create(b, loc, args[0], floatConstant(b, loc, type, 0.5));
  return arith::MulFOp::create(b, loc, half, onePlusErf);
}

/// x > 0 ? dy : 0.
Value reluGradBody(OpBuilder &b, Location loc, ValueRange args) {
  Type type = args[0].getType();
  Value zero = floatConstant(b, loc, type, 0.0);
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, args[0], zero);
  return arith::SelectOp::create(b, loc, positive, args[1], zero);
}

/// dy * (Phi(x) + x * phi(x)): Phi = 0.5 (1 + erf(x / sqrt(2))), phi =
/// exp(-x^2 / 2) / sqrt(2 pi).
Value geluGradBody(OpBuilder &b, Location loc, ValueRange args) {
  Type type = args[0].getType();
  Value x = args[0];
  auto constant = [&](double value) {
    return floatConstant(b, loc, type, value);
  };
  Value erf = math::ErfOp::create(
      b, loc, arith::MulFOp::create(b, loc, x, constant(M_SQRT1_2)));
  Value cdf = arith::MulFOp::create(
      b, loc, constant(0.5), arith::AddFOp::create(b, loc, constant(1.0), erf));
  Value square = arith::MulFOp::create(b, loc, x, x);
  Value density = arith::MulFOp::create(
      b, loc, constant(0.5 * M_2_SQRTPI * M_SQRT1_2),
      math::ExpOp::create(
          b, loc, arith::MulFOp::create(b, loc, square, constant(-0.5))));
  Value slope = arith::AddFOp::create(
      b, loc, cdf, arith::MulFOp::create(b, loc, x, density));
  return arith::MulFOp::create(b, loc, args[1], slope);
}

/// s = sigmoid(g): dv = dy s, dg = dy v s (1 - s).
struct GLUGradLowering : OpConversionPattern<GLUGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GLUGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value value = adaptor.getValue();
    auto type = cast<RankedTensorType>(value.getType());
    Type elementType = type.getElementType();
    unsigned rank = type.getRank();
    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, value);
    Value init = createEmpty(rewriter, loc, sizes, elementType);
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<Value> grads = buildGeneric(
        rewriter, loc, {value, adaptor.getGate(), adaptor.getResultGrad()},
        {init, createEmpty(rewriter, loc, sizes, elementType)},
        SmallVector<AffineMap>(5, identity),
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value one = floatConstant(b, l, elementType, 1.0);
          Value sigmoid = arith::DivFOp::create(
              b, l, one,
              arith::AddFOp::create(
                  b, l, one,
                  math::ExpOp::create(b, l,
                                      arith::NegFOp::create(b, l, args[1]))));
          Value valueGrad = arith::MulFOp::create(b, l, args[2], sigmoid);
          Value slope = arith::MulFOp::create(
              b, l, sigmoid, arith::SubFOp::create(b, l, one, sigmoid));
          Value gateGrad = arith::MulFOp::create(
              b, l, arith::MulFOp::create(b, l, args[2], args[0]), slope);
          return SmallVector<Value>{valueGrad, gateGrad};
        });
    rewriter.replaceOp(op, grads);
    return success();
  }
};

struct SoftmaxGradLowering : OpConversionPattern<SoftmaxGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SoftmaxGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildSoftmaxGrad(rewriter, op.getLoc(),
                                            adaptor.getInput(),
                                            adaptor.getResultGrad()));
    return success();
  }
};

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
  patterns.add<ElementwiseLowering<ReluGradOp>>(context, reluGradBody);
  patterns.add<ElementwiseLowering<GeluGradOp>>(context, geluGradBody);
  patterns.add<GLUGradLowering, SoftmaxLowering, SoftmaxGradLowering>(context);
}
