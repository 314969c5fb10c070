// RUN: convseq-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(convseq-tile-gpu-attention{rows=32 keys=4}),canonicalize,cse)' \
// RUN:   | FileCheck %s
// RUN: convseq-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(convseq-tile-gpu-attention{rows=64 keys=4 max-head-size=512}))' \
// RUN:   | FileCheck %s --check-prefix=WIDE

// Masked attention: the kernel reads the operands with tensor.extract and
// writes a fresh buffer, the result. A block per (batch, head, 32 query
// rows), 32 threads: the query row, the F = 6 weighted values and the
// running maximum and sum are private; 4 keys, their values and their
// biases are staged in shared memory at a time. No [B, H, T, S] buffer or
// tensor exists.
// CHECK-LABEL: func.func @masked(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<?x2x?x5xf32>, %[[K:[^:]+]]: tensor<?x2x?x5xf32>, %[[V:[^:]+]]: tensor<?x2x?x6xf32>, %[[M:[^:]+]]: tensor<?x?xi1>
// CHECK-NOT:     x?x?xf32
// CHECK-DAG:     %[[B:.+]] = tensor.dim %[[Q]], %c0
// CHECK-DAG:     %[[T:.+]] = tensor.dim %[[Q]], %c2
// CHECK-DAG:     %[[S:.+]] = tensor.dim %[[K]], %c2
// CHECK:         %[[OUT:.+]] = memref.alloc(%[[B]], %[[T]]) : memref<?x2x?x6xf32>
// CHECK:         %[[TILES:.+]] = arith.ceildivui %[[T]], %c32
// CHECK:         %[[BH:.+]] = arith.muli %[[B]], %c2
// CHECK:         %[[BLOCKS:.+]] = arith.muli %[[BH]], %[[TILES]]
// CHECK:         scf.parallel (%[[BLOCK:.+]]) = (%c0) to (%[[BLOCKS]]) step (%c1) {
// CHECK:           %[[POS:.+]]:3 = affine.delinearize_index %[[BLOCK]] into (%[[B]], 2, %[[TILES]])
// CHECK:           %[[FIRST:.+]] = arith.muli %[[POS]]#2, %c32
// CHECK-DAG:       %[[KT:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<4x5xf32>
// CHECK-DAG:       %[[VT:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<4x6xf32>
// CHECK-DAG:       %[[BT:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<4xf32>
// CHECK-DAG:       %[[QR:.+]] = memref.alloc() {convseq.gpu_memory = "private"} : memref<32x5xf32>
// CHECK-DAG:       %[[ACC:.+]] = memref.alloc() {convseq.gpu_memory = "private"} : memref<32x6xf32>
// CHECK-DAG:       %[[ST:.+]] = memref.alloc() {convseq.gpu_memory = "private"} : memref<32x2xf32>
// The query into registers, the weighted values zero, the maximum -inf.
// CHECK:           scf.parallel (%[[TQ:.+]]) = (%c0) to (%c32) step (%c1) {
// CHECK:             %[[ROW:.+]] = arith.addi %[[FIRST]], %[[TQ]]
// CHECK:             tensor.extract %[[Q]][%[[POS]]#0, %[[POS]]#1, %[[ROW]], %c4]
// CHECK:             memref.store %{{.+}}, %[[QR]][%[[TQ]], %c4]
// CHECK:             memref.store %{{.+}}, %[[ACC]][%[[TQ]], %c5]
// CHECK:             memref.store %[[NEG_INF:.+]], %[[ST]][%[[TQ]], %c0]
// CHECK:           } {convseq.gpu_thread_loop}
// Four keys at a time: stage, then fold.
// CHECK:           scf.for %[[KEY:.+]] = %c0 to %[[S]] step %c4 {
// CHECK:             scf.parallel (%[[TS:.+]]) = (%c0) to (%c32) step (%c1) {
// CHECK:               affine.delinearize_index %[[TS]] into (4, 5)
// CHECK:               tensor.extract %[[K]]
// CHECK:               memref.store %{{.+}}, %[[KT]]
// CHECK:               affine.delinearize_index %[[TS]] into (4, 6)
// CHECK:               tensor.extract %[[V]]
// CHECK:               memref.store %{{.+}}, %[[VT]]
// CHECK:               tensor.extract %[[M]]
// CHECK:               arith.select %{{.+}}, %{{.+}}, %[[NEG_INF]]
// CHECK:               memref.store %{{.+}}, %[[BT]]
// CHECK:             } {convseq.gpu_thread_loop}
// CHECK:             scf.parallel (%[[TF:.+]]) = (%c0) to (%c32) step (%c1) {
// CHECK-COUNT-5:       memref.load %[[QR]][%[[TF]], %{{.+}}]
// CHECK:               memref.load %[[KT]][%c0, %c0]
// CHECK:               arith.mulf
// CHECK-COUNT-4:       math.fma
// CHECK:               memref.load %[[BT]][%c0]
// CHECK:               math.fma %{{.+}}, %cst{{.*}}, %{{.+}}
// CHECK:               memref.load %[[BT]][%c3]
// CHECK-COUNT-3:       arith.maximumf
// CHECK:               %[[OLD:.+]] = memref.load %[[ST]][%[[TF]], %c0]
// CHECK:               %[[MAX:.+]] = arith.maximumf %[[OLD]],
// CHECK:               %[[MASKED:.+]] = arith.cmpf oeq, %[[MAX]], %[[NEG_INF]]
// CHECK:               %[[OFFSET:.+]] = arith.select %[[MASKED]], %{{.+}}, %[[MAX]]
// CHECK:               %[[DIFF:.+]] = arith.subf %[[OLD]], %[[OFFSET]]
// CHECK:               %[[FACTOR:.+]] = math.exp %[[DIFF]]
// CHECK-COUNT-4:       math.exp
// CHECK:               memref.store %[[MAX]], %[[ST]][%[[TF]], %c0]
// CHECK:               memref.store %{{.+}}, %[[ST]][%[[TF]], %c1]
// CHECK:               %[[A0:.+]] = memref.load %[[ACC]][%[[TF]], %c0]
// CHECK:               arith.mulf %[[A0]], %[[FACTOR]]
// CHECK-COUNT-4:       math.fma
// CHECK:               memref.store %{{.+}}, %[[ACC]][%[[TF]], %c0]
// CHECK:             } {convseq.gpu_thread_loop}
// CHECK:           }
// Normalized into the rows that exist.
// CHECK:           scf.parallel (%[[TW:.+]]) = (%c0) to (%c32) step (%c1) {
// CHECK:             scf.if
// CHECK:               arith.divf
// CHECK:               memref.store %{{.+}}, %[[OUT]][%[[POS]]#0, %[[POS]]#1, %{{.+}}, %c5]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:         } {convseq.gpu_block_loop}
// CHECK:         %[[R:.+]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<?x2x?x6xf32> to tensor<?x2x?x6xf32>
// CHECK:         return %[[R]]
func.func @masked(%q: tensor<?x2x?x5xf32>, %k: tensor<?x2x?x5xf32>,
                  %v: tensor<?x2x?x6xf32>, %m: tensor<?x?xi1>)
    -> tensor<?x2x?x6xf32> {
  %o = convseq.dot_product_attention %q, %k, %v key_mask %m
      : (tensor<?x2x?x5xf32>, tensor<?x2x?x5xf32>, tensor<?x2x?x6xf32>,
         tensor<?x?xi1>) -> tensor<?x2x?x6xf32>
  return %o : tensor<?x2x?x6xf32>
}

