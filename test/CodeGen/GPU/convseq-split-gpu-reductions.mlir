// RUN: convseq-opt %s --split-input-file \
// RUN:   --convseq-split-gpu-reductions="serial-limit=8 partials=16 final-partials=4" \
// RUN:   | FileCheck %s
// RUN: convseq-opt %s --split-input-file --convseq-split-gpu-reductions \
// RUN:   | FileCheck %s --check-prefix=DEFAULT

// A full reduction would run on one GPU thread: it becomes 16 threads
// writing partial sums, thread p taking elements p, p + 16, ... of the
// row-major iteration space; the 16 partials are split again over 4
// threads, whose partials the original combiner folds into the output.
// CHECK-LABEL: func.func @sum_of_squares(
// CHECK-SAME:      %[[X:.+]]: memref<?x?xf32>, %[[OUT:.+]]: memref<f64>)
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG:     %[[ROWS:.+]] = memref.dim %[[X]], %{{.+}}
// CHECK-DAG:     %[[COLS:.+]] = memref.dim %[[X]], %{{.+}}
// CHECK-DAG:     %[[TOTAL:.+]] = arith.muli %[[ROWS]], %[[COLS]]
// CHECK:         %[[WIDE:.+]] = memref.alloc() : memref<16xf64>
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f64
// CHECK:         scf.parallel (%[[P:.+]]) = (%{{.+}}) to (%[[C16]]) step (%{{.+}})
// CHECK:           %[[SUM:.+]] = scf.for %[[I:.+]] = %[[P]] to %[[TOTAL]] step %[[C16]] iter_args(%[[ACC:.+]] = %[[ZERO]]) -> (f64)
// CHECK:             %[[COL:.+]] = arith.remui %[[I]], %[[COLS]]
// CHECK:             %[[ROW:.+]] = arith.divui %[[I]], %[[COLS]]
// CHECK:             %[[V:.+]] = memref.load %[[X]][%[[ROW]], %[[COL]]]
// CHECK:             %[[SQ:.+]] = arith.mulf %[[V]], %[[V]] : f32
// CHECK:             %[[EXT:.+]] = arith.extf %[[SQ]]
// CHECK:             %[[NEXT:.+]] = arith.addf %[[ACC]], %[[EXT]] : f64
// CHECK:             scf.yield %[[NEXT]]
// CHECK:           memref.store %[[SUM]], %[[WIDE]][%[[P]]]
// CHECK:         %[[NARROW:.+]] = memref.alloc() : memref<4xf64>
// CHECK:         scf.parallel
// CHECK:           scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// CHECK:             memref.load %[[WIDE]]
// CHECK:         linalg.generic {{.+}} iterator_types = ["reduction"]} ins(%[[NARROW]] : memref<4xf64>) outs(%[[OUT]] : memref<f64>)
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f64, %[[O:.+]]: f64):
// CHECK-NEXT:      %[[R:.+]] = arith.addf %[[O]], %[[IN]] : f64
// CHECK-NEXT:      linalg.yield %[[R]]
// CHECK:         memref.dealloc %[[NARROW]]
// CHECK:         memref.dealloc %[[WIDE]]
// DEFAULT-LABEL: func.func @sum_of_squares(
// DEFAULT:         memref.alloc() : memref<65536xf64>
// DEFAULT:         memref.alloc() : memref<256xf64>
// DEFAULT:         linalg.generic {{.+}} ins(%{{.+}} : memref<256xf64>)
func.func @sum_of_squares(%x: memref<?x?xf32>, %out: memref<f64>) {
  linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> ()>],
      iterator_types = ["reduction", "reduction"]}
      ins(%x : memref<?x?xf32>) outs(%out : memref<f64>) {
  ^bb0(%in: f32, %acc: f64):
    %sq = arith.mulf %in, %in : f32
    %ext = arith.extf %sq : f32 to f64
    %sum = arith.addf %acc, %ext : f64
    linalg.yield %sum : f64
  }
  return
}

// -----

