//===- Cuda.h - The CUDA driver layer of generated code ---------*- C++ -*-===//
//
// Host code compiled for NVIDIA GPUs (convseqc --target=cuda; MLIR's
// gpu-to-llvm lowering) loads its kernels and launches them through the
// `mgpu*` functions below, which the runtime defines on top of the CUDA
// driver API. The driver is opened with dlopen at first use, so the runtime
// builds without CUDA headers and every executable starts, and runs `info`
// or `--help`, on a machine without the driver or a GPU.
//
// The process uses one device (device 0 unless mgpuSetDefaultDevice named
// another before first use) through its primary context, which every call
// makes current on the calling thread. A CUDA error inside generated code
// has no way back to it: the wrapper prints one line to stderr and exits
// with kFatalExitCode.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_CUDA_H
#define CONVSEQ_RUNTIME_CUDA_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace convseq::runtime::cuda {

/// The exit status of a process stopped by a CUDA error in generated code,
/// or by generated code running without a device (EX_SOFTWARE of
/// sysexits.h).
inline constexpr int kFatalExitCode = 70;

/// Whether the GPU can be used. The first call (from any thread, or from
/// the kernels' loading at start-up) loads libcuda.so.1, initializes the
/// driver and makes the device's primary context current; the answer is
/// remembered. An error says what is missing: it starts with "no CUDA
/// device" (no driver, no device) or "CUDA error in <function>".
absl::Status available();

/// OK unless a GPU module of the executable failed to load at start-up on
/// an available device (kernels built for another architecture, PTX newer
/// than the driver); that error is kept for the first call to report.
absl::Status kernelsLoaded();

/// `bytes` (at least 1) of device memory, not initialized.
absl::StatusOr<void *> allocate(size_t bytes);
/// Frees what allocate() returned; null is ignored, and so are errors (a
/// failing device reports them in the next call that checks).
void release(void *device);
/// Synchronous copies between host memory and allocate()'s memory.
absl::Status copyToDevice(void *device, const void *host, size_t bytes);
absl::Status copyToHost(void *host, const void *device, size_t bytes);
/// Waits for all work on the device, whatever its stream.
absl::Status synchronize();

/// "NVIDIA A100-SXM4-80GB (sm_80)", or available()'s message if there is no
/// device.
std::string deviceDescription();

} // namespace convseq::runtime::cuda

// The functions generated host code calls (MLIR 22's gpu-to-llvm and the
// module embedding of gpu-module-to-binary). Handles are the driver's
// CUmodule, CUfunction, CUstream and CUevent; device pointers are the
// driver's CUdeviceptr (unified addressing: usable as host addresses in
// mgpuMemcpy).
extern "C" {
/// Loads a cubin; called from a global constructor. Without a device, or if
/// loading fails, returns null without printing anything (see
/// kernelsLoaded()).
void *mgpuModuleLoad(void *data, size_t gpuBlobSize);
/// Loads PTX text, compiled by the driver at `optLevel`; as mgpuModuleLoad.
void *mgpuModuleLoadJIT(void *data, int optLevel, size_t assemblySize);
/// Unloads a module; null is ignored, and so are errors (this runs from a
/// global destructor, possibly after a fatal error).
void mgpuModuleUnload(void *module);
/// The kernel `name` of `module`; null if `module` is null.
void *mgpuModuleGetFunction(void *module, const char *name);
/// Launches `function` (null: exits, reporting why no module was loaded).
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate();
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate();
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);
/// Managed memory if `isHostShared`, else device memory ordered on `stream`
/// (allocated at once if `stream` is null). Null for 0 bytes.
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
/// Frees what mgpuMemAlloc returned, ordered on `stream`; null is ignored.
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);
/// Chooses the device before first use; naming another device once the
/// layer runs on one is a fatal error.
void mgpuSetDefaultDevice(int32_t device);
}

#endif // CONVSEQ_RUNTIME_CUDA_H
