// convseq-tile-attention's loops for dot_product_attention_grad (L and D
// of every query row, then per head the blocks of 32 keys and the groups of
// four query rows that see them), run on the CPU against the reference
// lowering of the same op (convert-convseq-to-linalg: P recomputed, then
// the [T, S] contractions). @fused_* take a dynamic query count, which the
// pass always tiles; @reference_* a static one below min-rows, which it
// keeps. 70 queries are 17 groups of four and two padding rows; 37, 50, 70
// and 90 keys end their last block of 32 partway; E = 20 (a 16-lane and a
// 4-lane vector of dQ) and F = 6. With dropout the loops must draw the
// reference's mask element for element. @fused_*_output also take the
// forward's output O (from convseq.dot_product_attention, as the VJP passes
// it), so that their row pass forms L alone and D from O. Each case prints,
// for dQ, dK and dV in turn, how many elements differ by more than 2e-6
// (1 + |reference|), then the sum of |reference| (which shows the gradients
// are not all zeros): first for @fused_*, then for @fused_*_output.
//
// RUN: convseq-opt %s --convseq-tile-attention="min-rows=100" \
// RUN:   | FileCheck %s --check-prefix=TILED
// RUN: convseq-opt %s --convseq-tile-attention="min-rows=100" \
// RUN:     --convert-convseq-to-linalg \
// RUN:   | mlir-opt \
// RUN:       --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:       --scf-forall-to-for --convert-vector-to-scf --convert-linalg-to-loops \
// RUN:       --expand-strided-metadata --lower-affine --convert-scf-to-cf \
// RUN:       --convert-vector-to-llvm --finalize-memref-to-llvm --convert-to-llvm \
// RUN:       --reconcile-unrealized-casts \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s

// The dynamic ops became the two loop nests; the static ones stayed.
// TILED-LABEL: func.func @fused_masked(
// TILED-NOT:     convseq.dot_product_attention_grad
// TILED:         scf.forall
// TILED:         scf.forall
// TILED-LABEL: func.func @reference_masked(
// TILED:         convseq.dot_product_attention_grad

// dQ, dK and dV of each case.
// Masked cross-attention, 70 queries and 37 keys.
// CHECK: 0
// CHECK-NEXT: 296
// CHECK-NEXT: 0
// CHECK-NEXT: 311
// CHECK-NEXT: 0
// CHECK-NEXT: 524
// CHECK-NEXT: 0
// CHECK-NEXT: 296
// CHECK-NEXT: 0
// CHECK-NEXT: 311
// CHECK-NEXT: 0
// CHECK-NEXT: 524
// Causal self-attention, 70 queries and keys.
// CHECK-NEXT: 0
// CHECK-NEXT: 300
// CHECK-NEXT: 0
// CHECK-NEXT: 316
// CHECK-NEXT: 0
// CHECK-NEXT: 471
// CHECK-NEXT: 0
// CHECK-NEXT: 300
// CHECK-NEXT: 0
// CHECK-NEXT: 316
// CHECK-NEXT: 0
// CHECK-NEXT: 471
// Causal, 70 queries and 50 keys: queries 0 to 19 see no key (zero dQ).
// CHECK-NEXT: 0
// CHECK-NEXT: 203
// CHECK-NEXT: 0
// CHECK-NEXT: 216
// CHECK-NEXT: 0
// CHECK-NEXT: 387
// CHECK-NEXT: 0
// CHECK-NEXT: 203
// CHECK-NEXT: 0
// CHECK-NEXT: 216
// CHECK-NEXT: 0
// CHECK-NEXT: 387
// Causal, 70 queries and 90 keys: the first block of keys is seen by every row.
// CHECK-NEXT: 0
// CHECK-NEXT: 285
// CHECK-NEXT: 0
// CHECK-NEXT: 310
// CHECK-NEXT: 0
// CHECK-NEXT: 547
// CHECK-NEXT: 0
// CHECK-NEXT: 285
// CHECK-NEXT: 0
// CHECK-NEXT: 310
// CHECK-NEXT: 0
// CHECK-NEXT: 547
// Masked, every key of batch 1 masked (zero gradients there).
// CHECK-NEXT: 0
// CHECK-NEXT: 147
// CHECK-NEXT: 0
// CHECK-NEXT: 154
// CHECK-NEXT: 0
// CHECK-NEXT: 263
// CHECK-NEXT: 0
// CHECK-NEXT: 147
// CHECK-NEXT: 0
// CHECK-NEXT: 154
// CHECK-NEXT: 0
// CHECK-NEXT: 263
// Causal with dropout (rate 0.25): the same mask as the reference's.
// CHECK-NEXT: 0
// CHECK-NEXT: 339
// CHECK-NEXT: 0
// CHECK-NEXT: 429
// CHECK-NEXT: 0
// CHECK-NEXT: 482
// CHECK-NEXT: 0
// CHECK-NEXT: 339
// CHECK-NEXT: 0
// CHECK-NEXT: 429
// CHECK-NEXT: 0
// CHECK-NEXT: 482

