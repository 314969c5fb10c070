// The kernel of convseq-tile-gpu-attention, run as loops on the CPU (the
// thread loops one after another, as the barriers order them), against the
// reference lowering of the same op (convert-convseq-to-linalg: the scores,
// their softmax, then P V). @fused takes a dynamic query count, which the
// pass always tiles; @reference a static one below min-rows, which it
// keeps. 70 queries make two full blocks of 32 rows and a partial one; key
// counts are not multiples of the 4 (or 3) keys staged at a time; E = 5
// and F = 6. With dropout, the kernel must draw the reference's mask
// element for element.
// Each case prints how many of the 1,680 outputs differ by more than
// 2e-6 (1 + |reference|), then the sum of |reference| (which shows the
// outputs are not all zeros).
//
// RUN: convseq-opt %s --convseq-tile-gpu-attention="rows=32 keys=4 min-rows=100" \
// RUN:   | FileCheck %s --check-prefix=TILED
// RUN: convseq-opt %s --convseq-tile-gpu-attention="rows=32 keys=4 min-rows=100" \
// RUN:     --convert-convseq-to-linalg \
// RUN:   | mlir-opt \
// RUN:       --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:       --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:       --convert-scf-to-cf --finalize-memref-to-llvm --convert-to-llvm \
// RUN:       --reconcile-unrealized-casts \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s
// Three keys at a time: the keys' and the keep decisions' staging rounds
// have more threads than elements.
// RUN: convseq-opt %s --convseq-tile-gpu-attention="rows=32 keys=3 min-rows=100" \
// RUN:     --convert-convseq-to-linalg \
// RUN:   | mlir-opt \
// RUN:       --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:       --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:       --convert-scf-to-cf --finalize-memref-to-llvm --convert-to-llvm \
// RUN:       --reconcile-unrealized-casts \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s

// The dynamic ops became kernels; the static ones stayed.
// TILED-LABEL: func.func @fused_masked(
// TILED-NOT:     convseq.dot_product_attention
// TILED:         } {convseq.gpu_block_loop}
// TILED-LABEL: func.func @reference_masked(
// TILED:         convseq.dot_product_attention

// Masked cross-attention, 70 queries and 37 keys.
// CHECK: 0
// CHECK-NEXT: 508
// Causal self-attention, 70 queries and keys.
// CHECK-NEXT: 0
// CHECK-NEXT: 568
// Causal, 70 queries and 50 keys: queries 0 to 19 see no key (zeros).
// CHECK-NEXT: 0
// CHECK-NEXT: 394
// Masked, every key of batch 1 masked (zeros).
// CHECK-NEXT: 0
// CHECK-NEXT: 249
// Causal with dropout (rate 0.25): the same mask as the reference's.
// CHECK-NEXT: 0
// CHECK-NEXT: 488

!q_dyn = tensor<2x2x?x5xf32>
!k_dyn = tensor<2x2x?x5xf32>
!v_dyn = tensor<2x2x?x6xf32>
!o_dyn = tensor<2x2x?x6xf32>
!q70 = tensor<2x2x70x5xf32>
!o70 = tensor<2x2x70x6xf32>

func.func private @printI64(i64)
func.func private @printNewline()

func.func @fused_masked(%q: !q_dyn, %k: !k_dyn, %v: !v_dyn, %m: tensor<2x?xi1>) -> !o_dyn {
  %o = convseq.dot_product_attention %q, %k, %v key_mask %m
      : (!q_dyn, !k_dyn, !v_dyn, tensor<2x?xi1>) -> !o_dyn
  return %o : !o_dyn
}

func.func @reference_masked(%q: !q70, %k: !k_dyn, %v: !v_dyn, %m: tensor<2x?xi1>) -> !o70 {
  %o = convseq.dot_product_attention %q, %k, %v key_mask %m
      : (!q70, !k_dyn, !v_dyn, tensor<2x?xi1>) -> !o70
  return %o : !o70
}

func.func @fused_causal(%q: !q_dyn, %k: !k_dyn, %v: !v_dyn) -> !o_dyn {
  %o = convseq.dot_product_attention %q, %k, %v {causal}
      : (!q_dyn, !k_dyn, !v_dyn) -> !o_dyn
  return %o : !o_dyn
}

func.func @reference_causal(%q: !q70, %k: !k_dyn, %v: !v_dyn) -> !o70 {
  %o = convseq.dot_product_attention %q, %k, %v {causal}
      : (!q70, !k_dyn, !v_dyn) -> !o70
  return %o : !o70
}

func.func @fused_dropout(%q: !q_dyn, %k: !k_dyn, %v: !v_dyn, %seed: i64, %step: i64) -> !o_dyn {
  %o = convseq.dot_product_attention %q, %k, %v rng(%seed, %step) {causal, dropout = 0.25 : f64, stream = 3 : i64}
      : (!q_dyn, !k_dyn, !v_dyn, i64, i64) -> !o_dyn
  return %o : !o_dyn
}

