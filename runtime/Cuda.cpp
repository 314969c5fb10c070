//===- Cuda.cpp - The CUDA driver layer of generated code -----------------===//
//
// The driver API is declared here, not included: the types are opaque
// handles and ints, the constants carry cuda.h's documented values, and the
// entry points come from dlsym under the names libcuda.so.1 exports (the
// `_v2` ones where cuda.h maps the API name to a newer version).
//
// Generated code may call the wrappers before main (the kernels' global
// constructors), so every piece of state below is either constant-
// initialized or created on first use, and the driver's state is never
// destroyed: the modules' global destructors may run after ours.
//
//===----------------------------------------------------------------------===//

#include "runtime/Cuda.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <type_traits>
#include <unordered_set>

namespace {

namespace cuda = convseq::runtime::cuda;

//===----------------------------------------------------------------------===//
// The driver API (cuda.h of CUDA 13)
//===----------------------------------------------------------------------===//

struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;
using CUevent = CUevent_st *;
using CUjit_option = int;
using CUdevice_attribute = int;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr CUresult CUDA_ERROR_STUB_LIBRARY = 34;
constexpr unsigned CU_STREAM_NON_BLOCKING = 0x1;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 0x2;
constexpr unsigned CU_MEM_ATTACH_GLOBAL = 0x1;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
constexpr CUjit_option CU_JIT_OPTIMIZATION_LEVEL = 7;
constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr CUdevice_attribute CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED = 115;

//===----------------------------------------------------------------------===//
// The driver and the device
//===----------------------------------------------------------------------===//

/// libcuda.so.1's entry points, the device and its primary context. The
/// members are named after the driver API; the comments give the exported
/// symbol where it differs.
struct Driver {
  CUresult (*cuInit)(unsigned int) = nullptr;
  CUresult (*cuGetErrorName)(CUresult, const char **) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char **) = nullptr;
  CUresult (*cuDeviceGetCount)(int *) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *, int) = nullptr;
  CUresult (*cuDeviceGetName)(char *, int, CUdevice) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int *, CUdevice_attribute,
                                   CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuModuleLoadData)(CUmodule *, const void *) = nullptr;
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned int,
                                 CUjit_option *, void **) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule,
                                  const char *) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction, unsigned int, unsigned int,
                             unsigned int, unsigned int, unsigned int,
                             unsigned int, unsigned int, CUstream, void **,
                             void **) = nullptr;
  CUresult (*cuStreamCreate)(CUstream *, unsigned int) = nullptr;
  CUresult (*cuStreamDestroy)(CUstream) = nullptr; // cuStreamDestroy_v2
  CUresult (*cuStreamSynchronize)(CUstream) = nullptr;
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned int) = nullptr;
  CUresult (*cuEventCreate)(CUevent *, unsigned int) = nullptr;
  CUresult (*cuEventDestroy)(CUevent) = nullptr; // cuEventDestroy_v2
  CUresult (*cuEventSynchronize)(CUevent) = nullptr;
  CUresult (*cuEventRecord)(CUevent, CUstream) = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t) = nullptr; // cuMemAlloc_v2
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned int) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr; // cuMemFree_v2
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t,
                            CUstream) = nullptr;
  // cuMemcpyHtoD_v2, cuMemcpyDtoH_v2.
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t) = nullptr;
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t) = nullptr;
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned int, size_t,
                               CUstream) = nullptr;
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t,
                               CUstream) = nullptr;
  // Stream-ordered allocation (CUDA 11.2); null in older drivers.
  CUresult (*cuMemAllocAsync)(CUdeviceptr *, size_t, CUstream) = nullptr;
  CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream) = nullptr;

  /// available()'s answer.
  absl::Status status;
  int ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  /// Whether mgpuMemAlloc may use cuMemAllocAsync.
  bool memoryPools = false;
  std::string description;

  std::mutex mutex;
  /// The first module that failed to load on the device.
  absl::Status loadError;
  /// mgpuMemAlloc's blocks that cuMemFreeAsync must not free: managed
  /// memory, and what cuMemAlloc returned.
  std::unordered_set<CUdeviceptr> synchronousBlocks;

  /// Loads the driver and makes `ordinal`'s primary context current.
  absl::Status start(int requested);
  /// "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)".
  std::string describe(CUresult result) const;
  /// "CUDA error in <function>: <describe(result)>".
  std::string errorText(const char *function, CUresult result) const {
    return absl::StrCat("CUDA error in ", function, ": ", describe(result));
  }
  absl::Status error(const char *function, CUresult result) const;
  /// Makes the context current on the calling thread.
  absl::Status makeCurrent() const;
};

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr;
  const char *text = nullptr;
  if (cuGetErrorName)
    cuGetErrorName(result, &name);
  if (cuGetErrorString)
    cuGetErrorString(result, &text);
  // The toolkit's stub libcuda (found before the driver, or without one)
  // cannot name its own error.
  if (!name && result == CUDA_ERROR_STUB_LIBRARY) {
    name = "CUDA_ERROR_STUB_LIBRARY";
    text = "the CUDA driver loaded is the toolkit's stub library, not the "
           "NVIDIA driver";
  }
  return absl::StrCat(name ? name : absl::StrCat("CUDA error code ", result),
                      " (", text ? text : "no description", ")");
}

