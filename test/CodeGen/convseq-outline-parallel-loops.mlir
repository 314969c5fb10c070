// RUN: convseq-opt %s --convseq-outline-parallel-loops | FileCheck %s

// Each outermost scf.parallel moves into a private function that takes the
// values it uses; a parallel loop nested in another moves with it, and
// serial code stays where it is.

// CHECK-LABEL: func.func private @step_parallel_0(
// CHECK-SAME:    %{{.+}}: f32, %{{.+}}: memref<?xf32>, %{{.+}}: index
// CHECK:         scf.parallel
// CHECK-NOT:     scf.parallel
// CHECK:         memref.store
// CHECK:         return

// CHECK-LABEL: func.func private @step_parallel_1(
// CHECK:         scf.parallel
// CHECK:           scf.parallel
// CHECK:         return

// CHECK-LABEL: func.func @step(
// CHECK-SAME:    %[[BUF:.+]]: memref<?xf32>, %[[GRID:.+]]: memref<?x?xf32>, %[[N:.+]]: index, %[[X:.+]]: f32)
// CHECK:         call @step_parallel_0(%[[X]], %[[BUF]], %{{.+}}, %[[N]], %{{.+}})
// CHECK-NEXT:    memref.store %[[X]], %[[BUF]]
// CHECK-NEXT:    call @step_parallel_1(
// CHECK-NOT:     scf.parallel
// CHECK:         return
func.func @step(%buf: memref<?xf32>, %grid: memref<?x?xf32>, %n: index, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %x, %buf[%i] : memref<?xf32>
    scf.reduce
  }
  memref.store %x, %buf[%c0] : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.parallel (%j) = (%c0) to (%n) step (%c1) {
      %v = memref.load %buf[%j] : memref<?xf32>
      memref.store %v, %grid[%i, %j] : memref<?x?xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}
