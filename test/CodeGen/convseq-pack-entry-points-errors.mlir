// RUN: convseq-opt %s -split-input-file --convseq-pack-entry-points -verify-diagnostics

// A C interface that itself returns a value.
module {
  // expected-error @+1 {{entry point still returns a value; expected every result to be an out-parameter}}
  llvm.func @_mlir_ciface_loss(%desc: !llvm.ptr) -> f32 {
    %zero = llvm.mlir.constant(0.0 : f32) : f32
    llvm.return %zero : f32
  }
}

// -----

// A C interface that returns its results through a leading pointer: the
// wrapped function still has a result.
module {
  llvm.func @logits(%x: !llvm.ptr) -> !llvm.struct<(ptr, ptr, i64)> {
    %0 = llvm.mlir.poison : !llvm.struct<(ptr, ptr, i64)>
    llvm.return %0 : !llvm.struct<(ptr, ptr, i64)>
  }
  // expected-error @+1 {{entry point still returns a value; expected every result to be an out-parameter}}
  llvm.func @_mlir_ciface_logits(%result: !llvm.ptr, %x: !llvm.ptr) {
    llvm.return
  }
}