!q_dyn = tensor<2x2x?x20xf32>
!k_dyn = tensor<2x2x?x20xf32>
!v_dyn = tensor<2x2x?x6xf32>
!o_dyn = tensor<2x2x?x6xf32>
!q70 = tensor<2x2x70x20xf32>
!o70 = tensor<2x2x70x6xf32>
!any = tensor<2x2x?x?xf32>

func.func private @printI64(i64)
func.func private @printNewline()

func.func @fused_masked(%q: !q_dyn, %k: !k_dyn, %v: !v_dyn, %do: !o_dyn, %m: tensor<2x?xi1>) -> (!q_dyn, !k_dyn, !v_dyn) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do key_mask %m
      : (!q_dyn, !k_dyn, !v_dyn, !o_dyn, tensor<2x?xi1>) -> (!q_dyn, !k_dyn, !v_dyn)
  return %dq, %dk, %dv : !q_dyn, !k_dyn, !v_dyn
}

func.func @fused_masked_output(%q: !q_dyn, %k: !k_dyn, %v: !v_dyn, %do: !o_dyn, %m: tensor<2x?xi1>) -> (!q_dyn, !k_dyn, !v_dyn) {
  %o = convseq.dot_product_attention %q, %k, %v key_mask %m
      : (!q_dyn, !k_dyn, !v_dyn, tensor<2x?xi1>) -> !o_dyn
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do output %o key_mask %m
      : (!q_dyn, !k_dyn, !v_dyn, !o_dyn, !o_dyn, tensor<2x?xi1>) -> (!q_dyn, !k_dyn, !v_dyn)
  return %dq, %dk, %dv : !q_dyn, !k_dyn, !v_dyn
}

func.func @reference_masked(%q: !q70, %k: !k_dyn, %v: !v_dyn, %do: !o70, %m: tensor<2x?xi1>) -> (!q70, !k_dyn, !v_dyn) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do key_mask %m
      : (!q70, !k_dyn, !v_dyn, !o70, tensor<2x?xi1>) -> (!q70, !k_dyn, !v_dyn)
  return %dq, %dk, %dv : !q70, !k_dyn, !v_dyn
}

func.func @fused_causal(%q: !q_dyn, %k: !k_dyn, %v: !v_dyn, %do: !o_dyn) -> (!q_dyn, !k_dyn, !v_dyn) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do {causal}
      : (!q_dyn, !k_dyn, !v_dyn, !o_dyn) -> (!q_dyn, !k_dyn, !v_dyn)
  return %dq, %dk, %dv : !q_dyn, !k_dyn, !v_dyn
}

func.func @fused_causal_output(%q: !q_dyn, %k: !k_dyn, %v: !v_dyn, %do: !o_dyn) -> (!q_dyn, !k_dyn, !v_dyn) {
  %o = convseq.dot_product_attention %q, %k, %v {causal}
      : (!q_dyn, !k_dyn, !v_dyn) -> !o_dyn
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do output %o {causal}
      : (!q_dyn, !k_dyn, !v_dyn, !o_dyn, !o_dyn) -> (!q_dyn, !k_dyn, !v_dyn)
  return %dq, %dk, %dv : !q_dyn, !k_dyn, !v_dyn
}