absl::Status Driver::error(const char *function, CUresult result) const {
  std::string message = errorText(function, result);
  if (result == CUDA_ERROR_OUT_OF_MEMORY)
    return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

absl::Status Driver::makeCurrent() const {
  if (CUresult result = cuCtxSetCurrent(context))
    return error("cuCtxSetCurrent", result);
  return absl::OkStatus();
}

absl::Status Driver::start(int requested) {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    return absl::FailedPreconditionError(absl::StrCat(
        "no CUDA device: libcuda.so.1 cannot be loaded (",
        why ? why : "no reason given",
        "); this executable was compiled for NVIDIA GPUs (convseqc "
        "--target=cuda) and needs the NVIDIA driver and a GPU"));
  }
  const char *missing = nullptr;
  auto find = [&](const char *symbol, auto &entry) {
    entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(
        dlsym(library, symbol));
    if (!entry && !missing)
      missing = symbol;
  };
  find("cuInit", cuInit);
  find("cuGetErrorName", cuGetErrorName);
  find("cuGetErrorString", cuGetErrorString);
  find("cuDeviceGetCount", cuDeviceGetCount);
  find("cuDeviceGet", cuDeviceGet);
  find("cuDeviceGetName", cuDeviceGetName);
  find("cuDeviceGetAttribute", cuDeviceGetAttribute);
  find("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain);
  find("cuCtxSetCurrent", cuCtxSetCurrent);
  find("cuCtxSynchronize", cuCtxSynchronize);
  find("cuModuleLoadData", cuModuleLoadData);
  find("cuModuleLoadDataEx", cuModuleLoadDataEx);
  find("cuModuleUnload", cuModuleUnload);
  find("cuModuleGetFunction", cuModuleGetFunction);
  find("cuLaunchKernel", cuLaunchKernel);
  find("cuStreamCreate", cuStreamCreate);
  find("cuStreamDestroy_v2", cuStreamDestroy);
  find("cuStreamSynchronize", cuStreamSynchronize);
  find("cuStreamWaitEvent", cuStreamWaitEvent);
  find("cuEventCreate", cuEventCreate);
  find("cuEventDestroy_v2", cuEventDestroy);
  find("cuEventSynchronize", cuEventSynchronize);
  find("cuEventRecord", cuEventRecord);
  find("cuMemAlloc_v2", cuMemAlloc);
  find("cuMemAllocManaged", cuMemAllocManaged);
  find("cuMemFree_v2", cuMemFree);
  find("cuMemcpyAsync", cuMemcpyAsync);
  find("cuMemcpyHtoD_v2", cuMemcpyHtoD);
  find("cuMemcpyDtoH_v2", cuMemcpyDtoH);
  find("cuMemsetD32Async", cuMemsetD32Async);
  find("cuMemsetD16Async", cuMemsetD16Async);
  if (missing) {
    dlclose(library);
    return absl::FailedPreconditionError(
        absl::StrCat("no CUDA device: libcuda.so.1 has no ", missing,
                     "; the NVIDIA driver is too old for this executable"));
  }
  // Optional: drivers older than CUDA 11.2 allocate synchronously.
  find("cuMemAllocAsync", cuMemAllocAsync);
  find("cuMemFreeAsync", cuMemFreeAsync);

  auto failed = [&](const char *function, CUresult result) {
    return absl::FailedPreconditionError(errorText(function, result));
  };
  if (CUresult result = cuInit(0))
    return failed("cuInit", result);
  int count = 0;
  if (CUresult result = cuDeviceGetCount(&count))
    return failed("cuDeviceGetCount", result);
  if (count == 0)
    return absl::FailedPreconditionError(
        "no CUDA device: the driver reports 0 devices");
  if (requested < 0 || requested >= count)
    return absl::FailedPreconditionError(absl::StrCat(
        "no CUDA device: device ", requested,
        " was requested (mgpuSetDefaultDevice) and the driver reports ", count,
        count == 1 ? " device" : " devices"));
  ordinal = requested;
  if (CUresult result = cuDeviceGet(&device, ordinal))
    return failed("cuDeviceGet", result);
  char name[256] = {};
  if (CUresult result = cuDeviceGetName(name, sizeof(name) - 1, device))
    return failed("cuDeviceGetName", result);
  int major = 0, minor = 0;
  if (CUresult result = cuDeviceGetAttribute(
          &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device))
    return failed("cuDeviceGetAttribute", result);
  if (CUresult result = cuDeviceGetAttribute(
          &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device))
    return failed("cuDeviceGetAttribute", result);
  description = absl::StrCat(name, " (sm_", major, minor, ")");
  // A driver that does not know the attribute has no memory pools either.
  int pools = 0;
  if (cuDeviceGetAttribute(&pools, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED,
                           device) != CUDA_SUCCESS)
    pools = 0;
  memoryPools = pools != 0 && cuMemAllocAsync && cuMemFreeAsync;
  if (CUresult result = cuDevicePrimaryCtxRetain(&context, device))
    return failed("cuDevicePrimaryCtxRetain", result);
  if (CUresult result = cuCtxSetCurrent(context))
    return failed("cuCtxSetCurrent", result);
  return absl::OkStatus();
}

// Constant-initialized, hence usable from other global constructors.
constinit std::once_flag startOnce;
constinit std::atomic<Driver *> started{nullptr};
constinit std::atomic<int32_t> requestedDevice{0};
constinit std::atomic<bool> exiting{false};

/// The driver, started on first use (never destroyed).
Driver &driver() {
  std::call_once(startOnce, [] {
    auto *state = new Driver;
    state->status = state->start(requestedDevice.load());
    started.store(state);
  });
  return *started.load();
}

/// Prints `convseq: <line>` and exits with kFatalExitCode. std::exit
/// flushes the program's output; a second fatal error while exiting (from
/// a global destructor, or another thread) ends the process at once.
[[noreturn]] void fatal(std::string_view line) {
  std::fprintf(stderr, "convseq: %.*s\n", static_cast<int>(line.size()),
               line.data());
  std::fflush(stderr);
  if (exiting.exchange(true))
    std::_Exit(cuda::kFatalExitCode);
  std::exit(cuda::kFatalExitCode);
}

/// "no CUDA device: ..." for an unavailable driver.
std::string noDevice(const absl::Status &status) {
  if (absl::StartsWith(status.message(), "no CUDA device"))
    return std::string(status.message());
  return absl::StrCat("no CUDA device: ", status.message());
}

void check(const Driver &state, CUresult result, const char *function) {
  if (result != CUDA_SUCCESS)
    fatal(state.errorText(function, result));
}

/// The driver with the device's context current on this thread, for the
/// wrappers generated code calls; exits if there is no device.
Driver &current() {
  Driver &state = driver();
  if (!state.status.ok())
    fatal(noDevice(state.status));
  check(state, state.cuCtxSetCurrent(state.context), "cuCtxSetCurrent");
  return state;
}

/// The driver for the helpers: its error if there is no device, or if the
/// context cannot be made current.
absl::StatusOr<Driver *> currentOrError() {
  Driver &state = driver();
  if (!state.status.ok())
    return state.status;
  if (absl::Status status = state.makeCurrent(); !status.ok())
    return status;
  return &state;
}

CUdeviceptr address(const void *pointer) {
  return reinterpret_cast<CUdeviceptr>(pointer);
}

/// Keeps the first failure of a module to load, for kernelsLoaded().
void *moduleLoadFailed(Driver &state, std::string message) {
  std::lock_guard<std::mutex> lock(state.mutex);
  if (state.loadError.ok())
    state.loadError = absl::FailedPreconditionError(
        absl::StrCat(message, "; the executable's kernels cannot run on ",
                     state.description));
  return nullptr;
}

} // namespace

