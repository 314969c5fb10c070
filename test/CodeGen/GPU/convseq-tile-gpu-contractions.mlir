// RUN: convseq-opt %s --split-input-file \
// RUN:   --convseq-tile-gpu-contractions="tile-m=8 tile-n=8 tile-k=4 thread-tile-m=2 thread-tile-n=1" \
// RUN:   | FileCheck %s

// A matmul: a block per 8 x 8 tile of C (32 threads, 2 x 1 accumulators
// each). The accumulators start from C; each 4-step slice of k is staged
// in shared memory, A's k-major (its innermost dimension is k), B's
// n-major, then accumulated for min(4, K - k0) steps; the accumulators go
// back into C where the tile is inside it.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME:      %[[A:[^:]+]]: memref<?x?xf32>, %[[B:[^:]+]]: memref<?x?xf32>, %[[C:[^:]+]]: memref<?x?xf32>)
// CHECK:         %[[M:.+]] = memref.dim %[[A]], %{{.+}} : memref<?x?xf32>
// CHECK:         %[[K:.+]] = memref.dim %[[A]], %{{.+}} : memref<?x?xf32>
// CHECK:         memref.dim %[[B]]
// CHECK:         %[[N:.+]] = memref.dim %[[B]], %{{.+}} : memref<?x?xf32>
// CHECK:         %[[MT:.+]] = arith.ceildivui %[[M]], %{{.+}}
// CHECK:         %[[NT:.+]] = arith.ceildivui %[[N]], %{{.+}}
// CHECK:         %[[BLOCKS:.+]] = arith.muli %[[MT]], %[[NT]]
// CHECK:         scf.parallel (%[[BLOCK:.+]]) = (%{{.+}}) to (%[[BLOCKS]])
// CHECK:           affine.delinearize_index %[[BLOCK]] into (%{{.+}}, %[[MT]], %[[NT]])
// CHECK:           %[[ATILE:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<4x9xf32>
// CHECK:           %[[BTILE:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<4x9xf32>
// CHECK:           %[[ACC:.+]] = memref.alloc() {convseq.gpu_memory = "private"} : memref<32x2x1xf32>
// CHECK:           scf.parallel (%[[T:.+]]) =
// CHECK:             memref.load %[[C]]
// CHECK:             memref.store %{{.+}}, %[[ACC]][%[[T]],
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           scf.for %[[K0:.+]] = %{{.+}} to %[[K]] step %{{.+}} {
// CHECK:             scf.parallel
// CHECK:               %[[AT:.+]]:2 = affine.delinearize_index %{{.+}} into (8, 4)
// CHECK:               memref.load %[[A]]
// CHECK:               memref.store %{{.+}}, %[[ATILE]][%[[AT]]#1, %[[AT]]#0]
// CHECK:               %[[BT:.+]]:2 = affine.delinearize_index %{{.+}} into (4, 8)
// CHECK:               memref.load %[[B]]
// CHECK:               memref.store %{{.+}}, %[[BTILE]][%[[BT]]#0, %[[BT]]#1]
// CHECK:             } {convseq.gpu_thread_loop}
// CHECK:             %[[STEPS:.+]] = affine.min #{{.+}}(%[[K0]], %[[K]])
// CHECK:             scf.parallel (%[[T3:.+]]) =
// CHECK:               scf.for %[[KK:.+]] = %{{.+}} to %[[STEPS]]
// CHECK:                 memref.load %[[ATILE]][%[[KK]],
// CHECK:                 memref.load %[[BTILE]][%[[KK]],
// CHECK:                 arith.mulf
// CHECK:                 arith.addf
// CHECK:                 memref.store %{{.+}}, %[[ACC]][%[[T3]],
// CHECK:             } {convseq.gpu_thread_loop}
// CHECK:           }
// CHECK:           scf.parallel
// CHECK:             scf.if
// CHECK:               memref.load %[[ACC]]
// CHECK:               memref.store %{{.+}}, %[[C]]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           memref.dealloc %[[ATILE]]
// CHECK:           memref.dealloc %[[BTILE]]
// CHECK:           memref.dealloc %[[ACC]]
// CHECK:         } {convseq.gpu_block_loop}
// CHECK-NOT:     linalg.matmul
func.func @matmul(%a: memref<?x?xf32>, %b: memref<?x?xf32>, %c: memref<?x?xf32>) {
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>) outs(%c : memref<?x?xf32>)
  return
}

// -----

