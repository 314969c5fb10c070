//===- ConvSeqDialect.h - The convseq dialect -------------------*- C++ -*-===//

#ifndef CONVSEQ_DIALECT_CONVSEQDIALECT_H
#define CONVSEQ_DIALECT_CONVSEQDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialect/ConvSeqDialect.h.inc"

namespace mlir::convseq {

// Attributes of entry-point arguments and results (docs/entry-points.md).

/// Names a parameter argument.
inline constexpr llvm::StringLiteral kParamAttrName = "convseq.param";
/// Names any other input or result.
inline constexpr llvm::StringLiteral kIOAttrName = "convseq.io";
/// A parameter training must not update (spec section 7): it gets no
/// gradient, no optimizer state and no update.
inline constexpr llvm::StringLiteral kFrozenAttrName = "convseq.frozen";
/// The training settings of a loss function (`forward_train`), from which
/// convseq-generate-train-step builds its training step.
inline constexpr llvm::StringLiteral kTrainingAttrName = "convseq.training";
/// On a result: the index of the argument whose buffer receives it. The
/// result is written in place and is not an output of the compiled entry
/// point (convseq-drop-in-place-results).
inline constexpr llvm::StringLiteral kInPlaceAttrName = "convseq.in_place";
/// On an argument: the entry point writes new values into it.
inline constexpr llvm::StringLiteral kUpdatedAttrName = "convseq.updated";

} // namespace mlir::convseq

#endif // CONVSEQ_DIALECT_CONVSEQDIALECT_H
