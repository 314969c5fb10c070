//===- ScalarBuilder.h - Scalar f64 arithmetic in IR ------------*- C++ -*-===//
//
// The per-step scalars of training (learning rate, clipping factor, bias
// corrections) are a few f64 operations each; this builds them tersely.
// Header-only: users link the arith and math dialects already.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_SUPPORT_SCALARBUILDER_H
#define CONVSEQ_LIB_SUPPORT_SCALARBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"

namespace mlir::convseq {

/// Builds scalar f64 (or other float) operations at `b`'s insertion point.
struct ScalarBuilder {
  OpBuilder &b;
  Location loc;

  /// An f64 constant.
  Value c(double value) {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value min(Value x, Value y) {
    return arith::MinimumFOp::create(b, loc, x, y);
  }
  Value max(Value x, Value y) {
    return arith::MaximumFOp::create(b, loc, x, y);
  }
  Value sqrt(Value x) { return math::SqrtOp::create(b, loc, x); }
  Value pow(Value x, Value y) { return math::PowFOp::create(b, loc, x, y); }
  /// A signed integer as an f64.
  Value fromInt(Value x) {
    return arith::SIToFPOp::create(b, loc, b.getF64Type(), x);
  }
  /// `x` rounded to the float type `type` (unchanged if it is f64).
  Value to(Type type, Value x) {
    if (type == x.getType())
      return x;
    return arith::TruncFOp::create(b, loc, type, x);
  }
};

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_SUPPORT_SCALARBUILDER_H
