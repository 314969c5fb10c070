//===- Utils.cpp - Builders shared by the convseq-to-linalg patterns ------===//

#include "lib/Conversion/ConvSeqToLinalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::lowering;

SmallVector<OpFoldResult> lowering::getSizes(OpBuilder &b, Location loc,
                                             Value value) {
  return tensor::getMixedSizes(b, loc, value);
}

Value lowering::createEmpty(OpBuilder &b, Location loc,
                            ArrayRef<OpFoldResult> sizes, Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

Value lowering::floatConstant(OpBuilder &b, Location loc, Type type,
                              double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

Value lowering::intConstant(OpBuilder &b, Location loc, Type type,
                            int64_t value) {
  return arith::ConstantOp::create(b, loc, type, b.getIntegerAttr(type, value));
}

AffineMap lowering::getLeadingDimsMap(MLIRContext *ctx, unsigned rank) {
  SmallVector<AffineExpr> leading;
  for (unsigned d = 0; d + 1 < rank; ++d)
    leading.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(rank, 0, leading, ctx);
}

Value lowering::createFilled(OpBuilder &b, Location loc,
                             ArrayRef<OpFoldResult> sizes, Type elementType,
                             double value) {
  Value empty = createEmpty(b, loc, sizes, elementType);
  Value scalar = floatConstant(b, loc, elementType, value);
  return linalg::FillOp::create(b, loc, ValueRange{scalar}, ValueRange{empty})
      .getResult(0);
}

SmallVector<Value>
lowering::buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                       ValueRange outputs, ArrayRef<AffineMap> maps,
                       ArrayRef<utils::IteratorType> iterators,
                       GenericBody body) {
  auto generic = linalg::GenericOp::create(
      b, loc, outputs.getTypes(), inputs, outputs, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(nested, nestedLoc,
                                body(nested, nestedLoc, args));
      });
  return SmallVector<Value>(generic.getResults());
}

Value lowering::buildElementwise(OpBuilder &b, Location loc, ValueRange inputs,
                                 Value init, GenericBody body) {
  unsigned rank = cast<RankedTensorType>(init.getType()).getRank();
  SmallVector<AffineMap> maps(inputs.size() + 1,
                              b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return buildGeneric(b, loc, inputs, init, maps, iterators, body).front();
}

Value lowering::scaleBy(OpBuilder &b, Location loc, Value value, double scale) {
  if (scale == 1.0)
    return value;
  Type elementType = cast<RankedTensorType>(value.getType()).getElementType();
  Value out = createEmpty(b, loc, getSizes(b, loc, value), elementType);
  return buildElementwise(
      b, loc, value, out, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value factor = floatConstant(nb, l, elementType, scale);
        return SmallVector<Value>{
            arith::MulFOp::create(nb, l, args[0], factor)};
      });
}

SmallVector<Value> lowering::multiplyAccumulate(OpBuilder &b, Location loc,
                                                ValueRange args) {
  Value product = arith::MulFOp::create(b, loc, args[0], args[1]);
  return {arith::AddFOp::create(b, loc, args[2], product)};
}

Value lowering::reduceInnermost(
    OpBuilder &b, Location loc, Value input, double init,
    llvm::function_ref<Value(OpBuilder &, Location, Value)> transform,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto type = cast<RankedTensorType>(input.getType());
  unsigned rank = type.getRank();
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, input);
  sizes.pop_back();
  Value acc = createFilled(b, loc, sizes, type.getElementType(), init);

  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank),
                                 getLeadingDimsMap(b.getContext(), rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  return buildGeneric(b, loc, input, acc, maps, iterators,
                      [&](OpBuilder &nb, Location nl, ValueRange args) {
                        Value x = transform(nb, nl, args[0]);
                        return SmallVector<Value>{combine(nb, nl, args[1], x)};
                      })
      .front();
}

