// RUN: convseq-opt %s --convseq-pack-entry-points | FileCheck %s

// Each C interface gets a wrapper taking one array of pointers: buffer
// slots are passed on as pointers, scalar slots are loaded.
// CHECK-LABEL: llvm.func @convseq_step(
// CHECK-SAME: %[[ARGS:.+]]: !llvm.ptr)
// CHECK: %[[S0:.+]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[P0:.+]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[S1:.+]] = llvm.getelementptr %[[ARGS]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[P1:.+]] = llvm.load %[[S1]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[V1:.+]] = llvm.load %[[P1]] : !llvm.ptr -> i64
// CHECK: %[[S2:.+]] = llvm.getelementptr %[[ARGS]][2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[P2:.+]] = llvm.load %[[S2]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @_mlir_ciface_step(%[[P0]], %[[V1]], %[[P2]]) : (!llvm.ptr, i64, !llvm.ptr) -> ()
// CHECK: llvm.return
// External declarations get no wrapper.
// CHECK-NOT: @convseq_external
module {
  llvm.func @_mlir_ciface_step(%desc: !llvm.ptr, %position: i64, %out: !llvm.ptr) {
    llvm.return
  }
  llvm.func @_mlir_ciface_external(!llvm.ptr)
}
