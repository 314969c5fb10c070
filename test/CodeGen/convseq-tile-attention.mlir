// RUN: convseq-opt %s --pass-pipeline='builtin.module(func.func(convseq-tile-attention{rows=2}),canonicalize,cse)' | FileCheck %s
// RUN: convseq-opt %s --pass-pipeline='builtin.module(func.func(convseq-tile-attention{gradients=false}))' | FileCheck %s --check-prefix=NOGRAD

// Masked keys: K is padded with zeros to a multiple of 32 keys and each
// block of 32 keys transposed once, [B, H, S' / 32, E, 32]; the mask becomes
// an additive bias, -inf past the keys.
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
// CHECK:         %[[K0:.+]] = tensor.empty(%{{.+}}, %[[PADDED]]) : tensor<?x2x?x4xf32>
// CHECK:         %[[K1:.+]] = linalg.fill ins(%[[ZERO:.+]] : f32) outs(%[[K0]] : tensor<?x2x?x4xf32>)
// CHECK:         %[[KP:.+]] = tensor.insert_slice %[[K]] into %[[K1]][0, 0, 0, 0] [%{{.+}}, 2, %[[S]], 4]
// CHECK:         %[[KE:.+]] = tensor.expand_shape %[[KP]] {{\[\[}}0], [1], [2, 3], [4]] output_shape [%{{.+}}, 2, %[[BLOCKS]], 32, 4]
// CHECK:         %[[KT:.+]] = linalg.transpose ins(%[[KE]] : tensor<?x2x?x32x4xf32>) outs(%{{.+}} : tensor<?x2x?x4x32xf32>) permutation = [0, 1, 2, 4, 3]
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
// CHECK:             %[[JB:.+]] = arith.divui %[[J]], %c32
// CHECK:             %[[J16:.+]] = arith.addi %[[J]], %c16
// CHECK:             vector.transfer_read %[[KT]][%[[B]], %[[H]], %[[JB]], %c0, %c0]{{.+}} : tensor<?x2x?x4x32xf32>, vector<16xf32>
// CHECK:             vector.transfer_read %[[KT]][%[[B]], %[[H]], %[[JB]], %c0, %c16]{{.+}} : tensor<?x2x?x4x32xf32>, vector<16xf32>
// CHECK:             tensor.extract %[[Q]][%[[B]], %[[H]], %[[ROW]], %c0]
// CHECK-COUNT-2:     arith.mulf %{{.+}} : vector<16xf32>
// CHECK:             tensor.extract %[[Q]][%[[B]], %[[H]], %{{.+}}, %c0]
// CHECK-COUNT-2:     arith.mulf %{{.+}} : vector<16xf32>
// CHECK-COUNT-2:     vector.transfer_read %[[KT]][%[[B]], %[[H]], %[[JB]], %c1,
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

