// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(convseq-tile-contractions),canonicalize,cse)' | FileCheck %s
// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(convseq-tile-contractions{threads=2}),canonicalize,cse)' | FileCheck %s --check-prefix=BALANCED
// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(convseq-tile-contractions),canonicalize,cse,func.func(convseq-tile-generic-ops),canonicalize,cse)' | FileCheck %s --check-prefix=EPILOGUE

// A linear layer as the models have it (tokens x d_model by d_model x d_ff,
// the token count chosen at run time). Fewer than 32 rows (a decoder step)
// read the weight as it is, in parallel blocks of one row and 64 columns
// (columns outermost), each one 1 x 64 register tile over the whole
// reduction. More rows pack the weight into 16-wide panels first; rows are
// split into parallel blocks, each full 6 x 16 register tile is one
// vector.contract per reduction step, its zero-filled accumulator starts
// in registers and is stored once.
// CHECK-LABEL: func.func @linear
//  CHECK-SAME:   %[[X:[^:]+]]: tensor<?x256xf32>, %[[W:[^:]+]]: tensor<256x512xf32>
//       CHECK:   %[[M:.+]] = tensor.dim %[[X]]
//       CHECK:   %[[FEW:.+]] = arith.cmpi ult, %[[M]], %c32
//       CHECK:   scf.if %[[FEW]]
//   CHECK-NOT:     linalg.generic
//       CHECK:     scf.forall (%[[COL:.+]], %{{.+}}) = (0, 0) to (512, %[[M]]) step (64, 1)
//       CHECK:       tensor.extract_slice %[[W]][0, %[[COL]]] [256, 64] [1, 1]
//       CHECK:       scf.for {{.+}} -> (vector<64xf32>)
//       CHECK:         vector.contract {{.+}} : vector<1xf32>, vector<1x64xf32> into vector<64xf32>
//       CHECK:   } else {
//       CHECK:   %[[PANELS:.+]] = linalg.generic
//  CHECK-SAME:     ins(%[[W]] : tensor<256x512xf32>) outs(%{{.+}} : tensor<32x256x16xf32>)
//       CHECK:   %[[OUT:.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0], [1, 2]]
//       CHECK:   scf.forall (%[[ROW:.+]]) = (0) to (%{{.+}}) step (96) shared_outs(%{{.+}} = %[[OUT]])
//       CHECK:     scf.for %[[PANEL:.+]] = %{{.+}} to %{{.+}} step %{{.+}}
//       CHECK:       scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C6:.+]] iter_args
//       CHECK:         %[[ACC:.+]] = scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[A:.+]] = %[[ZERO:.+]]) -> (vector<6x1x16xf32>)
//   CHECK-NOT:           tensor.extract_slice %{{.+}} : tensor<?x32x16xf32>
//       CHECK:           vector.transfer_read {{.+}} : tensor<6x1xf32>, vector<6x1xf32>
//       CHECK:           vector.transfer_read {{.+}} : tensor<1x1x16xf32>, vector<16xf32>
//       CHECK:           vector.contract {{.+}} %[[A]] : vector<6x1xf32>, vector<1x1x16xf32> into vector<6x1x16xf32>
//       CHECK:         vector.transfer_write %[[ACC]]
// The last rows of a block: one vector row at a time.
//       CHECK:       scf.for
//       CHECK:         scf.for
//       CHECK:           vector.contract {{.+}} : vector<1xf32>, vector<1x16xf32> into vector<16xf32>
//       CHECK:   tensor.collapse_shape
//   CHECK-NOT:   linalg.matmul
func.func @linear(%x: tensor<?x256xf32>, %w: tensor<256x512xf32>) -> tensor<?x512xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %x, %c0 : tensor<?x256xf32>
  %empty = tensor.empty(%m) : tensor<?x512xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x512xf32>) -> tensor<?x512xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x256xf32>, tensor<256x512xf32>) outs(%init : tensor<?x512xf32>) -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

// -----

