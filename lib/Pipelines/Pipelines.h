//===- Pipelines.h - Named pass pipelines of convseq ------------*- C++ -*-===//
//
// Every pipeline is a function here, registered with convseq-opt under the
// same name and called by convseqc; tools never assemble passes by hand.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_PIPELINES_PIPELINES_H
#define CONVSEQ_LIB_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace mlir::convseq {

struct PrimitivesPipelineOptions
    : public PassPipelineOptions<PrimitivesPipelineOptions> {
  PassOptions::Option<bool> cleanup{
      *this, "cleanup",
      llvm::cl::desc("Run canonicalization and CSE after the decomposition"),
      llvm::cl::init(true)};
};

/// convseq-to-primitives: block ops to primitives, then (optionally) the
/// generic cleanups that merge the projections shared between entry points'
/// blocks.
void buildPrimitivesPipeline(OpPassManager &pm,
                             const PrimitivesPipelineOptions &options);

/// Registers every pipeline above with the global pipeline registry.
void registerConvSeqPipelines();

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_PIPELINES_PIPELINES_H