func.func @reference_causal(%q: !q70, %k: !k_dyn, %v: !v_dyn, %do: !o70) -> (!q70, !k_dyn, !v_dyn) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do {causal}
      : (!q70, !k_dyn, !v_dyn, !o70) -> (!q70, !k_dyn, !v_dyn)
  return %dq, %dk, %dv : !q70, !k_dyn, !v_dyn
}

func.func @fused_dropout(%q: !q_dyn, %k: !k_dyn, %v: !v_dyn, %do: !o_dyn, %seed: i64, %step: i64) -> (!q_dyn, !k_dyn, !v_dyn) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do rng(%seed, %step) {causal, dropout = 0.25 : f64, stream = 3 : i64}
      : (!q_dyn, !k_dyn, !v_dyn, !o_dyn, i64, i64) -> (!q_dyn, !k_dyn, !v_dyn)
  return %dq, %dk, %dv : !q_dyn, !k_dyn, !v_dyn
}

func.func @fused_dropout_output(%q: !q_dyn, %k: !k_dyn, %v: !v_dyn, %do: !o_dyn, %seed: i64, %step: i64) -> (!q_dyn, !k_dyn, !v_dyn) {
  %o = convseq.dot_product_attention %q, %k, %v rng(%seed, %step) {causal, dropout = 0.25 : f64, stream = 3 : i64}
      : (!q_dyn, !k_dyn, !v_dyn, i64, i64) -> !o_dyn
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do output %o rng(%seed, %step) {causal, dropout = 0.25 : f64, stream = 3 : i64}
      : (!q_dyn, !k_dyn, !v_dyn, !o_dyn, !o_dyn, i64, i64) -> (!q_dyn, !k_dyn, !v_dyn)
  return %dq, %dk, %dv : !q_dyn, !k_dyn, !v_dyn
}