//===----------------------------------------------------------------------===//
// The runtime's helpers
//===----------------------------------------------------------------------===//

namespace convseq::runtime::cuda {

absl::Status available() { return driver().status; }

absl::Status kernelsLoaded() {
  Driver &state = driver();
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.loadError;
}

absl::StatusOr<void *> allocate(size_t bytes) {
  absl::StatusOr<Driver *> state = currentOrError();
  if (!state.ok())
    return state.status();
  CUdeviceptr pointer = 0;
  if (CUresult result =
          (*state)->cuMemAlloc(&pointer, std::max<size_t>(bytes, 1)))
    return (*state)->error("cuMemAlloc", result);
  return reinterpret_cast<void *>(pointer);
}

void release(void *device) {
  if (!device)
    return;
  absl::StatusOr<Driver *> state = currentOrError();
  if (state.ok())
    (*state)->cuMemFree(address(device));
}

absl::Status copyToDevice(void *device, const void *host, size_t bytes) {
  if (bytes == 0)
    return absl::OkStatus();
  absl::StatusOr<Driver *> state = currentOrError();
  if (!state.ok())
    return state.status();
  if (CUresult result = (*state)->cuMemcpyHtoD(address(device), host, bytes))
    return (*state)->error("cuMemcpyHtoD", result);
  return absl::OkStatus();
}

absl::Status copyToHost(void *host, const void *device, size_t bytes) {
  if (bytes == 0)
    return absl::OkStatus();
  absl::StatusOr<Driver *> state = currentOrError();
  if (!state.ok())
    return state.status();
  if (CUresult result = (*state)->cuMemcpyDtoH(host, address(device), bytes))
    return (*state)->error("cuMemcpyDtoH", result);
  return absl::OkStatus();
}

absl::Status synchronize() {
  absl::StatusOr<Driver *> state = currentOrError();
  if (!state.ok())
    return state.status();
  if (CUresult result = (*state)->cuCtxSynchronize())
    return (*state)->error("cuCtxSynchronize", result);
  return absl::OkStatus();
}

std::string deviceDescription() {
  Driver &state = driver();
  if (!state.status.ok())
    return std::string(state.status.message());
  return state.description;
}

} // namespace convseq::runtime::cuda

