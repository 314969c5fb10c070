// The kernels of convseq-tile-gpu-row-reductions, run as loops on the CPU
// (the thread loops one after another, as the barriers order them),
// against plain loop nests. Row counts leave a partial block and lengths
// are not multiples of the lanes; the operands are small integers, so every
// sum is exact in any order and any element folded into the wrong row,
// lane or output shows as a mismatch. The small shape (8 lanes, 32 threads:
// 4 rows a block) makes many blocks; the default one is run as well.
//
// RUN: convseq-opt %s --convseq-tile-gpu-row-reductions="threads=32 lanes=8 min-length=4" \
// RUN:   | FileCheck %s --check-prefix=TILED
// RUN: convseq-opt %s --convseq-tile-gpu-row-reductions="threads=32 lanes=8 min-length=4" \
// RUN:   | mlir-opt --expand-strided-metadata --lower-affine --convert-scf-to-cf \
// RUN:       --finalize-memref-to-llvm --convert-to-llvm --reconcile-unrealized-casts \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s
// RUN: convseq-opt %s --convseq-tile-gpu-row-reductions \
// RUN:   | mlir-opt --expand-strided-metadata --lower-affine --convert-scf-to-cf \
// RUN:       --finalize-memref-to-llvm --convert-to-llvm --reconcile-unrealized-casts \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s

// Every row reduction became a block loop: none is left as a linalg op.
// TILED-NOT: linalg.generic
// TILED-COUNT-2: } {convseq.gpu_block_loop}
// TILED-NOT: linalg.generic

// Each case prints its mismatches per output, then the sum of the loop
// nest's |out| (which shows the data is not all zeros).
// A norm's sum of squares over 45 channels of [3, 13] rows, added to the
// output's values.
// CHECK: 0
// CHECK-NEXT: 17563
// A causal softmax's max and sum of exp-free scores: max_j<=i s[b, i, j]
// and sum_j<=i (s[b, i, j] - c[b, i]) over 37 keys of [2, 37] rows.
// CHECK-NEXT: 0
// CHECK-NEXT: 353
// CHECK-NEXT: 0
// CHECK-NEXT: 3726

#rows3 = affine_map<(b, i, c) -> (b, i, c)>
#rows2 = affine_map<(b, i, c) -> (b, i)>

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

