//===- Optimizers.cpp - sum_of_squares, adamw_update, adafactor_update ----===//
//
// Every update is element-wise ops and full reductions whose outputs are the
// old parameter and state tensors (destination-passing style): bufferization
// then writes the new values into the old buffers, which is what makes the
// training step update in place. The per-step scalars (bias corrections,
// Adafactor's decay, the step size) are computed once in f64, outside the
// loops, and rounded to the element type.
//
//===----------------------------------------------------------------------===//

#include "lib/Conversion/ConvSeqToLinalg/PopulatePatterns.h"
#include "lib/Conversion/ConvSeqToLinalg/Utils.h"
#include "lib/Support/ScalarBuilder.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::lowering;

namespace {

/// A size of a tensor as an f64.
Value sizeAsFloat(OpBuilder &b, Location loc, OpFoldResult size) {
  return indexToFloat(b, loc, getValueOrCreateConstantIndexOp(b, loc, size),
                      b.getF64Type());
}

/// The number of elements of `value` as an f64.
Value numElements(OpBuilder &b, Location loc, Value value) {
  Value count = floatConstant(b, loc, b.getF64Type(), 1.0);
  for (OpFoldResult size : getSizes(b, loc, value))
    count = arith::MulFOp::create(b, loc, count, sizeAsFloat(b, loc, size));
  return count;
}

/// `sum` over every iteration of a loop nest of `rank` loops of
/// `term(args)`, in f64, added to `init`; `inputs` are read through `maps`.
Value sumAll(OpBuilder &b, Location loc, ValueRange inputs,
             ArrayRef<AffineMap> maps, unsigned rank, Value init,
             llvm::function_ref<Value(OpBuilder &, Location, ValueRange)> term) {
  Type f64 = b.getF64Type();
  Value acc = tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({}, f64), ValueRange{init});
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(AffineMap::get(rank, 0, {}, b.getContext()));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  Value sum =
      buildGeneric(b, loc, inputs, acc, allMaps, iterators,
                   [&](OpBuilder &nb, Location l, ValueRange args) {
                     Value value = term(nb, l, args.drop_back());
                     if (!value.getType().isF64())
                       value = arith::ExtFOp::create(nb, l, f64, value);
                     return SmallVector<Value>{
                         arith::AddFOp::create(nb, l, args.back(), value)};
                   })
          .front();
  return tensor::ExtractOp::create(b, loc, sum, ValueRange{});
}

/// `sum x^2` over every element of `value`, added to `init` (f64).
Value sumSquares(OpBuilder &b, Location loc, Value value, Value init) {
  unsigned rank = cast<RankedTensorType>(value.getType()).getRank();
  return sumAll(b, loc, value, b.getMultiDimIdentityMap(rank), rank, init,
                [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                  return arith::MulFOp::create(nb, l, args[0], args[0]);
                });
}

struct SumOfSquaresLowering : OpConversionPattern<SumOfSquaresOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SumOfSquaresOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value total = floatConstant(rewriter, loc, rewriter.getF64Type(), 0.0);
    for (Value input : adaptor.getInputs())
      total = sumSquares(rewriter, loc, input, total);
    rewriter.replaceOp(op, total);
    return success();
  }
};