// A static row count decides at compile time: 4 rows read the weight
// directly, without an scf.if.
// CHECK-LABEL: func.func @few_rows
//   CHECK-NOT:   scf.if
//   CHECK-NOT:   linalg.generic
//       CHECK:   scf.forall ({{.+}}) = (0, 0) to (512, 4) step (64, 1)
//       CHECK:     vector.contract {{.+}} : vector<1xf32>, vector<1x64xf32> into vector<64xf32>
func.func @few_rows(%x: tensor<4x256xf32>, %w: tensor<256x512xf32>, %init: tensor<4x512xf32>) -> tensor<4x512xf32> {
  %y = linalg.matmul ins(%x, %w : tensor<4x256xf32>, tensor<256x512xf32>) outs(%init : tensor<4x512xf32>) -> tensor<4x512xf32>
  return %y : tensor<4x512xf32>
}

// -----

// A long reduction is split into 256-wide panels: the accumulator is read
// and written once per panel.
// CHECK-LABEL: func.func @long_reduction
//       CHECK:   scf.forall
//       CHECK:     scf.for %{{.+}} = %{{.+}} to %[[C1024:.+]] step %[[C256:.+]] iter_args
//       CHECK:       scf.for
//       CHECK:         scf.for
//       CHECK:           vector.transfer_read {{.+}} : tensor<6x1x16xf32>, vector<6x1x16xf32>
//       CHECK:           scf.for {{.+}} -> (vector<6x1x16xf32>)
//       CHECK:             vector.contract
func.func @long_reduction(%x: tensor<?x1024xf32>, %w: tensor<1024x256xf32>, %init: tensor<?x256xf32>) -> tensor<?x256xf32> {
  %y = linalg.matmul ins(%x, %w : tensor<?x1024xf32>, tensor<1024x256xf32>) outs(%init : tensor<?x256xf32>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// -----

// A long reduction into a zero-filled output that is wider than a column
// block (512). Each row block goes by column blocks of 32 panels, so its
// output stays in L2 across the reduction panels; the first panel is split
// off and its tiles start from zero accumulators (no zeroed output written
// and read back); every panel reads a compact copy of its part of A.
// CHECK-LABEL: func.func @wide_long_reduction
//  CHECK-SAME:   %[[X:[^:]+]]: tensor<192x1024xf32>
//       CHECK:   %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<6x1x16xf32>
//   CHECK-NOT:   linalg.fill
//       CHECK:   scf.forall (%[[ROW:.+]]) = (0) to (192) step (96)
//       CHECK:     %[[ROWS:.+]] = tensor.extract_slice %[[X]][%[[ROW]], 0] [96, 1024]
//       CHECK:     scf.for %{{.+}} = %c0 to %c64 step %c32 iter_args
//       CHECK:       %[[FIRST_A:.+]] = tensor.extract_slice %[[ROWS]][0, 0] [96, 256]
//       CHECK:       %[[COPY:.+]] = linalg.copy ins(%[[FIRST_A]] : tensor<96x256xf32>)
//       CHECK:       scf.for %{{.+}} = %c0 to %c32 step %c1
//       CHECK:         scf.for %{{.+}} = %c0 to %c96 step %c6
//       CHECK:           tensor.extract_slice %[[COPY]]
//       CHECK:           scf.for %{{.+}} = %c0 to %c256 step %c1 iter_args(%{{.+}} = %[[ZERO]])
//       CHECK:             vector.contract
//       CHECK:       scf.for %[[K:.+]] = %c0 to %c768 step %c256 iter_args
//       CHECK:         %[[PANEL_A:.+]] = tensor.extract_slice %{{.+}}[0, %[[K]]] [96, 256]
//       CHECK:         %[[PANEL_COPY:.+]] = linalg.copy ins(%[[PANEL_A]] : tensor<96x256xf32>)
//       CHECK:         scf.for %{{.+}} = %c0 to %c32 step %c1
//       CHECK:           scf.for %{{.+}} = %c0 to %c96 step %c6
//       CHECK:             tensor.extract_slice %[[PANEL_COPY]]
//       CHECK:             %[[ACC:.+]] = vector.transfer_read {{.+}} : tensor<6x1x16xf32>, vector<6x1x16xf32>
//       CHECK:             scf.for %{{.+}} = %c0 to %c256 step %c1 iter_args(%{{.+}} = %[[ACC]])
//       CHECK:               vector.contract
func.func @wide_long_reduction(%x: tensor<192x1024xf32>, %w: tensor<1024x1024xf32>) -> tensor<192x1024xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<192x1024xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<192x1024xf32>) -> tensor<192x1024xf32>
  %y = linalg.matmul ins(%x, %w : tensor<192x1024xf32>, tensor<1024x1024xf32>) outs(%init : tensor<192x1024xf32>) -> tensor<192x1024xf32>
  return %y : tensor<192x1024xf32>
}

