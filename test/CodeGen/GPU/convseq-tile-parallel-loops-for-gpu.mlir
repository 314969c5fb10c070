// RUN: convseq-opt %s --convseq-tile-parallel-loops-for-gpu="block-size=128" --split-input-file | FileCheck %s

// Every outermost parallel loop becomes one dimension, row-major, tiled by
// the block size: blocks of consecutive elements of the unit-stride
// dimension.

// CHECK-LABEL: func.func @grid(
// CHECK-SAME:    %[[A:[^:]+]]: memref<?x?x256xf32>, %[[B0:[^:]+]]: index, %[[B1:[^:]+]]: index
// CHECK:         %[[ROWS:.+]] = arith.muli %{{.+}}, %[[B0]]
// CHECK:         %[[PLANE:.+]] = arith.muli %[[ROWS]], %[[B1]]
// CHECK:         %[[TOTAL:.+]] = arith.muli %[[PLANE]], %{{.+}}
// CHECK:         %[[C128:.+]] = arith.constant 128 : index
// CHECK:         %[[STEP:.+]] = arith.muli %{{.+}}, %[[C128]]
// CHECK:         scf.parallel (%[[BLOCK:.+]]) = (%{{.+}}) to (%[[TOTAL]]) step (%[[STEP]])
// CHECK-NEXT:      scf.parallel (%[[THREAD:.+]]) = (%{{.+}}) to (%[[STEP]])
// CHECK:             %[[LINEAR:.+]] = arith.addi %[[THREAD]], %[[BLOCK]]
// CHECK:             %[[IN:.+]] = arith.cmpi ult, %{{.+}}, %[[TOTAL]]
// CHECK:             scf.if
// CHECK:               %[[K:.+]] = arith.remsi %[[LINEAR]], %{{.+}}
// CHECK:               %[[IJ:.+]] = arith.divsi %[[LINEAR]], %{{.+}}
// CHECK:               %[[J:.+]] = arith.remsi %[[IJ]], %[[B1]]
// CHECK:               %[[I:.+]] = arith.divsi %[[IJ]], %[[B1]]
// CHECK:               memref.store %{{.+}}, %[[A]][%[[I]], %[[J]], %[[K]]]
func.func @grid(%a: memref<?x?x256xf32>, %b0: index, %b1: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %x = arith.constant 1.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%b0, %b1, %c256) step (%c1, %c1, %c1) {
    memref.store %x, %a[%i, %j, %k] : memref<?x?x256xf32>
    scf.reduce
  }
  return
}

// -----

// A loop shorter than a block gets the next power of two threads.
// CHECK-LABEL: func.func @small(
// CHECK:         %[[C8:.+]] = arith.constant 8 : index
// CHECK:         %[[STEP:.+]] = arith.muli %{{.+}}, %[[C8]]
// CHECK:         scf.parallel (%{{.+}}) = (%{{.+}}) to (%{{.+}}) step (%[[STEP]])
// CHECK-NEXT:      scf.parallel (%{{.+}}) = (%{{.+}}) to (%[[STEP]])
func.func @small(%a: memref<7xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %x = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c7) step (%c1) {
    memref.store %x, %a[%i] : memref<7xf32>
    scf.reduce
  }
  return
}
