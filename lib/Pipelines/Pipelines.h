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

struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse element-wise linalg producers into consumers"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> tileContractions{
      *this, "tile-contractions",
      llvm::cl::desc("Tile and vectorize contractions "
                     "(convseq-tile-contractions); off, they lower to "
                     "scalar loops"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> tileGenericOps{
      *this, "tile-generic-ops",
      llvm::cl::desc("Tile the other linalg ops into parallel rows and "
                     "vectors (convseq-tile-generic-ops); off, they lower "
                     "to scalar loops"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Run the parallel loops of tiled ops on all cores "
                     "(scf-to-openmp); off, they run in order"),
      llvm::cl::init(true)};
};

/// convseq-to-linalg: primitives (convseq-to-primitives), then
/// convert-convseq-to-linalg, element-wise arith on tensors to linalg, and
/// element-wise fusion. The result is linalg on tensors, what `--emit=linalg`
/// prints.
void buildLinalgPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// convseq-linalg-to-llvm-cpu: one-shot bufferization (results become
/// caller-allocated out-parameters), deallocation, loops, and the LLVM
/// dialect with a `convseq_<entry>(void **args)` wrapper per function.
void buildCPULLVMPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// convseq-to-llvm-cpu: both of the above.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers every pipeline above with the global pipeline registry.
void registerConvSeqPipelines();

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_PIPELINES_PIPELINES_H
