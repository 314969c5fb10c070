//===- ConvSeqOps.h - Ops of the convseq dialect ----------------*- C++ -*-===//

#ifndef CONVSEQ_DIALECT_CONVSEQOPS_H
#define CONVSEQ_DIALECT_CONVSEQOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/ConvSeqDialect.h"
#include "dialect/ConvSeqEnums.h.inc"
#include "dialect/ConvSeqInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialect/ConvSeqOps.h.inc"

namespace mlir::convseq {

/// The offset `p` of tap 0 relative to the output position, in taps:
/// `k - 1` for a causal convolution and `k / 2` for a centred one.
inline int64_t convPaddingTaps(int64_t kernelSize, bool causal) {
  return causal ? kernelSize - 1 : kernelSize / 2;
}

/// Builds the convolution of a conv block from its GLU output `glu`
/// (`[B, L, D]`) and the block's raw convolution weight, as the block op
/// defines it: softmax-normalized taps for `lightweight`, per-position kernels
/// `softmax(reshape(glu W_K))` for `dynamic`, raw taps for `dilated`. Shared by
/// the block decomposition and the front end's incremental decoder step.
Value buildConvolution(OpBuilder &builder, Location loc, ConvVariant variant,
                       Value glu, Value weight, Value mask, int64_t kernelSize,
                       int64_t heads, int64_t dilation, bool causal);

} // namespace mlir::convseq

#endif // CONVSEQ_DIALECT_CONVSEQOPS_H
