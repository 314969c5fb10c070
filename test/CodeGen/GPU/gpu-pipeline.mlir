// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(convseq-to-linalg,convseq-linalg-to-gpu)' | FileCheck %s
// RUN: convseq-opt %s -split-input-file --pass-pipeline='builtin.module(convseq-to-linalg,convseq-linalg-to-gpu,convseq-gpu-to-llvm{chip=sm_80 format=isa})' | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ convseq-opt %s -split-input-file --convseq-to-llvm-cuda | FileCheck %s --check-prefix=CUBIN %}
// RUN: %if ptxas %{ convseq-opt %s -split-input-file --convseq-to-llvm-cuda='chip=sm_80' | FileCheck %s --check-prefix=CUBIN80 %}

// A lightweight conv block through the GPU pipeline. The host allocates in
// device memory (each buffer just before its first kernel) and launches
// kernels in order on one stream (async tokens), the projections first: their
// outputs' zero fills are the accumulators' start, not kernels of their own;
// waiting once at the end; every kernel is a one-dimensional grid of
// 256-thread blocks. The projections are tiled: shared A and B slices,
// 4 x 4 accumulators per thread, barriers around the shared slices; the
// convolution stages 64 positions of 32 channels and their 6-row halo in
// shared memory, then each thread adds the taps in order into 8
// accumulators. The second projection applies the GLU gate to its
// accumulators with the first projection's output as it stores them (an
// epilogue): the gate has no kernel of its own and the second projection's
// output is never written.
// CHECK-LABEL: func.func @lightweight(
//   CHECK-NOT:   memref.alloc
//       CHECK:   %[[START:.+]] = gpu.wait async
//       CHECK:   %{{.+}}, %[[ALLOCATED:.+]] = gpu.alloc async [%[[START]]]
//       CHECK:   gpu.launch_func async [%[[ALLOCATED]]] @kernels::@lightweight_kernel blocks in (%{{.+}}, %c1, %c1) threads in (%c256, %c1, %c1)
//       CHECK:   gpu.alloc async [%{{.+}}]
//       CHECK:   gpu.launch_func async [%{{.+}}] @kernels::@lightweight_kernel_0 blocks
//   CHECK-NOT:   memref.load
//   CHECK-NOT:   linalg.
//       CHECK:   gpu.wait [%{{.+}}]
//  CHECK-NEXT:   return
//       CHECK: gpu.module @kernels {
//       CHECK:   gpu.func @lightweight_kernel({{.+}}) workgroup(%{{.+}} : memref<16x65xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<16x65xf32, #gpu.address_space<workgroup>>) private(%{{.+}} : memref<4x4xf32, #gpu.address_space<private>>) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
//       CHECK:     gpu.block_id x
//       CHECK:     gpu.thread_id x
//       CHECK:     scf.for
//       CHECK:       gpu.barrier
//       CHECK:       scf.for
//       CHECK:         arith.mulf
//       CHECK:         arith.addf
//       CHECK:       gpu.barrier
//       CHECK:   gpu.func @lightweight_kernel_0(%{{.+}}, %[[FIRST:[^:]+]]: memref<?x?x64xf32>, %[[GATED:[^:]+]]: memref<?x?x64xf32>) workgroup(
//       CHECK:     scf.if %{{[0-9]+}} {
//  CHECK-NEXT:       %[[ACC:.+]] = memref.load %{{.+}}[%c0, %c0] : memref<4x4xf32, #gpu.address_space<private>>
//  CHECK-NEXT:       %[[VALUE:.+]] = memref.load %[[FIRST]]
//  CHECK-NEXT:       %[[NEG:.+]] = arith.negf %[[ACC]]
//  CHECK-NEXT:       %[[EXP:.+]] = math.exp %[[NEG]]
//  CHECK-NEXT:       %[[DEN:.+]] = arith.addf %[[EXP]]
//  CHECK-NEXT:       %[[OUT:.+]] = arith.divf %[[VALUE]], %[[DEN]]
//  CHECK-NEXT:       memref.store %[[OUT]], %[[GATED]]
//       CHECK:   gpu.func @lightweight_kernel_9({{.+}}) workgroup(%[[ROWS:.+]] : memref<70x32xf32, #gpu.address_space<workgroup>>) private(%[[CONVACC:.+]] : memref<8xf32, #gpu.address_space<private>>) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
//       CHECK:     memref.store %{{.+}}, %[[ROWS]]
//       CHECK:     gpu.barrier
//       CHECK:     scf.for
//       CHECK:       memref.load %[[ROWS]]
//       CHECK:       memref.store %{{.+}}, %[[CONVACC]]
//   CHECK-NOT:     gpu.barrier
//       CHECK:   gpu.return
// The kernels as PTX for sm_80, reading global memory; the projection
// stages its slices in shared memory, between barriers.
//       PTX: gpu.binary @kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, {{.+}}assembly = "{{.*}}.target sm_80{{.*}}.visible .entry lightweight_kernel({{.*}}.shared .align 4 .b8 __wg_lightweight_kernel_0[4160]{{.*}}ld.global.b32{{.*}}st.shared.b32{{.*}}bar.sync{{.*}}ld.shared.b32
// And as a cubin from ptxas, for sm_90 by default.
//     CUBIN: gpu.binary @kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, {{.+}}bin = "\7FELF
//     CUBIN: llvm.func @convseq_lightweight(
//   CUBIN80: gpu.binary @kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, {{.+}}bin = "\7FELF
func.func @lightweight(%x: tensor<?x?x64xf32>, %wi: tensor<64x64xf32>, %wg: tensor<64x64xf32>,
                       %wc: tensor<4x7xf32>, %wo: tensor<64x64xf32>) -> tensor<?x?x64xf32> {
  %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo {heads = 4 : i64, kernel_size = 7 : i64}
    : (tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<4x7xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// Cross-attention: projections, per-head transposes, scores, softmax and
// weighted values are kernels; the softmax's row reductions run inside a
// thread per row.
// CHECK-LABEL: func.func @cross_attention(
//   CHECK-NOT:   memref.load
//       CHECK:   gpu.launch_func async
//       CHECK:   gpu.wait [%{{.+}}]
//  CHECK-NEXT:   return
//       CHECK: gpu.module @kernels {
//       CHECK:   math.exp
//       PTX: gpu.binary @kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, {{.+}}assembly = "{{.*}}.visible .entry cross_attention_kernel
//     CUBIN: gpu.binary @kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, {{.+}}bin = "\7FELF
//     CUBIN: llvm.func @convseq_cross_attention(
func.func @cross_attention(%q: tensor<?x?x64xf32>, %enc: tensor<?x?x64xf32>, %wq: tensor<64x64xf32>,
                           %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %wo: tensor<64x64xf32>)
    -> tensor<?x?x64xf32> {
  %y = convseq.attention %q, %enc, %wq, %wk, %wv, %wo {heads = 4 : i64}
    : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
       tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}