// B stored [n, k] is staged k-major. The loops of A and C that B lacks
// are all m loops: row (b, t) of the tile is split into both.
#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (n, k)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>
// CHECK-LABEL: func.func @rows_over_two_loops(
// CHECK-SAME:      %[[A:[^:]+]]: memref<3x?x16xf64>, %[[B:[^:]+]]: memref<16x16xf64>
// CHECK:         scf.parallel
// CHECK:           memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<4x9xf64>
// CHECK:           scf.for
// CHECK:             scf.parallel
// CHECK:               %[[ROW:.+]]:2 = affine.delinearize_index %{{.+}} into (%{{.+}}, %{{.+}})
// CHECK:               memref.load %[[A]][%[[ROW]]#0, %[[ROW]]#1,
// CHECK:               affine.delinearize_index %{{.+}} into (8, 4)
// CHECK:               memref.load %[[B]]
// CHECK:             } {convseq.gpu_thread_loop}
func.func @rows_over_two_loops(%a: memref<3x?x16xf64>, %b: memref<16x16xf64>, %c: memref<3x?x16xf64>) {
  linalg.contract indexing_maps = [#lhs, #rhs, #out]
      ins(%a, %b : memref<3x?x16xf64>, memref<16x16xf64>) outs(%c : memref<3x?x16xf64>)
  return
}

// -----

// Not tiled: a matrix-vector product (no n loop), a contraction of mixed
// element types, and one already inside a kernel's loop.
// CHECK-LABEL: func.func @untouched(
// CHECK:         linalg.matvec
// CHECK:         linalg.matmul ins(%{{.+}} : memref<?x?xf16>, memref<?x?xf16>) outs(%{{.+}} : memref<?x?xf32>)
// CHECK:         scf.parallel
// CHECK:           linalg.matmul
// CHECK-NOT:     convseq.gpu_block_loop
func.func @untouched(%a: memref<?x?xf32>, %x: memref<?xf32>, %y: memref<?xf32>,
                     %h: memref<?x?xf16>, %c: memref<?x?xf32>, %n: index) {
  linalg.matvec ins(%a, %x : memref<?x?xf32>, memref<?xf32>) outs(%y : memref<?xf32>)
  linalg.matmul ins(%h, %h : memref<?x?xf16>, memref<?x?xf16>) outs(%c : memref<?x?xf32>)
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    linalg.matmul ins(%a, %a : memref<?x?xf32>, memref<?x?xf32>) outs(%c : memref<?x?xf32>)
    scf.reduce
  }
  return
}

// -----

// A fresh output filled just before the contraction: the accumulators
// start from the fill's value, and the fill (a kernel of its own) goes.
// CHECK-LABEL: func.func @filled(
// CHECK-SAME:      %[[A:[^:]+]]: memref<?x?xf32>, %[[B:[^:]+]]: memref<?x?xf32>,
// CHECK:         %[[ZERO:.+]] = arith.constant 0.0
// CHECK:         %[[C:.+]] = memref.alloc
// CHECK-NOT:     linalg.fill
// CHECK:         scf.parallel
// CHECK:           %[[ACC:.+]] = memref.alloc() {convseq.gpu_memory = "private"}
// CHECK:           scf.parallel
// CHECK-NOT:         memref.load
// CHECK:             memref.store %[[ZERO]], %[[ACC]]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:         } {convseq.gpu_block_loop}
// CHECK-NOT:     linalg.fill
func.func @filled(%a: memref<?x?xf32>, %b: memref<?x?xf32>, %m: index, %n: index) -> memref<?x?xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc(%m, %n) : memref<?x?xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x?xf32>)
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>) outs(%c : memref<?x?xf32>)
  return %c : memref<?x?xf32>
}

// -----

// Fills that stay: the filled buffer is read before the contraction; the
// output is an argument (it may alias another); the fill is in a branch.
// CHECK-LABEL: func.func @fill_kept(
// CHECK-COUNT-3: linalg.fill
// CHECK-NOT:     linalg.matmul
func.func @fill_kept(%a: memref<?x?xf32>, %b: memref<?x?xf32>, %out: memref<?x?xf32>,
                     %copy: memref<?x?xf32>, %m: index, %n: index, %flag: i1) -> (memref<?x?xf32>, memref<?x?xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc(%m, %n) : memref<?x?xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x?xf32>)
  memref.copy %c, %copy : memref<?x?xf32> to memref<?x?xf32>
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>) outs(%c : memref<?x?xf32>)
  linalg.fill ins(%zero : f32) outs(%out : memref<?x?xf32>)
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>) outs(%out : memref<?x?xf32>)
  %d = memref.alloc(%m, %n) : memref<?x?xf32>
  scf.if %flag {
    linalg.fill ins(%zero : f32) outs(%d : memref<?x?xf32>)
  }
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>) outs(%d : memref<?x?xf32>)
  return %c, %d : memref<?x?xf32>, memref<?x?xf32>
}

// -----

