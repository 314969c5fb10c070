// RUN: convseq-opt %s --pass-pipeline='builtin.module(func.func(convseq-tile-attention{rows=2}),canonicalize,cse)' | FileCheck %s

// Masked keys: K is transposed once into a zero-filled buffer of a multiple
// of 32 keys, and the mask becomes an additive bias, -inf past the keys.
// Blocks of two query rows walk the keys 32 at a time, each row's scores two
// vectors of E FMAs each, with an online softmax; the F = 20 values of a row
// are a 16-lane and a 4-lane vector. V is read as it is, the padding keys
// reading the last key's row. No [B, H, T, S] tensor is built.
// CHECK-LABEL: func.func @masked(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x2x?x4xf32>, %[[K:[^:]+]]: tensor<?x2x?x4xf32>, %[[V:[^:]+]]: tensor<?x2x?x20xf32>, %[[M:[^:]+]]: tensor<?x?xi1>
// CHECK-NOT:     tensor<?x2x?x?xf32>
// CHECK:         %[[S:.+]] = tensor.dim %[[K]], %c2
// CHECK:         %[[BLOCKS:.+]] = arith.ceildivui %[[S]], %c32
// CHECK:         %[[PADDED:.+]] = arith.muli %[[BLOCKS]], %c32
// CHECK:         %[[KT0:.+]] = tensor.empty(%{{.+}}, %[[PADDED]]) : tensor<?x2x4x?xf32>
// CHECK:         %[[KT1:.+]] = linalg.fill ins(%[[ZERO:.+]] : f32) outs(%[[KT0]] : tensor<?x2x4x?xf32>)
// CHECK:         %[[KTS:.+]] = tensor.extract_slice %[[KT1]][0, 0, 0, 0] [%{{.+}}, 2, 4, %[[S]]]
// CHECK:         %[[KTT:.+]] = linalg.transpose ins(%[[K]] : tensor<?x2x?x4xf32>) outs(%[[KTS]] : tensor<?x2x4x?xf32>) permutation = [0, 1, 3, 2]
// CHECK:         %[[KT:.+]] = tensor.insert_slice %[[KTT]] into %[[KT1]][0, 0, 0, 0] [%{{.+}}, 2, 4, %[[S]]]
// CHECK:         %[[B1:.+]] = linalg.fill ins(%[[NEG_INF:.+]] : f32) outs(%{{.+}} : tensor<?x?xf32>)
// CHECK:         %[[BS:.+]] = tensor.extract_slice %[[B1]][0, 0] [%{{.+}}, %[[S]]]
// CHECK:         %[[BM:.+]] = linalg.generic {{.+}} ins(%[[M]] : tensor<?x?xi1>) outs(%[[BS]] : tensor<?x?xf32>)
// CHECK:           arith.select %{{.+}}, %[[ZERO]], %[[NEG_INF]] : f32
// CHECK:         %[[BIAS:.+]] = tensor.insert_slice %[[BM]] into %[[B1]]
// CHECK:         %[[FULL:.+]] = arith.divui %[[T:.+]], %c2
// CHECK:         %[[MAIN:.+]] = scf.forall (%[[B:.+]], %[[H:.+]], %[[I:.+]]) in (%{{.+}}, 2, %[[FULL]]) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<?x2x?x20xf32>)
// CHECK:           %[[ROW:.+]] = arith.muli %[[I]], %c2
// CHECK:           %[[LAST:.+]] = arith.subi %[[S]], %c1
// CHECK:           scf.for %[[J:.+]] = %c0 to %[[PADDED]] step %c32 iter_args({{.+}}) -> (f32, f32, vector<16xf32>, vector<4xf32>, f32, f32, vector<16xf32>, vector<4xf32>)
// CHECK:             %[[J16:.+]] = arith.addi %[[J]], %c16
// CHECK:             vector.transfer_read %[[KT]][%[[B]], %[[H]], %c0, %[[J]]]{{.+}} : tensor<?x2x4x?xf32>, vector<16xf32>
// CHECK:             vector.transfer_read %[[KT]][%[[B]], %[[H]], %c0, %[[J16]]]{{.+}} : tensor<?x2x4x?xf32>, vector<16xf32>
// CHECK:             tensor.extract %[[Q]][%[[B]], %[[H]], %[[ROW]], %c0]
// CHECK-COUNT-2:     arith.mulf %{{.+}} : vector<16xf32>
// CHECK:             tensor.extract %[[Q]][%[[B]], %[[H]], %{{.+}}, %c0]
// CHECK-COUNT-2:     arith.mulf %{{.+}} : vector<16xf32>
// CHECK-COUNT-2:     vector.transfer_read %[[KT]][%[[B]], %[[H]], %c1,
// CHECK-COUNT-4:     vector.fma {{.+}} : vector<16xf32>
// CHECK:             vector.transfer_read %[[BIAS]][%[[B]], %[[J]]]
// CHECK:             vector.transfer_read %[[BIAS]][%[[B]], %[[J16]]]
// CHECK-COUNT-2:     vector.fma {{.+}} : vector<16xf32>
// CHECK:             arith.maximumf {{.+}} : vector<16xf32>
// CHECK:             vector.reduction <maximumf>
// CHECK-COUNT-2:     math.exp %{{.+}} : vector<16xf32>
// CHECK:             math.exp %{{.+}} : vector<16xf32>
// CHECK:             vector.reduction <add>
// CHECK:             %[[KEY:.+]] = arith.minsi %[[J]], %[[LAST]]
// CHECK:             vector.transfer_read %[[V]][%[[B]], %[[H]], %[[KEY]], %c0]{{.+}} vector<16xf32>
// CHECK-COUNT-2:     vector.fma {{.+}} : vector<16xf32>
// CHECK:             vector.transfer_read %[[V]][%[[B]], %[[H]], %[[KEY]], %c16]{{.+}} vector<4xf32>
// CHECK-COUNT-2:     vector.fma {{.+}} : vector<4xf32>
// CHECK:             vector.extract %{{.+}}[15] : f32 from vector<16xf32>
// CHECK:             scf.yield
// CHECK:           arith.divf
// CHECK:           vector.transfer_write
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %{{.+}} into %[[OUT]][%[[B]], %[[H]], %[[ROW]], 0] [1, 1, 2, 20] [1, 1, 1, 1]
// The T mod 2 last rows, one per block.
// CHECK:         %[[TAIL_START:.+]] = arith.muli %[[FULL]], %c2
// CHECK:         %[[TAIL:.+]] = arith.subi %[[T]], %[[TAIL_START]]
// CHECK:         scf.forall ({{.+}}) in (%{{.+}}, 2, %[[TAIL]]) shared_outs(%{{.+}} = %[[MAIN]])
// CHECK:           scf.for {{.+}} -> (f32, f32, vector<16xf32>, vector<4xf32>)
// CHECK:           tensor.parallel_insert_slice {{.+}} [1, 1, 1, 20] [1, 1, 1, 1]
// CHECK-NOT:     convseq.dot_product_attention
func.func @masked(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>, %v: tensor<?x2x?x20xf32>, %m: tensor<?x?xi1>) -> tensor<?x2x?x20xf32> {
  %o = convseq.dot_product_attention %q, %k, %v key_mask %m
      : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x20xf32>, tensor<?x?xi1>) -> tensor<?x2x?x20xf32>
  return %o : tensor<?x2x?x20xf32>
}