Value lowering::buildSoftmax(OpBuilder &b, Location loc, Value input) {
  auto type = cast<RankedTensorType>(input.getType());
  Type elementType = type.getElementType();
  unsigned rank = type.getRank();
  double negInf = -std::numeric_limits<double>::infinity();
  auto identity = [](OpBuilder &, Location, Value x) { return x; };

  Value max = reduceInnermost(
      b, loc, input, negInf, identity,
      [](OpBuilder &nb, Location nl, Value acc, Value x) -> Value {
        return arith::MaximumFOp::create(nb, nl, acc, x);
      });

  // e = exp(x - max), or 0 where the whole row is -inf.
  AffineMap identityMap = b.getMultiDimIdentityMap(rank);
  AffineMap rowMap = getLeadingDimsMap(b.getContext(), rank);
  SmallVector<utils::IteratorType> parallel(rank,
                                            utils::IteratorType::parallel);
  Value init = createEmpty(b, loc, getSizes(b, loc, input), elementType);
  Value exps =
      buildGeneric(b, loc, {input, max}, init,
                   {identityMap, rowMap, identityMap}, parallel,
                   [&](OpBuilder &nb, Location nl, ValueRange args) {
                     Value shifted =
                         arith::SubFOp::create(nb, nl, args[0], args[1]);
                     Value e = math::ExpOp::create(nb, nl, shifted);
                     Value rowEmpty = arith::CmpFOp::create(
                         nb, nl, arith::CmpFPredicate::OEQ, args[1],
                         floatConstant(nb, nl, elementType, negInf));
                     Value zero = floatConstant(nb, nl, elementType, 0.0);
                     return SmallVector<Value>{
                         arith::SelectOp::create(nb, nl, rowEmpty, zero, e)};
                   })
          .front();

  Value sum = reduceInnermost(
      b, loc, exps, 0.0, identity,
      [](OpBuilder &nb, Location nl, Value acc, Value x) -> Value {
        return arith::AddFOp::create(nb, nl, acc, x);
      });

  Value out = createEmpty(b, loc, getSizes(b, loc, input), elementType);
  return buildGeneric(b, loc, {exps, sum}, out,
                      {identityMap, rowMap, identityMap}, parallel,
                      [&](OpBuilder &nb, Location nl, ValueRange args) {
                        Value zero = floatConstant(nb, nl, elementType, 0.0);
                        Value empty = arith::CmpFOp::create(
                            nb, nl, arith::CmpFPredicate::OEQ, args[1], zero);
                        Value p =
                            arith::DivFOp::create(nb, nl, args[0], args[1]);
                        return SmallVector<Value>{
                            arith::SelectOp::create(nb, nl, empty, zero, p)};
                      })
      .front();
}

Value lowering::buildSoftmaxGrad(OpBuilder &b, Location loc, Value y,
                                 Value dy) {
  auto type = cast<RankedTensorType>(y.getType());
  Type elementType = type.getElementType();
  unsigned rank = type.getRank();
  AffineMap identityMap = b.getMultiDimIdentityMap(rank);
  AffineMap rowMap = getLeadingDimsMap(b.getContext(), rank);
  SmallVector<OpFoldResult> sizes = getSizes(b, loc, y);
  SmallVector<OpFoldResult> rowSizes(sizes.begin(), sizes.end() - 1);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  Value dot = buildGeneric(b, loc, {y, dy},
                           createFilled(b, loc, rowSizes, elementType, 0.0),
                           {identityMap, identityMap, rowMap}, iterators,
                           multiplyAccumulate)
                  .front();
  iterators.back() = utils::IteratorType::parallel;
  return buildGeneric(
             b, loc, {y, dy, dot}, createEmpty(b, loc, sizes, elementType),
             {identityMap, identityMap, rowMap, identityMap}, iterators,
             [](OpBuilder &nb, Location nl, ValueRange args) {
               Value centred = arith::SubFOp::create(nb, nl, args[1], args[2]);
               return SmallVector<Value>{
                   arith::MulFOp::create(nb, nl, args[0], centred)};
             })
      .front();
}

Value lowering::indexToFloat(OpBuilder &b, Location loc, Value index,
                             Type type) {
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  return arith::SIToFPOp::create(b, loc, type, asInt);
}
