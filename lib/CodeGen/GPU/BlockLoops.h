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

#include "lib/Support/Constants.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
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

//===----------------------------------------------------------------------===//
// Builders of the form, shared by the passes that produce it.
//===----------------------------------------------------------------------===//

/// The linalg ops under `root` on the host (not in a kernel's loops already)
/// that `match` accepts, as it describes them.
template <typename Match>
SmallVector<Match>
matchHostOps(Operation *root,
             function_ref<FailureOr<Match>(linalg::LinalgOp)> match) {
  SmallVector<Match> matches;
  root->walk<WalkOrder::PreOrder>([&](Operation *nested) {
    if (isa<scf::ParallelOp>(nested))
      return WalkResult::skip();
    if (auto op = dyn_cast<linalg::LinalgOp>(nested))
      if (FailureOr<Match> matched = match(op); succeeded(matched))
        matches.push_back(std::move(*matched));
    return WalkResult::advance();
  });
  return matches;
}

/// The extents of `op`'s loops, built before it.
SmallVector<Value> loopSizes(OpBuilder &b, linalg::LinalgOp op);

/// The tiles of `tile` elements that cover `size`: ceil(size / tile).
Value tileCount(OpBuilder &b, Location loc, Value size, int64_t tile);

/// Builds the `scf.parallel` over `blocks` blocks; `body` fills it.
scf::ParallelOp
buildBlockLoop(OpBuilder &b, Location loc, Value blocks,
               function_ref<void(OpBuilder &, Location, Value)> body);

/// Builds an `scf.parallel` over the `threads` of a block.
void buildThreadLoop(OpBuilder &b, Location loc, int64_t threads,
                     function_ref<void(OpBuilder &, Location, Value)> body);

/// A buffer of a block in `space` (kWorkgroupMemory or kPrivateMemory, whose
/// `shape` then starts with the thread count).
Value allocBlockBuffer(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                       Type element, StringRef space);

/// `memref.load` of `buffer` at `indices` if `inBounds`, else zero; a
/// `tensor.extract` if `buffer` is a tensor (a kernel built before
/// bufferization reading its operands).
Value loadOrZero(OpBuilder &b, Location loc, Value buffer, ValueRange indices,
                 Value inBounds);

/// The buffer `view` is a view of (through subviews, casts, reshapes).
Value rootBuffer(Value view);

/// `index < bound`, unsigned (a negative index is out of bounds too).
Value isBelow(OpBuilder &b, Location loc, Value index, Value bound);

/// The value `body` (a linalg op's region with one result) yields for the
/// block arguments `args`, its ops cloned at `b`.
Value applyBody(OpBuilder &b, Block &body, ValueRange args);

/// Whether `op` has two inputs and one output, all buffers of one float
/// type: the ops the block-level kernels compute.
bool isBinaryFloatBufferOp(linalg::LinalgOp op);

/// The combiner of each output of `op` if `op` is a reduction on buffers
/// whose outputs are indexed by parallel loops only, each updated by one op
/// with a neutral element that only it uses, and whose body writes no
/// memory: the partial results of any split of its reduction loops fold
/// together with the combiners.
FailureOr<SmallVector<Operation *>>
matchReductionCombiners(linalg::LinalgOp op);

/// `combiner` (an op of a linalg body, one of whose operands is the body's
/// output argument `output`) cloned at `b` to combine `acc`, in the place of
/// `output`, with `value`, in the place of its other operand.
Value applyCombiner(OpBuilder &b, Operation *combiner, Value output, Value acc,
                    Value value);

/// The values `op`'s body yields at the loop `indices` for the outputs'
/// current values `outputs`: its buffer inputs loaded there, its scalar
/// inputs as they are, `linalg.index` as the indices; the ops cloned at `b`.
/// A non-null `known[i]` is the value of input i there, not loaded.
SmallVector<Value> applyBodyAt(OpBuilder &b, Location loc, linalg::LinalgOp op,
                               ArrayRef<Value> indices, ValueRange outputs,
                               ArrayRef<Value> known = {});

/// The `linalg.fill` of `op`'s whole output, a fresh `memref.alloc`, when it
/// is the only op referring to that buffer before `op` (both in one block):
/// a kernel that writes every element of the output can then start its
/// accumulators from the fill's value and erase the fill. Null otherwise.
/// `init` numbers the output.
linalg::FillOp findInitFill(linalg::LinalgOp op, unsigned init = 0);

/// The product of the loop `sizes` at `dims` (1 for none): the extent of
/// those loops linearized.
Value linearizedSize(OpBuilder &b, Location loc, ArrayRef<Value> sizes,
                     ArrayRef<unsigned> dims);

/// Sets `indices` at `dims` to the multi-index of `linear` in the row-major
/// space of their `sizes`.
void delinearizeInto(OpBuilder &b, Location loc, Value linear,
                     ArrayRef<Value> sizes, ArrayRef<unsigned> dims,
                     MutableArrayRef<Value> indices);

/// The indices `map` gives for the loop `indices`: a result that is a loop
/// takes its index, any other result an `affine.apply`.
SmallVector<Value> applyIndexingMap(OpBuilder &b, Location loc, AffineMap map,
                                    ArrayRef<Value> indices);

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_CODEGEN_GPU_BLOCKLOOPS_H
