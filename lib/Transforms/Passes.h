//===- Passes.h - convseq dialect-level passes ------------------*- C++ -*-===//

#ifndef CONVSEQ_LIB_TRANSFORMS_PASSES_H
#define CONVSEQ_LIB_TRANSFORMS_PASSES_H

#include "dialect/ConvSeqDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mlir::convseq {

#define GEN_PASS_DECL
#include "lib/Transforms/Passes.h.inc"

/// Adds the patterns that rewrite block ops into primitives.
void populateDecomposeBlocksPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "lib/Transforms/Passes.h.inc"

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_TRANSFORMS_PASSES_H
