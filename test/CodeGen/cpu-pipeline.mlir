// RUN: convseq-opt %s -split-input-file --convseq-to-llvm-cpu | FileCheck %s
// RUN: convseq-opt %s -split-input-file --convseq-to-llvm-cpu='parallel=false' | FileCheck %s --check-prefix=SERIAL

// A lightweight conv block through the whole CPU pipeline: its three
// projections (inputs, gate, output) are OpenMP worksharing loops over row
// blocks whose register tiles are 16-wide FMAs.
// CHECK-LABEL: llvm.func @lightweight(
//       CHECK:   omp.parallel
//       CHECK:     omp.wsloop
//       CHECK:       llvm.intr.fmuladd({{.+}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
//       CHECK:   omp.parallel
//       CHECK:   omp.parallel
//   CHECK-NOT:   omp.parallel
//       CHECK:   llvm.return
// SERIAL-LABEL: llvm.func @lightweight(
//   SERIAL-NOT:   omp.
//       SERIAL:   llvm.intr.fmuladd({{.+}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
func.func @lightweight(%x: tensor<?x?x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>,
                       %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) -> tensor<?x?x64xf32> {
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64}
    : (tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// Cross-attention: the four projections are parallel and vectorized. (The
// scores and the weighted sum of values are not yet tiled; see
// docs/pipelines.md.)
// CHECK-LABEL: llvm.func @cross_attention(
// CHECK-COUNT-4: omp.wsloop
//   CHECK-NOT:   omp.wsloop
//       CHECK:   llvm.return
func.func @cross_attention(%q: tensor<?x?x64xf32>, %enc: tensor<?x?x64xf32>, %wq: tensor<64x64xf32>,
                           %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>)
    -> tensor<?x?x64xf32> {
  %y = convseq.attention %q, %enc, %wq, %wk, %wv, %wo {heads = 4 : i64}
    : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
       tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}
