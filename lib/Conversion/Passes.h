//===- Passes.h - Conversions out of the convseq dialect --------*- C++ -*-===//

#ifndef CONVSEQ_LIB_CONVERSION_PASSES_H
#define CONVSEQ_LIB_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mlir::convseq {

#define GEN_PASS_DECL
#include "lib/Conversion/Passes.h.inc"

/// Adds the patterns lowering every convseq primitive to linalg & co.
void populateConvSeqToLinalgPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "lib/Conversion/Passes.h.inc"

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_CONVERSION_PASSES_H
