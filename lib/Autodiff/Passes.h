//===- Passes.h - Training-graph generation passes --------------*- C++ -*-===//

#ifndef CONVSEQ_LIB_AUTODIFF_PASSES_H
#define CONVSEQ_LIB_AUTODIFF_PASSES_H

#include "dialect/ConvSeqDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::convseq {

#define GEN_PASS_DECL
#include "lib/Autodiff/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lib/Autodiff/Passes.h.inc"

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_AUTODIFF_PASSES_H