// An epilogue: the ReLU of a residual add is the only reader of the fresh,
// filled output. The kernel applies it to each accumulator as it stores
// it, reading the residual at the same element, into the ReLU's output;
// the index computation and the allocation between the two move before
// the kernel, an op on unrelated buffers stays where it was, and the
// contraction's output buffer, the fill and the op are gone.
// CHECK-LABEL: func.func @epilogue(
// CHECK-SAME:      %[[A:[^:]+]]: memref<?x?xf32>, %[[B:[^:]+]]: memref<?x?xf32>, %[[R:[^:]+]]: memref<?x?xf32>,
// CHECK-SAME:      %[[X:[^:]+]]: memref<4xf32>, %[[Y:[^:]+]]: memref<4xf32>)
// CHECK:         %[[OUT:.+]] = memref.alloc(%{{.+}}, %{{.+}}) : memref<?x?xf32>
// CHECK-NOT:     memref.alloc(
// CHECK-NOT:     linalg.
// CHECK:         scf.parallel
// CHECK:           scf.if %{{[0-9]+}} {
// CHECK-NEXT:        %[[ACC:.+]] = memref.load %{{.+}} : memref<32x2x1xf32>
// CHECK:             %[[RES:.+]] = memref.load %[[R]][%[[I:.+]], %[[J:.+]]] : memref<?x?xf32>
// CHECK-NEXT:        %[[SUM:.+]] = arith.addf %[[ACC]], %[[RES]]
// CHECK-NEXT:        %[[RELU:.+]] = arith.maximumf %[[SUM]],
// CHECK-NEXT:        memref.store %[[RELU]], %[[OUT]][%[[I]], %[[J]]]
// CHECK:         } {convseq.gpu_block_loop}
// CHECK-NEXT:    linalg.copy ins(%[[X]] : memref<4xf32>) outs(%[[Y]] : memref<4xf32>)
// CHECK-NOT:     linalg.
// CHECK-NOT:     memref.dealloc
// CHECK:         return %[[OUT]]
#id = affine_map<(i, j) -> (i, j)>
func.func @epilogue(%a: memref<?x?xf32>, %b: memref<?x?xf32>, %r: memref<?x?xf32>,
                    %x: memref<4xf32>, %y: memref<4xf32>) -> memref<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %a, %c0 : memref<?x?xf32>
  %n = memref.dim %b, %c1 : memref<?x?xf32>
  %c = memref.alloc(%m, %n) : memref<?x?xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x?xf32>)
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>) outs(%c : memref<?x?xf32>)
  linalg.copy ins(%x : memref<4xf32>) outs(%y : memref<4xf32>)
  %m2 = memref.dim %r, %c0 : memref<?x?xf32>
  %out = memref.alloc(%m2, %n) : memref<?x?xf32>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %r : memref<?x?xf32>, memref<?x?xf32>) outs(%out : memref<?x?xf32>) {
  ^bb0(%u: f32, %v: f32, %w: f32):
    %s = arith.addf %u, %v : f32
    %relu = arith.maximumf %s, %zero : f32
    linalg.yield %relu : f32
  }
  memref.dealloc %c : memref<?x?xf32>
  return %out : memref<?x?xf32>
}

// -----

// Epilogues that stay kernels of their own: the op writes into the
// contraction's input A (other blocks still read it); an op between the
// two writes the op's other input; the op reads the output transposed.
// CHECK-LABEL: func.func @epilogue_kept(
// CHECK:         } {convseq.gpu_block_loop}
// CHECK-NEXT:    linalg.generic
// CHECK:         } {convseq.gpu_block_loop}
// CHECK-NEXT:    memref.copy
// CHECK-NEXT:    linalg.generic
// CHECK:         } {convseq.gpu_block_loop}
// CHECK-NEXT:    linalg.generic
#id = affine_map<(i, j) -> (i, j)>
func.func @epilogue_kept(%a: memref<8x8xf32>, %b: memref<8x8xf32>, %r: memref<8x8xf32>,
                         %s: memref<8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<8x8xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<8x8xf32>)
  linalg.matmul ins(%a, %b : memref<8x8xf32>, memref<8x8xf32>) outs(%c : memref<8x8xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<8x8xf32>) outs(%a : memref<8x8xf32>) {
  ^bb0(%u: f32, %w: f32):
    linalg.yield %u : f32
  }
  %d = memref.alloc() : memref<8x8xf32>
  linalg.fill ins(%zero : f32) outs(%d : memref<8x8xf32>)
  linalg.matmul ins(%s, %b : memref<8x8xf32>, memref<8x8xf32>) outs(%d : memref<8x8xf32>)
  memref.copy %s, %r : memref<8x8xf32> to memref<8x8xf32>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d, %r : memref<8x8xf32>, memref<8x8xf32>) outs(%s : memref<8x8xf32>) {
  ^bb0(%u: f32, %v: f32, %w: f32):
    %sum = arith.addf %u, %v : f32
    linalg.yield %sum : f32
  }
  %e = memref.alloc() : memref<8x8xf32>
  linalg.fill ins(%zero : f32) outs(%e : memref<8x8xf32>)
  linalg.matmul ins(%s, %b : memref<8x8xf32>, memref<8x8xf32>) outs(%e : memref<8x8xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (j, i)>, #id], iterator_types = ["parallel", "parallel"]}
      ins(%e : memref<8x8xf32>) outs(%r : memref<8x8xf32>) {
  ^bb0(%u: f32, %w: f32):
    linalg.yield %u : f32
  }
  memref.dealloc %c : memref<8x8xf32>
  memref.dealloc %d : memref<8x8xf32>
  memref.dealloc %e : memref<8x8xf32>
  return
}
