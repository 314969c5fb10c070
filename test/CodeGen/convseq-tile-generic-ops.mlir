// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(convseq-tile-generic-ops),canonicalize,cse)' | FileCheck %s

// An RMS norm as convert-convseq-to-linalg emits it: the sum of squares is
// fused into the rows of the op that scales by it, so no [B, T]
// intermediate is written; each row's sum is one 64-wide vector reduction
// that stays in a register, and the scaling runs 16 lanes at a time.
// CHECK-LABEL: func.func @rms_norm
//   CHECK-NOT:   tensor<?x?xf32>
//       CHECK:   scf.forall (%[[B:.+]], %[[T:.+]]) in (%{{.+}}, %{{.+}}) shared_outs
//       CHECK:     %[[ROW:.+]] = vector.transfer_read {{.+}} : tensor<64xf32>, vector<64xf32>
//       CHECK:     %[[SQ:.+]] = arith.mulf %[[ROW]], %[[ROW]] : vector<64xf32>
//       CHECK:     %[[SUM:.+]] = vector.multi_reduction <add>, %[[SQ]], %{{.+}} [0] : vector<64xf32> to f32
//       CHECK:     scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args
//       CHECK:       arith.divf %[[SUM]]
//       CHECK:       arith.mulf {{.+}} : vector<16xf32>
//       CHECK:       vector.transfer_write {{.+}} : vector<16xf32>, tensor<16xf32>
//       CHECK:     scf.forall.in_parallel
//   CHECK-NOT:   linalg.generic
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#chan = affine_map<(d0, d1, d2) -> (d2)>
func.func @rms_norm(%x: tensor<?x?x64xf32>, %scale: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 64.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x?x64xf32>
  %t = tensor.dim %x, %c1 : tensor<?x?x64xf32>
  %e = tensor.empty(%b, %t) : tensor<?x?xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %ss = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : tensor<?x?x64xf32>) outs(%f : tensor<?x?xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %sq = arith.mulf %in, %in : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  } -> tensor<?x?xf32>
  %o = tensor.empty(%b, %t) : tensor<?x?x64xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #chan, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %ss, %scale : tensor<?x?x64xf32>, tensor<?x?xf32>, tensor<64xf32>) outs(%o : tensor<?x?x64xf32>) {
  ^bb0(%in: f32, %sum: f32, %g: f32, %out: f32):
    %m = arith.divf %sum, %n : f32
    %r = math.rsqrt %m : f32
    %v = arith.mulf %in, %r : f32
    %w = arith.mulf %v, %g : f32
    linalg.yield %w : f32
  } -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// A depthwise convolution over (batch, position, tap, channel): one