// The gradient (FlashAttention-2's backward), causal with dropout. Q and dO
// are padded with zero rows to T', a multiple of 4; K and V are padded to
// S' and blocked like the forward's K^T. First the forward's walk for every
// group of four rows gives each row L = max + log(sum) and D = dO . O (two
// [B, H, T'] tensors). Then one parallel loop over batch and head walks its
// blocks of 32 keys, and for each the groups of four rows that see it
// (causal: from the group of the block's first visible row): the 4 x 32
// scores and dP = dO . v as in the forward, P = exp(s - L), the same dropout
// mask, then dV^T and dK^T of the block (read as broadcasts, accumulated in
// the head's blocked [S' / 32, F or E, 32]) and the four rows of dQ (in
// registers, a key's row times a broadcast dS each). The products and the
// dK^T, dV^T sums are loops over E or F, not unrolled. No [B, H, T, S]
// tensor is built.
// With gradients=false (the CPU pipeline's tile-attention-grad=false) the
// gradient keeps the reference lowering.
// NOGRAD-LABEL: func.func @grad(
// NOGRAD:         convseq.dot_product_attention_grad
// NOGRAD-NOT:     scf.forall
// NOGRAD:         return
// CHECK-LABEL: func.func @grad(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x2x?x4xf32>, %[[K:[^:]+]]: tensor<?x2x?x4xf32>, %[[V:[^:]+]]: tensor<?x2x?x20xf32>, %[[DO:[^:]+]]: tensor<?x2x?x20xf32>
// CHECK-NOT:     tensor<?x2x?x?xf32>
// CHECK:         %[[KP:.+]] = tensor.insert_slice %[[K]] into
// CHECK:         %[[KT:.+]] = linalg.transpose ins(%{{.+}} : tensor<?x2x?x32x4xf32>) outs(%{{.+}} : tensor<?x2x?x4x32xf32>)
// CHECK:         %[[TP:.+]] = arith.muli %{{.+}}, %c4
// CHECK:         %[[QP:.+]] = tensor.insert_slice %[[Q]] into
// CHECK:         %[[DOP:.+]] = tensor.insert_slice %[[DO]] into
// CHECK:         %[[VT:.+]] = linalg.transpose ins(%{{.+}} : tensor<?x2x?x32x20xf32>) outs(%{{.+}} : tensor<?x2x?x20x32xf32>)
// CHECK:         %[[GROUPS:.+]] = arith.divui %[[TP]], %c4
// CHECK:         %[[STATS:.+]]:2 = scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}}, 2, %[[GROUPS]]) shared_outs({{.+}}) -> (tensor<?x2x?xf32>, tensor<?x2x?xf32>)
// CHECK:           scf.for {{.+}} -> (f32, f32, vector<16xf32>, vector<4xf32>, f32, f32, vector<16xf32>, vector<4xf32>, f32, f32, vector<16xf32>, vector<4xf32>, f32, f32, vector<16xf32>, vector<4xf32>)
// CHECK-COUNT-4:   math.log
// CHECK:           vector.transfer_read %[[DOP]]
// CHECK-COUNT-2:   vector.from_elements {{.+}} : vector<4xf32>
// CHECK:         %[[GRADS:.+]]:3 = scf.forall (%[[B:.+]], %[[H:.+]]) in (%{{.+}}, 2) shared_outs({{.+}}) -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4x32xf32>, tensor<?x2x?x20x32xf32>)
// CHECK:           scf.for %[[KB:.+]] = %c0 to %{{.+}} step %c1 iter_args(
// CHECK:             %[[KEY:.+]] = arith.muli %[[KB]], %c32
// CHECK:             %[[FIRST:.+]] = arith.subi %[[KEY]], %{{.+}}
// CHECK:             arith.maxsi %[[FIRST]], %c0
// CHECK:             %[[START:.+]] = arith.muli %{{.+}}, %c4
// CHECK:             scf.for %[[ROW:.+]] = %[[START]] to %[[TP]] step %c4 iter_args(
// CHECK:               scf.for %[[E:.+]] = %c0 to %c4 step %c1 iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:                 vector.transfer_read %[[KT]][%[[B]], %[[H]], %[[KB]], %[[E]], %c0]
// CHECK:                 tensor.extract %[[QP]][%[[B]], %[[H]], %[[ROW]], %[[E]]]
// CHECK-COUNT-8:         vector.fma
// CHECK:               scf.for %[[F:.+]] = %c0 to %c20 step %c1 iter_args(
// CHECK:                 vector.transfer_read %[[VT]][%[[B]], %[[H]], %[[KB]], %[[F]], %c0]
// CHECK:                 tensor.extract %[[DOP]][%[[B]], %[[H]], %[[ROW]], %[[F]]]
// CHECK:               arith.mului_extended
// CHECK:               tensor.extract %[[STATS]]#0[%[[B]], %[[H]], %[[ROW]]]
// CHECK:               tensor.extract %[[STATS]]#1[%[[B]], %[[H]], %[[ROW]]]
// CHECK:               math.exp
// CHECK:               arith.cmpi uge
// CHECK:               scf.for %[[F2:.+]] = %c0 to %c20 step %c1 iter_args(%{{.+}} = %{{.+}}) -> (tensor<1x1x?x20x32xf32>)
// CHECK:                 vector.transfer_read %[[DOP]][%[[B]], %[[H]], %[[ROW]], %[[F2]]], %{{.+}} {in_bounds = [true], permutation_map = #{{.+}}} : tensor<?x2x?x20xf32>, vector<16xf32>
// CHECK:                 vector.transfer_read %{{.+}}[%c0, %c0, %[[KB]], %[[F2]], %c0]{{.+}} : tensor<1x1x?x20x32xf32>, vector<16xf32>
// CHECK-COUNT-4:         vector.fma
// CHECK:                 vector.transfer_write %{{.+}}, %{{.+}}[%c0, %c0, %[[KB]], %[[F2]], %c0]{{.+}} : vector<16xf32>, tensor<1x1x?x20x32xf32>
// CHECK:               scf.for %[[E2:.+]] = %c0 to %c4 step %c1 iter_args(%{{.+}} = %{{.+}}) -> (tensor<1x1x?x4x32xf32>)
// CHECK:                 vector.transfer_read %[[QP]][%[[B]], %[[H]], %[[ROW]], %[[E2]]], %{{.+}} {in_bounds = [true], permutation_map = #{{.+}}} : tensor<?x2x?x4xf32>, vector<16xf32>
// CHECK:                 vector.transfer_write %{{.+}}, %{{.+}}[%c0, %c0, %[[KB]], %[[E2]], %c0]{{.+}} : vector<16xf32>, tensor<1x1x?x4x32xf32>
// CHECK:               vector.transfer_read %{{.+}}[%c0, %c0, %[[ROW]], %c0]{{.+}} : tensor<1x1x?x4xf32>, vector<4xf32>
// CHECK:               vector.transfer_read %[[KP]][%[[B]], %[[H]], %[[KEY]], %c0]{{.+}} : tensor<?x2x?x4xf32>, vector<4xf32>
// CHECK-COUNT-4:       vector.fma {{.+}} : vector<4xf32>
// CHECK:               vector.transfer_write {{.+}} : vector<4xf32>, tensor<1x1x?x4xf32>
// CHECK:         tensor.extract_slice %[[GRADS]]#0[0, 0, 0, 0] [%{{.+}}, 2, %{{.+}}, 4]
// CHECK:         %[[DKT:.+]] = linalg.transpose ins(%[[GRADS]]#1 : tensor<?x2x?x4x32xf32>) outs(%{{.+}} : tensor<?x2x?x32x4xf32>)
// CHECK:         %[[DK:.+]] = tensor.collapse_shape %[[DKT]] {{\[\[}}0], [1], [2, 3], [4]]
// CHECK:         tensor.extract_slice %[[DK]][0, 0, 0, 0] [%{{.+}}, 2, %{{.+}}, 4]
// CHECK:         linalg.transpose ins(%[[GRADS]]#2 : tensor<?x2x?x20x32xf32>)
// CHECK-NOT:     convseq.dot_product_attention_grad
func.func @grad(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>, %v: tensor<?x2x?x20xf32>, %do: tensor<?x2x?x20xf32>, %s: i64, %t: i64)
    -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x20xf32>) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do rng(%s, %t) {causal, dropout = 0.1 : f64}
      : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x20xf32>, tensor<?x2x?x20xf32>, i64, i64)
      -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x20xf32>)
  return %dq, %dk, %dv : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x20xf32>
}