// -----

// Causal: a block walks keys up to the one its last row sees, min(S,
// max(first row + S - T + 32, 0)), and each row masks the keys past
// row + S - T. Without a mask the bias is 0 or -inf past the keys.
// CHECK-LABEL: func.func @causal(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<1x4x48x8xf64>, %[[K:[^:]+]]: tensor<1x4x?x8xf64>
// CHECK-NOT:     tensor<1x4x48x?xf64>
// CHECK:         %[[S:.+]] = tensor.dim %[[K]], %c2
// CHECK:         scf.parallel
// CHECK:           %[[FIRST:.+]] = arith.muli %{{.+}}, %c32
// CHECK:           %[[SHIFT:.+]] = arith.subi %[[S]], %c48
// CHECK:           %[[LAST:.+]] = arith.addi %[[FIRST]], %[[SHIFT]]
// CHECK:           %[[END0:.+]] = arith.addi %[[LAST]], %c32
// CHECK:           %[[END1:.+]] = arith.maxsi %[[END0]], %c0
// CHECK:           %[[END:.+]] = arith.minsi %[[S]], %[[END1]]
// CHECK:           scf.for %[[KEY:.+]] = %c0 to %[[END]] step %c4 {
// CHECK:             scf.parallel (%[[TF:.+]]) =
// CHECK:               %[[ROW:.+]] = arith.addi %[[FIRST]], %[[TF]]
// CHECK:               %[[LIMIT:.+]] = arith.addi %[[ROW]], %[[SHIFT]]
// CHECK:               %[[VISIBLE:.+]] = arith.cmpi sle, %[[KEY]], %[[LIMIT]]
// CHECK:               arith.select %[[VISIBLE]]
// CHECK:         } {convseq.gpu_block_loop}
// CHECK:         bufferization.to_tensor %{{.+}} restrict writable : memref<1x4x48x8xf64> to tensor<1x4x48x8xf64>
func.func @causal(%q: tensor<1x4x48x8xf64>, %k: tensor<1x4x?x8xf64>,
                  %v: tensor<1x4x?x8xf64>) -> tensor<1x4x48x8xf64> {
  %o = convseq.dot_product_attention %q, %k, %v {causal}
      : (tensor<1x4x48x8xf64>, tensor<1x4x?x8xf64>, tensor<1x4x?x8xf64>)
      -> tensor<1x4x48x8xf64>
  return %o : tensor<1x4x48x8xf64>
}

