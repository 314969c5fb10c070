// RUN: convseq-opt %s --split-input-file --convseq-distribute-worksharing-loops | FileCheck %s

// A collapsed 2-D nest over [rows, 8) by (1, 2): 4 iterations per row.
// Thread t of n runs q = total / n iterations from t q + min(t, r), one
// more if t < r = total mod n, numbered row-major, and maps each back to
// (i, j); the worksharing loop and its barrier are gone.

// CHECK-LABEL: func.func @collapsed(
// CHECK-SAME:    %[[ROWS:[^:]+]]: index
// CHECK:         omp.parallel {
// CHECK:           %[[T32:.+]] = func.call @omp_get_thread_num() : () -> i32
// CHECK:           %[[T:.+]] = arith.index_cast %[[T32]] : i32 to index
// CHECK:           %[[N32:.+]] = func.call @omp_get_num_threads() : () -> i32
// CHECK:           %[[N:.+]] = arith.index_cast %[[N32]] : i32 to index
// CHECK:           %[[ROW_TRIPS:.+]] = arith.maxsi
// CHECK:           %[[TOTAL_ROWS:.+]] = arith.muli %{{.+}}, %[[ROW_TRIPS]]
// CHECK:           %[[COL_TRIPS:.+]] = arith.maxsi
// CHECK:           %[[TOTAL:.+]] = arith.muli %[[TOTAL_ROWS]], %[[COL_TRIPS]]
// CHECK:           %[[Q:.+]] = arith.divui %[[TOTAL]], %[[N]]
// CHECK:           %[[R:.+]] = arith.remui %[[TOTAL]], %[[N]]
// CHECK:           %[[TQ:.+]] = arith.muli %[[T]], %[[Q]]
// CHECK:           %[[MIN:.+]] = arith.minui %[[T]], %[[R]]
// CHECK:           %[[BEGIN:.+]] = arith.addi %[[TQ]], %[[MIN]]
// CHECK:           %[[EXTRA:.+]] = arith.cmpi ult, %[[T]], %[[R]]
// CHECK:           %[[BQ:.+]] = arith.addi %[[BEGIN]], %[[Q]]
// CHECK:           %[[ONE_MORE:.+]] = arith.select %[[EXTRA]]
// CHECK:           %[[END:.+]] = arith.addi %[[BQ]], %[[ONE_MORE]]
// CHECK:           scf.for %[[K:.+]] = %[[BEGIN]] to %[[END]]
// CHECK:             %[[JK:.+]] = arith.remui %[[K]], %[[COL_TRIPS]]
// CHECK:             %[[IK:.+]] = arith.divui %[[K]], %[[COL_TRIPS]]
// CHECK:             %[[JSTEP:.+]] = arith.muli %[[JK]], %{{.+}}
// CHECK:             %[[J:.+]] = arith.addi %{{.+}}, %[[JSTEP]]
// CHECK:             %[[ISTEP:.+]] = arith.muli %[[IK]], %{{.+}}
// CHECK:             %[[I:.+]] = arith.addi %{{.+}}, %[[ISTEP]]
// CHECK:             memref.store %{{.+}}, %{{.+}}[%[[I]], %[[J]]]
// CHECK-NOT:         omp.yield
// CHECK:           }
// CHECK-NEXT:      omp.terminator
// CHECK-NOT:     omp.wsloop
// CHECK-LABEL: func.func private @omp_get_thread_num() -> i32
// CHECK-LABEL: func.func private @omp_get_num_threads() -> i32
func.func @collapsed(%rows: index, %x: memref<?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i, %j) : index = (%c0, %c0) to (%rows, %c8) step (%c1, %c2) collapse(2) {
        memref.store %one, %x[%i, %j] : memref<?x8xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// A schedule clause, or an op after the loop that its barrier orders:
// left to the runtime.

// CHECK-LABEL: func.func @not_distributed(
// CHECK:         omp.wsloop schedule(dynamic)
// CHECK:         omp.wsloop {
// CHECK-NOT:     func.call @omp_get_thread_num
func.func @not_distributed(%n: index, %x: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop schedule(dynamic) {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        memref.store %one, %x[%i] : memref<?xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        memref.store %one, %x[%i] : memref<?xf32>
        omp.yield
      }
    }
    omp.barrier
    omp.terminator
  }
  return
}
