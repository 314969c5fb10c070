//===- Passes.td - convseq code-generation passes ----------*- tablegen -*-===//

#ifndef CONVSEQ_CODEGEN_PASSES_TD
#define CONVSEQ_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def PackEntryPointsPass : Pass<"convseq-pack-entry-points", "::mlir::ModuleOp"> {
  let summary = "Adds a `convseq_<name>(void **args)` wrapper per entry point";
  let description = [{
    Runs on the LLVM dialect after `llvm.emit_c_interface` wrappers exist.
    For every `_mlir_ciface_<name>` it adds `convseq_<name>`, which takes one
    pointer to an array of pointers, one per argument in order: a pointer to
    the memref descriptor for each buffer argument (parameters, inputs, then
    the outputs that `buffer-results-to-out-params` made arguments), a
    pointer to the value for each scalar argument. The runtime and the tests
    call every entry point of every model through this one signature; the
    generated C header lists what each slot holds.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // CONVSEQ_CODEGEN_PASSES_TD