// -----

// Tied output embeddings: logits = h E^T. Packing reads E[n, k] into the
// same k-contiguous panels, so the transposed weight needs no other path.
// CHECK-LABEL: func.func @transposed_weight
//  CHECK-SAME:   %[[E:[^:]+]]: tensor<32x8xf32>
//       CHECK:   linalg.generic {{.+}} ins(%[[E]] : tensor<32x8xf32>) outs(%{{.+}} : tensor<2x8x16xf32>)
//       CHECK:   vector.contract
func.func @transposed_weight(%h: tensor<?x?x8xf32>, %e: tensor<32x8xf32>, %init: tensor<?x?x32xf32>) -> tensor<?x?x32xf32> {
  %y = linalg.contract
      indexing_maps = [affine_map<(b, t, v, d) -> (b, t, d)>,
                       affine_map<(b, t, v, d) -> (v, d)>,
                       affine_map<(b, t, v, d) -> (b, t, v)>]
      ins(%h, %e : tensor<?x?x8xf32>, tensor<32x8xf32>)
      outs(%init : tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// Integer contractions and ones whose output is not contiguous in n are
// left to the generic lowering.
// CHECK-LABEL: func.func @untouched
//   CHECK-NOT:   scf.forall
//       CHECK:   linalg.matmul
func.func @untouched(%a: tensor<?x8xi32>, %b: tensor<8x16xi32>, %c: tensor<?x16xi32>) -> tensor<?x16xi32> {
  %y = linalg.matmul ins(%a, %b : tensor<?x8xi32>, tensor<8x16xi32>) outs(%c : tensor<?x16xi32>) -> tensor<?x16xi32>
  return %y : tensor<?x16xi32>
}

// -----

// Attention scores Q K^T: the keys are contiguous along the reduction, not
// along the key position `s`, so they are transposed once into
// [b, d, s] and the product is register-tiled like any other.
// CHECK-LABEL: func.func @scores
//  CHECK-SAME:   %[[Q:[^:]+]]: tensor<?x?x64xf32>, %[[K:[^:]+]]: tensor<?x?x64xf32>
//       CHECK:   %[[KT:.+]] = linalg.transpose ins(%[[K]] : tensor<?x?x64xf32>) outs(%{{.+}} : tensor<?x64x?xf32>) permutation = [0, 2, 1]
//       CHECK:   scf.forall (%[[B:.+]], %{{.+}}) = (0, 0) to (%{{.+}}, %{{.+}}) step (1, 96)
//       CHECK:     tensor.extract_slice %[[KT]][%[[B]], 0, 0] [1, 64, %{{.+}}]
//       CHECK:           vector.contract {{.+}} : vector<6x1xf32>, vector<1x16xf32> into vector<6x16xf32>
//   CHECK-NOT:   linalg.generic
func.func @scores(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %init: tensor<?x?x?xf32>) -> tensor<?x?x?xf32> {
  %s = linalg.generic {indexing_maps = [affine_map<(b, t, s, d) -> (b, t, d)>, affine_map<(b, t, s, d) -> (b, s, d)>, affine_map<(b, t, s, d) -> (b, t, s)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<?x?x64xf32>, tensor<?x?x64xf32>) outs(%init : tensor<?x?x?xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<?x?x?xf32>
  return %s : tensor<?x?x?xf32>
}

// -----

// A weight gradient reduces over batch and positions: the two reduction
// loops are collapsed into one (views of the operands as matrices) so the
// product is tiled like any other; its left-hand side x[r, m] is read along
// m, a 1 x 6 row per reduction step, from a compact copy of each L1 panel
// (256 steps of r, the row block's m).
// CHECK-LABEL: func.func @weight_gradient
//  CHECK-SAME:   %[[X:[^:]+]]: tensor<?x?x64xf32>, %[[DY:[^:]+]]: tensor<?x?x32xf32>
//   CHECK-DAG:   tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<?x?x64xf32> into tensor<?x64xf32>
//   CHECK-DAG:   tensor.collapse_shape %[[DY]] {{\[}}[0, 1], [2]] : tensor<?x?x32xf32> into tensor<?x32xf32>
//       CHECK:   scf.for %{{.+}} step %c256
//       CHECK:     linalg.copy ins(%{{.+}} : tensor<?x64xf32>)
//       CHECK:           vector.contract {{.+}} : vector<1x6xf32>, vector<1x1x16xf32> into vector<6x1x16xf32>
//   CHECK-NOT:   linalg.contract
func.func @weight_gradient(%x: tensor<?x?x64xf32>, %dy: tensor<?x?x32xf32>, %init: tensor<64x32xf32>) -> tensor<64x32xf32> {
  %dw = linalg.contract indexing_maps = [affine_map<(b, l, m, n) -> (b, l, m)>, affine_map<(b, l, m, n) -> (b, l, n)>, affine_map<(b, l, m, n) -> (m, n)>]
      ins(%x, %dy : tensor<?x?x64xf32>, tensor<?x?x32xf32>) outs(%init : tensor<64x32xf32>) -> tensor<64x32xf32>
  return %dw : tensor<64x32xf32>
}

// -----

// Batch x positions rows (two dynamic factors) are taken to be many: the
// weight is packed, without a version for few rows.
// CHECK-LABEL: func.func @many_rows
//   CHECK-NOT:   scf.if
//       CHECK:   linalg.generic {{.+}} outs(%{{.+}} : tensor<32x256x16xf32>)
//       CHECK:   return
func.func @many_rows(%x: tensor<?x?x256xf32>, %w: tensor<256x512xf32>, %init: tensor<?x?x512xf32>) -> tensor<?x?x512xf32> {
  %y = linalg.generic {indexing_maps = [affine_map<(b, t, n, k) -> (b, t, k)>, affine_map<(b, t, n, k) -> (k, n)>, affine_map<(b, t, n, k) -> (b, t, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x?x256xf32>, tensor<256x512xf32>) outs(%init : tensor<?x?x512xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<?x?x512xf32>
  return %y : tensor<?x?x512xf32>
}

// -----

// The scores of one query per head (a decoder step's cross-attention):
// the keys are contiguous along the reduction, and with a single row they
// are neither transposed nor packed but read as 16-lane partial dot
// products, P[.., l] = sum_j q[16 j + l] k[16 j + l], then summed.
// CHECK-LABEL: func.func @one_query_scores
//  CHECK-SAME:   %[[Q:[^:]+]]: tensor<?x4x1x64xf32>, %[[K:[^:]+]]: tensor<?x4x?x64xf32>
//   CHECK-NOT:   linalg.transpose
//   CHECK-DAG:   %[[QV:.+]] = tensor.expand_shape %[[Q]] {{.+}} into tensor<?x4x1x4x16xf32>
//   CHECK-DAG:   %[[KV:.+]] = tensor.expand_shape %[[K]] {{.+}} into tensor<?x4x?x4x16xf32>
//       CHECK:   %[[P:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "parallel"]
//  CHECK-SAME:     ins(%[[QV]], %[[KV]] :
//  CHECK-SAME:     outs(%{{.+}} : tensor<?x4x1x?x16xf32>)
//  CHECK-SAME:     convseq.partial_sums
//       CHECK:   linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
//  CHECK-SAME:     ins(%[[P]] : tensor<?x4x1x?x16xf32>)
//   CHECK-NOT:   linalg.transpose
//       CHECK:   return
func.func @one_query_scores(%q: tensor<?x4x1x64xf32>, %k: tensor<?x4x?x64xf32>, %init: tensor<?x4x1x?xf32>) -> tensor<?x4x1x?xf32> {
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, t, s, d) -> (b, h, t, d)>, affine_map<(b, h, t, s, d) -> (b, h, s, d)>, affine_map<(b, h, t, s, d) -> (b, h, t, s)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<?x4x1x64xf32>, tensor<?x4x?x64xf32>) outs(%init : tensor<?x4x1x?xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<?x4x1x?xf32>
  return %s : tensor<?x4x1x?xf32>
}

// -----

// pack-min-rows=0 packs whatever the number of rows, without an scf.if.
// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(convseq-tile-contractions{pack-min-rows=0}),canonicalize,cse)' | FileCheck %s --check-prefix=ALWAYS
// ALWAYS-LABEL: func.func @always_packed
//   ALWAYS-NOT:   scf.if
//       ALWAYS:   linalg.generic {{.+}} outs(%{{.+}} : tensor<32x256x16xf32>)
func.func @always_packed(%x: tensor<?x256xf32>, %w: tensor<256x512xf32>, %init: tensor<?x512xf32>) -> tensor<?x512xf32> {
  %y = linalg.matmul ins(%x, %w : tensor<?x256xf32>, tensor<256x512xf32>) outs(%init : tensor<?x512xf32>) -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

// -----

// A weight gradient's rows are the layer's input width: 256 rows make
// three blocks of 96, and with two threads one would compute two of them.
// Balanced for two threads, they are four blocks of 66 rows (a multiple of
// the 6 register rows). A dynamic row count keeps blocks of 96.
// CHECK-LABEL: func.func @weight_gradient
//       CHECK:   scf.forall (%{{.+}}) = (0) to (256) step (96)
// BALANCED-LABEL: func.func @weight_gradient
//       BALANCED:   scf.forall (%{{.+}}) = (0) to (256) step (66)
// BALANCED-LABEL: func.func @linear_rows
//       BALANCED:   scf.forall (%{{.+}}) = (0) to (%{{.+}}) step (96)
func.func @weight_gradient(%x: tensor<256x4096xf32>, %dy: tensor<4096x512xf32>, %init: tensor<256x512xf32>) -> tensor<256x512xf32> {
  %dw = linalg.matmul ins(%x, %dy : tensor<256x4096xf32>, tensor<4096x512xf32>) outs(%init : tensor<256x512xf32>) -> tensor<256x512xf32>
  return %dw : tensor<256x512xf32>
}
func.func @linear_rows(%x: tensor<?x256xf32>, %w: tensor<256x512xf32>, %init: tensor<?x512xf32>) -> tensor<?x512xf32> {
  %y = linalg.matmul ins(%x, %w : tensor<?x256xf32>, tensor<256x512xf32>) outs(%init : tensor<?x512xf32>) -> tensor<?x512xf32>
  return %y : tensor<?x512xf32>
}

// -----

// An element-wise consumer of a product (the FFN's ReLU) is an epilogue:
// it runs in each parallel row block once the block's register tiles are
// done, reading the block's output while it is in L2, and the [B, T, 1024]
// product itself is never stored. The consumer first reads the packed
// product's [B, T, 1024 / 16, 16] view. A consumer that writes into an
// existing tensor (an accumulated gradient) is not fused.
// CHECK-LABEL: func.func @ffn_relu
//       CHECK:   scf.forall {{.+}} step (1, 96) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<?x?x64x16xf32>)
//       CHECK:     vector.contract
//       CHECK:     %[[RELU:.+]] = linalg.generic {{.+}} attrs =  {convseq.epilogue}
//       CHECK:       arith.maximumf
//       CHECK:     tensor.parallel_insert_slice %[[RELU]] into %[[OUT]]
//   CHECK-NOT:   linalg.generic
//       CHECK:   return
// A consumer with a dropout mask (here a stand-in, as in
// convseq-tile-generic-ops.mlir) is not fused: its own rows go by groups
// of four that share their Philox evaluations.
// EPILOGUE-LABEL: func.func @ffn_dropout
//       EPILOGUE:   scf.forall {{.+}} step (1, 96)
//       EPILOGUE:     vector.contract
//   EPILOGUE-NOT:     arith.muli {{.+}} : vector<16xi32>
//       EPILOGUE:   scf.forall {{.+}} step (1, 4)
//       EPILOGUE:     arith.muli {{.+}} : vector<16xi32>
// CHECK-LABEL: func.func @accumulated
//       CHECK:   scf.forall
//       CHECK:   linalg.generic
//   CHECK-NOT:   convseq.epilogue
#lhs = affine_map<(b, s, n, k) -> (b, s, k)>
#rhs = affine_map<(b, s, n, k) -> (k, n)>
#out = affine_map<(b, s, n, k) -> (b, s, n)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @ffn_relu(%x: tensor<?x?x256xf32>, %w: tensor<256x1024xf32>) -> tensor<?x?x1024xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x?x256xf32>
  %t = tensor.dim %x, %c1 : tensor<?x?x256xf32>
  %e = tensor.empty(%b, %t) : tensor<?x?x1024xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32>
  %h = linalg.contract indexing_maps = [#lhs, #rhs, #out] ins(%x, %w : tensor<?x?x256xf32>, tensor<256x1024xf32>) outs(%f : tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h : tensor<?x?x1024xf32>) outs(%e : tensor<?x?x1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<?x?x1024xf32>
  return %y : tensor<?x?x1024xf32>
}
func.func @ffn_dropout(%x: tensor<?x?x256xf32>, %w: tensor<256x1024xf32>) -> tensor<?x?x1024xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x?x256xf32>
  %t = tensor.dim %x, %c1 : tensor<?x?x256xf32>
  %e = tensor.empty(%b, %t) : tensor<?x?x1024xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32>
  %h = linalg.contract indexing_maps = [#lhs, #rhs, #out] ins(%x, %w : tensor<?x?x256xf32>, tensor<256x1024xf32>) outs(%f : tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h : tensor<?x?x1024xf32>) outs(%e : tensor<?x?x1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c4 = arith.constant 4 : index
    %threshold = arith.constant 1073741824 : i32
    %j = linalg.index 2 : index
    %i = linalg.index 1 : index
    %group = arith.divui %i, %c4 : index
    %word = arith.remui %i, %c4 : index
    %j32 = arith.index_castui %j : index to i32
    %g32 = arith.index_castui %group : index to i32
    %w32 = arith.index_castui %word : index to i32
    %bits = arith.muli %j32, %g32 : i32
    %chosen = arith.addi %bits, %w32 : i32
    %keep = arith.cmpi uge, %chosen, %threshold : i32
    %r = arith.select %keep, %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<?x?x1024xf32>
  return %y : tensor<?x?x1024xf32>
}
func.func @accumulated(%x: tensor<?x?x256xf32>, %w: tensor<256x1024xf32>, %acc: tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x?x256xf32>
  %t = tensor.dim %x, %c1 : tensor<?x?x256xf32>
  %e = tensor.empty(%b, %t) : tensor<?x?x1024xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32>
  %h = linalg.contract indexing_maps = [#lhs, #rhs, #out] ins(%x, %w : tensor<?x?x256xf32>, tensor<256x1024xf32>) outs(%f : tensor<?x?x1024xf32>) -> tensor<?x?x1024xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h : tensor<?x?x1024xf32>) outs(%acc : tensor<?x?x1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  } -> tensor<?x?x1024xf32>
  return %y : tensor<?x?x1024xf32>
}
