// RUN: convseq-opt %s --split-input-file --verify-diagnostics \
// RUN:   --convseq-map-gpu-block-loops

func.func @different_thread_counts(%n: index, %x: memref<64xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%b) = (%c0) to (%n) step (%c1) {
    scf.parallel (%t) = (%c0) to (%c32) step (%c1) {
      memref.store %v, %x[%t] : memref<64xf32>
      scf.reduce
    } {convseq.gpu_thread_loop}
    // expected-error @+1 {{a parallel loop in a block loop must be a thread loop from 0 by 1 to the same constant as the others}}
    scf.parallel (%t) = (%c0) to (%c64) step (%c1) {
      memref.store %v, %x[%t] : memref<64xf32>
      scf.reduce
    } {convseq.gpu_thread_loop}
    scf.reduce
  } {convseq.gpu_block_loop}
  return
}

// -----

func.func @store_in_every_thread(%n: index, %x: memref<64xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%b) = (%c0) to (%n) step (%c1) {
    // expected-error @+1 {{runs in every thread of a block: it must not write, allocate or free memory outside a thread loop}}
    memref.store %v, %x[%c0] : memref<64xf32>
    scf.parallel (%t) = (%c0) to (%c32) step (%c1) {
      memref.store %v, %x[%t] : memref<64xf32>
      scf.reduce
    } {convseq.gpu_thread_loop}
    scf.reduce
  } {convseq.gpu_block_loop}
  return
}

// -----

func.func @private_at_another_index(%n: index, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%b) = (%c0) to (%n) step (%c1) {
    %acc = memref.alloc() {convseq.gpu_memory = "private"} : memref<32x4xf32>
    scf.parallel (%t) = (%c0) to (%c32) step (%c1) {
      // expected-error @+1 {{a private buffer must be loaded and stored at the index of the enclosing thread loop}}
      memref.store %v, %acc[%c0, %c0] : memref<32x4xf32>
      scf.reduce
    } {convseq.gpu_thread_loop}
    memref.dealloc %acc : memref<32x4xf32>
    scf.reduce
  } {convseq.gpu_block_loop}
  return
}

// -----

func.func @private_not_per_thread(%n: index, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%b) = (%c0) to (%n) step (%c1) {
    // expected-error @+1 {{a private buffer's leading dimension must be the threads of the block}}
    %acc = memref.alloc() {convseq.gpu_memory = "private"} : memref<16x4xf32>
    scf.parallel (%t) = (%c0) to (%c32) step (%c1) {
      scf.reduce
    } {convseq.gpu_thread_loop}
    memref.dealloc %acc : memref<16x4xf32>
    scf.reduce
  } {convseq.gpu_block_loop}
  return
}

// -----

func.func @buffer_not_freed(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  scf.parallel (%b) = (%c0) to (%n) step (%c1) {
    // expected-error @+1 {{a buffer of a block loop must have a static shape, be workgroup or private memory, and be allocated and freed once in the block loop's body}}
    %tile = memref.alloc() {convseq.gpu_memory = "workgroup"} : memref<32xf32>
    scf.parallel (%t) = (%c0) to (%c32) step (%c1) {
      scf.reduce
    } {convseq.gpu_thread_loop}
    scf.reduce
  } {convseq.gpu_block_loop}
  return
}

// -----

func.func @no_threads(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{a block loop needs a thread loop}}
  scf.parallel (%b) = (%c0) to (%n) step (%c1) {
    scf.reduce
  } {convseq.gpu_block_loop}
  return
}

// -----

func.func @two_dimensional(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{a block loop must have one dimension, from 0 by 1}}
  scf.parallel (%b, %c) = (%c0, %c0) to (%n, %n) step (%c1, %c1) {
    scf.reduce
  } {convseq.gpu_block_loop}
  return
}
