//===- Tiling.h - Tiling helpers shared by the CPU strategies ---*- C++ -*-===//
//
// Thin wrappers over upstream `scf::tileUsingSCF` and
// `scf::tileConsumerAndFuseProducersUsingSCF` that the contraction and the
// element-wise/reduction strategies both use.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_CODEGEN_TILING_H
#define CONVSEQ_LIB_CODEGEN_TILING_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/TilingInterface.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::convseq {

/// Marks the partial sums of a contraction split into dot products
/// (convseq-tile-contractions): convseq-tile-generic-ops computes them
/// inside the rows of the sum that reads them, although they are a
/// contraction.
constexpr llvm::StringLiteral kPartialSumsAttr = "convseq.partial_sums";

/// Marks an element-wise consumer that convseq-tile-contractions fused into
/// a contraction's parallel row blocks: convseq-tile-generic-ops tiles it
/// inside its block.
constexpr llvm::StringLiteral kEpilogueAttr = "convseq.epilogue";

/// Whether `user` is `index / n` (`divide`) or `index mod n` for the rows
/// per Philox evaluation n: the group and the word of a dropout mask's row
/// (lib/Support/Philox.h).
bool isPhiloxRowGroupOp(Operation *user, Value index, bool divide);

/// The loop dimensions whose index `op`'s body divides into the row groups
/// of a dropout mask.
llvm::SmallSetVector<unsigned, 2> philoxGroupedDims(linalg::LinalgOp op);

/// A tiled op and its loops, outermost first.
struct Tiled {
  Operation *op;
  SmallVector<LoopLikeOpInterface> loops;
};

/// The options that tile with `sizes` (zero: untiled) into `loopType`
/// loops, in `interchange` order if given.
scf::SCFTilingOptions tilingOptions(MLIRContext *ctx, ArrayRef<int64_t> sizes,
                                    scf::SCFTilingOptions::LoopType loopType,
                                    ArrayRef<int64_t> interchange = {});

/// Tiles `op` with `sizes` (zero: untiled), replaces it, and returns the
/// tiled op and the loops.
FailureOr<Tiled> tile(RewriterBase &rewriter, TilingInterface op,
                      ArrayRef<int64_t> sizes,
                      scf::SCFTilingOptions::LoopType loopType,
                      ArrayRef<int64_t> interchange = {});

/// Which producers `tileAndFuse` fuses into the loops, given the producer's
/// result and whether it is the destination of the tiled op.
using FuseProducerFn = std::function<bool(OpResult producer,
                                          bool isDestination)>;

/// Fuses the linalg.fill that initializes a destination (so every tile
/// zeroes its own accumulator instead of reading back a zeroed output).
bool fuseDestinationFills(OpResult producer, bool isDestination);

/// Tiles `op` like `tile` and fuses the producers `shouldFuse` accepts into
/// the loops. Returns the tiled op (first) and the loops; the tiled
/// producers are appended to `fused` if given.
FailureOr<Tiled>
tileAndFuse(RewriterBase &rewriter, TilingInterface op,
            ArrayRef<int64_t> sizes, scf::SCFTilingOptions::LoopType loopType,
            ArrayRef<int64_t> interchange = {},
            FuseProducerFn shouldFuse = fuseDestinationFills,
            SmallVectorImpl<Operation *> *fused = nullptr);

/// Splits every scf.for carrying `marker` into full iterations and one
/// partial iteration, outermost first, drops the marker and folds the
/// peeled bounds, so the full tiles get static shapes.
LogicalResult peelMarkedLoops(RewriterBase &rewriter, func::FuncOp func,
                              StringRef marker);

/// Vectorizes the static-shaped `op` with linalg::vectorize and replaces
/// it; leaves it as it is if the vectorizer declines.
void vectorizeInPlace(RewriterBase &rewriter, linalg::LinalgOp op,
                      bool vectorizeNDExtract = false,
                      bool createNamedContraction = false);

/// Drops unit dimensions of vector ops and hoists the loop-invariant
/// accumulator reads and writes out of every scf.for in `func`, so an
/// accumulator stays in registers across its reduction loop.
LogicalResult cleanUpVectorTiles(RewriterBase &rewriter, func::FuncOp func);

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_CODEGEN_TILING_H
