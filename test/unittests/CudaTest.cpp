//===- CudaTest.cpp - The runtime's CUDA layer, with and without a GPU ----===//
//
// The NoDevice tests check what an executable compiled for NVIDIA GPUs does
// on a machine without one; they skip themselves where a GPU is present.
// The Device tests need a GPU and skip themselves without one: run them on
// a GPU machine with `ctest -R Cuda`.
//
//===----------------------------------------------------------------------===//

#include "runtime/Cuda.h"
#include "runtime/Model.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using namespace convseq::runtime;

namespace {

/// The skip message of a test that needs a GPU.
std::string noDevice(const absl::Status &status) {
  if (absl::StartsWith(status.message(), "no CUDA device"))
    return std::string(status.message());
  return absl::StrCat("no CUDA device: ", status.message());
}

#define REQUIRE_CUDA_DEVICE()                                                  \
  if (absl::Status status = cuda::available(); !status.ok())                   \
  GTEST_SKIP() << noDevice(status)

#define REQUIRE_NO_CUDA_DEVICE()                                               \
  if (cuda::available().ok())                                                  \
  GTEST_SKIP() << "a CUDA device is present: " << cuda::deviceDescription()

bool namesTheCause(const absl::Status &status) {
  return absl::StartsWith(status.message(), "no CUDA device") ||
         absl::StartsWith(status.message(), "CUDA error");
}

//===----------------------------------------------------------------------===//
// A tiny compiled model: y = 2 * x on the host, or on the device a copy of x
// into y and sevens into the state s, which the entry point updates.
//===----------------------------------------------------------------------===//

/// The data and size of a rank-1 slot (its descriptor: allocated, aligned,
/// offset, size, stride).
float *slotData(void *slot) {
  return reinterpret_cast<float *>(static_cast<int64_t *>(slot)[1]);
}
int64_t slotSize(void *slot) { return static_cast<int64_t *>(slot)[3]; }

int calls = 0;

void doubleOnHost(void **args) {
  ++calls;
  for (int64_t i = 0; i < slotSize(args[0]); ++i)
    slotData(args[2])[i] = 2 * slotData(args[0])[i];
}

unsigned bitsOf(float value) {
  unsigned bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

void copyOnDevice(void **args) {
  ++calls;
  size_t count = slotSize(args[0]);
  mgpuMemcpy(slotData(args[2]), slotData(args[0]), count * sizeof(float),
             nullptr);
  mgpuMemset32(slotData(args[1]), bitsOf(7.0f), count, nullptr);
  mgpuStreamSynchronize(nullptr);
}

const convseq_arg_info kArgs[] = {
    {"x", CONVSEQ_INPUT, CONVSEQ_F32, 1, {-1}, 0},
    {"s", CONVSEQ_INPUT, CONVSEQ_F32, 1, {-1}, 1},
    {"y", CONVSEQ_OUTPUT, CONVSEQ_F32, 1, {-1}, 0},
};

/// The model with `settings`, its entry point `forward` running `function`.
absl::StatusOr<Model> tinyModel(const char *settings,
                                void (*function)(void **)) {
  convseq_entry_point entry = {"forward", function, kArgs, 3};
  convseq_model model = {"tiny", &entry, 1, settings, ""};
  return Model::create(model);
}

/// Calls `forward` of `model` with x = {1, 2, 3, 4}; `s` is the state.
absl::StatusOr<std::vector<float>> callForward(const Model &model, Tensor &s) {
  Tensor x = Tensor::zeros(Dtype::F32, {4});
  for (int i = 0; i < 4; ++i)
    x.data<float>()[i] = i + 1;
  CallArgs args;
  args.tensors = {{"x", &x}, {"s", &s}};
  args.outputShapes["y"] = {4};
  auto outputs = model.entry("forward")->call(args);
  if (!outputs.ok())
    return outputs.status();
  const Tensor &y = outputs->at("y");
  return std::vector<float>(y.data<float>(), y.data<float>() + 4);
}

//===----------------------------------------------------------------------===//
// Without a GPU (and everywhere)
//===----------------------------------------------------------------------===//

TEST(CudaNoDevice, AvailableNamesTheCauseAndIsRemembered) {
  REQUIRE_NO_CUDA_DEVICE();
  absl::Status status = cuda::available();
  EXPECT_TRUE(namesTheCause(status)) << status;
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(cuda::available(), status);
  EXPECT_EQ(cuda::deviceDescription(), std::string(status.message()));
}

TEST(CudaNoDevice, HelpersReturnTheError) {
  REQUIRE_NO_CUDA_DEVICE();
  absl::Status status = cuda::available();
  EXPECT_EQ(cuda::allocate(16).status(), status);
  float host[4] = {};
  EXPECT_EQ(cuda::copyToDevice(host, host, sizeof(host)), status);
  EXPECT_EQ(cuda::copyToHost(host, host, sizeof(host)), status);
  EXPECT_EQ(cuda::synchronize(), status);
  cuda::release(nullptr);
}

TEST(CudaNoDevice, ModuleLoadReturnsNullSilently) {
  REQUIRE_NO_CUDA_DEVICE();
  std::string cubin = "\x7f"
                      "ELF not really a cubin";
  std::string ptx = ".version 8.0\n.target sm_90\n";
  testing::internal::CaptureStderr();
  EXPECT_EQ(mgpuModuleLoad(cubin.data(), cubin.size()), nullptr);
  EXPECT_EQ(mgpuModuleLoadJIT(ptx.data(), 2, ptx.size()), nullptr);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  // No device is not a load failure: available() reports it.
  EXPECT_TRUE(cuda::kernelsLoaded().ok());
}

TEST(CudaNoDevice, NullModuleHasNoFunctions) {
  EXPECT_EQ(mgpuModuleGetFunction(nullptr, "k"), nullptr);
  mgpuModuleUnload(nullptr);
  // Nothing to free, nothing to copy: no device needed.
  mgpuMemFree(nullptr, nullptr);
  EXPECT_EQ(mgpuMemAlloc(0, nullptr, false), nullptr);
}

TEST(CudaNoDeviceDeathTest, LaunchWithoutDeviceExits70) {
  REQUIRE_NO_CUDA_DEVICE();
  EXPECT_EXIT(mgpuLaunchKernel(nullptr, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr,
                               nullptr, 0),
              testing::ExitedWithCode(cuda::kFatalExitCode),
              "^convseq: no CUDA device: ");
  EXPECT_EXIT(mgpuStreamCreate(), testing::ExitedWithCode(cuda::kFatalExitCode),
              "^convseq: no CUDA device: ");
}

TEST(CudaNoDevice, EntryPointForCudaReturnsTheError) {
  REQUIRE_NO_CUDA_DEVICE();
  absl::StatusOr<Model> model = tinyModel("target=cuda\n", doubleOnHost);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_TRUE(model->entry("forward")->runsOnDevice());
  Tensor s = Tensor::zeros(Dtype::F32, {4});
  calls = 0;
  absl::StatusOr<std::vector<float>> y = callForward(*model, s);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(y.status().message()),
            std::string(cuda::available().message()));
  EXPECT_TRUE(namesTheCause(y.status())) << y.status();
  EXPECT_EQ(calls, 0);
}

TEST(CudaTarget, CpuAndNoTargetRunOnTheHost) {
  for (const char *settings : {"target=cpu\n", "conv.variant=plain\n"}) {
    absl::StatusOr<Model> model = tinyModel(settings, doubleOnHost);
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_FALSE(model->entry("forward")->runsOnDevice());
    Tensor s = Tensor::zeros(Dtype::F32, {4});
    calls = 0;
    absl::StatusOr<std::vector<float>> y = callForward(*model, s);
    ASSERT_TRUE(y.ok()) << y.status();
    EXPECT_EQ(*y, (std::vector<float>{2, 4, 6, 8}));
    EXPECT_EQ(calls, 1);
  }
}

TEST(CudaTarget, UnknownTargetIsRefused) {
  absl::StatusOr<Model> model = tinyModel("target=tpu\n", doubleOnHost);
  ASSERT_FALSE(model.ok());
  EXPECT_TRUE(absl::StrContains(model.status().message(), "'tpu'"))
      << model.status();
}

//===----------------------------------------------------------------------===//
// With a GPU
//===----------------------------------------------------------------------===//

TEST(CudaDevice, DescriptionNamesTheArchitecture) {
  REQUIRE_CUDA_DEVICE();
  EXPECT_TRUE(absl::StrContains(cuda::deviceDescription(), "(sm_"))
      << cuda::deviceDescription();
  EXPECT_TRUE(cuda::kernelsLoaded().ok());
}

TEST(CudaDevice, CopyRoundTrip) {
  REQUIRE_CUDA_DEVICE();
  std::vector<float> in(1000), out(1000, 0);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = 0.5f * i;
  absl::StatusOr<void *> buffer = cuda::allocate(in.size() * sizeof(float));
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  ASSERT_TRUE(
      cuda::copyToDevice(*buffer, in.data(), in.size() * sizeof(float)).ok());
  ASSERT_TRUE(
      cuda::copyToHost(out.data(), *buffer, out.size() * sizeof(float)).ok());
  EXPECT_EQ(out, in);
  cuda::release(*buffer);

  absl::StatusOr<void *> empty = cuda::allocate(0);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_NE(*empty, nullptr);
  cuda::release(*empty);
}

TEST(CudaDevice, Memset32And16) {
  REQUIRE_CUDA_DEVICE();
  absl::StatusOr<void *> buffer = cuda::allocate(64 * sizeof(float));
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  mgpuMemset32(*buffer, bitsOf(1.5f), 64, nullptr);
  ASSERT_TRUE(cuda::synchronize().ok());
  std::vector<float> floats(64, 0);
  ASSERT_TRUE(
      cuda::copyToHost(floats.data(), *buffer, 64 * sizeof(float)).ok());
  EXPECT_EQ(floats, std::vector<float>(64, 1.5f));

  mgpuMemset16(*buffer, 0xabcd, 3, nullptr);
  ASSERT_TRUE(cuda::synchronize().ok());
  std::vector<uint16_t> halves(4, 0);
  ASSERT_TRUE(cuda::copyToHost(halves.data(), *buffer, 8).ok());
  EXPECT_EQ(halves[0], 0xabcd);
  EXPECT_EQ(halves[2], 0xabcd);
  EXPECT_NE(halves[3], 0xabcd);
  cuda::release(*buffer);
}

TEST(CudaDevice, StreamOrderedAllocationAndEvents) {
  REQUIRE_CUDA_DEVICE();
  void *stream = mgpuStreamCreate();
  void *other = mgpuStreamCreate();
  void *event = mgpuEventCreate();
  void *device = mgpuMemAlloc(256 * sizeof(int32_t), stream, false);
  ASSERT_NE(device, nullptr);
  mgpuMemset32(device, 42, 256, stream);
  mgpuEventRecord(event, stream);
  mgpuStreamWaitEvent(other, event);
  std::vector<int32_t> host(256, 0);
  mgpuMemcpy(host.data(), device, 256 * sizeof(int32_t), other);
  mgpuStreamSynchronize(other);
  EXPECT_EQ(host, std::vector<int32_t>(256, 42));
  mgpuMemFree(device, stream);
  mgpuEventSynchronize(event);
  mgpuStreamSynchronize(stream);
  mgpuEventDestroy(event);
  mgpuStreamDestroy(other);
  mgpuStreamDestroy(stream);
}

TEST(CudaDevice, ManagedMemoryIsReadableOnTheHost) {
  REQUIRE_CUDA_DEVICE();
  void *stream = mgpuStreamCreate();
  auto *shared =
      static_cast<int32_t *>(mgpuMemAlloc(16 * sizeof(int32_t), stream, true));
  ASSERT_NE(shared, nullptr);
  mgpuMemset32(shared, 9, 16, stream);
  mgpuStreamSynchronize(stream);
  EXPECT_EQ(shared[15], 9);
  mgpuMemFree(shared, stream);
  mgpuStreamDestroy(stream);
}

TEST(CudaDevice, EntryPointStagesThroughDeviceBuffers) {
  REQUIRE_CUDA_DEVICE();
  absl::StatusOr<Model> model = tinyModel("target=cuda\n", copyOnDevice);
  ASSERT_TRUE(model.ok()) << model.status();
  Tensor s = Tensor::zeros(Dtype::F32, {4});
  calls = 0;
  absl::StatusOr<std::vector<float>> y = callForward(*model, s);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(*y, (std::vector<float>{1, 2, 3, 4}));
  // s is updated in place: copied back.
  EXPECT_EQ(std::vector<float>(s.data<float>(), s.data<float>() + 4),
            std::vector<float>(4, 7.0f));
}

} // namespace
