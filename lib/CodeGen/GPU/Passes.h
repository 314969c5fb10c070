//===- Passes.h - convseq GPU code-generation passes ------------*- C++ -*-===//

#ifndef CONVSEQ_LIB_CODEGEN_GPU_PASSES_H
#define CONVSEQ_LIB_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::convseq {

#define GEN_PASS_DECL
#include "lib/CodeGen/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lib/CodeGen/GPU/Passes.h.inc"

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_CODEGEN_GPU_PASSES_H
