//===- FlattenPositions.h - Token positions as one dimension ----*- C++ -*-===//
//
// The embedding gradient walks positions in order, whatever the shape of the
// ids: its CPU lowering (lib/Conversion/ConvSeqToLinalg/Tokens.cpp) and its
// GPU one (lib/CodeGen/GPU/GPUEmbeddingGrad.cpp) view ids [P...] as [N] and
// their gradient [P..., D] as [N, D] first. Header-only: users link the
// tensor dialect already.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_SUPPORT_FLATTENPOSITIONS_H
#define CONVSEQ_LIB_SUPPORT_FLATTENPOSITIONS_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include <cassert>

namespace mlir::convseq {

/// `ids` [P...] viewed as [N] and `dy` [P..., D] as [N, D], N the product
/// of the positions' sizes (collapse_shape, no copy); unchanged when the
/// ids have one dimension. The ids must have at least one.
inline void flattenPositions(OpBuilder &b, Location loc, Value &ids,
                             Value &dy) {
  int64_t rank = cast<RankedTensorType>(ids.getType()).getRank();
  assert(rank >= 1 && "positions need at least one dimension");
  if (rank == 1)
    return;
  ReassociationIndices positions = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  ids = tensor::CollapseShapeOp::create(
      b, loc, ids, ArrayRef<ReassociationIndices>{positions});
  dy = tensor::CollapseShapeOp::create(
      b, loc, dy, ArrayRef<ReassociationIndices>{positions, {rank}});
}

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_SUPPORT_FLATTENPOSITIONS_H
