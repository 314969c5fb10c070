//===- Constants.h - Index and float constants in IR ------------*- C++ -*-===//
//
// The code-generation passes build many index and float constants; these
// two spell them in one call each. Header-only: users link the arith
// dialect already.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_SUPPORT_CONSTANTS_H
#define CONVSEQ_LIB_SUPPORT_CONSTANTS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mlir::convseq {

/// An index constant.
inline Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// A scalar constant of float type `type`.
inline Value floatConstant(OpBuilder &b, Location loc, FloatType type,
                           double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_SUPPORT_CONSTANTS_H