// Causal: without a mask the bias only marks the padding keys; a block of
// rows stops after the block holding its last row's last visible key
// (i + S - T), and each row selects -inf past its own.
// CHECK-LABEL: func.func @causal(
// CHECK:         %[[T:.+]] = tensor.dim %arg0, %c2
// CHECK:         %[[S:.+]] = tensor.dim %arg1, %c2
// CHECK:         %[[PADDED:.+]] = arith.muli %{{.+}}, %c32
// CHECK:         %[[B1:.+]] = linalg.fill ins(%[[NEG_INF:.+]] : f32) outs(%{{.+}} : tensor<2x?xf32>)
// CHECK:         %[[BS:.+]] = tensor.extract_slice %[[B1]][0, 0] [2, %[[S]]]
// CHECK:         %[[B0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[BS]] : tensor<2x?xf32>)
// CHECK:         tensor.insert_slice %[[B0]] into %[[B1]]
// CHECK:         scf.forall
// CHECK:           %[[ROW:.+]] = arith.muli %{{.+}}, %c2
// CHECK:           %[[SHIFT:.+]] = arith.subi %[[S]], %[[T]]
// CHECK:           %[[LAST:.+]] = arith.addi %[[ROW]], %[[SHIFT]]
// CHECK:           %[[END:.+]] = arith.addi %[[LAST]], %c2
// CHECK:           %[[END0:.+]] = arith.maxsi %[[END]], %c0
// CHECK:           %[[ENDB:.+]] = arith.ceildivui %[[END0]], %c32
// CHECK:           %[[ENDK:.+]] = arith.muli %[[ENDB]], %c32
// CHECK:           %[[UPPER:.+]] = arith.minsi %[[PADDED]], %[[ENDK]]
// CHECK:           scf.for %[[J:.+]] = %c0 to %[[UPPER]] step %c32
// CHECK:             %[[STEP:.+]] = vector.step : vector<16xindex>
// CHECK:             %[[KEYS:.+]] = arith.addi %[[STEP]], %{{.+}} : vector<16xindex>
// CHECK:             %[[LIMIT:.+]] = vector.broadcast %[[LAST]] : index to vector<16xindex>
// CHECK:             %[[VISIBLE:.+]] = arith.cmpi sle, %[[KEYS]], %[[LIMIT]]
// CHECK:             arith.select %[[VISIBLE]], %{{.+}}, %cst : vector<16xi1>, vector<16xf32>
func.func @causal(%q: tensor<2x2x?x4xf32>, %k: tensor<2x2x?x4xf32>, %v: tensor<2x2x?x4xf32>) -> tensor<2x2x?x4xf32> {
  %o = convseq.dot_product_attention %q, %k, %v {causal}
      : (tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>) -> tensor<2x2x?x4xf32>
  return %o : tensor<2x2x?x4xf32>
}

