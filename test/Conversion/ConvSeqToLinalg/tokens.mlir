// RUN: convseq-opt %s --convert-convseq-to-linalg | FileCheck %s

// Embedding: a gather of rows with tensor.extract; ids outside [0, V) give 0.
// CHECK-DAG: #[[IDS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[IDSA:.+]]: tensor<?x?xi32>, %[[E:.+]]: tensor<100x64xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[IDS]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[IDSA]] : tensor<?x?xi32>)
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: %[[COL:.+]] = linalg.index 2
// CHECK: tensor.extract %[[E]][%{{.+}}, %[[COL]]]
func.func @embedding(%ids: tensor<?x?xi32>, %e: tensor<100x64xf32>) -> tensor<?x?x64xf32> {
  %h = convseq.embedding %ids, %e : (tensor<?x?xi32>, tensor<100x64xf32>) -> tensor<?x?x64xf32>
  return %h : tensor<?x?x64xf32>
}

// Sinusoidal positions from linalg.index, shifted by the offset.
// CHECK-LABEL: func.func @add_positions
// CHECK-SAME: %[[OFF:[^:]+]]: index
// CHECK: linalg.generic
// CHECK: %[[POS:.+]] = linalg.index 1
// CHECK: arith.addi %[[POS]], %[[OFF]]
// CHECK: math.exp
// CHECK: math.sin
// CHECK: math.cos
func.func @add_positions(%x: tensor<?x?x64xf32>, %t: index) -> tensor<?x?x64xf32> {
  %y = convseq.add_positions %x offset %t : (tensor<?x?x64xf32>, index) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @padding_mask
// CHECK: linalg.generic {{.+}} outs(%{{.+}} : tensor<?x?xi1>)
// CHECK: arith.constant 0 : i64
// CHECK: arith.cmpi ne
func.func @padding_mask(%ids: tensor<?x?xi64>) -> tensor<?x?xi1> {
  %m = convseq.padding_mask %ids : (tensor<?x?xi64>) -> tensor<?x?xi1>
  return %m : tensor<?x?xi1>
}

// Decoder inputs: the start id at position 0, else the previous target:
// ids[:, :T-1] inserted at offset 1 of a tensor filled with the start id.
// CHECK-LABEL: func.func @shift_right
// CHECK-SAME: (%[[T:.+]]: tensor<?x?xi32>)
// CHECK-DAG: %[[START:.+]] = arith.constant 7 : i32
// CHECK-DAG: %[[LEN:.+]] = tensor.dim %[[T]], %c1
// CHECK: %[[FILLED:.+]] = linalg.fill ins(%[[START]] : i32)
// CHECK: %[[MINUS:.+]] = arith.subi %[[LEN]], %c1
// CHECK: %[[KEPT:.+]] = arith.maxsi %[[MINUS]], %c0
// CHECK: %[[PREV:.+]] = tensor.extract_slice %[[T]][0, 0] [%{{.+}}, %[[KEPT]]] [1, 1]
// CHECK: %[[R:.+]] = tensor.insert_slice %[[PREV]] into %[[FILLED]][0, 1] [%{{.+}}, %[[KEPT]]] [1, 1]
// CHECK-NOT: tensor.extract %
// CHECK: return %[[R]]
func.func @shift_right(%t: tensor<?x?xi32>) -> tensor<?x?xi32> {
  %s = convseq.shift_right %t {start_id = 7 : i64} : tensor<?x?xi32>
  return %s : tensor<?x?xi32>
}
