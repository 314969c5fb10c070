//===- CPUTarget.h - Native code and C headers for CPUs ---------*- C++ -*-===//

#ifndef CONVSEQ_LIB_TARGET_CPU_CPUTARGET_H
#define CONVSEQ_LIB_TARGET_CPU_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir::convseq {

/// What to emit from a module in the LLVM dialect.
enum class CPUOutputKind { LLVMIR, Assembly, Object };

struct CPUTargetOptions {
  /// An LLVM CPU name ("skylake-avx512", ...) or "native" for this machine.
  std::string cpu = "native";
  /// Optimize the LLVM IR at -O3 and select instructions aggressively. Off,
  /// the IR is translated as is and selected quickly: what the host code of
  /// a GPU program (a long straight line of kernel launches, whose speed
  /// does not matter) needs, since -O2 code generation takes minutes on it.
  bool optimize = true;
};

/// Whether `cpu` (an LLVM CPU name, or "native" for this machine) has
/// AVX-512: 32 vector registers of 16 floats. Unknown names have not; they
/// are reported when the code is emitted.
bool cpuHasAVX512(StringRef cpu);

/// Translates `module` (LLVM dialect, from the convseq-to-llvm-cpu or
/// convseq-to-llvm-cuda pipeline) to LLVM IR, optimizes it for the target
/// CPU (unless told not to) and writes it as LLVM IR, assembly or an object
/// file. Problems are reported on `module`. The translation, LLVM's
/// optimization and its code generation are timed in scopes nested in
/// `timing` (convseqc --mlir-timing).
LogicalResult emitCPUCode(ModuleOp module, const CPUTargetOptions &options,
                          CPUOutputKind kind, llvm::raw_pwrite_stream &os,
                          TimingScope &timing);

/// Writes the C header describing the packed entry points of `module`
/// (convseq IR, before lowering): for each `convseq_<entry>(void **args)`,
/// the slots of `args` in order with name, role, element type and shape.
LogicalResult emitCPUHeader(ModuleOp module, StringRef modelName,
                            llvm::raw_ostream &os);

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_TARGET_CPU_CPUTARGET_H