//===----------------------------------------------------------------------===//
// The functions generated code calls
//===----------------------------------------------------------------------===//

extern "C" void *mgpuModuleLoad(void *data, size_t /*gpuBlobSize*/) {
  Driver &state = driver();
  if (!state.status.ok())
    return nullptr;
  if (CUresult result = state.cuCtxSetCurrent(state.context))
    return moduleLoadFailed(state, state.errorText("cuCtxSetCurrent", result));
  CUmodule module = nullptr;
  if (CUresult result = state.cuModuleLoadData(&module, data))
    return moduleLoadFailed(state, state.errorText("cuModuleLoadData", result));
  return module;
}

extern "C" void *mgpuModuleLoadJIT(void *data, int optLevel,
                                   size_t assemblySize) {
  Driver &state = driver();
  if (!state.status.ok())
    return nullptr;
  if (CUresult result = state.cuCtxSetCurrent(state.context))
    return moduleLoadFailed(state, state.errorText("cuCtxSetCurrent", result));
  // The driver reads PTX up to its terminating null.
  const char *text = static_cast<const char *>(data);
  std::string ptx = assemblySize ? std::string(text, assemblySize) : text;
  char log[4096] = {};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1),
                    reinterpret_cast<void *>(
                        static_cast<intptr_t>(std::clamp(optLevel, 0, 4)))};
  CUmodule module = nullptr;
  if (CUresult result =
          state.cuModuleLoadDataEx(&module, ptx.c_str(), 3, options, values)) {
    std::string message = state.errorText("cuModuleLoadDataEx", result);
    absl::string_view firstLine(log);
    firstLine = firstLine.substr(0, firstLine.find('\n'));
    if (!firstLine.empty())
      absl::StrAppend(&message, ": ", firstLine);
    return moduleLoadFailed(state, std::move(message));
  }
  return module;
}

