// RUN: convseq-opt %s --convseq-fuse-elementwise-ops --split-input-file | FileCheck %s

// An element-wise producer goes into an element-wise consumer, and into a
// reduction that reads each of its elements once.

// CHECK-LABEL: func.func @fused
// CHECK-SAME:    (%[[X:.+]]: tensor<8x16xf32>)
// CHECK:         %[[R:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<8x16xf32>)
// CHECK:           math.exp
// CHECK:           arith.addf
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[R]]
func.func @fused(%x: tensor<8x16xf32>) -> tensor<8xf32> {
  %e0 = tensor.empty() : tensor<8x16xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x16xf32>) outs(%e0 : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = math.exp %in : f32
    linalg.yield %v : f32
  } -> tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<8xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<8xf32>) -> tensor<8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%e : tensor<8x16xf32>) outs(%s1 : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.addf %in, %out : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  return %s : tensor<8xf32>
}

// -----

// A contraction's loop nest (i, j, f) reads P[i, j] without f: fused, the
// exp would run once per (i, j, f), so it stays a separate op.

// CHECK-LABEL: func.func @not_into_contraction
// CHECK-SAME:    (%[[P:.+]]: tensor<8x16xf32>, %[[V:.+]]: tensor<16x4xf32>)
// CHECK:         %[[E:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]} ins(%[[P]] : tensor<8x16xf32>)
// CHECK:           math.exp
// CHECK:         linalg.generic {{.+}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[E]], %[[V]] : tensor<8x16xf32>, tensor<16x4xf32>)
// CHECK-NOT:       math.exp
// CHECK:           linalg.yield
func.func @not_into_contraction(%p: tensor<8x16xf32>, %v: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %e0 = tensor.empty() : tensor<8x16xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%p : tensor<8x16xf32>) outs(%e0 : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %x = math.exp %in : f32
    linalg.yield %x : f32
  } -> tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %o0 = tensor.empty() : tensor<8x4xf32>
  %o1 = linalg.fill ins(%zero : f32) outs(%o0 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(i, j, f) -> (i, j)>, affine_map<(i, j, f) -> (j, f)>,
                                        affine_map<(i, j, f) -> (i, f)>],
                       iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%e, %v : tensor<8x16xf32>, tensor<16x4xf32>) outs(%o1 : tensor<8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x4xf32>
  return %o : tensor<8x4xf32>
}

// -----

// A producer with a second use is not fused (as upstream).

// CHECK-LABEL: func.func @two_uses
// CHECK-COUNT-3: linalg.generic
func.func @two_uses(%x: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %e0 = tensor.empty() : tensor<16xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      ins(%x : tensor<16xf32>) outs(%e0 : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = math.exp %in : f32
    linalg.yield %v : f32
  } -> tensor<16xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      ins(%e : tensor<16xf32>) outs(%e0 : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.addf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<16xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      ins(%e : tensor<16xf32>) outs(%e0 : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.mulf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<16xf32>
  return %a, %b : tensor<16xf32>, tensor<16xf32>
}
