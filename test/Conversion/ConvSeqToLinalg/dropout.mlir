// RUN: convseq-opt %s --convert-convseq-to-linalg | FileCheck %s

// Philox-4x32-10 (lib/Support/Philox.h) on (column j, group of four rows,
// stream, step) with the seed as key: ten rounds of two 32x32->64
// multiplies; row i takes word i mod 4, kept iff it is at least
// rate * 2^32 (0.25 * 2^32 = 1073741824), kept values scaled by 1/(1-p).
// CHECK-LABEL: func.func @dropout
// CHECK-SAME: (%[[X:.+]]: tensor<?x16xf32>, %[[SEED:.+]]: i64, %[[STEP:.+]]: i64)
// CHECK: arith.trunci %[[SEED]] : i64 to i32
// CHECK: arith.trunci %[[STEP]] : i64 to i32
// CHECK: arith.constant 5 : i32
// CHECK: linalg.generic {{.+}} ins(%[[X]] : tensor<?x16xf32>)
// CHECK: %[[J:.+]] = linalg.index 1
// CHECK: %[[I:.+]] = linalg.index 0
// CHECK: %[[GROUP:.+]] = arith.divui %[[I]], %c4
// CHECK: %[[LEAD_GROUP:.+]] = arith.addi %{{.+}}, %[[GROUP]]
// CHECK: arith.index_castui %[[J]] : index to i32
// CHECK: arith.index_castui %[[LEAD_GROUP]] : index to i32
// CHECK-COUNT-20: arith.mului_extended
// CHECK: %[[WHICH:.+]] = arith.remui %[[I]], %c4
// CHECK: arith.cmpi eq, %[[WHICH]], %c2
// CHECK: arith.cmpi eq, %[[WHICH]], %c1
// CHECK: arith.cmpi eq, %[[WHICH]], %c0
// CHECK: %[[THRESHOLD:.+]] = arith.constant 1073741824 : i32
// CHECK: arith.cmpi uge, %{{.+}}, %[[THRESHOLD]] : i32
// CHECK: arith.constant 1.33333337 : f32
// CHECK: arith.select
func.func @dropout(%x: tensor<?x16xf32>, %seed: i64, %step: i64) -> tensor<?x16xf32> {
  %y = convseq.dropout %x rng(%seed, %step) {rate = 0.25 : f64, stream = 5 : i64}
    : (tensor<?x16xf32>, i64, i64) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
