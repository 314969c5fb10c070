//===- Pipelines.cpp - Named pass pipelines of convseq --------------------===//

#include "lib/Pipelines/Pipelines.h"

#include "lib/Autodiff/Passes.h"
#include "lib/CodeGen/GPU/Passes.h"
#include "lib/CodeGen/Passes.h"
#include "lib/Conversion/Passes.h"
#include "lib/Transforms/Passes.h"

#include "mlir/Conversion/ConvertToLLVM/ToLLVMPass.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

void mlir::convseq::buildPrimitivesPipeline(
    OpPassManager &pm, const PrimitivesPipelineOptions &options) {
  pm.addPass(createDecomposeBlocksPass());
  // The training step differentiates primitives; a no-op without a
  // function carrying training settings.
  pm.addPass(createGenerateTrainStepPass());
  // Private functions nobody calls: a loss function kept only to build the
  // training step (convseqc --entry-points).
  pm.addPass(createSymbolDCEPass());
  if (options.cleanup) {
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
}

namespace mlir::convseq {
namespace {

/// convseq primitives to fused linalg on tensors; what a target lowers its
/// own way is lowered before.
void addLinalgLoweringPasses(OpPassManager &pm, bool fuseElementwise) {
  pm.addPass(createConvertConvSeqToLinalgPass());
  // Residual adds are arith ops on tensors; make them linalg too.
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (fuseElementwise) {
    pm.addPass(createFuseElementwiseOpsPass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
}

} // namespace
} // namespace mlir::convseq

void mlir::convseq::buildLinalgPipeline(OpPassManager &pm,
                                        const CPUPipelineOptions &options) {
  buildPrimitivesPipeline(pm, PrimitivesPipelineOptions());
  if (options.tileAttention) {
    TileAttentionPassOptions tileAttention;
    tileAttention.gradients = options.tileAttentionGrad;
    pm.addNestedPass<func::FuncOp>(createTileAttentionPass(tileAttention));
  }
  addLinalgLoweringPasses(pm, options.fuseElementwise);
}

namespace mlir::convseq {
namespace {

/// One-shot bufferization of whole modules, the caller owning every buffer
/// (results become out-parameters), and deallocation: the same for every
/// target.
void addBufferizationPasses(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addPass(bufferization::createEmptyTensorToAllocTensorPass());
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createDropInPlaceResultsPass());
  // A result computed in place on both sides of an scf.if (a contraction
  // versioned on its row count, the packed side through a reshape of the
  // buffer) is only seen to be the buffer itself once the reshapes fold,
  // which out-parameter hoisting needs.
  pm.addPass(createCanonicalizerPass());
  // The caller owns every buffer: results become out-parameters of the
  // (public) entry points, computed in place where the allocation can be
  // hoisted.
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  outParams.hoistStaticAllocs = true;
  outParams.hoistDynamicAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  bufferization::buildBufferDeallocationPipeline(pm);
  // Tiles write back through a fresh subview of the buffer they were read
  // from: CSE makes the two subviews one, and the canonicalizer then drops
  // the copy between them.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
}

/// The CUDA toolkit whose ptxas and libdevice compile the kernels: `path`,
/// else $CUDA_HOME or $CUDA_PATH, else /usr/local/cuda. MLIR's own search
/// reads the same variables but falls back to ptxas on PATH without
/// libdevice, and the kernels' math (expf, erff, ...) calls libdevice.
std::string cudaToolkitPath(StringRef path) {
  if (!path.empty())
    return path.str();
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(variable); value && *value)
      return value;
  return "/usr/local/cuda";
}

/// The hardware threads of this machine, which the OpenMP runtime uses by
/// default.
int64_t hardwareThreads() {
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Vectors, loops, memrefs and math of a bufferized module to the LLVM
/// dialect for the CPU, with the `convseq_<entry>` wrappers.
void addCPULoweringPasses(OpPassManager &pm) {
  // n-D vector transfers to 1-D ones, then every n-D vector op to 1-D.
  VectorTransferToSCFOptions vectorToSCF;
  vectorToSCF.enableFullUnroll().setTargetRank(1);
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(vectorToSCF));
  pm.addNestedPass<func::FuncOp>(createLowerVectorsPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(math::createMathExpandOpsPass());
  // expand-strided-metadata emits affine.apply: lower affine after it.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // Math with an LLVM intrinsic (floor, sqrt, fma, ...) stays vector code;
  // math-to-libm would unroll a vector floor into a floorf call per lane.
  // Only what has no intrinsic (erf, tanh on f64, ...) becomes a libm call.
  ConvertMathToLLVMPassOptions mathToLLVM;
  mathToLLVM.approximateLog1p = false;
  pm.addPass(createConvertMathToLLVMPass(mathToLLVM));
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createPackEntryPointsPass());
}

} // namespace
} // namespace mlir::convseq

void mlir::convseq::buildCPULLVMPipeline(OpPassManager &pm,
                                         const CPUPipelineOptions &options) {
  if (options.tileContractions) {
    TileContractionsPassOptions contractions;
    contractions.threads =
        options.threads == 0 ? hardwareThreads() : options.threads;
    contractions.registerN = options.registerN;
    pm.addNestedPass<func::FuncOp>(createTileContractionsPass(contractions));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  if (options.tileGenericOps) {
    pm.addNestedPass<func::FuncOp>(createTileGenericOpsPass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  addBufferizationPasses(pm);
  // Deallocation frees every buffer at the end of its block: free each one
  // after its last use instead, so that a step's peak memory is what is
  // live at once, not the sum of all its buffers.
  pm.addNestedPass<func::FuncOp>(createShrinkBufferLifetimesPass());

  // C interfaces for our entry points only: before libm declarations exist.
  pm.addNestedPass<func::FuncOp>(LLVM::createLLVMRequestCWrappersPass());
  // The parallel row blocks of tiled ops: OpenMP worksharing loops, or
  // plain loops.
  if (options.parallel) {
    pm.addPass(createForallToParallelLoopPass());
    pm.addPass(createOutlineParallelLoopsPass());
    pm.addPass(createConvertSCFToOpenMPPass());
    // scf-to-openmp wraps each body in a memref.alloca_scope, which must
    // stay one block; the canonicalizer inlines scopes without allocas
    // before scf-to-cf splits the inner loops into blocks.
    pm.addPass(createCanonicalizerPass());
    GuardParallelRegionsPassOptions guard;
    guard.minWork = options.parallelMinWork;
    pm.addNestedPass<func::FuncOp>(createGuardParallelRegionsPass(guard));
    pm.addPass(createDistributeWorksharingLoopsPass());
  } else {
    pm.addPass(createForallToForLoopPass());
  }
  pm.addNestedPass<func::FuncOp>(createHoistScratchBuffersPass());
  addCPULoweringPasses(pm);
}

void mlir::convseq::buildCPUPipeline(OpPassManager &pm,
                                     const CPUPipelineOptions &options) {
  buildLinalgPipeline(pm, options);
  buildCPULLVMPipeline(pm, options);
}

void mlir::convseq::buildLinalgToGPULoopsPipeline(
    OpPassManager &pm, const GPUPipelineOptions &options) {
  pm.addNestedPass<func::FuncOp>(createCloneSharedFillsPass());
  addBufferizationPasses(pm);
  // Loops over threads written as scf.forall (the embedding gradient).
  pm.addPass(createForallToParallelLoopPass());
  pm.addNestedPass<func::FuncOp>(createSplitGPUReductionsPass());
  pm.addNestedPass<func::FuncOp>(createPrepareGPULoopsPass());
  // Free buffers after their last use (as on the CPU), once the
  // preparation has moved scalar loads down to their stores: it moves them
  // only past ops that neither write nor free memory.
  pm.addNestedPass<func::FuncOp>(createShrinkBufferLifetimesPass());
  pm.addNestedPass<func::FuncOp>(createTileGPUContractionsPass());
  pm.addNestedPass<func::FuncOp>(createTileGPUConvolutionsPass());
  pm.addNestedPass<func::FuncOp>(createTileGPURowReductionsPass());
  // No canonicalization before the mapping: it would inline the
  // one-iteration loops of the serial computations back into the host.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  TileParallelLoopsForGPUPassOptions tiling;
  tiling.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(createTileParallelLoopsForGPUPass(tiling));
}

void mlir::convseq::buildLinalgToGPUPipeline(
    OpPassManager &pm, const GPUPipelineOptions &options) {
  buildLinalgToGPULoopsPipeline(pm, options);
  pm.addNestedPass<func::FuncOp>(createMapGPUBlockLoopsPass());
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addPass(createGPUHostBuffersPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Constants and index computations the canonicalizer hoisted to the host
  // go back into the kernels: outlining would make them parameters, and a
  // private buffer indexed by a parameter stays in local memory.
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createMergeGPUModulesPass());
  // Launches, copies and allocations of a call go in order on one stream,
  // without a synchronization between kernels; the call waits for the
  // stream once, before it returns.
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
}

void mlir::convseq::buildGPUToLLVMPipeline(OpPassManager &pm,
                                           const GPUPipelineOptions &options) {
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));

  // The kernels: index arithmetic and loops to NVVM; math without an NVVM
  // instruction calls libdevice, which gpu-module-to-binary links.
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());

  // The host: the CPU pipeline's tail, with launches and device buffers
  // lowered to calls of the runtime's CUDA layer.
  pm.addNestedPass<func::FuncOp>(LLVM::createLLVMRequestCWrappersPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createPackEntryPointsPass());

  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = cudaToolkitPath(options.cudaPath);
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void mlir::convseq::buildLinalgForGPUPipeline(
    OpPassManager &pm, const GPUPipelineOptions &options) {
  buildPrimitivesPipeline(pm, PrimitivesPipelineOptions());
  // Attention as one kernel (not the CPU's attention loop, written for one
  // thread's vector registers); the embedding gradient over many threads.
  pm.addNestedPass<func::FuncOp>(createTileGPUAttentionPass());
  pm.addNestedPass<func::FuncOp>(createGPUEmbeddingGradPass());
  addLinalgLoweringPasses(pm, options.fuseElementwise);
}

void mlir::convseq::buildCUDAPipeline(OpPassManager &pm,
                                      const GPUPipelineOptions &options) {
  buildLinalgForGPUPipeline(pm, options);
  buildLinalgToGPUPipeline(pm, options);
  buildGPUToLLVMPipeline(pm, options);
}

void mlir::convseq::buildGPULoopsOnCPUPipeline(
    OpPassManager &pm, const GPUPipelineOptions &options) {
  buildLinalgForGPUPipeline(pm, options);
  buildLinalgToGPULoopsPipeline(pm, options);
  pm.addNestedPass<func::FuncOp>(LLVM::createLLVMRequestCWrappersPass());
  addCPULoweringPasses(pm);
}

void mlir::convseq::registerConvSeqPipelines() {
  PassPipelineRegistration<PrimitivesPipelineOptions>(
      "convseq-to-primitives",
      "Decompose convseq block ops into primitives and clean up",
      buildPrimitivesPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "convseq-to-linalg",
      "Lower convseq to fused linalg on tensors", buildLinalgPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "convseq-linalg-to-llvm-cpu",
      "Bufferize linalg on tensors and lower it to the LLVM dialect for CPUs",
      buildCPULLVMPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "convseq-to-llvm-cpu", "Lower convseq to the LLVM dialect for CPUs",
      buildCPUPipeline);
  PassPipelineRegistration<GPUPipelineOptions>(
      "convseq-linalg-to-gpu-loops",
      "Bufferize linalg on tensors into the parallel loops of GPU kernels",
      buildLinalgToGPULoopsPipeline);
  PassPipelineRegistration<GPUPipelineOptions>(
      "convseq-linalg-to-gpu",
      "Bufferize linalg on tensors and map it to GPU kernels and launches",
      buildLinalgToGPUPipeline);
  PassPipelineRegistration<GPUPipelineOptions>(
      "convseq-gpu-to-llvm",
      "Lower GPU kernels to NVVM and a cubin, and the host to the LLVM "
      "dialect",
      buildGPUToLLVMPipeline);
  PassPipelineRegistration<GPUPipelineOptions>(
      "convseq-to-llvm-cuda",
      "Lower convseq to the LLVM dialect and cubins for NVIDIA GPUs",
      buildCUDAPipeline);
  PassPipelineRegistration<GPUPipelineOptions>(
      "convseq-to-llvm-gpu-loops-on-cpu",
      "Lower convseq to the GPU's parallel loops, then run them on the CPU "
      "(a test target)",
      buildGPULoopsOnCPUPipeline);
}
