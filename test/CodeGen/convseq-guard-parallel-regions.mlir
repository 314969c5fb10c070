// RUN: convseq-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convseq-guard-parallel-regions{min-work=4096}))' | FileCheck %s

// Rows of 256 floats, 16 lanes at a time: 16 iterations of a 3-op vector
// body and its yield (64), the nest's yield (1): 65 operations per row,
// plus the region's terminator. The row count is known at run time only,
// so the work is computed in front of the region and compared there.

// CHECK-LABEL: func.func @rows_at_run_time(
// CHECK-SAME:    %[[ROWS:[^:]+]]: index
// CHECK:         %[[TRIPS:.+]] = arith.maxsi
// CHECK:         %[[C65:.+]] = arith.constant 65 : index
// CHECK:         %[[PER_ROW:.+]] = arith.muli %[[TRIPS]], %[[C65]]
// CHECK:         %[[WORK:.+]] = arith.addi %[[PER_ROW]], %{{.+}}
// CHECK:         %[[MIN:.+]] = arith.constant 4096 : index
// CHECK:         %[[ENOUGH:.+]] = arith.cmpi sge, %[[WORK]], %[[MIN]]
// CHECK:         omp.parallel if(%[[ENOUGH]])
func.func @rows_at_run_time(%rows: index, %x: memref<?x256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c256 = arith.constant 256 : index
  %pad = arith.constant 0.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%rows) step (%c1) {
        scf.for %j = %c0 to %c256 step %c16 {
          %v = vector.transfer_read %x[%i, %j], %pad {in_bounds = [true]} : memref<?x256xf32>, vector<16xf32>
          %w = arith.addf %v, %v : vector<16xf32>
          vector.transfer_write %w, %x[%i, %j] {in_bounds = [true]} : vector<16xf32>, memref<?x256xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// Four rows of the same: 261 operations, known at compile time to be too
// few to share.

// CHECK-LABEL: func.func @few_rows(
// CHECK:         %[[FALSE:.+]] = arith.constant false
// CHECK:         omp.parallel if(%[[FALSE]])
func.func @few_rows(%x: memref<4x256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c256 = arith.constant 256 : index
  %pad = arith.constant 0.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c4) step (%c1) {
        scf.for %j = %c0 to %c256 step %c16 {
          %v = vector.transfer_read %x[%i, %j], %pad {in_bounds = [true]} : memref<4x256xf32>, vector<16xf32>
          %w = arith.addf %v, %v : vector<16xf32>
          vector.transfer_write %w, %x[%i, %j] {in_bounds = [true]} : vector<16xf32>, memref<4x256xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// 512 rows, with 64-lane vectors (four 512-bit registers each): known at
// compile time to be enough, so the region keeps no `if`.

// CHECK-LABEL: func.func @many_rows(
// CHECK-NOT:     arith.cmpi
// CHECK:         omp.parallel {
func.func @many_rows(%x: memref<512x256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %c512 = arith.constant 512 : index
  %pad = arith.constant 0.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c512) step (%c1) {
        scf.for %j = %c0 to %c256 step %c64 {
          %v = vector.transfer_read %x[%i, %j], %pad {in_bounds = [true]} : memref<512x256xf32>, vector<64xf32>
          %w = arith.addf %v, %v : vector<64xf32>
          vector.transfer_write %w, %x[%i, %j] {in_bounds = [true]} : vector<64xf32>, memref<512x256xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// A partial last tile: the inner loop runs min(16, n - i) times, at most
// 16, which bounds the work: 2 rows x (16 x 2 + 1) + 1 = 67.

// CHECK-LABEL: func.func @partial_tile(
// CHECK:         %[[FALSE:.+]] = arith.constant false
// CHECK:         omp.parallel if(%[[FALSE]])
func.func @partial_tile(%n: index, %x: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c2) step (%c1) {
        %size = affine.min affine_map<(d0)[s0] -> (16, s0 - d0 * 16)>(%i)[%n]
        scf.for %j = %c0 to %size step %c1 {
          %v = memref.load %x[%j] : memref<?xf32>
          memref.store %v, %x[%j] : memref<?xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// A call's work is unknown: the region stays parallel.

// CHECK-LABEL: func.func @unknown_work(
// CHECK:         omp.parallel {
func.func private @work(index)
func.func @unknown_work() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c2) step (%c1) {
        func.call @work(%i) : (index) -> ()
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