// Two outputs, each with its own combiner (the loss: a sum and a max here);
// the body's linalg.index reads the element's own indices. 12 elements:
// one stage of 4 threads, 3 elements each.
// CHECK-LABEL: func.func @two_outputs(
// CHECK-DAG:     %[[C12:.+]] = arith.constant 12 : index
// CHECK-DAG:     %[[NEG:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:     %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         scf.parallel (%[[P:.+]]) =
// CHECK:           scf.for %[[I:.+]] = %[[P]] to %[[C12]] step %{{.+}} iter_args(%{{.+}} = %[[ZERO]], %{{.+}} = %[[NEG]])
// CHECK:             %[[J:.+]] = arith.remui %[[I]], %{{.+}}
// CHECK:             arith.divui %[[I]]
// CHECK:             arith.index_cast %[[J]]
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : memref<4xf32>, memref<4xf32>)
// CHECK:           arith.addf
// CHECK:           arith.maximumf
func.func @two_outputs(%x: memref<3x4xf32>, %sum: memref<f32>,
                       %max: memref<f32>) {
  linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> ()>,
                       affine_map<(d0, d1) -> ()>],
      iterator_types = ["reduction", "reduction"]}
      ins(%x : memref<3x4xf32>) outs(%sum, %max : memref<f32>, memref<f32>) {
  ^bb0(%in: f32, %s: f32, %m: f32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i32
    %jf = arith.sitofp %ji : i32 to f32
    %w = arith.mulf %in, %jf : f32
    %s2 = arith.addf %s, %w : f32
    %m2 = arith.maximumf %in, %m : f32
    linalg.yield %s2, %m2 : f32, f32
  }
  return
}

// -----

// A bias gradient: column sums of a [?, 8] matrix, the reduction loop
// first. 8 threads (one per column) would each fold all rows; instead the
// 16 threads (q, j) fold rows q, q + 2, ... of column j into partials[q, j],
// and a column sum of the 2 partials, parallel loop first, gives the output.
// CHECK-DAG: #[[$PARTIAL:.+]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG: #[[$OUTPUT:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @column_sums(
// CHECK-SAME:      %[[X:.+]]: memref<?x8xf32>, %[[OUT:.+]]: memref<8xf32>)
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG:     %[[ROWS:.+]] = memref.dim %[[X]]
// CHECK:         %[[PARTIALS:.+]] = memref.alloc() : memref<2x8xf32>
// CHECK:         scf.parallel (%[[Q:.+]], %[[J:.+]]) = (%{{.+}}, %{{.+}}) to (%[[C2]], %[[C8]])
// CHECK:           %[[SUM:.+]] = scf.for %[[I:.+]] = %[[Q]] to %[[ROWS]] step %[[C2]] iter_args(%[[ACC:.+]] = %{{.+}}) -> (f32)
// CHECK:             %[[V:.+]] = memref.load %[[X]][%[[I]], %[[J]]]
// CHECK:             %[[NEXT:.+]] = arith.addf %[[ACC]], %[[V]]
// CHECK:             scf.yield %[[NEXT]]
// CHECK:           memref.store %[[SUM]], %[[PARTIALS]][%[[Q]], %[[J]]]
// CHECK:         linalg.generic {indexing_maps = [#[[$PARTIAL]], #[[$OUTPUT]]], iterator_types = ["parallel", "reduction"]} ins(%[[PARTIALS]] : memref<2x8xf32>) outs(%[[OUT]] : memref<8xf32>)
// CHECK:         memref.dealloc %[[PARTIALS]]
func.func @column_sums(%x: memref<?x8xf32>, %out: memref<8xf32>) {
  linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d1)>],
      iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<?x8xf32>) outs(%out : memref<8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %sum = arith.addf %acc, %in : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// Left on one thread: a short reduction, a partial reduction (a parallel
// loop the mapping takes), and a body that is not one combiner per output.
// CHECK-LABEL: func.func @left_alone(
// CHECK-NOT:     scf.parallel
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT:     scf.parallel
func.func @left_alone(%short: memref<8xf32>, %x: memref<?x?xf32>,
                      %rows: memref<?xf32>, %out: memref<f32>) {
  linalg.generic {
      indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
      iterator_types = ["reduction"]}
      ins(%short : memref<8xf32>) outs(%out : memref<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %sum = arith.addf %acc, %in : f32
    linalg.yield %sum : f32
  }
  linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d0)>],
      iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x?xf32>) outs(%rows : memref<?xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %sum = arith.addf %acc, %in : f32
    linalg.yield %sum : f32
  }
  linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> ()>],
      iterator_types = ["reduction", "reduction"]}
      ins(%x : memref<?x?xf32>) outs(%out : memref<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %twice = arith.addf %acc, %acc : f32
    %sum = arith.addf %twice, %in : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// CHECK-LABEL: func.func @bad_options(
// RUN: not convseq-opt %s --split-input-file \
// RUN:   --convseq-split-gpu-reductions="partials=1" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=OPTIONS
// OPTIONS: error: serial-limit must be positive and the partial counts above 1
func.func @bad_options() {
  return
}