// parallel row per output position reads its window of taps; the taps are
// the innermost loop, so the 16-lane accumulator is carried in a register
// across them and written once.
// CHECK-LABEL: func.func @depthwise_conv
//       CHECK:   scf.forall (%{{.+}}, %{{.+}}) in (%{{.+}}, %{{.+}}) shared_outs
//       CHECK:     tensor.extract_slice %{{.+}} [1, 3, 64] [1, 1, 1] : tensor<?x?x64xf32> to tensor<1x3x64xf32>
//       CHECK:     scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args
//       CHECK:       %[[INIT:.+]] = vector.transfer_read {{.+}} : tensor<16xf32>, vector<16xf32>
//       CHECK:       %[[ACC:.+]] = scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[A:.+]] = %[[INIT]]) -> (vector<16xf32>)
//       CHECK:         %[[W:.+]] = tensor.extract {{.+}} : tensor<1xf32>
//       CHECK:         %[[X:.+]] = vector.transfer_read {{.+}} : tensor<16xf32>, vector<16xf32>
//       CHECK:         %[[WB:.+]] = vector.broadcast %[[W]] : f32 to vector<16xf32>
//       CHECK:         %[[P:.+]] = arith.mulf %[[X]], %[[WB]]
//       CHECK:         %[[S:.+]] = arith.addf %[[A]], %[[P]]
//       CHECK:         scf.yield %[[S]] : vector<16xf32>
//       CHECK:       vector.transfer_write %[[ACC]]
#x = affine_map<(b, t, k, c) -> (b, t + k, c)>
#w = affine_map<(b, t, k, c) -> (c floordiv 16, k)>
#o = affine_map<(b, t, k, c) -> (b, t, c)>
func.func @depthwise_conv(%xp: tensor<?x?x64xf32>, %w: tensor<4x3xf32>, %init: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %y = linalg.generic {indexing_maps = [#x, #w, #o], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%xp, %w : tensor<?x?x64xf32>, tensor<4x3xf32>) outs(%init : tensor<?x?x64xf32>) {
  ^bb0(%in: f32, %k: f32, %acc: f32):
    %p = arith.mulf %in, %k : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// A dynamic last dimension (attention scores over the source length): the
// vector loop is peeled, full tiles are 16-lane vector code and the last
// partial tile a scalar loop.
// CHECK-LABEL: func.func @scale_scores
//       CHECK:   scf.forall (%{{.+}}) in (%{{.+}}) shared_outs
//       CHECK:     %[[SPLIT:.+]] = affine.apply
//       CHECK:     scf.for %{{.+}} = %{{.+}} to %[[SPLIT]] step %{{.+}} iter_args
//       CHECK:       math.exp %{{.+}} : vector<16xf32>
//       CHECK:     scf.for %{{.+}} = %[[SPLIT]] to %{{.+}} step %{{.+}} iter_args
//       CHECK:       linalg.generic
//       CHECK:         math.exp %{{.+}} : f32
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @scale_scores(%s: tensor<?x?xf32>, %init: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c = arith.constant 0.125 : f32
  %y = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<?x?xf32>) outs(%init : tensor<?x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    %e = math.exp %m : f32
    linalg.yield %e : f32
  } -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

// A long dynamic reduction (a softmax's sum over the keys): its full tiles
// are 16-lane vector code too, although folding the peeled bounds leaves a
// tensor.cast on their input (the output, a loop-carried accumulator, keeps
// its type); they used to stay scalar adds, one dependent add per element.
// CHECK-LABEL: func.func @row_sums
//       CHECK:   scf.forall (%{{.+}}, %{{.+}}) in (%{{.+}}, 4) shared_outs
//       CHECK:     %[[SPLIT:.+]] = affine.apply
//       CHECK:     scf.for %{{.+}} = %{{.+}} to %[[SPLIT]] step %{{.+}} iter_args
//   CHECK-NOT:       linalg.generic
//       CHECK:       math.exp %{{.+}} : vector<16xf32>
//       CHECK:       vector.multi_reduction <add>, %{{.+}} [0] : vector<16xf32> to f32
//       CHECK:     scf.for %{{.+}} = %[[SPLIT]] to %{{.+}} step %{{.+}} iter_args
//       CHECK:       linalg.generic
//       CHECK:         math.exp %{{.+}} : f32
func.func @row_sums(%s: tensor<?x4x?xf32>, %init: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %y = linalg.generic {indexing_maps = [affine_map<(b, h, j) -> (b, h, j)>, affine_map<(b, h, j) -> (b, h)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%s : tensor<?x4x?xf32>) outs(%init : tensor<?x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    %sum = arith.addf %out, %e : f32
    linalg.yield %sum : f32
  } -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A small static op (a conv kernel's softmax) is not worth a fork: plain
// loops, still vectorized.
// CHECK-LABEL: func.func @kernel_softmax_max
//   CHECK-NOT:   scf.forall
//       CHECK:   scf.for
//       CHECK:     vector.multi_reduction <maximumf>, {{.+}} : vector<7xf32> to f32
func.func @kernel_softmax_max(%w: tensor<4x7xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %y = linalg.generic {indexing_maps = [affine_map<(h, k) -> (h, k)>, affine_map<(h, k) -> (h)>], iterator_types = ["parallel", "reduction"]}
      ins(%w : tensor<4x7xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Booleans stay scalar: LLVM packs a vector of i1 into bits, a memref of i1
// holds bytes.
// CHECK-LABEL: func.func @padding_mask
//       CHECK:   scf.forall
//   CHECK-NOT:     vector.
//       CHECK:     linalg.generic
//  CHECK-SAME:       tensor<1x16xi1>
//   CHECK-NOT:     vector.
//       CHECK:   return
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @padding_mask(%ids: tensor<?x?xi32>, %init: tensor<?x?xi1>) -> tensor<?x?xi1> {
  %z = arith.constant 0 : i32
  %y = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%ids : tensor<?x?xi32>) outs(%init : tensor<?x?xi1>) {
  ^bb0(%in: i32, %out: i1):
    %m = arith.cmpi ne, %in, %z : i32
    linalg.yield %m : i1
  } -> tensor<?x?xi1>
  return %y : tensor<?x?xi1>
}

// -----

// Attention scores whose query is transposed just before: every query row
// is read by all source positions, so the transpose is not fused into the
// score rows (it would be recomputed once per source position); it is its
// own parallel copy.
// CHECK-LABEL: func.func @scores
//       CHECK:   %[[QT:.+]] = scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}}, 4, %{{.+}})
//       CHECK:     vector.transfer_read {{.+}} : tensor<1x1x1x16xf32>, vector<16xf32>
//       CHECK:   scf.forall (%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}}, 4, %{{.+}}, %{{.+}})
//       CHECK:     tensor.extract_slice %[[QT]]
//       CHECK:     vector.multi_reduction <add>, {{.+}} : vector<16xf32> to f32
func.func @scores(%q: tensor<?x?x4x16xf32>, %k: tensor<?x4x?x16xf32>, %init: tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %q, %c0 : tensor<?x?x4x16xf32>
  %t = tensor.dim %q, %c1 : tensor<?x?x4x16xf32>
  %e = tensor.empty(%b, %t) : tensor<?x4x?x16xf32>
  %qt = linalg.transpose ins(%q : tensor<?x?x4x16xf32>) outs(%e : tensor<?x4x?x16xf32>) permutation = [0, 2, 1, 3]
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, t, s, d) -> (b, h, t, d)>, affine_map<(b, h, t, s, d) -> (b, h, s, d)>, affine_map<(b, h, t, s, d) -> (b, h, t, s)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%qt, %k : tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) outs(%init : tensor<?x4x?x?xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %p = arith.mulf %a, %bb : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<?x4x?x?xf32>
  return %s : tensor<?x4x?x?xf32>
}

// -----

// Tied embeddings packed for the logits: panels[n1][k][n0] = E[16 n1 + n0, k]
// moves E's contiguous dimension. Parallel over the panels, each 16 x 256
// transpose goes by 8 x 8 blocks: one transposed vector read and one
// vector write, not a strided copy per 16 elements.
// CHECK-LABEL: func.func @pack_transposed
//       CHECK:   scf.forall (%[[N1:.+]]) in (500)
//       CHECK:     scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %[[C8:.+]] iter_args
//       CHECK:       scf.for %[[N0:.+]] = %{{.+}} to %{{.+}} step %[[C8]] iter_args
//       CHECK:         %[[BLOCK:.+]] = vector.transfer_read {{.+}} permutation_map = #{{.+}}} : tensor<8x8xf32>, vector<8x8xf32>
//       CHECK:         vector.transfer_write %[[BLOCK]], {{.+}} : vector<8x8xf32>, tensor<8x8xf32>
//   CHECK-NOT:   tensor.insert_slice {{.+}} : tensor<16xf32>
func.func @pack_transposed(%e: tensor<8000x256xf32>) -> tensor<500x256x16xf32> {
  %init = tensor.empty() : tensor<500x256x16xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(n1, k, n0) -> (n1 * 16 + n0, k)>, affine_map<(n1, k, n0) -> (n1, k, n0)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%e : tensor<8000x256xf32>) outs(%init : tensor<500x256x16xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<500x256x16xf32>
  return %p : tensor<500x256x16xf32>
}

// -----

// Attention's keys K[b, h, s, d] -> K^T[b, h, d, s] with s known at run
// time: parallel over batch and head, 8 x 8 blocks, and the last columns
// (s not a multiple of 8) peeled into a scalar transpose.
// CHECK-LABEL: func.func @keys_transposed
//       CHECK:   scf.forall (%{{.+}}, %{{.+}}) in (%{{.+}}, 4)
//       CHECK:     scf.for %{{.+}} = %{{.+}} to %[[C64:.+]] step %[[C8:.+]] iter_args
//       CHECK:       scf.for %{{.+}} = %{{.+}} to %[[FULL:.+]] step %[[C8]] iter_args
//       CHECK:         vector.transfer_read {{.+}} permutation_map = #{{.+}}} : tensor<1x1x8x8xf32>, vector<8x8xf32>
//       CHECK:       scf.for %{{.+}} = %[[FULL]] to %{{.+}} step %[[C8]] iter_args
//       CHECK:         linalg.transpose ins(%{{.+}} : tensor<1x1x?x8xf32>)
func.func @keys_transposed(%k: tensor<?x4x?x64xf32>) -> tensor<?x4x64x?xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %k, %c0 : tensor<?x4x?x64xf32>
  %s = tensor.dim %k, %c2 : tensor<?x4x?x64xf32>
  %init = tensor.empty(%b, %s) : tensor<?x4x64x?xf32>
  %t = linalg.transpose ins(%k : tensor<?x4x?x64xf32>) outs(%init : tensor<?x4x64x?xf32>) permutation = [0, 1, 3, 2]
  return %t : tensor<?x4x64x?xf32>
}

// -----

// A dropout mask's rows in groups of four share one Philox evaluation
// (lib/Support/Philox.h); a multiply on (column, group) stands in for the
// rounds here, and adding the word for picking it. Rows go by whole
// groups: the group index is computed once per group before the tiles, the
// full group's four rows are unrolled and share one vector evaluation,
// their words are the constants 0..3 (row 0 adds nothing), and a partial
// last group (rows not a multiple of 4) is a scalar tile. Each runs under
// an scf.if, not in a loop of at most one iteration.
// CHECK-LABEL: func.func @dropout_row_groups
//       CHECK:   scf.forall (%{{.+}}, %[[ROW:.+]]) = (0, 0) to (%{{.+}}, %{{.+}}) step (1, 4) shared_outs
//       CHECK:     %[[GROUP:.+]] = arith.divui %[[ROW]], %c4
//       CHECK:     scf.if
//       CHECK:     scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c16 iter_args
//       CHECK:       %[[GROUP32:.+]] = arith.index_castui %[[GROUP]] : index to i32
//       CHECK:       %[[SPLAT:.+]] = vector.broadcast %[[GROUP32]]
//       CHECK:       %[[BITS:.+]] = arith.muli %{{.+}}, %[[SPLAT]] : vector<16xi32>
//   CHECK-NOT:       arith.muli
//       CHECK:       arith.cmpi uge, %[[BITS]], %{{.+}} : vector<16xi32>
//   CHECK-NOT:       arith.muli
//       CHECK:       arith.addi %[[BITS]], %{{.+}} : vector<16xi32>
//   CHECK-NOT:       arith.muli
//       CHECK:       arith.addi %[[BITS]], %{{.+}} : vector<16xi32>
//   CHECK-NOT:       arith.muli {{.+}} : vector<16xi32>
//       CHECK:     scf.if
//       CHECK:     scf.for
//       CHECK:       linalg.generic
//       CHECK:         arith.muli {{.+}} : i32
//       CHECK:     scf.forall.in_parallel
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @dropout_row_groups(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %x, %c0 : tensor<?x?x64xf32>
  %t = tensor.dim %x, %c1 : tensor<?x?x64xf32>
  %o = tensor.empty(%b, %t) : tensor<?x?x64xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<?x?x64xf32>) outs(%o : tensor<?x?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c4 = arith.constant 4 : index
    %threshold = arith.constant 1073741824 : i32
    %zero = arith.constant 0.0 : f32
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
  } -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}