extern "C" void mgpuModuleUnload(void *module) {
  if (!module)
    return;
  Driver &state = driver();
  if (!state.status.ok())
    return;
  // At exit the driver may be shut down already; nothing is left to report.
  state.cuCtxSetCurrent(state.context);
  state.cuModuleUnload(static_cast<CUmodule>(module));
}

extern "C" void *mgpuModuleGetFunction(void *module, const char *name) {
  if (!module)
    return nullptr;
  Driver &state = current();
  CUfunction function = nullptr;
  check(
      state,
      state.cuModuleGetFunction(&function, static_cast<CUmodule>(module), name),
      "cuModuleGetFunction");
  return function;
}

extern "C" void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                                 intptr_t gridZ, intptr_t blockX,
                                 intptr_t blockY, intptr_t blockZ, int32_t smem,
                                 void *stream, void **params, void **extra,
                                 size_t /*paramsCount*/) {
  if (!function) {
    Driver &state = driver();
    if (!state.status.ok())
      fatal(noDevice(state.status));
    absl::Status loaded = cuda::kernelsLoaded();
    if (!loaded.ok())
      fatal(std::string(loaded.message()));
    fatal("a kernel launch without a kernel: the executable's GPU module "
          "was not loaded");
  }
  Driver &state = current();
  intptr_t sizes[] = {gridX, gridY, gridZ, blockX, blockY, blockZ};
  // An empty grid (a loop over an empty tensor) has nothing to run.
  if (std::find(std::begin(sizes), std::end(sizes), 0) != std::end(sizes))
    return;
  bool inRange = smem >= 0;
  for (intptr_t size : sizes)
    inRange &= size > 0 && static_cast<uintptr_t>(size) <= UINT_MAX;
  if (!inRange)
    fatal(absl::StrCat("CUDA error in cuLaunchKernel: grid (", gridX, ", ",
                       gridY, ", ", gridZ, "), block (", blockX, ", ", blockY,
                       ", ", blockZ, ") or ", smem,
                       " bytes of shared memory out of range"));
  check(state,
        state.cuLaunchKernel(static_cast<CUfunction>(function), gridX, gridY,
                             gridZ, blockX, blockY, blockZ, smem,
                             static_cast<CUstream>(stream), params, extra),
        "cuLaunchKernel");
}

extern "C" void *mgpuStreamCreate() {
  Driver &state = current();
  CUstream stream = nullptr;
  check(state, state.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
        "cuStreamCreate");
  return stream;
}

extern "C" void mgpuStreamDestroy(void *stream) {
  Driver &state = current();
  check(state, state.cuStreamDestroy(static_cast<CUstream>(stream)),
        "cuStreamDestroy");
}

extern "C" void mgpuStreamSynchronize(void *stream) {
  Driver &state = current();
  check(state, state.cuStreamSynchronize(static_cast<CUstream>(stream)),
        "cuStreamSynchronize");
}

extern "C" void mgpuStreamWaitEvent(void *stream, void *event) {
  Driver &state = current();
  check(state,
        state.cuStreamWaitEvent(static_cast<CUstream>(stream),
                                static_cast<CUevent>(event), 0),
        "cuStreamWaitEvent");
}

