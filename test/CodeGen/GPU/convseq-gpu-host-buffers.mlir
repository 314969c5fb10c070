// RUN: convseq-opt %s --convseq-gpu-host-buffers | FileCheck %s

// The host's allocations become device allocations; a constant global is
// copied into a device buffer, freed before the return. Kernels read only
// device memory.

// CHECK-LABEL: func.func @buffers(
// CHECK-SAME:    %[[N:[^:]+]]: index
// CHECK:         %[[TMP:.+]] = gpu.alloc (%[[N]]) : memref<?xf32>
// CHECK:         %[[HOST:.+]] = memref.get_global @eps : memref<f64>
// CHECK:         %[[EPS:.+]] = gpu.alloc () : memref<f64>
// CHECK:         gpu.memcpy %[[EPS]], %[[HOST]] : memref<f64>, memref<f64>
// CHECK:         gpu.launch
// CHECK:           memref.load %[[EPS]][]
// CHECK:           memref.store %{{.+}}, %[[TMP]]
// CHECK:         gpu.dealloc %[[TMP]] : memref<?xf32>
// CHECK:         gpu.dealloc %[[EPS]] : memref<f64>
// CHECK-NEXT:    return
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     memref.dealloc
memref.global "private" constant @eps : memref<f64> = dense<1.0e-3>

func.func @buffers(%n: index, %out: memref<?xf32>) {
  %c1 = arith.constant 1 : index
  %tmp = memref.alloc(%n) {alignment = 64 : i64} : memref<?xf32>
  %eps = memref.get_global @eps : memref<f64>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %e = memref.load %eps[] : memref<f64>
    %f = arith.truncf %e : f64 to f32
    memref.store %f, %tmp[%tx] : memref<?xf32>
    %v = memref.load %tmp[%tx] : memref<?xf32>
    memref.store %v, %out[%tx] : memref<?xf32>
    gpu.terminator
  }
  memref.dealloc %tmp : memref<?xf32>
  return
}
