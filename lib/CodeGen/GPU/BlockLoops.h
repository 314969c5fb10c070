//===- BlockLoops.h - The block-level form of GPU kernels -------*- C++ -*-===//
//
// A kernel that stages data in shared memory is written first in a
// block-level form that still runs anywhere as ordinary loops:
//
//   scf.parallel (%block) = (0) to (%blocks) step (1) {   // kBlockLoop
//     %tile = memref.alloc() {kMemorySpace = "workgroup"}    // shared
//     %acc = memref.alloc() {kMemorySpace = "private"}       // [T, ...]
//     scf.parallel (%t) = (0) to (T) step (1) {...}      // kThreadLoop
//     scf.for ... { scf.parallel (%t) ... {...} ... }    // uniform loops
//     memref.dealloc %tile
//     memref.dealloc %acc
//   }
//
// The threads of a block run each thread loop, in order, to its end before
// the next starts: there is a barrier between thread loops. A "private"
// buffer has a leading dimension of T and is only indexed by the enclosing
// thread loop's index there: it is each thread's registers. Ops outside the
// thread loops compute the same values in every thread and write no memory.
//
// Run as loops (the GPU loops on the CPU), the thread loops run one after
// the other, which is what the barriers guarantee. `convseq-map-gpu-block-
// loops` maps the form onto a `gpu.launch` of T threads per block, with
// workgroup and private attributions and a `gpu.barrier` after each thread
// loop.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_CODEGEN_GPU_BLOCKLOOPS_H
#define CONVSEQ_LIB_CODEGEN_GPU_BLOCKLOOPS_H

#include "llvm/ADT/StringRef.h"

namespace mlir::convseq {

/// Unit attribute of an `scf.parallel` over the blocks of a grid.
inline constexpr llvm::StringLiteral kBlockLoop = "convseq.gpu_block_loop";
/// Unit attribute of an `scf.parallel` over the threads of a block.
inline constexpr llvm::StringLiteral kThreadLoop = "convseq.gpu_thread_loop";
/// String attribute of a `memref.alloc` in a block loop: "workgroup" or
/// "private".
inline constexpr llvm::StringLiteral kMemorySpace = "convseq.gpu_memory";
inline constexpr llvm::StringLiteral kWorkgroupMemory = "workgroup";
inline constexpr llvm::StringLiteral kPrivateMemory = "private";

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_CODEGEN_GPU_BLOCKLOOPS_H