// Attention dropout: per vector of 16 keys, the ten Philox rounds on the
// counter (keys, group of four query rows, stream, step) keyed by the seed's
// two words. Blocks of two rows (rows=2) evaluate per row and select word
// i mod 4; the probabilities are kept where it is >= 0.1 * 2^32
// (429496729) and the output is scaled by 1 / 0.9.
// CHECK-LABEL: func.func @dropout(
// CHECK-SAME:    %{{[^:]+}}: tensor<?x2x?x4xf32>, %{{[^:]+}}: tensor<?x2x?x4xf32>, %[[SEED:[^:]+]]: i64, %[[STEP:[^:]+]]: i64
// CHECK-NOT:     tensor<?x2x?x?xf32>
// CHECK-DAG:     %[[THRESHOLD:.+]] = arith.constant dense<429496729> : vector<16xi32>
// CHECK-DAG:     %[[KEEP_SCALE:.+]] = arith.constant 1.11111116 : f32
// CHECK-DAG:     arith.trunci %[[SEED]] : i64 to i32
// CHECK-DAG:     arith.trunci %[[STEP]] : i64 to i32
// CHECK-DAG:     arith.ceildivui %{{.+}}, %c4 : index
// CHECK:         scf.forall
// CHECK:           %[[ROW:.+]] = arith.muli %{{.+}}, %c2
// CHECK:           %[[GROUP:.+]] = arith.divui %[[ROW]], %c4
// CHECK:           scf.for %[[J:.+]] = %c0
// CHECK:             arith.index_castui %[[J]] : index to i32
// CHECK:             arith.index_castui %{{.+}} : vector<16xindex> to vector<16xi32>
// CHECK:             arith.mului_extended {{.+}} : vector<16xi32>
// CHECK:             %[[WHICH:.+]] = arith.remui %[[ROW]], %c4
// CHECK-COUNT-3:     arith.select %{{.+}}, %{{.+}}, %{{.+}} : vector<16xi32>
// CHECK-NEXT:        %[[KEEP:.+]] = arith.cmpi uge, %{{.+}}, %[[THRESHOLD]] : vector<16xi32>
// CHECK:             arith.select %[[KEEP]], %{{.+}}, %{{.+}} : vector<16xi1>, vector<16xf32>
// CHECK:           arith.divf %[[KEEP_SCALE]], %{{.+}} : f32
func.func @dropout(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>, %s: i64, %t: i64) -> tensor<?x2x?x4xf32> {
  %0 = convseq.dot_product_attention %q, %k, %k rng(%s, %t) {dropout = 0.1 : f64}
      : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, i64, i64) -> tensor<?x2x?x4xf32>
  return %0 : tensor<?x2x?x4xf32>
}

// Kept for convert-convseq-to-linalg: a decoder step's single query, and a
// head size too long to unroll.
// CHECK-LABEL: func.func @kept(
// CHECK-COUNT-2: convseq.dot_product_attention
// CHECK-NOT:     scf.forall
func.func @kept(%q1: tensor<2x2x1x4xf32>, %k: tensor<2x2x?x4xf32>, %q: tensor<2x2x?x4xf32>,
                %wide: tensor<2x2x?x512xf32>)
    -> (tensor<2x2x1x4xf32>, tensor<2x2x?x512xf32>) {
  %1 = convseq.dot_product_attention %q1, %k, %k
      : (tensor<2x2x1x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>) -> tensor<2x2x1x4xf32>
  %2 = convseq.dot_product_attention %q, %k, %wide
      : (tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x512xf32>) -> tensor<2x2x?x512xf32>
  return %1, %2 : tensor<2x2x1x4xf32>, tensor<2x2x?x512xf32>
}
