// RUN: convseq-opt %s -split-input-file --convseq-to-llvm-cpu | FileCheck %s
// RUN: convseq-opt %s -split-input-file --convseq-to-llvm-cpu | FileCheck %s --check-prefix=NOLIBM
// RUN: convseq-opt %s -split-input-file --convseq-to-llvm-cpu='parallel=false' | FileCheck %s --check-prefix=SERIAL
// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(convseq-to-linalg,func.func(convseq-tile-contractions),canonicalize,cse,func.func(convseq-tile-generic-ops),canonicalize,cse)' | FileCheck %s --check-prefix=TILED
// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(convseq-to-linalg,func.func(convseq-tile-contractions),canonicalize,cse,func.func(convseq-tile-generic-ops),canonicalize,cse)' | FileCheck %s --check-prefix=NOSCORES
// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(convseq-to-linalg,func.func(convseq-tile-contractions),canonicalize,cse,func.func(convseq-tile-generic-ops),canonicalize,cse)' | FileCheck %s --check-prefix=TOP --strict-whitespace

// After the two tiling passes no linalg op is left at the top of a
// function: every one is a parallel loop nest or a small serial one.
// TOP-NOT: {{^    }}%{{[^ ]+}} = linalg.
// The vector code calls no libm function per lane.
// NOLIBM-NOT: llvm.call @floorf
// NOLIBM-NOT: llvm.call @expf

// A lightweight conv block through the whole CPU pipeline. Its three
// projections are OpenMP parallel regions over row blocks, each thread
// running its static share of them (convseq-distribute-worksharing-loops),
// whose register tiles are 16-wide FMAs; the GLU runs in the gate
// projection's row blocks (an epilogue), and the convolution is a parallel
// loop over positions. Each parallel loop is a function of its own
// (convseq-outline-parallel-loops), which the entry point calls.
//       CHECK: llvm.func @lightweight_parallel_0(
//       CHECK:   omp.parallel
//       CHECK:     llvm.call @omp_get_thread_num()
//       CHECK:     llvm.call @omp_get_num_threads()
//       CHECK:       llvm.intr.fmuladd({{.+}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// CHECK-COUNT-3: llvm.func @lightweight_parallel_{{[0-9]+}}(
// CHECK-LABEL: llvm.func @lightweight(
// CHECK-COUNT-4:   llvm.call @lightweight_parallel_{{[0-9]+}}(
//   CHECK-NOT:   omp.parallel
//       CHECK:   llvm.return
// SERIAL-LABEL: llvm.func @lightweight(
//   SERIAL-NOT:   omp.
//       SERIAL:   llvm.intr.fmuladd({{.+}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
//   SERIAL-NOT:   omp.
//       SERIAL:   llvm.return
// Before bufferization: the projections are row blocks of 96 over packed
// weights; the GLU (its gate's exp included) runs in each row block of the
// gate's projection once its register tiles are done, one position at a
// time, 16 lanes at a time: the gate's [B, T, C] product is never stored;
// the convolution reads each position's window of the padded input and
// carries its 16-lane accumulator in a register across the taps.
// TILED-LABEL: func.func @lightweight(
//       TILED:   scf.forall {{.+}} step (1, 96)
//       TILED:     vector.contract
//       TILED:   scf.forall {{.+}} step (1, 96)
//       TILED:     vector.contract
//       TILED:     scf.for
//       TILED:       math.exp {{.+}} : vector<16xf32>
//       TILED:     scf.forall.in_parallel
//   TILED-NOT:   scf.forall (%{{.+}}, %{{.+}}) in (%{{.+}}, %{{.+}})
//       TILED:   tensor.pad
//       TILED:   scf.forall (%{{.+}}, %{{.+}}) in (%{{.+}}, %{{.+}})
//       TILED:     tensor<1x7x64xf32>
//       TILED:     scf.for {{.+}} -> (vector<16xf32>)
//       TILED:   scf.forall {{.+}} step (1, 96)
//       TILED:   return
func.func @lightweight(%x: tensor<?x?x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>,
                       %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) -> tensor<?x?x64xf32> {
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64}
    : (tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// Cross-attention: the projections and the per-head transposes, the
// transposed keys, the key bias and the attention loop are all parallel
// loops.
// CHECK-COUNT-13: llvm.func @cross_attention_parallel_{{[0-9]+}}(
// CHECK-LABEL: llvm.func @cross_attention(
// CHECK-COUNT-13:   llvm.call @cross_attention_parallel_{{[0-9]+}}(
//   CHECK-NOT:   omp.wsloop
//       CHECK:   llvm.return
// Before bufferization: the keys are padded to 32 keys and each block of
// 32 transposed once per call (a parallel copy over batch, head and block,
// by 8 x 8 blocks in registers). Then one
// parallel loop over batch, head and 4 queries walks the keys 32 at a time
// with an online softmax (convseq-tile-attention): the [T, S] scores of a
// head never exist. The projections have batch x positions rows, taken to
// be many: they pack their weights without a version for few rows. The
// query, key and value projections write heads, [B, T, 4, 16]: their two
// column loops are collapsed into one of 64 first, so they are packed and
// tiled like the others, and their zero fill folds into the first
// reduction steps (no separate fill loop).
// TILED-LABEL: func.func @cross_attention(
//   TILED-NOT:   scf.forall ({{.+}}) in ({{.+}}, 4)
//       TILED:   tensor.empty() : tensor<4x64x16xf32>
//       TILED:   scf.forall {{.+}} step (1, 96)
//       TILED:   scf.forall {{.+}} step (1, 96)
//       TILED:   scf.forall {{.+}} step (1, 96)
//       TILED:   scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}}, 4, %{{.+}}) shared_outs({{.+}}) -> (tensor<?x4x?x16x32xf32>)
//       TILED:     vector.transfer_read {{.+}} permutation_map = {{.+}} vector<8x8xf32>
//       TILED:   scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}}, 4, %{{.+}})
//       TILED:     scf.for {{.+}} step %c32 iter_args
//       TILED:       math.exp {{.+}} : vector<16xf32>
//       TILED:       vector.fma
//   TILED-NOT:   scf.if
//       TILED:   scf.forall {{.+}} step (1, 96)
//       TILED:   return
// NOSCORES-LABEL: func.func @cross_attention(
//   NOSCORES-NOT:   tensor<?x4x?x?xf32>
//       NOSCORES:   return
func.func @cross_attention(%q: tensor<?x?x64xf32>, %enc: tensor<?x?x64xf32>, %wq: tensor<64x64xf32>,
                           %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>)
    -> tensor<?x?x64xf32> {
  %y = convseq.attention %q, %enc, %wq, %wk, %wv, %wo {heads = 4 : i64}
    : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
       tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}
