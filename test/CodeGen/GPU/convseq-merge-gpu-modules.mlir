// RUN: convseq-opt %s --convseq-merge-gpu-modules | FileCheck %s

// The kernels of gpu-kernel-outlining, one module each and all named after
// their function, become one module; a kernel identical to an earlier one
// but for its name is dropped and its launches go to the earlier one.

// CHECK:       gpu.module @kernels {
// CHECK-NEXT:    gpu.func @step_kernel(
// CHECK:           arith.constant 1.0
// CHECK:         gpu.func @step_kernel_1(
// CHECK:           arith.constant 2.0
// CHECK-NOT:     gpu.func
// CHECK-NOT:   gpu.module
// CHECK-LABEL: func.func @step(
// CHECK:         gpu.launch_func @kernels::@step_kernel blocks
// CHECK-NEXT:    gpu.launch_func @kernels::@step_kernel blocks
// CHECK-NEXT:    gpu.launch_func @kernels::@step_kernel_1 blocks
module attributes {gpu.container_module} {
  gpu.module @step_kernel {
    gpu.func @step_kernel(%a: memref<?xf32>) kernel {
      %c0 = arith.constant 0 : index
      %x = arith.constant 1.0 : f32
      memref.store %x, %a[%c0] : memref<?xf32>
      gpu.return
    }
  }
  gpu.module @step_kernel_0 {
    gpu.func @step_kernel(%a: memref<?xf32>) kernel {
      %c0 = arith.constant 0 : index
      %x = arith.constant 1.0 : f32
      memref.store %x, %a[%c0] : memref<?xf32>
      gpu.return
    }
  }
  gpu.module @step_kernel_1 {
    gpu.func @step_kernel(%a: memref<?xf32>) kernel {
      %c0 = arith.constant 0 : index
      %x = arith.constant 2.0 : f32
      memref.store %x, %a[%c0] : memref<?xf32>
      gpu.return
    }
  }
  func.func @step(%a: memref<?xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @step_kernel::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>)
    gpu.launch_func @step_kernel_0::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>)
    gpu.launch_func @step_kernel_1::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<?xf32>)
    return
  }
}
