// The kernels of convseq-tile-gpu-convolutions, run as loops on the CPU
// (the thread loops one after another, as the barriers order them),
// against plain loop nests. Sizes leave partial position and channel tiles;
// the operands are small integers, so every sum is exact and any element
// computed from the wrong rows, halo, taps or channels shows as a mismatch.
// The small tiles (8 positions x 16 channels, 32 threads of 4 positions)
// make many blocks; the default tiles are run as well.
//
// RUN: convseq-opt %s --convseq-tile-gpu-convolutions="tile-positions=8 tile-channels=16 threads=32" \
// RUN:   | FileCheck %s --check-prefix=TILED
// RUN: convseq-opt %s --convseq-tile-gpu-convolutions="tile-positions=8 tile-channels=16 threads=32" \
// RUN:   | mlir-opt --expand-strided-metadata --lower-affine --convert-scf-to-cf \
// RUN:       --finalize-memref-to-llvm --convert-to-llvm --reconcile-unrealized-casts \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s
// RUN: convseq-opt %s --convseq-tile-gpu-convolutions \
// RUN:   | mlir-opt --expand-strided-metadata --lower-affine --convert-scf-to-cf \
// RUN:       --finalize-memref-to-llvm --convert-to-llvm --reconcile-unrealized-casts \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s

// Every convolution became a block loop: none is left as a linalg op.
// TILED-NOT: linalg.
// TILED-COUNT-3: } {convseq.gpu_block_loop}
// TILED-NOT: linalg.

// Each case prints its mismatches, then the sum of the loop nest's |out|
// (which shows the data is not all zeros).
// A lightweight convolution: taps w[c floordiv 8, j], input x[b, i + j, c].
// CHECK: 0
// CHECK-NEXT: 61289
// A dilated input gradient: taps w[c, j], input dy[b, t - 2 j + 12, c].
// CHECK-NEXT: 0
// CHECK-NEXT: 84626
// A dynamic convolution, loops (b, i, c, j), the input second: taps
// k[b, i, c floordiv 4, j].
// CHECK-NEXT: 0
// CHECK-NEXT: 13979

#light_x = affine_map<(b, i, j, c) -> (b, i + j, c)>
#light_w = affine_map<(b, i, j, c) -> (c floordiv 8, j)>
#light_y = affine_map<(b, i, j, c) -> (b, i, c)>
#grad_dy = affine_map<(b, t, j, c) -> (b, t - j * 2 + 12, c)>
#grad_w = affine_map<(b, t, j, c) -> (c, j)>
#dyn_k = affine_map<(b, i, c, j) -> (b, i, c floordiv 4, j)>
#dyn_x = affine_map<(b, i, c, j) -> (b, i + j, c)>
#dyn_y = affine_map<(b, i, c, j) -> (b, i, c)>

func.func private @printI64(i64)
func.func private @printNewline()

// Small integers from a buffer's linear index: (7 i) mod 11 - 5.
func.func @fill(%buffer: memref<?xf32>, %seed: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %c11 = arith.constant 11 : index
  %c5 = arith.constant 5 : i64
  %n = memref.dim %buffer, %c0 : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %s = arith.addi %i, %seed : index
    %m = arith.muli %s, %c7 : index
    %r = arith.remui %m, %c11 : index
    %ri = arith.index_cast %r : index to i64
    %v = arith.subi %ri, %c5 : i64
    %f = arith.sitofp %v : i64 to f32
    memref.store %f, %buffer[%i] : memref<?xf32>
  }
  return
}

func.func @filled2(%d0: index, %d1: index, %seed: index) -> memref<?x?xf32> {
  %m = memref.alloc(%d0, %d1) : memref<?x?xf32>
  %flat = memref.collapse_shape %m [[0, 1]] : memref<?x?xf32> into memref<?xf32>
  call @fill(%flat, %seed) : (memref<?xf32>, index) -> ()
  return %m : memref<?x?xf32>
}

func.func @filled3(%d0: index, %d1: index, %d2: index, %seed: index) -> memref<?x?x?xf32> {
  %m = memref.alloc(%d0, %d1, %d2) : memref<?x?x?xf32>
  %flat = memref.collapse_shape %m [[0, 1, 2]] : memref<?x?x?xf32> into memref<?xf32>
  call @fill(%flat, %seed) : (memref<?xf32>, index) -> ()
  return %m : memref<?x?x?xf32>
}

func.func @filled4(%d0: index, %d1: index, %d2: index, %d3: index, %seed: index) -> memref<?x?x?x?xf32> {
  %m = memref.alloc(%d0, %d1, %d2, %d3) : memref<?x?x?x?xf32>
  %flat = memref.collapse_shape %m [[0, 1, 2, 3]] : memref<?x?x?x?xf32> into memref<?xf32>
  call @fill(%flat, %seed) : (memref<?xf32>, index) -> ()
  return %m : memref<?x?x?x?xf32>
}