struct AdamWUpdateLowering : OpConversionPattern<AdamWUpdateOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AdamWUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type type = op.getParam().getType().getElementType();
    double beta1 = op.getBeta1().convertToDouble();
    double beta2 = op.getBeta2().convertToDouble();
    double weightDecay = op.getWeightDecay().convertToDouble();

    ScalarBuilder s{rewriter, loc};
    Value t = s.fromInt(adaptor.getStep());
    Value one = s.c(1.0);
    Value lr = adaptor.getLearningRate();
    Value correction1 = s.sub(one, s.pow(s.c(beta1), t));
    Value correction2 = s.sub(one, s.pow(s.c(beta2), t));
    Value stepSize = s.to(type, s.div(lr, correction1));
    Value decay = s.to(type, s.sub(one, s.mul(lr, s.c(weightDecay))));
    Value inverseRoot2 = s.to(type, s.div(one, s.sqrt(correction2)));
    Value gradScale = s.to(type, adaptor.getGradScale());
    double epsilon = op.getEpsilon().convertToDouble();

    unsigned rank = op.getParam().getType().getRank();
    SmallVector<AffineMap> maps(4, rewriter.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    SmallVector<Value> results = buildGeneric(
        rewriter, loc, adaptor.getGrad(),
        {adaptor.getParam(), adaptor.getFirstMoment(),
         adaptor.getSecondMoment()},
        maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          auto c = [&](double v) { return floatConstant(b, l, type, v); };
          auto mul = [&](Value x, Value y) -> Value {
            return arith::MulFOp::create(b, l, x, y);
          };
          auto add = [&](Value x, Value y) -> Value {
            return arith::AddFOp::create(b, l, x, y);
          };
          Value g = mul(args[0], gradScale);
          Value m = add(mul(c(beta1), args[2]), mul(c(1.0 - beta1), g));
          Value v =
              add(mul(c(beta2), args[3]), mul(c(1.0 - beta2), mul(g, g)));
          Value denominator =
              add(mul(math::SqrtOp::create(b, l, v), inverseRoot2), c(epsilon));
          Value step = arith::DivFOp::create(b, l, mul(stepSize, m),
                                             denominator);
          Value p = arith::SubFOp::create(b, l, mul(args[1], decay), step);
          return SmallVector<Value>{p, m, v};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct AdafactorUpdateLowering : OpConversionPattern<AdafactorUpdateOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AdafactorUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Type type = op.getParam().getType().getElementType();
    unsigned rank = op.getParam().getType().getRank();
    Value param = adaptor.getParam(), grad = adaptor.getGrad();
    double epsilon1 = op.getEpsilon1().convertToDouble();

    ScalarBuilder s{rewriter, loc};
    Value one = s.c(1.0);
    Value t = s.fromInt(adaptor.getStep());
    Value beta = s.sub(one, s.pow(t, s.c(-op.getDecayRate()
                                                     .convertToDouble())));
    Value betaT = s.to(type, beta);
    Value gradScale = s.to(type, adaptor.getGradScale());
    Value count = numElements(rewriter, loc, param);

    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    auto scaledSquare = [&](OpBuilder &b, Location l, Value g) {
      Value scaled = arith::MulFOp::create(b, l, g, gradScale);
      return arith::MulFOp::create(b, l, scaled, scaled).getResult();
    };
    // state = beta state + (1 - beta) epsilon1: the part of the moving
    // average that does not depend on the gradient.
    auto decayState = [&](Value state) {
      Value offset = s.to(type, s.mul(s.sub(one, beta), s.c(epsilon1)));
      return buildElementwise(
          rewriter, loc, ValueRange(), state,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value decayed = arith::MulFOp::create(b, l, args[0], betaT);
            return SmallVector<Value>{
                arith::AddFOp::create(b, l, decayed, offset)};
          });
    };
    // state += weight * (grad_scale g)^2, reduced through `stateMap`.
    auto accumulate = [&](Value state, AffineMap stateMap,
                          ArrayRef<utils::IteratorType> iterators,
                          Value weight) {
      return buildGeneric(rewriter, loc, grad, state, {identity, stateMap},
                          iterators,
                          [&](OpBuilder &b, Location l, ValueRange args) {
                            Value term = arith::MulFOp::create(
                                b, l, scaledSquare(b, l, args[0]), weight);
                            return SmallVector<Value>{
                                arith::AddFOp::create(b, l, args[1], term)};
                          })
          .front();
    };

    // The new second moments, and how the update reads them: u = g *
    // rsqrt(moment(args)) * factor.
    SmallVector<Value> newState, momentInputs;
    SmallVector<AffineMap> momentMaps;
    Value factor;
    Value oneMinusBeta = s.sub(one, beta);
    if (op.isFactored()) {
      AffineExpr i = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
      AffineMap rowMap = AffineMap::get(2, 0, {i}, ctx);
      AffineMap colMap = AffineMap::get(2, 0, {j}, ctx);
      SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, param);
      Value rows = sizeAsFloat(rewriter, loc, sizes[0]);
      Value cols = sizeAsFloat(rewriter, loc, sizes[1]);
      Value row = accumulate(
          decayState(adaptor.getState()[0]), rowMap,
          {utils::IteratorType::parallel, utils::IteratorType::reduction},
          s.to(type, s.div(oneMinusBeta, cols)));
      Value col = accumulate(
          decayState(adaptor.getState()[1]), colMap,
          {utils::IteratorType::reduction, utils::IteratorType::parallel},
          s.to(type, s.div(oneMinusBeta, rows)));
      newState = {row, col};
      // V = R_i C_j / mean(R): u = g rsqrt(R_i C_j) sqrt(mean(R)).
      Value rowSum =
          sumAll(rewriter, loc, row, AffineMap::getMultiDimIdentityMap(1, ctx),
                 1, s.c(0.0),
                 [](OpBuilder &, Location, ValueRange args) { return args[0]; });
      factor = s.to(type, s.sqrt(s.div(rowSum, rows)));
      momentInputs = {row, col};
      momentMaps = {rowMap, colMap};
    } else {
      Value moment = accumulate(decayState(adaptor.getState()[0]), identity,
                                parallel, s.to(type, oneMinusBeta));
      newState = {moment};
      factor = s.to(type, one);
      momentInputs = {moment};
      momentMaps = {identity};
    }
    // The unclipped update u of one element; args are the gradient, then
    // the moments.
    auto update = [&](OpBuilder &b, Location l, ValueRange args) -> Value {
      Value moment = args[1];
      if (args.size() > 2)
        moment = arith::MulFOp::create(b, l, args[1], args[2]);
      Value scaled = arith::MulFOp::create(b, l, args[0], gradScale);
      Value u = arith::MulFOp::create(
          b, l, scaled, math::RsqrtOp::create(b, l, moment));
      return arith::MulFOp::create(b, l, u, factor);
    };

    SmallVector<Value> updateInputs{grad};
    llvm::append_range(updateInputs, momentInputs);
    SmallVector<AffineMap> updateMaps{identity};
    llvm::append_range(updateMaps, momentMaps);
    Value updateSquares = sumAll(
        rewriter, loc, updateInputs, updateMaps, rank, s.c(0.0),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value u = update(b, l, args);
          return arith::MulFOp::create(b, l, u, u);
        });
    Value rmsUpdate = s.sqrt(s.div(updateSquares, count));
    Value clip = s.max(
        one, s.div(rmsUpdate, s.c(op.getClipThreshold().convertToDouble())));
    Value stepSize = adaptor.getLearningRate();
    if (op.getRelativeStep()) {
      Value rmsParam =
          s.sqrt(s.div(sumSquares(rewriter, loc, param, s.c(0.0)), count));
      stepSize = s.mul(
          stepSize,
          s.max(s.c(op.getEpsilon2().convertToDouble()), rmsParam));
    }
    Value decay = s.to(
        type, s.sub(one, s.mul(stepSize, s.c(op.getWeightDecay()
                                                        .convertToDouble()))));
    Value updateScale = s.to(type, s.div(stepSize, clip));

    updateMaps.push_back(identity);
    Value newParam =
        buildGeneric(rewriter, loc, updateInputs, param, updateMaps, parallel,
                     [&](OpBuilder &b, Location l, ValueRange args) {
                       Value u = arith::MulFOp::create(
                           b, l, update(b, l, args.drop_back()), updateScale);
                       Value kept =
                           arith::MulFOp::create(b, l, args.back(), decay);
                       return SmallVector<Value>{
                           arith::SubFOp::create(b, l, kept, u)};
                     })
            .front();
    SmallVector<Value> results{newParam};
    llvm::append_range(results, newState);
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void lowering::populateOptimizerPatterns(RewritePatternSet &patterns) {
  patterns.add<SumOfSquaresLowering, AdamWUpdateLowering,
               AdafactorUpdateLowering>(patterns.getContext());
}
