// RUN: convseq-opt %s --split-input-file --convseq-tile-gpu-row-reductions | FileCheck %s
// RUN: not convseq-opt %s --split-input-file --convseq-tile-gpu-row-reductions="lanes=48" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=LANES

// LANES: error: threads must be a multiple of 32 up to 1024 and of lanes; got threads=256, lanes=48

// A norm's sum of squares over rows of a fresh, zero-filled output: a block
// of 8 rows x 32 lanes; lane l folds elements l, l + 32, ... of its row from
// the neutral element into shared memory, then thread r folds row r's 32
// partials from the fill's value, which is not a kernel any more.
// CHECK-LABEL: func.func @sum_squares(
// CHECK-SAME:      %[[X:[^:]+]]: memref<?x?x256xf32>
// CHECK-DAG:     %[[ZERO:.+]] = arith.constant 0.0
// CHECK-DAG:     %[[Y:.+]] = memref.alloc(
// CHECK-NOT:     linalg.fill
// CHECK:         %[[ROWS:.+]] = arith.muli
// CHECK:         %[[BLOCKS:.+]] = arith.ceildivui %[[ROWS]], %c8
// CHECK:         %[[NEUTRAL:.+]] = arith.constant 0.0
// CHECK:         scf.parallel (%[[BLOCK:.+]]) = ({{.+}}) to (%[[BLOCKS]])
// CHECK:           %[[PARTIALS:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<8x33xf32>
// CHECK:           scf.parallel (%[[T:.+]]) = ({{.+}}) to (%c256
// CHECK:             %[[ROW:.+]] = arith.divui %[[T]], %c32
// CHECK:             %[[LANE:.+]] = arith.remui %[[T]], %c32
// CHECK:             %[[RC:.+]]:2 = affine.delinearize_index
// CHECK:             %[[END:.+]] = arith.select %{{.+}}, %c256{{.*}}, %c0
// CHECK:             %[[PARTIAL:.+]] = scf.for %[[E:.+]] = %[[LANE]] to %[[END]] step %c32{{.*}} iter_args(%[[P:.+]] = %[[NEUTRAL]])
// CHECK:               %[[U:.+]] = memref.load %[[X]][%[[RC]]#0, %[[RC]]#1, %[[E]]]
// CHECK:               %[[SQ:.+]] = arith.mulf %[[U]], %[[U]]
// CHECK:               %[[SUM:.+]] = arith.addf %[[P]], %[[SQ]]
// CHECK:               scf.yield %[[SUM]]
// CHECK:             memref.store %[[PARTIAL]], %[[PARTIALS]][%[[ROW]], %[[LANE]]]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           scf.parallel (%[[T2:.+]]) = ({{.+}}) to (%c256
// CHECK:             %[[RC2:.+]]:2 = affine.delinearize_index
// CHECK:             scf.if
// CHECK:               %[[OUT:.+]] = scf.for %[[L:.+]] = %c0{{.*}} to %c32{{.*}} step %c1{{.*}} iter_args(%[[ACC:.+]] = %[[ZERO]])
// CHECK:                 %[[Q:.+]] = memref.load %[[PARTIALS]][%[[T2]], %[[L]]]
// CHECK:                 %[[NEXT:.+]] = arith.addf %[[ACC]], %[[Q]]
// CHECK:                 scf.yield %[[NEXT]]
// CHECK:               memref.store %[[OUT]], %[[Y]][%[[RC2]]#0, %[[RC2]]#1]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           memref.dealloc %[[PARTIALS]]
// CHECK:         } {convseq.gpu_block_loop}
// CHECK-NOT:     linalg.
func.func @sum_squares(%x: memref<?x?x256xf32>, %b: index, %l: index) -> memref<?x?xf32> {
  %zero = arith.constant 0.0 : f32
  %y = memref.alloc(%b, %l) : memref<?x?xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x?xf32>)
  linalg.generic {indexing_maps = [affine_map<(b, i, c) -> (b, i, c)>, affine_map<(b, i, c) -> (b, i)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<?x?x256xf32>) outs(%y : memref<?x?xf32>) {
  ^bb0(%u: f32, %acc: f32):
    %p = arith.mulf %u, %u : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return %y : memref<?x?xf32>
}

// -----

// A row max into an argument: the partials start from -inf and the fold
// from the output's value, loaded; a broadcast input (not read along the
// row) is loaded per element as the body needs it.
// CHECK-LABEL: func.func @row_max(
// CHECK-SAME:      %[[S:[^:]+]]: memref<?x?xf32>, %[[C:[^:]+]]: memref<?xf32>, %[[M:[^:]+]]: memref<?xf32>)
// CHECK:         %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         scf.for {{.+}} iter_args(%[[P:.+]] = %[[NINF]])
// CHECK:           memref.load %[[S]]
// CHECK:           memref.load %[[C]]
// CHECK:           arith.maximumf %[[P]]
// CHECK:         } {convseq.gpu_thread_loop}
// CHECK:         scf.if
// CHECK:           %[[START:.+]] = memref.load %[[M]]
// CHECK:           scf.for {{.+}} iter_args(%[[ACC:.+]] = %[[START]])
// CHECK:             arith.maximumf %[[ACC]]
// CHECK:           memref.store %{{.+}}, %[[M]]
func.func @row_max(%s: memref<?x?xf32>, %c: memref<?xf32>, %m: memref<?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%s, %c : memref<?x?xf32>, memref<?xf32>) outs(%m : memref<?xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %d = arith.subf %u, %v : f32
    %n = arith.maximumf %acc, %d : f32
    linalg.yield %n : f32
  }
  return
}

// -----

// Reductions that keep the simple kernel: a conv kernel's softmax over 7
// taps (shorter than min-length), a column reduction (the reduction loop
// is not the last), a row read with a stride (a transposed operand), a
// combiner without a neutral element (a select) and a full reduction.
// CHECK-LABEL: func.func @kept(
// CHECK-COUNT-5: linalg.generic
// CHECK-NOT:     convseq.gpu_block_loop
func.func @kept(%w: memref<4x7xf32>, %w_max: memref<4xf32>, %x: memref<?x?xf32>,
                %cols: memref<?xf32>, %xt: memref<?x?xf32, strided<[1, ?]>>, %rows: memref<?xf32>,
                %last: memref<?xf32>, %all: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(h, j) -> (h, j)>, affine_map<(h, j) -> (h)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%w : memref<4x7xf32>) outs(%w_max : memref<4xf32>) {
  ^bb0(%u: f32, %acc: f32):
    %n = arith.maximumf %acc, %u : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [affine_map<(j, i) -> (i, j)>, affine_map<(j, i) -> (j)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x?xf32>) outs(%cols : memref<?xf32>) {
  ^bb0(%u: f32, %acc: f32):
    %n = arith.addf %acc, %u : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%xt : memref<?x?xf32, strided<[1, ?]>>) outs(%rows : memref<?xf32>) {
  ^bb0(%u: f32, %acc: f32):
    %n = arith.addf %acc, %u : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<?x?xf32>) outs(%last : memref<?xf32>) {
  ^bb0(%u: f32, %acc: f32):
    %zero = arith.constant 0.0 : f32
    %neg = arith.cmpf olt, %u, %zero : f32
    %n = arith.select %neg, %acc, %u : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>],
                  iterator_types = ["reduction", "reduction"]}
      ins(%x : memref<?x?xf32>) outs(%all : memref<f32>) {
  ^bb0(%u: f32, %acc: f32):
    %n = arith.addf %acc, %u : f32
    linalg.yield %n : f32
  }
  return
}