// -----

// Dropout draws the reference lowering's mask in the kernel: per staged
// tile, thread g * 4 + j of the staging loop runs the Philox evaluation of
// key j for rows 4 g to 4 g + 3 (ten rounds of two 32 x 32 -> 64-bit
// products; the first round's product of the constant stream word folds
// away), keyed by the seed's two words, counter (key, group of four rows,
// stream 3, step), and stores its four keep decisions in shared memory;
// each row then reads its own. The kept probabilities weight the values,
// all of them count in the sum, and the result is scaled by 1 / (1 - 0.25).
// CHECK-LABEL: func.func @dropout(
// CHECK-SAME:    %[[SEED:[^:]+]]: i64, %[[STEP:[^:]+]]: i64
// CHECK-DAG:     %[[THRESHOLD:.+]] = arith.constant 1073741824 : i32
// CHECK-DAG:     %[[KEEP_SCALE:.+]] = arith.constant 1.33333
// CHECK:         arith.trunci %[[SEED]] : i64 to i32
// CHECK:         arith.trunci %[[STEP]] : i64 to i32
// CHECK:         scf.parallel
// CHECK:           %[[KEEPS:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<32x4xi8>
// CHECK:           scf.for
// CHECK:             scf.parallel (%[[T:.+]]) =
// CHECK:               %[[SPLIT:.+]]:2 = affine.delinearize_index %[[T]] into (8, 4)
// CHECK:               %[[KEY:.+]] = arith.index_castui %{{.+}} : index to i32
// CHECK:               arith.index_castui %{{.+}} : index to i32
// CHECK:               arith.mului_extended %[[KEY]], %{{.+}} : i32
// CHECK-COUNT-18:      arith.mului_extended
// CHECK:               arith.cmpi uge, %{{.+}}, %[[THRESHOLD]] : i32
// CHECK-COUNT-4:       memref.store %{{.+}}, %[[KEEPS]][%{{.+}}, %[[SPLIT]]#1]
// CHECK:             } {convseq.gpu_thread_loop}
// CHECK:             scf.parallel (%[[ROW:.+]]) =
// CHECK-NOT:           arith.mului_extended
// CHECK:               math.exp
// CHECK-NOT:           arith.mului_extended
// CHECK-COUNT-4:       memref.load %[[KEEPS]][%[[ROW]], %{{.+}}] : memref<32x4xi8>
// CHECK-NOT:           arith.mului_extended
// CHECK:             } {convseq.gpu_thread_loop}
// CHECK:           arith.divf %[[KEEP_SCALE]]
// CHECK:         } {convseq.gpu_block_loop}
func.func @dropout(%q: tensor<2x2x?x4xf32>, %k: tensor<2x2x?x4xf32>,
                   %v: tensor<2x2x?x4xf32>, %seed: i64, %step: i64)
    -> tensor<2x2x?x4xf32> {
  %o = convseq.dot_product_attention %q, %k, %v rng(%seed, %step) {dropout = 0.25 : f64, stream = 3 : i64}
      : (tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, i64, i64)
      -> tensor<2x2x?x4xf32>
  return %o : tensor<2x2x?x4xf32>
}

