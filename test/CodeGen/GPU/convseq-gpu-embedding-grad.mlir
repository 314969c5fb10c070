// RUN: convseq-opt %s --convseq-gpu-embedding-grad="rows-per-thread=4" | FileCheck %s
// RUN: convseq-opt %s --convseq-gpu-embedding-grad | FileCheck %s --check-prefix=DEFAULT
// RUN: not convseq-opt %s --convseq-gpu-embedding-grad="rows-per-thread=0" 2>&1 | FileCheck %s --check-prefix=OPTIONS

// The gradient of an 11 x 8 table: a thread per (block of 4 rows, column),
// 3 x 8 threads, each walking all 10 positions in order and adding dy into
// its rows only: ids outside [0, 11) are in no thread's rows.
// CHECK-LABEL: func.func @embedding_grad(
// CHECK-SAME:      %[[IDS:.+]]: tensor<2x5xi32>, %[[DY:.+]]: tensor<2x5x8xf32>)
// CHECK-DAG:     %[[FLAT_IDS:.+]] = tensor.collapse_shape %[[IDS]] {{\[}}[0, 1]]
// CHECK-DAG:     %[[FLAT_DY:.+]] = tensor.collapse_shape %[[DY]] {{\[}}[0, 1], [2]]
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:     %[[C11:.+]] = arith.constant 11 : index
// CHECK-DAG:     %[[ZEROS:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<11x8xf32>)
// CHECK:         %[[GRAD:.+]] = scf.forall (%[[BLOCK:.+]], %[[COL:.+]]) in (3, 8) shared_outs(%[[TABLE:.+]] = %[[ZEROS]])
// CHECK:           %[[FIRST:.+]] = arith.muli %[[BLOCK]], %[[C4]]
// CHECK:           %[[LEFT:.+]] = arith.subi %[[C11]], %[[FIRST]]
// CHECK:           %[[ROWS:.+]] = arith.minsi %[[C4]], %[[LEFT]]
// CHECK:           %[[SLICE:.+]] = tensor.extract_slice %[[TABLE]][%[[FIRST]], %[[COL]]] [%[[ROWS]], 1] [1, 1] : tensor<11x8xf32> to tensor<?xf32>
// CHECK:           %[[DONE:.+]] = scf.for %[[P:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[SLICE]])
// CHECK:             %[[ID:.+]] = tensor.extract %[[FLAT_IDS]][%[[P]]]
// CHECK:             %[[IDX:.+]] = arith.index_cast %[[ID]]
// CHECK:             %[[ROW:.+]] = arith.subi %[[IDX]], %[[FIRST]]
// CHECK:             arith.cmpi sge, %[[ROW]]
// CHECK:             arith.cmpi slt, %[[ROW]], %[[ROWS]]
// CHECK:             scf.if
// CHECK:               %[[OLD:.+]] = tensor.extract %[[ACC]][%[[ROW]]]
// CHECK:               %[[D:.+]] = tensor.extract %[[FLAT_DY]][%[[P]], %[[COL]]]
// CHECK:               %[[SUM:.+]] = arith.addf %[[OLD]], %[[D]]
// CHECK:               tensor.insert %[[SUM]] into %[[ACC]][%[[ROW]]]
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[DONE]] into %[[TABLE]][%[[FIRST]], %[[COL]]] [%[[ROWS]], 1] [1, 1]
// CHECK:         return %[[GRAD]]
// DEFAULT:       scf.forall ({{.+}}) in (1, 8)
// OPTIONS:       error: rows-per-thread must be positive
func.func @embedding_grad(%ids: tensor<2x5xi32>, %dy: tensor<2x5x8xf32>) -> tensor<11x8xf32> {
  %0 = convseq.embedding_grad %ids, %dy : (tensor<2x5xi32>, tensor<2x5x8xf32>) -> tensor<11x8xf32>
  return %0 : tensor<11x8xf32>
}