// Prints how many elements of `got` and `want` differ, then the sum of
// |want|.
func.func @compare(%got3: memref<?x?x?xf32>, %want3: memref<?x?x?xf32>) {
  %got = memref.collapse_shape %got3 [[0, 1, 2]] : memref<?x?x?xf32> into memref<?xf32>
  %want = memref.collapse_shape %want3 [[0, 1, 2]] : memref<?x?x?xf32> into memref<?xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %got, %c0 : memref<?xf32>
  %z = arith.constant 0 : i64
  %one = arith.constant 1 : i64
  %zf = arith.constant 0.0 : f32
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%bad = %z, %sum = %zf) -> (i64, f32) {
    %a = memref.load %got[%i] : memref<?xf32>
    %b = memref.load %want[%i] : memref<?xf32>
    %ne = arith.cmpf une, %a, %b : f32
    %inc = arith.select %ne, %one, %z : i64
    %next = arith.addi %bad, %inc : i64
    %abs = math.absf %b : f32
    %s = arith.addf %sum, %abs : f32
    scf.yield %next, %s : i64, f32
  }
  call @printI64(%r#0) : (i64) -> ()
  call @printNewline() : () -> ()
  %total = arith.fptosi %r#1 : f32 to i64
  call @printI64(%total) : (i64) -> ()
  call @printNewline() : () -> ()
  return
}