extern "C" void *mgpuEventCreate() {
  Driver &state = current();
  CUevent event = nullptr;
  check(state, state.cuEventCreate(&event, CU_EVENT_DISABLE_TIMING),
        "cuEventCreate");
  return event;
}

extern "C" void mgpuEventDestroy(void *event) {
  Driver &state = current();
  check(state, state.cuEventDestroy(static_cast<CUevent>(event)),
        "cuEventDestroy");
}

extern "C" void mgpuEventSynchronize(void *event) {
  Driver &state = current();
  check(state, state.cuEventSynchronize(static_cast<CUevent>(event)),
        "cuEventSynchronize");
}

extern "C" void mgpuEventRecord(void *event, void *stream) {
  Driver &state = current();
  check(state,
        state.cuEventRecord(static_cast<CUevent>(event),
                            static_cast<CUstream>(stream)),
        "cuEventRecord");
}

extern "C" void *mgpuMemAlloc(uint64_t sizeBytes, void *stream,
                              bool isHostShared) {
  if (sizeBytes == 0)
    return nullptr;
  Driver &state = current();
  CUdeviceptr pointer = 0;
  if (!isHostShared && stream && state.memoryPools) {
    check(state,
          state.cuMemAllocAsync(&pointer, sizeBytes,
                                static_cast<CUstream>(stream)),
          "cuMemAllocAsync");
    return reinterpret_cast<void *>(pointer);
  }
  if (isHostShared)
    check(state,
          state.cuMemAllocManaged(&pointer, sizeBytes, CU_MEM_ATTACH_GLOBAL),
          "cuMemAllocManaged");
  else
    check(state, state.cuMemAlloc(&pointer, sizeBytes), "cuMemAlloc");
  std::lock_guard<std::mutex> lock(state.mutex);
  state.synchronousBlocks.insert(pointer);
  return reinterpret_cast<void *>(pointer);
}

extern "C" void mgpuMemFree(void *ptr, void *stream) {
  if (!ptr)
    return;
  Driver &state = current();
  bool synchronous;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    synchronous = state.synchronousBlocks.erase(address(ptr)) != 0;
  }
  auto cuStream = static_cast<CUstream>(stream);
  if (!synchronous && stream) {
    check(state, state.cuMemFreeAsync(address(ptr), cuStream),
          "cuMemFreeAsync");
    return;
  }
  // cuMemFree does not wait for the work that may still use the block.
  if (stream)
    check(state, state.cuStreamSynchronize(cuStream), "cuStreamSynchronize");
  else if (!synchronous)
    check(state, state.cuCtxSynchronize(), "cuCtxSynchronize");
  check(state, state.cuMemFree(address(ptr)), "cuMemFree");
}

extern "C" void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                           void *stream) {
  if (sizeBytes == 0)
    return;
  Driver &state = current();
  check(state,
        state.cuMemcpyAsync(address(dst), address(src), sizeBytes,
                            static_cast<CUstream>(stream)),
        "cuMemcpyAsync");
}

extern "C" void mgpuMemset32(void *dst, unsigned int value, size_t count,
                             void *stream) {
  if (count == 0)
    return;
  Driver &state = current();
  check(state,
        state.cuMemsetD32Async(address(dst), value, count,
                               static_cast<CUstream>(stream)),
        "cuMemsetD32Async");
}

extern "C" void mgpuMemset16(void *dst, unsigned short value, size_t count,
                             void *stream) {
  if (count == 0)
    return;
  Driver &state = current();
  check(state,
        state.cuMemsetD16Async(address(dst), value, count,
                               static_cast<CUstream>(stream)),
        "cuMemsetD16Async");
}

extern "C" void mgpuSetDefaultDevice(int32_t device) {
  requestedDevice.store(device);
  Driver *state = started.load();
  if (state && state->status.ok() && device != state->ordinal)
    fatal(absl::StrCat("CUDA device ", device,
                       " was requested after the runtime started on device ",
                       state->ordinal, "; a process uses one device"));
}
