// RUN: convseq-opt %s --convseq-gpu-host-buffers --split-input-file --verify-diagnostics

// The host would dereference a device pointer: a compile-time error, not a
// crash on the GPU machine.
func.func @host_load(%a: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{the host of a GPU program cannot run 'memref.load': it reads or writes a buffer in device memory}}
  %x = memref.load %a[%c0] : memref<?xf32>
  return %x : f32
}

// -----

#id = affine_map<(d0) -> (d0)>
func.func @host_linalg(%a: memref<?xf32>) {
  %x = arith.constant 1.0 : f32
  // expected-error @+1 {{the host of a GPU program cannot run 'linalg.fill'}}
  linalg.fill ins(%x : f32) outs(%a : memref<?xf32>)
  return
}

// -----

// A global the program writes is state the device cannot share.
memref.global "private" @state : memref<4xf32> = dense<0.0>
func.func @mutable_global() {
  // expected-error @+1 {{cannot copy the non-constant global @state to the device}}
  %g = memref.get_global @state : memref<4xf32>
  return
}