// -----

// Kept for the reference lowering: a decoder step's static query count
// below min-rows, a head longer than max-head-size, a dynamic head size.
// CHECK-LABEL: func.func @kept(
// CHECK-NOT:     scf.parallel
// CHECK-COUNT-3: convseq.dot_product_attention
// CHECK-NOT:     scf.parallel
func.func @kept(%q: tensor<2x2x?x4xf32>, %k: tensor<2x2x?x4xf32>,
                %v: tensor<2x2x?x4xf32>,
                %q1: tensor<2x2x1x4xf32>, %qw: tensor<2x2x?x160xf32>,
                %kw: tensor<2x2x?x160xf32>, %qd: tensor<2x2x?x?xf32>,
                %kd: tensor<2x2x?x?xf32>)
    -> (tensor<2x2x1x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>) {
  %1 = convseq.dot_product_attention %q1, %k, %v {causal}
      : (tensor<2x2x1x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>)
      -> tensor<2x2x1x4xf32>
  %2 = convseq.dot_product_attention %qw, %kw, %v
      : (tensor<2x2x?x160xf32>, tensor<2x2x?x160xf32>, tensor<2x2x?x4xf32>)
      -> tensor<2x2x?x4xf32>
  %3 = convseq.dot_product_attention %qd, %kd, %v {scale = 0.5 : f64}
      : (tensor<2x2x?x?xf32>, tensor<2x2x?x?xf32>, tensor<2x2x?x4xf32>)
      -> tensor<2x2x?x4xf32>
  return %1, %2, %3 : tensor<2x2x1x4xf32>, tensor<2x2x?x4xf32>,
      tensor<2x2x?x4xf32>
}

// -----

