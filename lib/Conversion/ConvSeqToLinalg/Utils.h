//===- Utils.h - Builders shared by the convseq-to-linalg patterns -*- C++
//-*-===//

#ifndef CONVSEQ_LIB_CONVERSION_CONVSEQTOLINALG_UTILS_H
#define CONVSEQ_LIB_CONVERSION_CONVSEQTOLINALG_UTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir::convseq::lowering {

/// The body of a linalg.generic: the block arguments (inputs, then outputs)
/// in, the values to yield out.
using GenericBody =
    llvm::function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

/// The sizes of the ranked tensor `value`, static ones as attributes.
SmallVector<OpFoldResult> getSizes(OpBuilder &b, Location loc, Value value);

/// `tensor.empty` of `sizes` and `elementType`.
Value createEmpty(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType);

/// `tensor.empty` filled with the constant `value` (`linalg.fill`).
Value createFilled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   Type elementType, double value);

/// A scalar float constant of type `type`.
Value floatConstant(OpBuilder &b, Location loc, Type type, double value);

/// A scalar integer constant of type `type`.
Value intConstant(OpBuilder &b, Location loc, Type type, int64_t value);

/// The map of a `rank`-loop nest to its leading `rank - 1` loops: a row when
/// the innermost loop runs along it.
AffineMap getLeadingDimsMap(MLIRContext *ctx, unsigned rank);

/// `linalg.generic` with `loops` parallel loops whose operands all use the
/// identity map, writing into `init`; returns the result.
Value buildElementwise(OpBuilder &b, Location loc, ValueRange inputs,
                       Value init, GenericBody body);

/// `linalg.generic` with explicit maps and iterators, one result per output.
SmallVector<Value> buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                                ValueRange outputs, ArrayRef<AffineMap> maps,
                                ArrayRef<utils::IteratorType> iterators,
                                GenericBody body);

/// `value * scale` as an element-wise op; `value` itself when the scale is
/// 1.
Value scaleBy(OpBuilder &b, Location loc, Value value, double scale);

/// The body of a contraction: out + lhs * rhs (block arguments lhs, rhs,
/// out).
SmallVector<Value> multiplyAccumulate(OpBuilder &b, Location loc,
                                      ValueRange args);

/// Reduces the innermost dimension of `input` into a tensor of the leading
/// dimensions, starting from `init` and combining with `combine(acc, x)`
/// after applying `transform(x)` to each element.
Value reduceInnermost(
    OpBuilder &b, Location loc, Value input, double init,
    llvm::function_ref<Value(OpBuilder &, Location, Value)> transform,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> combine);

/// Softmax over the innermost dimension that tolerates -inf entries: a row
/// that is -inf everywhere (every key masked) yields zeros instead of NaN.
Value buildSoftmax(OpBuilder &b, Location loc, Value input);

/// The gradient of a softmax over the innermost dimension from its result
/// `y` and the result's gradient `dy`: y * (dy - sum_last(dy * y)).
Value buildSoftmaxGrad(OpBuilder &b, Location loc, Value y, Value dy);

/// Inverted dropout of `input` with rate `rate`: each element is kept by
/// the Philox-4x32-10 decision of lib/Support/Philox.h for its position,
/// `seed`, `step` and `stream`, and kept ones are scaled by 1 / (1 - rate).
Value buildDropout(OpBuilder &b, Location loc, Value input, Value seed,
                   Value step, double rate, int64_t stream);

/// Converts an index-typed size to a float of `type`.
Value indexToFloat(OpBuilder &b, Location loc, Value index, Type type);

} // namespace mlir::convseq::lowering

#endif // CONVSEQ_LIB_CONVERSION_CONVSEQTOLINALG_UTILS_H
