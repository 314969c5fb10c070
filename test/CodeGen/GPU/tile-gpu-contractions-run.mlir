// The tiled kernels of convseq-tile-gpu-contractions, run as loops on the
// CPU (the thread loops one after another, as the barriers order them),
// against plain loop nests. Sizes leave partial tiles in every dimension
// and several k slices; the operands are small integers, so every sum is
// exact and any element computed from the wrong operands, tiles or steps
// shows as a mismatch. The small tiles (16 x 8 x 4, 2 x 2 per thread, 32
// threads) make several blocks; the default tiles are run as well. The
// last case has an epilogue the kernel computes from its accumulators.
//
// RUN: convseq-opt %s --convseq-tile-gpu-contractions="tile-m=16 tile-n=8 tile-k=4 thread-tile-m=2 thread-tile-n=2" \
// RUN:   | FileCheck %s --check-prefix=TILED
// RUN: convseq-opt %s --convseq-tile-gpu-contractions="tile-m=16 tile-n=8 tile-k=4 thread-tile-m=2 thread-tile-n=2" \
// RUN:   | mlir-opt --lower-affine --convert-scf-to-cf --expand-strided-metadata \
// RUN:       --finalize-memref-to-llvm --convert-to-llvm --reconcile-unrealized-casts \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s
// RUN: convseq-opt %s --convseq-tile-gpu-contractions \
// RUN:   | mlir-opt --lower-affine --convert-scf-to-cf --expand-strided-metadata \
// RUN:       --finalize-memref-to-llvm --convert-to-llvm --reconcile-unrealized-casts \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s

// Every contraction became a block loop and the epilogue went into its
// kernel, with the contraction's output buffer: no linalg op is left.
// TILED-LABEL: func.func @batch_matmul(
// TILED-NOT:     linalg.
// TILED:         } {convseq.gpu_block_loop}
// TILED-LABEL: func.func @epilogue(
// TILED-NOT:     memref.alloc(%
// TILED-NOT:     linalg.
// TILED:         } {convseq.gpu_block_loop}
// TILED-NOT:     memref.dealloc
// TILED-NOT:     linalg.
// TILED-LABEL: func.func @weight_grad(
// TILED-NOT:     linalg.
// TILED:         } {convseq.gpu_block_loop}
// TILED-LABEL: func.func @heads(
// TILED-NOT:     linalg.
// TILED:         } {convseq.gpu_block_loop}
// TILED-NOT:     linalg.

// Each case prints its mismatches, then the sum of the loop nest's |C|
// (which shows the data is not all zeros).
// A batch matmul added to C: A k-major, B n-major.
// CHECK: 0
// CHECK-NEXT: 125839
// A weight gradient: k over (batch, time), both operands m- or n-major.
// CHECK-NEXT: 0
// CHECK-NEXT: 36540
// A projection into heads: n over (head, element).
// CHECK-NEXT: 0
// CHECK-NEXT: 304985
// A batch matmul with an epilogue: max(A B + R, 0) + bias[n] + m.
// CHECK-NEXT: 0
// CHECK-NEXT: 87941

#batch_a = affine_map<(b, m, n, k) -> (b, m, k)>
#batch_b = affine_map<(b, m, n, k) -> (b, k, n)>
#batch_c = affine_map<(b, m, n, k) -> (b, m, n)>
#grad_x = affine_map<(m, n, b, t) -> (b, t, m)>
#grad_dy = affine_map<(m, n, b, t) -> (b, t, n)>
#grad_w = affine_map<(m, n, b, t) -> (m, n)>
#heads_x = affine_map<(b, t, h, e, d) -> (b, t, d)>
#heads_w = affine_map<(b, t, h, e, d) -> (d, h, e)>
#heads_y = affine_map<(b, t, h, e, d) -> (b, t, h, e)>
#id3 = affine_map<(b, m, n) -> (b, m, n)>
#last3 = affine_map<(b, m, n) -> (n)>

func.func private @printI64(i64)
func.func private @printNewline()

