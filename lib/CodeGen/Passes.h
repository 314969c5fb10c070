//===- Passes.h - convseq code-generation passes ----------------*- C++ -*-===//

#ifndef CONVSEQ_LIB_CODEGEN_PASSES_H
#define CONVSEQ_LIB_CODEGEN_PASSES_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
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
