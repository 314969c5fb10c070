// RUN: convseq-opt %s --convseq-merge-gpu-modules --split-input-file --verify-diagnostics

// Only what gpu-kernel-outlining makes: one kernel a module.
module attributes {gpu.container_module} {
  // expected-error @+1 {{cannot merge a gpu.module that is not one outlined kernel}}
  gpu.module @two {
    gpu.func @a() kernel { gpu.return }
    gpu.func @b() kernel { gpu.return }
  }
}

// -----

// Attached targets come after the merge.
module attributes {gpu.container_module} {
  // expected-error @+1 {{cannot merge a gpu.module with targets or an offloading handler; merge before attaching them}}
  gpu.module @k [#nvvm.target<chip = "sm_90">] {
    gpu.func @k() kernel { gpu.return }
  }
}

// -----

// expected-error @+1 {{a symbol named 'kernels' exists already}}
module attributes {gpu.container_module} {
  func.func private @kernels()
  gpu.module @k {
    gpu.func @k() kernel { gpu.return }
  }
}
