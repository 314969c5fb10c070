//===- Passes.h - convseq code-generation passes ----------------*- C++ -*-===//

#ifndef CONVSEQ_LIB_CODEGEN_PASSES_H
#define CONVSEQ_LIB_CODEGEN_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::convseq {

/// The prefix of the packed wrapper of each entry point.
inline constexpr llvm::StringLiteral kPackedEntryPrefix = "convseq_";

#define GEN_PASS_DECL
#include "lib/CodeGen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lib/CodeGen/Passes.h.inc"

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_CODEGEN_PASSES_H