// Given the forward's output O (as the VJP passes it), the row pass walks
// the keys for L alone: its loop carries only each row's maximum and sum
// (no value accumulators), reads no V and draws no dropout mask, and D =
// dO . O reads the zero-padded O.
// CHECK-LABEL: func.func @grad_output(
// CHECK-SAME:    %[[V:[^:]+]]: tensor<?x2x?x20xf32>, %[[DO:[^:]+]]: tensor<?x2x?x20xf32>, %[[O:[^:]+]]: tensor<?x2x?x20xf32>
// CHECK:         %[[OP:.+]] = tensor.insert_slice %[[O]] into
// CHECK:         scf.forall ({{.+}}) -> (tensor<?x2x?xf32>, tensor<?x2x?xf32>)
// CHECK:           scf.for {{.+}} -> (f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK-NOT:         arith.mului_extended
// CHECK-NOT:         vector.transfer_read %[[V]]
// CHECK:             scf.yield {{.+}} : f32, f32, f32, f32, f32, f32, f32, f32
// CHECK-COUNT-4:   math.log
// CHECK:           vector.transfer_read %[[OP]]
// CHECK:         scf.forall
func.func @grad_output(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>, %v: tensor<?x2x?x20xf32>, %do: tensor<?x2x?x20xf32>, %o: tensor<?x2x?x20xf32>, %s: i64, %t: i64)
    -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x20xf32>) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do output %o rng(%s, %t) {causal, dropout = 0.1 : f64}
      : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x20xf32>, tensor<?x2x?x20xf32>, tensor<?x2x?x20xf32>, i64, i64)
      -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x20xf32>)
  return %dq, %dk, %dv : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x20xf32>
}

// The gradient of a decoder step's few queries, or of heads too long to
// unroll, keeps the reference lowering.
// CHECK-LABEL: func.func @grad_kept(
// CHECK-COUNT-2: convseq.dot_product_attention_grad
// CHECK-NOT:     scf.forall
func.func @grad_kept(%q1: tensor<2x2x1x4xf32>, %k: tensor<2x2x?x4xf32>, %q: tensor<2x2x?x4xf32>,
                     %wide: tensor<2x2x?x512xf32>)
    -> (tensor<2x2x1x4xf32>, tensor<2x2x?x512xf32>) {
  %dq1, %dk1, %dv1 = convseq.dot_product_attention_grad %q1, %k, %k, %q1
      : (tensor<2x2x1x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x1x4xf32>)
      -> (tensor<2x2x1x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>)
  %dq2, %dk2, %dv2 = convseq.dot_product_attention_grad %q, %k, %wide, %wide
      : (tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x512xf32>, tensor<2x2x?x512xf32>)
      -> (tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x512xf32>)
  return %dq1, %dv2 : tensor<2x2x1x4xf32>, tensor<2x2x?x512xf32>
}
