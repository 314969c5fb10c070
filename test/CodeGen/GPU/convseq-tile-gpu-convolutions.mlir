// RUN: convseq-opt %s --split-input-file --convseq-tile-gpu-convolutions --canonicalize --cse \
// RUN:   | FileCheck %s

// A lightweight convolution (k = 7, 4 heads of 64 channels): a block per
// (batch, 64 positions, 32 channels). The threads stage 64 + 6 rows of the
// block's 32 channels in shared memory (zero outside x) and start their 8
// accumulators from y; then, for each tap in order, a thread reads the
// tap's weight once and adds its product with the staged input of each of
// its positions, rows y + 8 i + j; the accumulators go back into y where
// the position exists.
// CHECK-LABEL: func.func @lightweight(
// CHECK-SAME:      %[[X:[^:]+]]: memref<?x?x256xf32>, %[[W:[^:]+]]: memref<4x7xf32>, %[[Y:[^:]+]]: memref<?x?x256xf32>)
// CHECK:         %[[B:.+]] = memref.dim %[[X]], %{{.+}} : memref<?x?x256xf32>
// CHECK:         %[[L:.+]] = memref.dim %[[Y]], %{{.+}} : memref<?x?x256xf32>
// CHECK:         %[[LT:.+]] = arith.ceildivui %[[L]], %{{.+}}
// CHECK:         %[[XROWS:.+]] = memref.dim %[[X]], %{{.+}} : memref<?x?x256xf32>
// CHECK:         scf.parallel (%[[BLOCK:.+]]) =
// CHECK:           %[[BT:.+]]:3 = affine.delinearize_index %[[BLOCK]] into (%[[B]], %[[LT]], 8)
// CHECK:           %[[TILE:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<70x32xf32>
// CHECK:           %[[ACC:.+]] = memref.alloc() {convseq.gpu_memory = "private"} : memref<256x8xf32>
// CHECK:           scf.parallel (%[[T:.+]]) =
// CHECK:             %[[E:.+]]:2 = affine.delinearize_index %[[T]] into (70, 32)
// CHECK:             %[[ROW:.+]] = arith.addi %{{.+}}, %[[E]]#0
// CHECK:             arith.cmpi ult, %[[ROW]], %[[XROWS]]
// CHECK:             memref.load %[[X]][%[[BT]]#0, %[[ROW]],
// CHECK:             memref.store %{{.+}}, %[[TILE]][%[[E]]#0, %[[E]]#1]
// The last of the 9 staging steps covers 2048..2239 only.
// CHECK:             %[[LAST:.+]] = arith.addi %[[T]], %{{.+}}2048
// CHECK:             arith.cmpi ult, %[[LAST]], %{{.+}}2240
// CHECK:             affine.delinearize_index %[[T]] into (8, 32)
// CHECK-COUNT-8:     memref.load %[[Y]]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           scf.parallel (%[[T2:.+]]) =
// CHECK:             %[[YX:.+]]:2 = affine.delinearize_index %[[T2]] into (8, 32)
// CHECK:             scf.if
// CHECK:               scf.for %[[J:.+]] = %{{.+}} to %{{.+}}7 step
// CHECK:                 %[[WJ:.+]] = memref.load %[[W]][%{{.+}}, %[[J]]]
// CHECK:                 memref.load %[[TILE]][%{{.+}}, %[[YX]]#1]
// CHECK:                 arith.mulf %{{.+}}, %[[WJ]]
// CHECK:                 arith.addf
// CHECK-COUNT-7:         arith.mulf %{{.+}}, %[[WJ]]
// CHECK-NOT:             memref.load %[[W]]
// CHECK:               }
// CHECK-COUNT-8:       memref.store %{{.+}}, %[[Y]]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           memref.dealloc %[[TILE]]
// CHECK:           memref.dealloc %[[ACC]]
// CHECK:         } {convseq.gpu_block_loop}
// CHECK-NOT:     linalg.generic
func.func @lightweight(%x: memref<?x?x256xf32>, %w: memref<4x7xf32>, %y: memref<?x?x256xf32>) {
  linalg.generic {indexing_maps = [affine_map<(b, i, j, c) -> (b, i + j, c)>,
                                   affine_map<(b, i, j, c) -> (c floordiv 64, j)>,
                                   affine_map<(b, i, j, c) -> (b, i, c)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<?x?x256xf32>, memref<4x7xf32>) outs(%y : memref<?x?x256xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A dynamic convolution's input gradient (taps of a padded kernel that
// follow the position, dy read at t + 2 - j): the weights are read per
// position, as zero past the last one.
// CHECK-LABEL: func.func @dynamic_input_grad(
// CHECK-SAME:      %[[DY:[^:]+]]: memref<?x?x8xf32>, %[[K:[^:]+]]: memref<?x?x2x3xf32>, %[[DX:[^:]+]]: memref<?x?x8xf32>)
// CHECK:         memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<66x32xf32>
// CHECK:         scf.for %[[J:.+]] = %{{.+}} to %{{.+}}3 step
// CHECK-NOT:       memref.load %[[K]]
// CHECK:           memref.load %[[TILE:.+]][
// CHECK:           scf.if
// CHECK:             memref.load %[[K]][%{{.+}}, %{{.+}}, %{{.+}}, %[[J]]]
// CHECK:           } else {
// CHECK:           arith.mulf
// CHECK-NOT:     linalg.generic
func.func @dynamic_input_grad(%dy: memref<?x?x8xf32>, %k: memref<?x?x2x3xf32>, %dx: memref<?x?x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(b, t, j, c) -> (b, t - j + 2, c)>,
                                   affine_map<(b, t, j, c) -> (b, t - j + 2, c floordiv 4, j)>,
                                   affine_map<(b, t, j, c) -> (b, t, c)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%dy, %k : memref<?x?x8xf32>, memref<?x?x2x3xf32>) outs(%dx : memref<?x?x8xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Kept as they are:
// - a decoding step's convolution over 4 positions (fewer than a tile);
// - a dilation whose halo would not fit in shared memory;
// - taps of dynamic extent;
// - a weight gradient (two reduction loops);
// - a convolution already in a kernel's loops.
// CHECK-LABEL: func.func @kept(
// CHECK-COUNT-5: linalg.generic
// CHECK-NOT:     convseq.gpu_block_loop
func.func @kept(%x: memref<?x10x16xf32>, %w: memref<2x7xf32>, %y: memref<?x4x16xf32>,
                %xd: memref<?x?x16xf32>, %yd: memref<?x?x16xf32>, %wd: memref<2x?xf32>,
                %x4: memref<?x?x2x8xf32>, %y4: memref<?x?x2x8xf32>, %dw: memref<2x7xf32>,
                %n: index) {
  linalg.generic {indexing_maps = [affine_map<(b, i, j, c) -> (b, i + j, c)>,
                                   affine_map<(b, i, j, c) -> (c floordiv 8, j)>,
                                   affine_map<(b, i, j, c) -> (b, i, c)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<?x10x16xf32>, memref<2x7xf32>) outs(%y : memref<?x4x16xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(b, i, j, c) -> (b, i + j * 1024, c)>,
                                   affine_map<(b, i, j, c) -> (c floordiv 8, j)>,
                                   affine_map<(b, i, j, c) -> (b, i, c)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%xd, %w : memref<?x?x16xf32>, memref<2x7xf32>) outs(%yd : memref<?x?x16xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(b, i, j, c) -> (b, i + j, c)>,
                                   affine_map<(b, i, j, c) -> (c floordiv 8, j)>,
                                   affine_map<(b, i, j, c) -> (b, i, c)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%xd, %wd : memref<?x?x16xf32>, memref<2x?xf32>) outs(%yd : memref<?x?x16xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(h, j, b, i, e) -> (b, i + j, h, e)>,
                                   affine_map<(h, j, b, i, e) -> (b, i, h, e)>,
                                   affine_map<(h, j, b, i, e) -> (h, j)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x4, %y4 : memref<?x?x2x8xf32>, memref<?x?x2x8xf32>) outs(%dw : memref<2x7xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    linalg.generic {indexing_maps = [affine_map<(b, i, j, c) -> (b, i + j, c)>,
                                     affine_map<(b, i, j, c) -> (c floordiv 8, j)>,
                                     affine_map<(b, i, j, c) -> (b, i, c)>],
                    iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
        ins(%xd, %w : memref<?x?x16xf32>, memref<2x7xf32>) outs(%yd : memref<?x?x16xf32>) {
    ^bb0(%u: f32, %v: f32, %acc: f32):
      %p = arith.mulf %u, %v : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
    scf.reduce
  }
  return
}

// -----

// A fresh output filled just before the convolution: the accumulators start
// from the fill's value, and the fill goes.
// CHECK-LABEL: func.func @filled(
// CHECK:         %[[ZERO:.+]] = arith.constant 0.0
// CHECK-NOT:     linalg.fill
// CHECK:         %[[ACC:.+]] = memref.alloc() {convseq.gpu_memory = "private"}
// CHECK-COUNT-8: memref.store %[[ZERO]], %[[ACC]]
// CHECK:         } {convseq.gpu_thread_loop}
// CHECK-NOT:     linalg.fill
func.func @filled(%x: memref<?x?x256xf32>, %w: memref<4x7xf32>, %b: index, %l: index) -> memref<?x?x256xf32> {
  %zero = arith.constant 0.0 : f32
  %y = memref.alloc(%b, %l) : memref<?x?x256xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<?x?x256xf32>)
  linalg.generic {indexing_maps = [affine_map<(b, i, j, c) -> (b, i + j, c)>,
                                   affine_map<(b, i, j, c) -> (c floordiv 64, j)>,
                                   affine_map<(b, i, j, c) -> (b, i, c)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<?x?x256xf32>, memref<4x7xf32>) outs(%y : memref<?x?x256xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return %y : memref<?x?x256xf32>
}
