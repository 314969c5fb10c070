// RUN: convseq-opt %s --split-input-file \
// RUN:   --convseq-tile-gpu-contractions="tile-m=8 tile-n=8 tile-k=4 thread-tile-m=2 thread-tile-n=1" \
// RUN:   --convseq-map-gpu-block-loops | FileCheck %s

// The tiled matmul as a launch: a block per tile (grid x), 32 threads; the
// shared tiles are workgroup attributions, the accumulators a private one
// without the thread dimension. The thread loops that touch shared memory
// (staging, accumulating) end with a barrier; the first and last (the
// accumulators from and into C) touch only each thread's own.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME:      %[[A:[^:]+]]: memref<?x?xf32>, %[[B:[^:]+]]: memref<?x?xf32>, %[[C:[^:]+]]: memref<?x?xf32>)
// CHECK:         %[[BLOCKS:.+]] = arith.muli
// CHECK:         %[[C32:.+]] = arith.constant 32 : index
// CHECK:         gpu.launch blocks(%[[BX:[^,]+]], %{{[^)]+}}) in (%{{[^ ]+}} = %[[BLOCKS]], {{[^)]+}})
// CHECK-SAME:        threads(%[[TX:[^,]+]], %{{[^)]+}}) in (%{{[^ ]+}} = %[[C32]], {{[^)]+}})
// CHECK-SAME:        workgroup(%[[AT:[^ ]+]] : memref<4x9xf32, #gpu.address_space<workgroup>>, %[[BT:[^ ]+]] : memref<4x9xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME:        private(%[[ACC:[^ ]+]] : memref<2x1xf32, #gpu.address_space<private>>)
// CHECK:           affine.delinearize_index %[[BX]] into
// CHECK:           affine.delinearize_index %[[TX]] into (4, 8)
// CHECK:           memref.load %[[C]]
// CHECK:           memref.store %{{.+}}, %[[ACC]][%{{[^,]+}}, %{{[^,]+}}] : memref<2x1xf32, #gpu.address_space<private>>
// CHECK-NOT:       gpu.barrier
// CHECK:           scf.for
// CHECK:             memref.load %[[A]]
// CHECK:             memref.store %{{.+}}, %[[AT]]
// CHECK:             memref.load %[[B]]
// CHECK:             memref.store %{{.+}}, %[[BT]]
// CHECK-NEXT:        gpu.barrier
// CHECK:             scf.for
// CHECK:               memref.load %[[AT]]
// CHECK:               memref.load %[[BT]]
// CHECK:               memref.load %[[ACC]]
// CHECK:             }
// CHECK-NEXT:        gpu.barrier
// CHECK:           }
// CHECK-NOT:       gpu.barrier
// CHECK:           memref.store %{{.+}}, %[[C]]
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.terminator
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     memref.dealloc
// CHECK-NOT:     scf.parallel
func.func @matmul(%a: memref<?x?xf32>, %b: memref<?x?xf32>, %c: memref<?x?xf32>) {
  linalg.matmul ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>) outs(%c : memref<?x?xf32>)
  return
}

// -----

// A last thread loop that reads shared memory needs no barrier: the kernel
// ends after it. One inside a loop over steps keeps its barrier, since the
// next step's threads write the buffer again.
// CHECK-LABEL: func.func @last_reads_shared(
// CHECK:         gpu.launch
// CHECK:           memref.store
// CHECK-NEXT:      gpu.barrier
// CHECK:           scf.for
// CHECK:             memref.load
// CHECK-NEXT:        memref.store
// CHECK-NEXT:        gpu.barrier
// CHECK:           }
// CHECK-NEXT:      memref.load %{{.+}}[%{{.+}}] : memref<32xf32, #gpu.address_space<workgroup>>
// CHECK-NEXT:      memref.store
// CHECK-NEXT:      gpu.terminator
func.func @last_reads_shared(%in: memref<?x32xf32>, %out: memref<?x32xf32>, %blocks: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%b) = (%c0) to (%blocks) step (%c1) {
    %tile = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<32xf32>
    scf.parallel (%t) = (%c0) to (%c32) step (%c1) {
      %v = memref.load %in[%b, %t] : memref<?x32xf32>
      memref.store %v, %tile[%t] : memref<32xf32>
      scf.reduce
    } {convseq.gpu_thread_loop}
    scf.for %s = %c0 to %c4 step %c1 {
      scf.parallel (%t) = (%c0) to (%c32) step (%c1) {
        %v = memref.load %tile[%s] : memref<32xf32>
        memref.store %v, %out[%b, %t] : memref<?x32xf32>
        scf.reduce
      } {convseq.gpu_thread_loop}
    }
    scf.parallel (%t) = (%c0) to (%c32) step (%c1) {
      %v = memref.load %tile[%t] : memref<32xf32>
      memref.store %v, %out[%b, %t] : memref<?x32xf32>
      scf.reduce
    } {convseq.gpu_thread_loop}
    memref.dealloc %tile : memref<32xf32>
    scf.reduce
  } {convseq.gpu_block_loop}
  return
}