func.func @reference_dropout(%q: !q70, %k: !k_dyn, %v: !v_dyn, %do: !o70, %seed: i64, %step: i64) -> (!q70, !k_dyn, !v_dyn) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do rng(%seed, %step) {causal, dropout = 0.25 : f64, stream = 3 : i64}
      : (!q70, !k_dyn, !v_dyn, !o70, i64, i64) -> (!q70, !k_dyn, !v_dyn)
  return %dq, %dk, %dv : !q70, !k_dyn, !v_dyn
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
func.func @compare(%got: !any, %want: !any) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %rows = tensor.dim %want, %c2 : !any
  %cols = tensor.dim %want, %c3 : !any
  %z = arith.constant 0 : i64
  %one = arith.constant 1 : i64
  %zf = arith.constant 0.0 : f32
  %onef = arith.constant 1.0 : f32
  %tol = arith.constant 2.0e-6 : f32
  %r:2 = scf.for %b = %c0 to %c2 step %c1 iter_args(%bad0 = %z, %sum0 = %zf) -> (i64, f32) {
    %rb:2 = scf.for %h = %c0 to %c2 step %c1 iter_args(%bad1 = %bad0, %sum1 = %sum0) -> (i64, f32) {
      %ri:2 = scf.for %i = %c0 to %rows step %c1 iter_args(%bad2 = %bad1, %sum2 = %sum1) -> (i64, f32) {
        %rf:2 = scf.for %f = %c0 to %cols step %c1 iter_args(%bad = %bad2, %sum = %sum2) -> (i64, f32) {
          %x = tensor.extract %got[%b, %h, %i, %f] : !any
          %y = tensor.extract %want[%b, %h, %i, %f] : !any
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

// Compares the three gradients.
func.func @compare3(%gq: !q_dyn, %gk: !k_dyn, %gv: !v_dyn, %wq: !q70, %wk: !k_dyn, %wv: !v_dyn) {
  %a = tensor.cast %gq : !q_dyn to !any
  %b = tensor.cast %wq : !q70 to !any
  call @compare(%a, %b) : (!any, !any) -> ()
  %c = tensor.cast %gk : !k_dyn to !any
  %d = tensor.cast %wk : !k_dyn to !any
  call @compare(%c, %d) : (!any, !any) -> ()
  %e = tensor.cast %gv : !v_dyn to !any
  %f = tensor.cast %wv : !v_dyn to !any
  call @compare(%e, %f) : (!any, !any) -> ()
  return
}

func.func @check_masked(%keys: index, %dead: index) {
  %c5 = arith.constant 20 : index
  %c6 = arith.constant 6 : index
  %c70 = arith.constant 70 : index
  %s1 = arith.constant 1 : index
  %s2 = arith.constant 2 : index
  %s3 = arith.constant 3 : index
  %s4 = arith.constant 10 : index
  %m = call @mask(%keys, %dead) : (index, index) -> tensor<2x?xi1>
  %q = call @data(%c70, %c5, %s1) : (index, index, index) -> !any
  %k = call @data(%keys, %c5, %s2) : (index, index, index) -> !any
  %v = call @data(%keys, %c6, %s3) : (index, index, index) -> !any
  %do = call @data(%c70, %c6, %s4) : (index, index, index) -> !any
  %qd = tensor.cast %q : !any to !q_dyn
  %qs = tensor.cast %q : !any to !q70
  %kd = tensor.cast %k : !any to !k_dyn
  %vd = tensor.cast %v : !any to !v_dyn
  %dod = tensor.cast %do : !any to !o_dyn
  %dos = tensor.cast %do : !any to !o70
  %g:3 = call @fused_masked(%qd, %kd, %vd, %dod, %m) : (!q_dyn, !k_dyn, !v_dyn, !o_dyn, tensor<2x?xi1>) -> (!q_dyn, !k_dyn, !v_dyn)
  %w:3 = call @reference_masked(%qs, %kd, %vd, %dos, %m) : (!q70, !k_dyn, !v_dyn, !o70, tensor<2x?xi1>) -> (!q70, !k_dyn, !v_dyn)
  call @compare3(%g#0, %g#1, %g#2, %w#0, %w#1, %w#2) : (!q_dyn, !k_dyn, !v_dyn, !q70, !k_dyn, !v_dyn) -> ()
  %go:3 = call @fused_masked_output(%qd, %kd, %vd, %dod, %m) : (!q_dyn, !k_dyn, !v_dyn, !o_dyn, tensor<2x?xi1>) -> (!q_dyn, !k_dyn, !v_dyn)
  call @compare3(%go#0, %go#1, %go#2, %w#0, %w#1, %w#2) : (!q_dyn, !k_dyn, !v_dyn, !q70, !k_dyn, !v_dyn) -> ()
  return
}

func.func @check_causal(%keys: index) {
  %c5 = arith.constant 20 : index
  %c6 = arith.constant 6 : index
  %c70 = arith.constant 70 : index
  %s1 = arith.constant 4 : index
  %s2 = arith.constant 5 : index
  %s3 = arith.constant 6 : index
  %s4 = arith.constant 2 : index
  %q = call @data(%c70, %c5, %s1) : (index, index, index) -> !any
  %k = call @data(%keys, %c5, %s2) : (index, index, index) -> !any
  %v = call @data(%keys, %c6, %s3) : (index, index, index) -> !any
  %do = call @data(%c70, %c6, %s4) : (index, index, index) -> !any
  %qd = tensor.cast %q : !any to !q_dyn
  %qs = tensor.cast %q : !any to !q70
  %kd = tensor.cast %k : !any to !k_dyn
  %vd = tensor.cast %v : !any to !v_dyn
  %dod = tensor.cast %do : !any to !o_dyn
  %dos = tensor.cast %do : !any to !o70
  %g:3 = call @fused_causal(%qd, %kd, %vd, %dod) : (!q_dyn, !k_dyn, !v_dyn, !o_dyn) -> (!q_dyn, !k_dyn, !v_dyn)
  %w:3 = call @reference_causal(%qs, %kd, %vd, %dos) : (!q70, !k_dyn, !v_dyn, !o70) -> (!q70, !k_dyn, !v_dyn)
  call @compare3(%g#0, %g#1, %g#2, %w#0, %w#1, %w#2) : (!q_dyn, !k_dyn, !v_dyn, !q70, !k_dyn, !v_dyn) -> ()
  %go:3 = call @fused_causal_output(%qd, %kd, %vd, %dod) : (!q_dyn, !k_dyn, !v_dyn, !o_dyn) -> (!q_dyn, !k_dyn, !v_dyn)
  call @compare3(%go#0, %go#1, %go#2, %w#0, %w#1, %w#2) : (!q_dyn, !k_dyn, !v_dyn, !q70, !k_dyn, !v_dyn) -> ()
  return
}

func.func @check_dropout(%keys: index) {
  %c5 = arith.constant 20 : index
  %c6 = arith.constant 6 : index
  %c70 = arith.constant 70 : index
  %s1 = arith.constant 7 : index
  %s2 = arith.constant 8 : index
  %s3 = arith.constant 9 : index
  %s4 = arith.constant 3 : index
  %seed = arith.constant 81985529216486895 : i64
  %step = arith.constant 12 : i64
  %q = call @data(%c70, %c5, %s1) : (index, index, index) -> !any
  %k = call @data(%keys, %c5, %s2) : (index, index, index) -> !any
  %v = call @data(%keys, %c6, %s3) : (index, index, index) -> !any
  %do = call @data(%c70, %c6, %s4) : (index, index, index) -> !any
  %qd = tensor.cast %q : !any to !q_dyn
  %qs = tensor.cast %q : !any to !q70
  %kd = tensor.cast %k : !any to !k_dyn
  %vd = tensor.cast %v : !any to !v_dyn
  %dod = tensor.cast %do : !any to !o_dyn
  %dos = tensor.cast %do : !any to !o70
  %g:3 = call @fused_dropout(%qd, %kd, %vd, %dod, %seed, %step) : (!q_dyn, !k_dyn, !v_dyn, !o_dyn, i64, i64) -> (!q_dyn, !k_dyn, !v_dyn)
  %w:3 = call @reference_dropout(%qs, %kd, %vd, %dos, %seed, %step) : (!q70, !k_dyn, !v_dyn, !o70, i64, i64) -> (!q70, !k_dyn, !v_dyn)
  call @compare3(%g#0, %g#1, %g#2, %w#0, %w#1, %w#2) : (!q_dyn, !k_dyn, !v_dyn, !q70, !k_dyn, !v_dyn) -> ()
  %go:3 = call @fused_dropout_output(%qd, %kd, %vd, %dod, %seed, %step) : (!q_dyn, !k_dyn, !v_dyn, !o_dyn, i64, i64) -> (!q_dyn, !k_dyn, !v_dyn)
  call @compare3(%go#0, %go#1, %go#2, %w#0, %w#1, %w#2) : (!q_dyn, !k_dyn, !v_dyn, !q70, !k_dyn, !v_dyn) -> ()
  return
}

func.func @main() {
  %none = arith.constant 5 : index
  %batch1 = arith.constant 1 : index
  %c37 = arith.constant 37 : index
  %c50 = arith.constant 50 : index
  %c70 = arith.constant 70 : index
  %c90 = arith.constant 90 : index
  call @check_masked(%c37, %none) : (index, index) -> ()
  call @check_causal(%c70) : (index) -> ()
  call @check_causal(%c50) : (index) -> ()
  call @check_causal(%c90) : (index) -> ()
  call @check_masked(%c37, %batch1) : (index, index) -> ()
  call @check_dropout(%c70) : (index) -> ()
  return
}