func.func @reference_dropout(%q: !q70, %k: !k_dyn, %v: !v_dyn, %seed: i64, %step: i64) -> !o70 {
  %o = convseq.dot_product_attention %q, %k, %v rng(%seed, %step) {causal, dropout = 0.25 : f64, stream = 3 : i64}
      : (!q70, !k_dyn, !v_dyn, i64, i64) -> !o70
  return %o : !o70
}

// Small multiples of 1/4 from the linear index: ((7 i + seed) mod 11 - 5) / 4.
func.func @data(%rows: index, %cols: index, %seed: index) -> tensor<2x2x?x?xf32> {
  %t = tensor.generate %rows, %cols {
  ^bb0(%b: index, %h: index, %i: index, %c: index):
    %c2 = arith.constant 2 : index
    %c7 = arith.constant 7 : index
    %c11 = arith.constant 11 : index
    %c5 = arith.constant 5 : i64
    %quarter = arith.constant 0.25 : f32
    %bh = arith.muli %b, %c2 : index
    %bh1 = arith.addi %bh, %h : index
    %r0 = arith.muli %bh1, %rows : index
    %r1 = arith.addi %r0, %i : index
    %l0 = arith.muli %r1, %cols : index
    %l = arith.addi %l0, %c : index
    %m0 = arith.muli %l, %c7 : index
    %m1 = arith.addi %m0, %seed : index
    %r = arith.remui %m1, %c11 : index
    %ri = arith.index_cast %r : index to i64
    %d = arith.subi %ri, %c5 : i64
    %f = arith.sitofp %d : i64 to f32
    %x = arith.mulf %f, %quarter : f32
    tensor.yield %x : f32
  } : tensor<2x2x?x?xf32>
  return %t : tensor<2x2x?x?xf32>
}

// Key j of batch b is masked when (3 j + 5 b) mod 7 = 0, or b = `dead`.
func.func @mask(%keys: index, %dead: index) -> tensor<2x?xi1> {
  %t = tensor.generate %keys {
  ^bb0(%b: index, %j: index):
    %c0 = arith.constant 0 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    %c7 = arith.constant 7 : index
    %a = arith.muli %j, %c3 : index
    %b5 = arith.muli %b, %c5 : index
    %s = arith.addi %a, %b5 : index
    %r = arith.remui %s, %c7 : index
    %keep = arith.cmpi ne, %r, %c0 : index
    %alive = arith.cmpi ne, %b, %dead : index
    %both = arith.andi %keep, %alive : i1
    tensor.yield %both : i1
  } : tensor<2x?xi1>
  return %t : tensor<2x?xi1>
}

// Prints how many elements differ by more than 2e-6 (1 + |want|), then the
// sum of |want|.
func.func @compare(%got: !o_dyn, %want: !o70) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %c70 = arith.constant 70 : index
  %z = arith.constant 0 : i64
  %one = arith.constant 1 : i64
  %zf = arith.constant 0.0 : f32
  %onef = arith.constant 1.0 : f32
  %tol = arith.constant 2.0e-6 : f32
  %r:2 = scf.for %b = %c0 to %c2 step %c1 iter_args(%bad0 = %z, %sum0 = %zf) -> (i64, f32) {
    %rb:2 = scf.for %h = %c0 to %c2 step %c1 iter_args(%bad1 = %bad0, %sum1 = %sum0) -> (i64, f32) {
      %ri:2 = scf.for %i = %c0 to %c70 step %c1 iter_args(%bad2 = %bad1, %sum2 = %sum1) -> (i64, f32) {
        %rf:2 = scf.for %f = %c0 to %c6 step %c1 iter_args(%bad = %bad2, %sum = %sum2) -> (i64, f32) {
          %x = tensor.extract %got[%b, %h, %i, %f] : !o_dyn
          %y = tensor.extract %want[%b, %h, %i, %f] : !o70
          %d = arith.subf %x, %y : f32
          %ad = math.absf %d : f32
          %ay = math.absf %y : f32
          %scale = arith.addf %ay, %onef : f32
          %limit = arith.mulf %scale, %tol : f32
          %far = arith.cmpf ugt, %ad, %limit : f32
          %inc = arith.select %far, %one, %z : i64
          %next = arith.addi %bad, %inc : i64
          %s = arith.addf %sum, %ay : f32
          scf.yield %next, %s : i64, f32
        }
        scf.yield %rf#0, %rf#1 : i64, f32
      }
      scf.yield %ri#0, %ri#1 : i64, f32
    }
    scf.yield %rb#0, %rb#1 : i64, f32
  }
  call @printI64(%r#0) : (i64) -> ()
  call @printNewline() : () -> ()
  %total = arith.fptosi %r#1 : f32 to i64
  call @printI64(%total) : (i64) -> ()
  call @printNewline() : () -> ()
  return
}