// The gradient: two kernels, which pass each row's L and D through two
// [B, H, T] buffers. The query gradient's row kernel (a block per 32 rows)
// walks the keys twice: the forward's online softmax gives L = max +
// log(sum) and D = dO . O; the second walk adds dS K, a key at a time (a
// loop), to dQ, which accumulates in the thread's own shared row (padded
// by one).
// The key gradient's kernel (a block per 32 keys, a thread per key) stages
// the block's keys and values coalesced into the shared rows (padded) where
// dK and dV then accumulate, each thread taking its own key and value into
// registers; it walks 4 query rows a tile (a row at a time, a loop), staged
// with their dO, L and D, from the tile of the first row that sees its
// first key (causal).
// CHECK-LABEL: func.func @grad(
// CHECK-SAME:    %[[Q:[^:]+]]: tensor<2x2x?x4xf32>, %[[K:[^:]+]]: tensor<2x2x?x4xf32>, %[[V:[^:]+]]: tensor<2x2x?x6xf32>, %[[DO:[^:]+]]: tensor<2x2x?x6xf32>, %[[M:[^:]+]]: tensor<2x?xi1>
// CHECK-NOT:     x?x?xf32
// CHECK-DAG:     %[[T:.+]] = tensor.dim %[[Q]], %c2
// CHECK-DAG:     %[[S:.+]] = tensor.dim %[[K]], %c2
// CHECK-DAG:     %[[DQ:.+]] = memref.alloc(%[[T]]) : memref<2x2x?x4xf32>
// CHECK-DAG:     %[[DK:.+]] = memref.alloc(%{{.+}}) : memref<2x2x?x4xf32>
// CHECK-DAG:     %[[DV:.+]] = memref.alloc(%{{.+}}) : memref<2x2x?x6xf32>
// CHECK:         %[[LSE:.+]] = memref.alloc(%[[T]]) : memref<2x2x?xf32>
// CHECK:         %[[DELTA:.+]] = memref.alloc(%[[T]]) : memref<2x2x?xf32>
// CHECK:         scf.parallel
// CHECK:           memref.alloc() {convseq.gpu_memory = "private"} : memref<32x4xf32>
// CHECK:           memref.alloc() {convseq.gpu_memory = "private"} : memref<32x6xf32>
// CHECK:           memref.alloc() {convseq.gpu_memory = "private"} : memref<32x2xf32>
// CHECK:           %[[DOR:.+]] = memref.alloc() {convseq.gpu_memory = "private"} : memref<32x6xf32>
// CHECK:           %[[DQS:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<32x5xf32>
// CHECK:           tensor.extract %[[DO]]
// CHECK:           scf.for
// CHECK:             math.exp
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           math.log
// CHECK:           scf.for
// CHECK:             scf.parallel (%[[TQ:.+]]) =
// CHECK:               memref.load %[[DOR]]
// CHECK:               scf.for %{{.+}} = %c0 to %c4 step %c1 {
// CHECK:                 math.exp
// CHECK:                 %[[G:.+]] = memref.load %[[DQS]][%[[TQ]], %c0]
// CHECK:                 %[[G1:.+]] = math.fma %{{.+}}, %{{.+}}, %[[G]]
// CHECK:                 memref.store %[[G1]], %[[DQS]][%[[TQ]], %c0]
// CHECK-NOT:             math.exp
// CHECK:             } {convseq.gpu_thread_loop}
// CHECK:           memref.load %[[DQS]]
// CHECK:           memref.store %{{.+}}, %[[DQ]]
// CHECK:           memref.store %{{.+}}, %[[LSE]]
// CHECK:           memref.store %{{.+}}, %[[DELTA]]
// CHECK:         } {convseq.gpu_block_loop}
// CHECK:         %[[KEY_TILES:.+]] = arith.ceildivui %[[S]], %c32
// CHECK:         scf.parallel
// CHECK:           %[[POS:.+]]:3 = affine.delinearize_index %{{.+}} into (2, 2, %[[KEY_TILES]])
// CHECK:           %[[FIRST_KEY:.+]] = arith.muli %[[POS]]#2, %c32
// CHECK-DAG:       %[[DKS:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<32x5xf32>
// CHECK-DAG:       %[[DVS:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<32x7xf32>
// CHECK-DAG:       %[[QT:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<4x4xf32>
// CHECK-DAG:       %[[DOT:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<4x6xf32>
// CHECK-DAG:       %[[STATS:.+]] = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<4x2xf32>
// CHECK-DAG:       %[[OWN_K:.+]] = memref.alloc() {convseq.gpu_memory = "private"} : memref<32x4xf32>
// CHECK-DAG:       %[[OWN_V:.+]] = memref.alloc() {convseq.gpu_memory = "private"} : memref<32x6xf32>
// CHECK:           tensor.extract %[[K]]
// CHECK:           memref.store %{{.+}}, %[[DKS]]
// CHECK:           tensor.extract %[[V]]
// CHECK:           memref.store %{{.+}}, %[[DVS]]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           scf.parallel (%[[TO:.+]]) =
// CHECK:             %[[KE:.+]] = memref.load %[[DKS]][%[[TO]], %c0]
// CHECK:             memref.store %[[KE]], %[[OWN_K]][%[[TO]], %c0]
// CHECK:             memref.store %{{.+}}, %[[DKS]][%[[TO]], %c0]
// CHECK:             tensor.extract %[[M]]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           %[[SHIFT:.+]] = arith.subi %[[S]], %[[T]]
// CHECK:           %[[START:.+]] = arith.subi %[[FIRST_KEY]], %[[SHIFT]]
// CHECK:           %[[CLAMPED:.+]] = arith.maxsi %[[START]], %c0
// CHECK:           %[[TILE:.+]] = arith.divui %[[CLAMPED]], %c4
// CHECK:           %[[FIRST_ROW:.+]] = arith.muli %[[TILE]], %c4
// CHECK:           scf.for %{{.+}} = %[[FIRST_ROW]] to %[[T]] step %c4 {
// CHECK:             memref.load %[[LSE]]
// CHECK:             memref.load %[[DELTA]]
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           scf.parallel (%[[TK:.+]]) =
// CHECK:             memref.load %[[OWN_K]][%[[TK]], %c0]
// CHECK:             memref.load %[[OWN_V]][%[[TK]], %c0]
// CHECK:             scf.for %[[R:.+]] = %c0 to %c4 step %c1 {
// CHECK:               memref.load %[[STATS]][%[[R]], %c0]
// CHECK:               math.exp
// CHECK:               memref.store %{{.+}}, %[[DVS]][%[[TK]], %c0]
// CHECK:               memref.store %{{.+}}, %[[DKS]][%[[TK]], %c0]
// CHECK-NOT:           math.exp
// CHECK:           } {convseq.gpu_thread_loop}
// CHECK:           memref.store %{{.+}}, %[[DK]]
// CHECK:           memref.store %{{.+}}, %[[DV]]
// CHECK:         } {convseq.gpu_block_loop}
// CHECK:         bufferization.to_tensor %[[DQ]] restrict writable
// CHECK:         bufferization.to_tensor %[[DK]] restrict writable
// CHECK:         bufferization.to_tensor %[[DV]] restrict writable
func.func @grad(%q: tensor<2x2x?x4xf32>, %k: tensor<2x2x?x4xf32>,
                %v: tensor<2x2x?x6xf32>, %do: tensor<2x2x?x6xf32>,
                %m: tensor<2x?xi1>)
    -> (tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x6xf32>) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do key_mask %m {causal}
      : (tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x6xf32>,
         tensor<2x2x?x6xf32>, tensor<2x?xi1>)
      -> (tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x6xf32>)
  return %dq, %dk, %dv
      : tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x6xf32>
}

