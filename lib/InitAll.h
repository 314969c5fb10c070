//===- InitAll.h - The one registration list of convseq ---------*- C++ -*-===//
//
// Every tool and unit test registers dialects and passes through these two
// functions, so they all see the same set: the convseq dialect plus the
// upstream dialects and passes convseq's pipelines use, and nothing else.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_INITALL_H
#define CONVSEQ_LIB_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::convseq {

/// Inserts the convseq dialect and the upstream dialects its IR and
/// pipelines use into `registry`.
void registerAllConvSeqDialects(DialectRegistry &registry);

/// Registers convseq's passes and named pipelines, and the upstream passes
/// its pipelines use, with the global registries (for `convseq-opt` and
/// textual pipelines).
void registerAllConvSeqPasses();

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_INITALL_H