// Prints how many elements of `got` and `want` differ, then the sum of
// |want|.
func.func @compare(%got2: memref<?x?xf32>, %want2: memref<?x?xf32>) {
  %got = memref.collapse_shape %got2 [[0, 1]] : memref<?x?xf32> into memref<?xf32>
  %want = memref.collapse_shape %want2 [[0, 1]] : memref<?x?xf32> into memref<?xf32>
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

func.func @sum_squares(%x: memref<?x?x?xf32>, %y: memref<?x?xf32>) {
  linalg.generic {indexing_maps = [#rows3, #rows2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<?x?x?xf32>) outs(%y : memref<?x?xf32>) {
  ^bb0(%u: f32, %acc: f32):
    %p = arith.mulf %u, %u : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Two outputs from one row; keys past the query (j > i) are skipped with
// the combiners' neutral elements.
func.func @causal_max_sum(%s: memref<?x?x?xf32>, %c: memref<?x?xf32>,
                          %m: memref<?x?xf32>, %t: memref<?x?xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#rows3, #rows2, #rows2, #rows2],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%s, %c : memref<?x?x?xf32>, memref<?x?xf32>) outs(%m, %t : memref<?x?xf32>, memref<?x?xf32>) {
  ^bb0(%u: f32, %v: f32, %max: f32, %sum: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %future = arith.cmpi ugt, %j, %i : index
    %score = arith.select %future, %ninf, %u : f32
    %d = arith.subf %u, %v : f32
    %term = arith.select %future, %zero, %d : f32
    %nm = arith.maximumf %max, %score : f32
    %ns = arith.addf %sum, %term : f32
    linalg.yield %nm, %ns : f32, f32
  }
  return
}

// The same reductions as loop nests.
func.func @sum_squares_loops(%x: memref<?x?x?xf32>, %y: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %nb = memref.dim %x, %c0 : memref<?x?x?xf32>
  %nl = memref.dim %x, %c1 : memref<?x?x?xf32>
  %nc = memref.dim %x, %c2 : memref<?x?x?xf32>
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %i = %c0 to %nl step %c1 {
      scf.for %c = %c0 to %nc step %c1 {
        %u = memref.load %x[%b, %i, %c] : memref<?x?x?xf32>
        %acc = memref.load %y[%b, %i] : memref<?x?xf32>
        %p = arith.mulf %u, %u : f32
        %s = arith.addf %acc, %p : f32
        memref.store %s, %y[%b, %i] : memref<?x?xf32>
      }
    }
  }
  return
}

func.func @causal_max_sum_loops(%s: memref<?x?x?xf32>, %c: memref<?x?xf32>,
                                %m: memref<?x?xf32>, %t: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %nb = memref.dim %s, %c0 : memref<?x?x?xf32>
  %nl = memref.dim %s, %c1 : memref<?x?x?xf32>
  scf.for %b = %c0 to %nb step %c1 {
    scf.for %i = %c0 to %nl step %c1 {
      %i1 = arith.addi %i, %c1 : index
      scf.for %j = %c0 to %i1 step %c1 {
        %u = memref.load %s[%b, %i, %j] : memref<?x?x?xf32>
        %v = memref.load %c[%b, %i] : memref<?x?xf32>
        %max = memref.load %m[%b, %i] : memref<?x?xf32>
        %sum = memref.load %t[%b, %i] : memref<?x?xf32>
        %d = arith.subf %u, %v : f32
        %nm = arith.maximumf %max, %u : f32
        %ns = arith.addf %sum, %d : f32
        memref.store %nm, %m[%b, %i] : memref<?x?xf32>
        memref.store %ns, %t[%b, %i] : memref<?x?xf32>
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
  %c13 = arith.constant 13 : index
  %c37 = arith.constant 37 : index
  %c45 = arith.constant 45 : index

  // x [3, 13, 45], y [3, 13] added to.
  %x = call @filled3(%c3, %c13, %c45, %c0) : (index, index, index, index) -> memref<?x?x?xf32>
  %y = call @filled2(%c3, %c13, %c2) : (index, index, index) -> memref<?x?xf32>
  %y_ref = call @filled2(%c3, %c13, %c2) : (index, index, index) -> memref<?x?xf32>
  call @sum_squares(%x, %y) : (memref<?x?x?xf32>, memref<?x?xf32>) -> ()
  call @sum_squares_loops(%x, %y_ref) : (memref<?x?x?xf32>, memref<?x?xf32>) -> ()
  call @compare(%y, %y_ref) : (memref<?x?xf32>, memref<?x?xf32>) -> ()

  // s [2, 37, 37], c [2, 37]; the max and the sum start from the values
  // [2, 37] of seeds 1 and 3.
  %s = call @filled3(%c2, %c37, %c37, %c2) : (index, index, index, index) -> memref<?x?x?xf32>
  %c = call @filled2(%c2, %c37, %c0) : (index, index, index) -> memref<?x?xf32>
  %m = call @filled2(%c2, %c37, %c1) : (index, index, index) -> memref<?x?xf32>
  %m_ref = call @filled2(%c2, %c37, %c1) : (index, index, index) -> memref<?x?xf32>
  %t = call @filled2(%c2, %c37, %c3) : (index, index, index) -> memref<?x?xf32>
  %t_ref = call @filled2(%c2, %c37, %c3) : (index, index, index) -> memref<?x?xf32>
  call @causal_max_sum(%s, %c, %m, %t) : (memref<?x?x?xf32>, memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) -> ()
  call @causal_max_sum_loops(%s, %c, %m_ref, %t_ref) : (memref<?x?x?xf32>, memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) -> ()
  call @compare(%m, %m_ref) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
  call @compare(%t, %t_ref) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
  return
}