func.func @light(%x: memref<?x?x?xf32>, %w: memref<?x7xf32>, %y: memref<?x?x?xf32>) {
  linalg.generic {indexing_maps = [#light_x, #light_w, #light_y],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<?x?x?xf32>, memref<?x7xf32>) outs(%y : memref<?x?x?xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Taps of static extent 7 (the loop's extent comes from %w's type).
func.func @dilated_grad(%dy: memref<?x?x?xf32>, %w: memref<?x7xf32>, %dx: memref<?x?x?xf32>) {
  linalg.generic {indexing_maps = [#grad_dy, #grad_w, #light_y],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%dy, %w : memref<?x?x?xf32>, memref<?x7xf32>) outs(%dx : memref<?x?x?xf32>) {
  ^bb0(%u: f32, %v: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

func.func @dynamic(%k: memref<?x?x?x4xf32>, %x: memref<?x?x?xf32>, %y: memref<?x?x?xf32>) {
  linalg.generic {indexing_maps = [#dyn_k, #dyn_x, #dyn_y],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%k, %x : memref<?x?x?x4xf32>, memref<?x?x?xf32>) outs(%y : memref<?x?x?xf32>) {
  ^bb0(%v: f32, %u: f32, %acc: f32):
    %p = arith.mulf %u, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// The same convolutions as loop nests over (b, i, c, j).
func.func @light_loops(%x: memref<?x?x?xf32>, %w: memref<?x7xf32>, %y: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %nb = memref.dim %y, %c0 : memref<?x?x?xf32>
  %nl = memref.dim %y, %c1 : memref<?x?x?xf32>
  %nc = memref.dim %y, %c2 : memref<?x?x?xf32>
  %nk = memref.dim %w, %c1 : memref<?x7xf32>
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %i = %c0 to %nl step %c1 {
      scf.for %c = %c0 to %nc step %c1 {
        scf.for %j = %c0 to %nk step %c1 {
          %p = arith.addi %i, %j : index
          %h = arith.divui %c, %c8 : index
          %u = memref.load %x[%b, %p, %c] : memref<?x?x?xf32>
          %v = memref.load %w[%h, %j] : memref<?x7xf32>
          %acc = memref.load %y[%b, %i, %c] : memref<?x?x?xf32>
          %m = arith.mulf %u, %v : f32
          %sum = arith.addf %acc, %m : f32
          memref.store %sum, %y[%b, %i, %c] : memref<?x?x?xf32>
        }
      }
    }
  }
  return
}

func.func @dilated_grad_loops(%dy: memref<?x?x?xf32>, %w: memref<?x7xf32>, %dx: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c7 = arith.constant 7 : index
  %c12 = arith.constant 12 : index
  %nb = memref.dim %dx, %c0 : memref<?x?x?xf32>
  %nl = memref.dim %dx, %c1 : memref<?x?x?xf32>
  %nc = memref.dim %dx, %c2 : memref<?x?x?xf32>
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %t = %c0 to %nl step %c1 {
      scf.for %c = %c0 to %nc step %c1 {
        scf.for %j = %c0 to %c7 step %c1 {
          %j2 = arith.muli %j, %c2 : index
          %t12 = arith.addi %t, %c12 : index
          %p = arith.subi %t12, %j2 : index
          %u = memref.load %dy[%b, %p, %c] : memref<?x?x?xf32>
          %v = memref.load %w[%c, %j] : memref<?x7xf32>
          %acc = memref.load %dx[%b, %t, %c] : memref<?x?x?xf32>
          %m = arith.mulf %u, %v : f32
          %sum = arith.addf %acc, %m : f32
          memref.store %sum, %dx[%b, %t, %c] : memref<?x?x?xf32>
        }
      }
    }
  }
  return
}

func.func @dynamic_loops(%k: memref<?x?x?x4xf32>, %x: memref<?x?x?xf32>, %y: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %nb = memref.dim %y, %c0 : memref<?x?x?xf32>
  %nl = memref.dim %y, %c1 : memref<?x?x?xf32>
  %nc = memref.dim %y, %c2 : memref<?x?x?xf32>
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %i = %c0 to %nl step %c1 {
      scf.for %c = %c0 to %nc step %c1 {
        scf.for %j = %c0 to %c4 step %c1 {
          %p = arith.addi %i, %j : index
          %h = arith.divui %c, %c4 : index
          %u = memref.load %x[%b, %p, %c] : memref<?x?x?xf32>
          %v = memref.load %k[%b, %i, %h, %j] : memref<?x?x?x4xf32>
          %acc = memref.load %y[%b, %i, %c] : memref<?x?x?xf32>
          %m = arith.mulf %u, %v : f32
          %sum = arith.addf %acc, %m : f32
          memref.store %sum, %y[%b, %i, %c] : memref<?x?x?xf32>
        }
      }
    }
  }
  return
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %c12 = arith.constant 12 : index
  %c19 = arith.constant 19 : index
  %c29 = arith.constant 29 : index
  %c32 = arith.constant 32 : index
  %c37 = arith.constant 37 : index
  %c40 = arith.constant 40 : index
  %c43 = arith.constant 43 : index
  %c70 = arith.constant 70 : index
  %c82 = arith.constant 82 : index

  // x [2, 37 + 6, 40], w [5, 7], y [2, 37, 40] added to.
  %lx = call @filled3(%c2, %c43, %c40, %c0) : (index, index, index, index) -> memref<?x?x?xf32>
  %lw2 = call @filled2(%c5, %c7, %c1) : (index, index, index) -> memref<?x?xf32>
  %lw = memref.cast %lw2 : memref<?x?xf32> to memref<?x7xf32>
  %ly = call @filled3(%c2, %c37, %c40, %c2) : (index, index, index, index) -> memref<?x?x?xf32>
  %ly_ref = call @filled3(%c2, %c37, %c40, %c2) : (index, index, index, index) -> memref<?x?x?xf32>
  call @light(%lx, %lw, %ly) : (memref<?x?x?xf32>, memref<?x7xf32>, memref<?x?x?xf32>) -> ()
  call @light_loops(%lx, %lw, %ly_ref) : (memref<?x?x?xf32>, memref<?x7xf32>, memref<?x?x?xf32>) -> ()
  call @compare(%ly, %ly_ref) : (memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()

  // dy [3, 70 + 12, 19], w [19, 7], dx [3, 70, 19].
  %gdy = call @filled3(%c3, %c82, %c19, %c3) : (index, index, index, index) -> memref<?x?x?xf32>
  %gw2 = call @filled2(%c19, %c7, %c1) : (index, index, index) -> memref<?x?xf32>
  %gw = memref.cast %gw2 : memref<?x?xf32> to memref<?x7xf32>
  %gdx = call @filled3(%c3, %c70, %c19, %c0) : (index, index, index, index) -> memref<?x?x?xf32>
  %gdx_ref = call @filled3(%c3, %c70, %c19, %c0) : (index, index, index, index) -> memref<?x?x?xf32>
  call @dilated_grad(%gdy, %gw, %gdx) : (memref<?x?x?xf32>, memref<?x7xf32>, memref<?x?x?xf32>) -> ()
  call @dilated_grad_loops(%gdy, %gw, %gdx_ref) : (memref<?x?x?xf32>, memref<?x7xf32>, memref<?x?x?xf32>) -> ()
  call @compare(%gdx, %gdx_ref) : (memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()

  // k [2, 29, 3, 4], x [2, 29 + 3, 12], y [2, 29, 12].
  %c4 = arith.constant 4 : index
  %dk4 = call @filled4(%c2, %c29, %c3, %c4, %c2) : (index, index, index, index, index) -> memref<?x?x?x?xf32>
  %dk = memref.cast %dk4 : memref<?x?x?x?xf32> to memref<?x?x?x4xf32>
  %dx = call @filled3(%c2, %c32, %c12, %c1) : (index, index, index, index) -> memref<?x?x?xf32>
  %dy = call @filled3(%c2, %c29, %c12, %c3) : (index, index, index, index) -> memref<?x?x?xf32>
  %dy_ref = call @filled3(%c2, %c29, %c12, %c3) : (index, index, index, index) -> memref<?x?x?xf32>
  call @dynamic(%dk, %dx, %dy) : (memref<?x?x?x4xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  call @dynamic_loops(%dk, %dx, %dy_ref) : (memref<?x?x?x4xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  call @compare(%dy, %dy_ref) : (memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  return
}