func.func @check_masked(%keys: index, %dead: index) {
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %c70 = arith.constant 70 : index
  %s1 = arith.constant 1 : index
  %s2 = arith.constant 2 : index
  %s3 = arith.constant 3 : index
  %q = call @data(%c70, %c5, %s1) : (index, index, index) -> tensor<2x2x?x?xf32>
  %k = call @data(%keys, %c5, %s2) : (index, index, index) -> tensor<2x2x?x?xf32>
  %v = call @data(%keys, %c6, %s3) : (index, index, index) -> tensor<2x2x?x?xf32>
  %m = call @mask(%keys, %dead) : (index, index) -> tensor<2x?xi1>
  %qd = tensor.cast %q : tensor<2x2x?x?xf32> to !q_dyn
  %qs = tensor.cast %q : tensor<2x2x?x?xf32> to !q70
  %kd = tensor.cast %k : tensor<2x2x?x?xf32> to !k_dyn
  %vd = tensor.cast %v : tensor<2x2x?x?xf32> to !v_dyn
  %got = call @fused_masked(%qd, %kd, %vd, %m) : (!q_dyn, !k_dyn, !v_dyn, tensor<2x?xi1>) -> !o_dyn
  %want = call @reference_masked(%qs, %kd, %vd, %m) : (!q70, !k_dyn, !v_dyn, tensor<2x?xi1>) -> !o70
  call @compare(%got, %want) : (!o_dyn, !o70) -> ()
  return
}

func.func @check_causal(%keys: index) {
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %c70 = arith.constant 70 : index
  %s1 = arith.constant 4 : index
  %s2 = arith.constant 5 : index
  %s3 = arith.constant 6 : index
  %q = call @data(%c70, %c5, %s1) : (index, index, index) -> tensor<2x2x?x?xf32>
  %k = call @data(%keys, %c5, %s2) : (index, index, index) -> tensor<2x2x?x?xf32>
  %v = call @data(%keys, %c6, %s3) : (index, index, index) -> tensor<2x2x?x?xf32>
  %qd = tensor.cast %q : tensor<2x2x?x?xf32> to !q_dyn
  %qs = tensor.cast %q : tensor<2x2x?x?xf32> to !q70
  %kd = tensor.cast %k : tensor<2x2x?x?xf32> to !k_dyn
  %vd = tensor.cast %v : tensor<2x2x?x?xf32> to !v_dyn
  %got = call @fused_causal(%qd, %kd, %vd) : (!q_dyn, !k_dyn, !v_dyn) -> !o_dyn
  %want = call @reference_causal(%qs, %kd, %vd) : (!q70, !k_dyn, !v_dyn) -> !o70
  call @compare(%got, %want) : (!o_dyn, !o70) -> ()
  return
}

func.func @check_dropout(%keys: index) {
  %c5 = arith.constant 5 : index
  %c6 = arith.constant 6 : index
  %c70 = arith.constant 70 : index
  %s1 = arith.constant 7 : index
  %s2 = arith.constant 8 : index
  %s3 = arith.constant 9 : index
  %seed = arith.constant 81985529216486895 : i64
  %step = arith.constant 12 : i64
  %q = call @data(%c70, %c5, %s1) : (index, index, index) -> tensor<2x2x?x?xf32>
  %k = call @data(%keys, %c5, %s2) : (index, index, index) -> tensor<2x2x?x?xf32>
  %v = call @data(%keys, %c6, %s3) : (index, index, index) -> tensor<2x2x?x?xf32>
  %qd = tensor.cast %q : tensor<2x2x?x?xf32> to !q_dyn
  %qs = tensor.cast %q : tensor<2x2x?x?xf32> to !q70
  %kd = tensor.cast %k : tensor<2x2x?x?xf32> to !k_dyn
  %vd = tensor.cast %v : tensor<2x2x?x?xf32> to !v_dyn
  %got = call @fused_dropout(%qd, %kd, %vd, %seed, %step) : (!q_dyn, !k_dyn, !v_dyn, i64, i64) -> !o_dyn
  %want = call @reference_dropout(%qs, %kd, %vd, %seed, %step) : (!q70, !k_dyn, !v_dyn, i64, i64) -> !o70
  call @compare(%got, %want) : (!o_dyn, !o70) -> ()
  return
}

func.func @main() {
  %none = arith.constant 5 : index
  %batch1 = arith.constant 1 : index
  %c37 = arith.constant 37 : index
  %c50 = arith.constant 50 : index
  %c70 = arith.constant 70 : index
  call @check_masked(%c37, %none) : (index, index) -> ()
  call @check_causal(%c70) : (index) -> ()
  call @check_causal(%c50) : (index) -> ()
  call @check_masked(%c37, %batch1) : (index, index) -> ()
  call @check_dropout(%c70) : (index) -> ()
  return
}