// -----

// The key kernel's shared memory bounds its keys a block: with heads of
// 100, 64 keys' padded rows (51,712 bytes) do not fit in 48 KiB, 32 do;
// with heads of 256, not even 32 do (65,792 bytes), and the gradient keeps
// the reference lowering (the forward op still becomes a kernel).
// WIDE-LABEL: func.func @wide_heads(
// WIDE:         scf.parallel
// WIDE:         } {convseq.gpu_block_loop}
// WIDE:         scf.parallel
// WIDE:           memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<32x101xf32>
// WIDE:         } {convseq.gpu_block_loop}
// WIDE-NOT:     convseq.dot_product_attention_grad
// WIDE-LABEL: func.func @widest_heads(
// WIDE:         convseq.dot_product_attention_grad
// WIDE-NOT:     convseq.dot_product_attention
// WIDE:         } {convseq.gpu_block_loop}
func.func @wide_heads(%q: tensor<1x1x?x100xf32>, %do: tensor<1x1x?x100xf32>)
    -> (tensor<1x1x?x100xf32>, tensor<1x1x?x100xf32>, tensor<1x1x?x100xf32>) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %q, %q, %do
      : (tensor<1x1x?x100xf32>, tensor<1x1x?x100xf32>, tensor<1x1x?x100xf32>,
         tensor<1x1x?x100xf32>)
      -> (tensor<1x1x?x100xf32>, tensor<1x1x?x100xf32>, tensor<1x1x?x100xf32>)
  return %dq, %dk, %dv
      : tensor<1x1x?x100xf32>, tensor<1x1x?x100xf32>, tensor<1x1x?x100xf32>
}
func.func @widest_heads(%q: tensor<1x1x?x256xf32>, %do: tensor<1x1x?x256xf32>)
    -> (tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>,
        tensor<1x1x?x256xf32>) {
  %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %q, %q, %do
      : (tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>,
         tensor<1x1x?x256xf32>)
      -> (tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>)
  %o = convseq.dot_product_attention %q, %q, %q
      : (tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>)
      -> tensor<1x1x?x256xf32>
  return %dq, %dk, %dv, %o
      : tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>, tensor<1x1x?x256xf32>,
        tensor<1x1x?x256xf32>
}