// Small integers from a buffer's linear index: (7 i) mod 11 - 5.
func.func @fill(%buffer: memref<?xf32>, %n: index, %seed: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %c11 = arith.constant 11 : index
  %c5 = arith.constant 5 : i64
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

// Prints how many elements of `got` and `want` differ, then the sum of
// |want|.
func.func @compare(%got: memref<?xf32>, %want: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
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

func.func @batch_matmul(%a: memref<?x?x?xf32>, %b: memref<?x?x?xf32>, %c: memref<?x?x?xf32>) {
  linalg.generic {indexing_maps = [#batch_a, #batch_b, #batch_c],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x?x?xf32>, memref<?x?x?xf32>) outs(%c : memref<?x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// The contraction into a fresh zero-filled buffer, read only by an
// element-wise op with a residual, a broadcast bias and linalg.index.
func.func @epilogue(%a: memref<?x?x?xf32>, %b: memref<?x?x?xf32>,
                    %r: memref<?x?x?xf32>, %bias: memref<?xf32>,
                    %out: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %nb = memref.dim %a, %c0 : memref<?x?x?xf32>
  %nm = memref.dim %a, %c1 : memref<?x?x?xf32>
  %nn = memref.dim %b, %c2 : memref<?x?x?xf32>
  %t = memref.alloc(%nb, %nm, %nn) : memref<?x?x?xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<?x?x?xf32>)
  linalg.generic {indexing_maps = [#batch_a, #batch_b, #batch_c],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x?x?xf32>, memref<?x?x?xf32>) outs(%t : memref<?x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id3, #id3, #last3, #id3],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t, %r, %bias : memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?xf32>)
      outs(%out : memref<?x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32, %unused: f32):
    %sum = arith.addf %x, %y : f32
    %relu = arith.maximumf %sum, %zero : f32
    %biased = arith.addf %relu, %z : f32
    %m = linalg.index 1 : index
    %mi = arith.index_cast %m : index to i64
    %mf = arith.sitofp %mi : i64 to f32
    %v = arith.addf %biased, %mf : f32
    linalg.yield %v : f32
  }
  memref.dealloc %t : memref<?x?x?xf32>
  return
}

func.func @epilogue_loops(%a: memref<?x?x?xf32>, %b: memref<?x?x?xf32>,
                          %r: memref<?x?x?xf32>, %bias: memref<?xf32>,
                          %out: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %nb = memref.dim %a, %c0 : memref<?x?x?xf32>
  %nm = memref.dim %a, %c1 : memref<?x?x?xf32>
  %nn = memref.dim %b, %c2 : memref<?x?x?xf32>
  %nk = memref.dim %a, %c2 : memref<?x?x?xf32>
  scf.for %i = %c0 to %nb step %c1 {
    scf.for %m = %c0 to %nm step %c1 {
      scf.for %n = %c0 to %nn step %c1 {
        %x = scf.for %k = %c0 to %nk step %c1 iter_args(%acc = %zero) -> (f32) {
          %u = memref.load %a[%i, %m, %k] : memref<?x?x?xf32>
          %w = memref.load %b[%i, %k, %n] : memref<?x?x?xf32>
          %p = arith.mulf %u, %w : f32
          %s = arith.addf %acc, %p : f32
          scf.yield %s : f32
        }
        %y = memref.load %r[%i, %m, %n] : memref<?x?x?xf32>
        %z = memref.load %bias[%n] : memref<?xf32>
        %sum = arith.addf %x, %y : f32
        %relu = arith.maximumf %sum, %zero : f32
        %biased = arith.addf %relu, %z : f32
        %mi = arith.index_cast %m : index to i64
        %mf = arith.sitofp %mi : i64 to f32
        %v = arith.addf %biased, %mf : f32
        memref.store %v, %out[%i, %m, %n] : memref<?x?x?xf32>
      }
    }
  }
  return
}

func.func @weight_grad(%x: memref<?x?x?xf32>, %dy: memref<?x?x?xf32>, %w: memref<?x?xf32>) {
  linalg.contract indexing_maps = [#grad_x, #grad_dy, #grad_w]
      ins(%x, %dy : memref<?x?x?xf32>, memref<?x?x?xf32>) outs(%w : memref<?x?xf32>)
  return
}

func.func @heads(%x: memref<?x?x?xf32>, %w: memref<?x?x?xf32>, %y: memref<?x?x?x?xf32>) {
  linalg.contract indexing_maps = [#heads_x, #heads_w, #heads_y]
      ins(%x, %w : memref<?x?x?xf32>, memref<?x?x?xf32>) outs(%y : memref<?x?x?x?xf32>)
  return
}

// The same contractions as loop nests.
func.func @batch_matmul_loops(%a: memref<?x?x?xf32>, %b: memref<?x?x?xf32>, %c: memref<?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %nb = memref.dim %a, %c0 : memref<?x?x?xf32>
  %nm = memref.dim %a, %c1 : memref<?x?x?xf32>
  %nk = memref.dim %a, %c2 : memref<?x?x?xf32>
  %nn = memref.dim %b, %c2 : memref<?x?x?xf32>
  scf.for %i = %c0 to %nb step %c1 {
    scf.for %m = %c0 to %nm step %c1 {
      scf.for %n = %c0 to %nn step %c1 {
        scf.for %k = %c0 to %nk step %c1 {
          %x = memref.load %a[%i, %m, %k] : memref<?x?x?xf32>
          %y = memref.load %b[%i, %k, %n] : memref<?x?x?xf32>
          %acc = memref.load %c[%i, %m, %n] : memref<?x?x?xf32>
          %p = arith.mulf %x, %y : f32
          %s = arith.addf %acc, %p : f32
          memref.store %s, %c[%i, %m, %n] : memref<?x?x?xf32>
        }
      }
    }
  }
  return
}

func.func @weight_grad_loops(%x: memref<?x?x?xf32>, %dy: memref<?x?x?xf32>, %w: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %nb = memref.dim %x, %c0 : memref<?x?x?xf32>
  %nt = memref.dim %x, %c1 : memref<?x?x?xf32>
  %nm = memref.dim %x, %c2 : memref<?x?x?xf32>
  %nn = memref.dim %dy, %c2 : memref<?x?x?xf32>
  scf.for %m = %c0 to %nm step %c1 {
    scf.for %n = %c0 to %nn step %c1 {
      scf.for %b = %c0 to %nb step %c1 {
        scf.for %t = %c0 to %nt step %c1 {
          %u = memref.load %x[%b, %t, %m] : memref<?x?x?xf32>
          %v = memref.load %dy[%b, %t, %n] : memref<?x?x?xf32>
          %acc = memref.load %w[%m, %n] : memref<?x?xf32>
          %p = arith.mulf %u, %v : f32
          %s = arith.addf %acc, %p : f32
          memref.store %s, %w[%m, %n] : memref<?x?xf32>
        }
      }
    }
  }
  return
}

func.func @heads_loops(%x: memref<?x?x?xf32>, %w: memref<?x?x?xf32>, %y: memref<?x?x?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %nb = memref.dim %x, %c0 : memref<?x?x?xf32>
  %nt = memref.dim %x, %c1 : memref<?x?x?xf32>
  %nd = memref.dim %x, %c2 : memref<?x?x?xf32>
  %nh = memref.dim %w, %c1 : memref<?x?x?xf32>
  %ne = memref.dim %w, %c2 : memref<?x?x?xf32>
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %t = %c0 to %nt step %c1 {
      scf.for %h = %c0 to %nh step %c1 {
        scf.for %e = %c0 to %ne step %c1 {
          scf.for %d = %c0 to %nd step %c1 {
            %u = memref.load %x[%b, %t, %d] : memref<?x?x?xf32>
            %v = memref.load %w[%d, %h, %e] : memref<?x?x?xf32>
            %acc = memref.load %y[%b, %t, %h, %e] : memref<?x?x?x?xf32>
            %p = arith.mulf %u, %v : f32
            %s = arith.addf %acc, %p : f32
            memref.store %s, %y[%b, %t, %h, %e] : memref<?x?x?x?xf32>
          }
        }
      }
    }
  }
  return
}

func.func @main() {
  // [2, 37, 41] x [2, 41, 19] added to C.
  %as = memref.alloc() : memref<2x37x41xf32>
  %af = memref.collapse_shape %as [[0, 1, 2]] : memref<2x37x41xf32> into memref<3034xf32>
  %aflat = memref.cast %af : memref<3034xf32> to memref<?xf32>
  %a = memref.cast %as : memref<2x37x41xf32> to memref<?x?x?xf32>
  %an = arith.constant 3034 : index
  %aseed = arith.constant 0 : index
  call @fill(%aflat, %an, %aseed) : (memref<?xf32>, index, index) -> ()
  %bs = memref.alloc() : memref<2x41x19xf32>
  %bf = memref.collapse_shape %bs [[0, 1, 2]] : memref<2x41x19xf32> into memref<1558xf32>
  %bflat = memref.cast %bf : memref<1558xf32> to memref<?xf32>
  %b = memref.cast %bs : memref<2x41x19xf32> to memref<?x?x?xf32>
  %bn = arith.constant 1558 : index
  %bseed = arith.constant 1 : index
  call @fill(%bflat, %bn, %bseed) : (memref<?xf32>, index, index) -> ()
  %cs = memref.alloc() : memref<2x37x19xf32>
  %cf = memref.collapse_shape %cs [[0, 1, 2]] : memref<2x37x19xf32> into memref<1406xf32>
  %cflat = memref.cast %cf : memref<1406xf32> to memref<?xf32>
  %c = memref.cast %cs : memref<2x37x19xf32> to memref<?x?x?xf32>
  %cn = arith.constant 1406 : index
  %cseed = arith.constant 2 : index
  call @fill(%cflat, %cn, %cseed) : (memref<?xf32>, index, index) -> ()
  %c_refs = memref.alloc() : memref<2x37x19xf32>
  %c_reff = memref.collapse_shape %c_refs [[0, 1, 2]] : memref<2x37x19xf32> into memref<1406xf32>
  %c_refflat = memref.cast %c_reff : memref<1406xf32> to memref<?xf32>
  %c_ref = memref.cast %c_refs : memref<2x37x19xf32> to memref<?x?x?xf32>
  %c_refn = arith.constant 1406 : index
  %c_refseed = arith.constant 2 : index
  call @fill(%c_refflat, %c_refn, %c_refseed) : (memref<?xf32>, index, index) -> ()
  call @batch_matmul(%a, %b, %c) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  call @batch_matmul_loops(%a, %b, %c_ref) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  call @compare(%cflat, %c_refflat, %cn) : (memref<?xf32>, memref<?xf32>, index) -> ()
  // dW[67, 66] += sum over (3, 29) of X[b, t, m] dY[b, t, n].
  %xs = memref.alloc() : memref<3x29x67xf32>
  %xf = memref.collapse_shape %xs [[0, 1, 2]] : memref<3x29x67xf32> into memref<5829xf32>
  %xflat = memref.cast %xf : memref<5829xf32> to memref<?xf32>
  %x = memref.cast %xs : memref<3x29x67xf32> to memref<?x?x?xf32>
  %xn = arith.constant 5829 : index
  %xseed = arith.constant 3 : index
  call @fill(%xflat, %xn, %xseed) : (memref<?xf32>, index, index) -> ()
  %dys = memref.alloc() : memref<3x29x66xf32>
  %dyf = memref.collapse_shape %dys [[0, 1, 2]] : memref<3x29x66xf32> into memref<5742xf32>
  %dyflat = memref.cast %dyf : memref<5742xf32> to memref<?xf32>
  %dy = memref.cast %dys : memref<3x29x66xf32> to memref<?x?x?xf32>
  %dyn = arith.constant 5742 : index
  %dyseed = arith.constant 1 : index
  call @fill(%dyflat, %dyn, %dyseed) : (memref<?xf32>, index, index) -> ()
  %ws = memref.alloc() : memref<67x66xf32>
  %wf = memref.collapse_shape %ws [[0, 1]] : memref<67x66xf32> into memref<4422xf32>
  %wflat = memref.cast %wf : memref<4422xf32> to memref<?xf32>
  %w = memref.cast %ws : memref<67x66xf32> to memref<?x?xf32>
  %wn = arith.constant 4422 : index
  %wseed = arith.constant 0 : index
  call @fill(%wflat, %wn, %wseed) : (memref<?xf32>, index, index) -> ()
  %w_refs = memref.alloc() : memref<67x66xf32>
  %w_reff = memref.collapse_shape %w_refs [[0, 1]] : memref<67x66xf32> into memref<4422xf32>
  %w_refflat = memref.cast %w_reff : memref<4422xf32> to memref<?xf32>
  %w_ref = memref.cast %w_refs : memref<67x66xf32> to memref<?x?xf32>
  %w_refn = arith.constant 4422 : index
  %w_refseed = arith.constant 0 : index
  call @fill(%w_refflat, %w_refn, %w_refseed) : (memref<?xf32>, index, index) -> ()
  call @weight_grad(%x, %dy, %w) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>) -> ()
  call @weight_grad_loops(%x, %dy, %w_ref) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>) -> ()
  call @compare(%wflat, %w_refflat, %wn) : (memref<?xf32>, memref<?xf32>, index) -> ()
  // [2, 19, 23] x [23, 3, 29] into [2, 19, 3, 29].
  %hxs = memref.alloc() : memref<2x19x23xf32>
  %hxf = memref.collapse_shape %hxs [[0, 1, 2]] : memref<2x19x23xf32> into memref<874xf32>
  %hxflat = memref.cast %hxf : memref<874xf32> to memref<?xf32>
  %hx = memref.cast %hxs : memref<2x19x23xf32> to memref<?x?x?xf32>
  %hxn = arith.constant 874 : index
  %hxseed = arith.constant 2 : index
  call @fill(%hxflat, %hxn, %hxseed) : (memref<?xf32>, index, index) -> ()
  %hws = memref.alloc() : memref<23x3x29xf32>
  %hwf = memref.collapse_shape %hws [[0, 1, 2]] : memref<23x3x29xf32> into memref<2001xf32>
  %hwflat = memref.cast %hwf : memref<2001xf32> to memref<?xf32>
  %hw = memref.cast %hws : memref<23x3x29xf32> to memref<?x?x?xf32>
  %hwn = arith.constant 2001 : index
  %hwseed = arith.constant 3 : index
  call @fill(%hwflat, %hwn, %hwseed) : (memref<?xf32>, index, index) -> ()
  %hys = memref.alloc() : memref<2x19x3x29xf32>
  %hyf = memref.collapse_shape %hys [[0, 1, 2, 3]] : memref<2x19x3x29xf32> into memref<3306xf32>
  %hyflat = memref.cast %hyf : memref<3306xf32> to memref<?xf32>
  %hy = memref.cast %hys : memref<2x19x3x29xf32> to memref<?x?x?x?xf32>
  %hyn = arith.constant 3306 : index
  %hyseed = arith.constant 1 : index
  call @fill(%hyflat, %hyn, %hyseed) : (memref<?xf32>, index, index) -> ()
  %hy_refs = memref.alloc() : memref<2x19x3x29xf32>
  %hy_reff = memref.collapse_shape %hy_refs [[0, 1, 2, 3]] : memref<2x19x3x29xf32> into memref<3306xf32>
  %hy_refflat = memref.cast %hy_reff : memref<3306xf32> to memref<?xf32>
  %hy_ref = memref.cast %hy_refs : memref<2x19x3x29xf32> to memref<?x?x?x?xf32>
  %hy_refn = arith.constant 3306 : index
  %hy_refseed = arith.constant 1 : index
  call @fill(%hy_refflat, %hy_refn, %hy_refseed) : (memref<?xf32>, index, index) -> ()
  call @heads(%hx, %hw, %hy) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?x?xf32>) -> ()
  call @heads_loops(%hx, %hw, %hy_ref) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?x?xf32>) -> ()
  call @compare(%hyflat, %hy_refflat, %hyn) : (memref<?xf32>, memref<?xf32>, index) -> ()
  // max([2, 37, 41] x [2, 41, 19] + R, 0) + bias + m, with A and B above.
  %rs = memref.alloc() : memref<2x37x19xf32>
  %rf = memref.collapse_shape %rs [[0, 1, 2]] : memref<2x37x19xf32> into memref<1406xf32>
  %rflat = memref.cast %rf : memref<1406xf32> to memref<?xf32>
  %r = memref.cast %rs : memref<2x37x19xf32> to memref<?x?x?xf32>
  %rseed = arith.constant 4 : index
  call @fill(%rflat, %cn, %rseed) : (memref<?xf32>, index, index) -> ()
  %biass = memref.alloc() : memref<19xf32>
  %bias = memref.cast %biass : memref<19xf32> to memref<?xf32>
  %biasn = arith.constant 19 : index
  %biasseed = arith.constant 5 : index
  call @fill(%bias, %biasn, %biasseed) : (memref<?xf32>, index, index) -> ()
  %os = memref.alloc() : memref<2x37x19xf32>
  %of = memref.collapse_shape %os [[0, 1, 2]] : memref<2x37x19xf32> into memref<1406xf32>
  %oflat = memref.cast %of : memref<1406xf32> to memref<?xf32>
  %o = memref.cast %os : memref<2x37x19xf32> to memref<?x?x?xf32>
  %o_refs = memref.alloc() : memref<2x37x19xf32>
  %o_reff = memref.collapse_shape %o_refs [[0, 1, 2]] : memref<2x37x19xf32> into memref<1406xf32>
  %o_refflat = memref.cast %o_reff : memref<1406xf32> to memref<?xf32>
  %o_ref = memref.cast %o_refs : memref<2x37x19xf32> to memref<?x?x?xf32>
  call @epilogue(%a, %b, %r, %bias, %o) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?xf32>, memref<?x?x?xf32>) -> ()
  call @epilogue_loops(%a, %b, %r, %bias, %o_ref) : (memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?x?x?xf32>, memref<?xf32>, memref<?x?x?xf32>) -> ()
  call @compare(%oflat, %o_refflat, %cn) : (memref<?xf32>, memref<?xf32>, index) -> ()
  return
}
