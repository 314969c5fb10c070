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
  PassOptions::Option<bool> tileAttention{
      *this, "tile-attention",
      llvm::cl::desc("Lower attention to one loop with an online softmax "
                     "(convseq-tile-attention); off, the scores, softmax "
                     "and weighted values are separate ops"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> tileAttentionGrad{
      *this, "tile-attention-grad",
      llvm::cl::desc("With tile-attention, also its gradient: L and D per "
                     "query row, then the blocks of keys and the rows that "
                     "see them; off, the gradient recomputes the [B, H, T, "
                     "S] probabilities"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> tileContractions{
      *this, "tile-contractions",
      llvm::cl::desc("Tile and vectorize contractions "
                     "(convseq-tile-contractions); off, they lower to "
                     "scalar loops"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> registerN{
      *this, "register-n",
      llvm::cl::desc("Columns of a contraction's register tile and packed "
                     "panel (convseq-tile-contractions): 16 is two AVX2 "
                     "registers, 32 two AVX-512 registers (convseqc picks "
                     "32 for a CPU with AVX-512)"),
      llvm::cl::init(16)};
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
  PassOptions::Option<int64_t> parallelMinWork{
      *this, "parallel-min-work",
      llvm::cl::desc("Estimated operations below which a parallel region "
                     "runs on the calling thread alone "
                     "(convseq-guard-parallel-regions)"),
      llvm::cl::init(4096)};
  PassOptions::Option<int64_t> threads{
      *this, "threads",
      llvm::cl::desc("Threads the generated code will run on, which the "
                     "parallel blocks are balanced for (0: this machine's "
                     "hardware threads)"),
      llvm::cl::init(0)};
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

struct GPUPipelineOptions : public PassPipelineOptions<GPUPipelineOptions> {
  PassOptions::Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse element-wise linalg producers into consumers"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> blockSize{
      *this, "block-size", llvm::cl::desc("Threads per block of each kernel"),
      llvm::cl::init(256)};
  PassOptions::Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("The GPU architecture to compile for (sm_80, sm_90)"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features; the PTX ISA version must be one the "
                     "chip and ptxas support"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<unsigned> optLevel{
      *this, "opt-level",
      llvm::cl::desc("Optimization level of the NVPTX back end"),
      llvm::cl::init(3)};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What gpu-module-to-binary embeds: bin (a cubin from "
                     "ptxas), isa (PTX text), fatbin or llvm"),
      llvm::cl::init("bin")};
  PassOptions::Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("The CUDA toolkit whose ptxas and libdevice compile "
                     "the kernels (default: $CUDA_HOME, $CUDA_PATH, else "
                     "/usr/local/cuda)"),
      llvm::cl::init("")};
};

/// convseq-to-linalg as the GPU pipelines run it: without the CPU's
/// attention loop.
void buildLinalgForGPUPipeline(OpPassManager &pm,
                               const GPUPipelineOptions &options);

/// convseq-linalg-to-gpu-loops: bufferization as on the CPU, then every
/// computation on buffers as an `scf.parallel` loop tiled into blocks of
/// threads: the GPU's kernels before their mapping onto the hardware.
void buildLinalgToGPULoopsPipeline(OpPassManager &pm,
                                   const GPUPipelineOptions &options);

/// convseq-linalg-to-gpu: the loops above mapped onto a one-dimensional
/// grid of blocks of threads (docs/gpu.md), kernels outlined into one
/// gpu.module, device buffers for the host's allocations and one stream
/// per call.
void buildLinalgToGPUPipeline(OpPassManager &pm,
                              const GPUPipelineOptions &options);

/// convseq-gpu-to-llvm: the kernels to NVVM and a cubin (or PTX), the host
/// to the LLVM dialect with its `convseq_<entry>` wrappers; launches call
/// the runtime's CUDA layer (runtime/Cuda.h).
void buildGPUToLLVMPipeline(OpPassManager &pm,
                            const GPUPipelineOptions &options);

/// convseq-to-llvm-cuda: linalg, then both of the above.
void buildCUDAPipeline(OpPassManager &pm, const GPUPipelineOptions &options);

/// convseq-to-llvm-gpu-loops-on-cpu: linalg as for the GPU, the GPU's
/// loops (convseq-linalg-to-gpu-loops), then those loops lowered for the
/// CPU as sequential loops, with the CPU's entry point wrappers. A test
/// target: it runs the code the GPU path generates, short of its mapping
/// onto blocks and threads, on a machine without a GPU.
void buildGPULoopsOnCPUPipeline(OpPassManager &pm,
                                const GPUPipelineOptions &options);

/// Registers every pipeline above with the global pipeline registry.
void registerConvSeqPipelines();

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_PIPELINES_PIPELINES_H
