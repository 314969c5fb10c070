//===- GradientCheckTest.cpp - Generated VJPs against finite differences --===//
//
// gradients/ops.mlir holds one f64 function per differentiable op (and a
// few compositions); the build adds each function's VJP with
// convseq-generate-vjp and compiles both. For random inputs x and a random
// cotangent dy, the VJP's gradient of each float input is compared with
// central differences of <dy, f(x)>, element by element:
//
//   fd[e] = (<dy, f(x + h e)> - <dy, f(x - h e)>) / 2h,   h = 1e-5,
//
// and the check is the norm-wise relative error |g - fd| / max(|g|, |fd|)
// below 1e-6 (docs/training.md explains the choice).
//
// The Dropout tests check the compiled dropout masks element by element
// against a Philox-4x32-10 written here from the paper.
//
//===----------------------------------------------------------------------===//

#include "gradient_checks.h"

#include "test/e2e/PackedCall.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace ref = convseq::reference;

namespace {

constexpr double kStep = 1e-5;
constexpr double kTolerance = 1e-6;

using Entry = void (*)(void **);

/// A function and its VJP as the header lists them.
struct Checked {
  const char *name;
  Entry forward;
  const convseq_arg_info *forwardArgs;
  size_t forwardCount;
  Entry vjp;
  const convseq_arg_info *vjpArgs;
  size_t vjpCount;
};

#define CHECKED(f)                                                             \
  Checked {                                                                    \
#f, convseq_##f, convseq_##f##_args, std::size(convseq_##f##_args),        \
        convseq_##f##_vjp, convseq_##f##_vjp_args,                             \
        std::size(convseq_##f##_vjp_args)                                      \
  }

using Tensors = ref::TensorMap<double>;
using Inputs = convseq::test::Inputs<double>;

std::vector<int64_t> staticShape(const convseq_arg_info &slot) {
  std::vector<int64_t> shape(slot.shape, slot.shape + slot.rank);
  for (int64_t dim : shape)
    EXPECT_GE(dim, 0) << slot.name << " must have a static shape";
  return shape;
}

/// Calls `entry` with `inputs` by slot name and returns its outputs,
/// allocated from their static shapes.
Tensors call(Entry entry, const convseq_arg_info *slots, size_t count,
             const Inputs &inputs) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (size_t i = 0; i < count; ++i)
    if (slots[i].role == CONVSEQ_OUTPUT)
      shapes[slots[i].name] = staticShape(slots[i]);
  return convseq::test::PackedCall<double>(slots, count)
      .run(entry, {}, inputs, shapes);
}

/// <dy, f(x)> over every output.
double project(const Tensors &outputs, const Tensors &cotangents) {
  double sum = 0.0;
  for (const auto &[name, tensor] : outputs) {
    const ref::Tensor<double> &dy = cotangents.at("grad." + name);
    for (size_t i = 0; i < tensor.data.size(); ++i)
      sum += dy.data[i] * tensor.data[i];
  }
  return sum;
}

class GradientCheck : public ::testing::TestWithParam<Checked> {};

TEST_P(GradientCheck, VJPMatchesFiniteDifferences) {
  const Checked &f = GetParam();
  std::mt19937_64 rng(std::hash<std::string>()(f.name));
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int32_t> id(0, 5);

  // Random inputs; i64 scalars are RNG keys with fixed values.
  Inputs inputs;
  inputs.scalars = {{"seed", 11}, {"step", 4}};
  std::vector<std::string> floats;
  for (size_t i = 0; i < f.forwardCount; ++i) {
    const convseq_arg_info &slot = f.forwardArgs[i];
    if (slot.role == CONVSEQ_OUTPUT || slot.rank < 0)
      continue;
    if (slot.dtype == CONVSEQ_I32) {
      ref::Ids &ids = inputs.ids[slot.name] = ref::Ids(staticShape(slot));
      for (int64_t &value : ids.data)
        value = id(rng);
      continue;
    }
    ASSERT_EQ(slot.dtype, CONVSEQ_F64) << slot.name;
    ref::Tensor<double> &x = inputs.floats[slot.name] =
        ref::Tensor<double>(staticShape(slot));
    for (double &value : x.data)
      value = normal(rng);
    floats.push_back(slot.name);
  }
  Tensors outputs = call(f.forward, f.forwardArgs, f.forwardCount, inputs);

  // A random cotangent per output, passed to the VJP with the inputs.
  Tensors cotangents;
  for (const auto &[name, tensor] : outputs) {
    ref::Tensor<double> &dy = cotangents["grad." + name] =
        ref::Tensor<double>(tensor.shape);
    for (double &value : dy.data)
      value = normal(rng);
  }
  Inputs vjpInputs = inputs;
  vjpInputs.floats.insert(cotangents.begin(), cotangents.end());
  Tensors vjp = call(f.vjp, f.vjpArgs, f.vjpCount, vjpInputs);

  // The VJP recomputes the outputs exactly.
  for (const auto &[name, tensor] : outputs)
    for (size_t e = 0; e < tensor.data.size(); ++e)
      ASSERT_EQ(vjp.at(name).data[e], tensor.data[e]) << name;

  for (const std::string &name : floats) {
    ASSERT_TRUE(vjp.count("grad." + name)) << "no gradient for " << name;
    const std::vector<double> &gradient = vjp.at("grad." + name).data;
    std::vector<double> differences;
    Inputs shifted = inputs;
    std::vector<double> &x = shifted.floats.at(name).data;
    for (size_t e = 0; e < x.size(); ++e) {
      double saved = x[e];
      x[e] = saved + kStep;
      double plus = project(
          call(f.forward, f.forwardArgs, f.forwardCount, shifted), cotangents);
      x[e] = saved - kStep;
      double minus = project(
          call(f.forward, f.forwardArgs, f.forwardCount, shifted), cotangents);
      x[e] = saved;
      differences.push_back((plus - minus) / (2 * kStep));
    }
    double error = 0.0, gradNorm = 0.0, fdNorm = 0.0;
    for (size_t e = 0; e < x.size(); ++e) {
      error += std::pow(gradient[e] - differences[e], 2);
      gradNorm += gradient[e] * gradient[e];
      fdNorm += differences[e] * differences[e];
    }
    double scale = std::sqrt(std::max({gradNorm, fdNorm, 1e-300}));
    double relative = std::sqrt(error) / scale;
    EXPECT_LT(relative, kTolerance)
        << "gradient of " << name << ": relative error " << relative
        << ", |g| = " << std::sqrt(gradNorm)
        << ", |fd| = " << std::sqrt(fdNorm);
    // A gradient that is zero everywhere checks nothing.
    EXPECT_GT(gradNorm, 0.0) << "gradient of " << name << " is zero";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Ops, GradientCheck,
    ::testing::Values(
        CHECKED(linear), CHECKED(linear_transposed_scaled), CHECKED(glu),
        CHECKED(relu), CHECKED(gelu), CHECKED(softmax),
        CHECKED(lightweight_odd_masked), CHECKED(lightweight_even_causal),
        CHECKED(lightweight_even_centred), CHECKED(dynamic_odd_masked),
        CHECKED(dynamic_even_causal), CHECKED(dilated_masked),
        CHECKED(dilated_even_causal), CHECKED(apply_mask), CHECKED(rms_norm),
        CHECKED(embedding), CHECKED(add_positions), CHECKED(dropout),
        CHECKED(relu_dropout), CHECKED(heads), CHECKED(attention_masked),
        CHECKED(attention_causal), CHECKED(attention_tiled),
        CHECKED(attention_tiled_causal), CHECKED(attention_dropout),
        CHECKED(attention_tiled_dropout), CHECKED(cross_entropy),
        CHECKED(cross_entropy_smoothed), CHECKED(residual_reuse),
        CHECKED(reshape_then_softmax), CHECKED(two_results)),
    [](const auto &info) { return std::string(info.param.name); });

/// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1,
/// 2, 3", SC 2011), written from the paper for this test: the four output
/// words for `counter` and `key`.
std::array<uint32_t, 4> philoxWords(std::array<uint32_t, 4> c,
                                    std::array<uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t{0xD2511F53u} * c[0];
    uint64_t p1 = uint64_t{0xCD9E8D57u} * c[2];
    c = {static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k[0],
         static_cast<uint32_t>(p1),
         static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k[1],
         static_cast<uint32_t>(p0)};
    k = {k[0] + 0x9E3779B9u, k[1] + 0xBB67AE85u};
  }
  return c;
}

TEST(Dropout, ReferencePhiloxMatchesKnownAnswer) {
  // Random123's known-answer vector for philox4x32-10, zero counter and key.
  std::array<uint32_t, 4> expected = {0x6627E8D5u, 0xE169C58Du, 0xBC57AC4Cu,
                                      0x9B00DBD8u};
  EXPECT_EQ(philoxWords({0, 0, 0, 0}, {0, 0}), expected);
}

/// Whether dropout keeps element `e` (row-major) of a tensor of `shape`
/// (lib/Support/Philox.h): element (lead..., i, j) takes word i mod 4 of the
/// evaluation for counter (j, lead ceil(R / 4) + i / 4, stream, step).
bool kept(const std::vector<int64_t> &shape, uint64_t e, uint64_t seed,
          int64_t step, uint32_t stream, double rate) {
  uint64_t columns = shape.empty() ? 1 : shape.back();
  uint64_t rows = shape.size() >= 2 ? shape[shape.size() - 2] : 1;
  uint64_t j = e % columns, i = e / columns % rows, lead = e / columns / rows;
  uint64_t group = lead * ((rows + 3) / 4) + i / 4;
  std::array<uint32_t, 4> words = philoxWords(
      {static_cast<uint32_t>(j), static_cast<uint32_t>(group), stream,
       static_cast<uint32_t>(step)},
      {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
  return words[i % 4] >= static_cast<uint32_t>(std::ldexp(rate, 32));
}

/// Calls `entry` with the RNG key (`seed`, `step`), after `fill` set each
/// float input (zeros when it is given, the named tensor).
Tensors callWithKey(Entry entry, const convseq_arg_info *slots, size_t count,
                    uint64_t seed, int64_t step,
                    const std::function<void(const std::string &,
                                             ref::Tensor<double> &)> &fill) {
  Inputs inputs;
  inputs.scalars = {{"seed", static_cast<int64_t>(seed)}, {"step", step}};
  for (size_t i = 0; i < count; ++i) {
    if (slots[i].role == CONVSEQ_OUTPUT || slots[i].rank <= 0)
      continue;
    ref::Tensor<double> &x = inputs.floats[slots[i].name] =
        ref::Tensor<double>(staticShape(slots[i]));
    fill(slots[i].name, x);
  }
  return call(entry, slots, count, inputs);
}

/// Checks every element of `y`: `keptValue` (within `tolerance`) where
/// `kept` keeps it, 0 elsewhere, and that some are kept and some dropped.
void expectMask(const ref::Tensor<double> &y, uint64_t seed, int64_t step,
                uint32_t stream, double rate, double keptValue,
                double tolerance) {
  size_t keptCount = 0;
  for (size_t e = 0; e < y.data.size(); ++e) {
    bool keep = kept(y.shape, e, seed, step, stream, rate);
    keptCount += keep;
    EXPECT_NEAR(y.data[e], keep ? keptValue : 0.0, tolerance)
        << "element " << e;
  }
  EXPECT_GT(keptCount, 0u);
  EXPECT_LT(keptCount, y.data.size());
}

/// Runs a dropout function on ones and checks every element: kept (scaled
/// by 1 / (1 - rate), exactly) iff `kept` says so.
void expectPhiloxMask(Entry entry, const convseq_arg_info *slots, size_t count,
                      double rate, uint32_t stream) {
  const uint64_t seed = 0x0123456789ABCDEFull;
  const int64_t step = 5;
  Tensors outputs =
      callWithKey(entry, slots, count, seed, step,
                  [](const std::string &, ref::Tensor<double> &x) {
                    std::fill(x.data.begin(), x.data.end(), 1.0);
                  });
  expectMask(outputs.at("y"), seed, step, stream, rate, 1.0 / (1.0 - rate),
             /*tolerance=*/0.0);
}

TEST(Dropout, PhiloxMasks) {
  expectPhiloxMask(convseq_dropout, convseq_dropout_args,
                   std::size(convseq_dropout_args), 0.3, 2);
  expectPhiloxMask(convseq_dropout_rows, convseq_dropout_rows_args,
                   std::size(convseq_dropout_rows_args), 0.5, 7);
}

TEST(Dropout, TiledAttentionMask) {
  // convseq-tile-attention draws the mask of probability (b, h, i, j) in
  // its loop, 16 keys at a time, one evaluation for four rows in its blocks
  // and one per row in the last T mod 4 (here 33 = 8 x 4 + 1); with q = 0
  // and v = I, y[b, h, i, j] = keep / ((1 - rate) S).
  const uint64_t seed = 0xFEDCBA9876543210ull;
  const int64_t step = 11;
  const double rate = 0.3;
  const uint32_t stream = 3;
  Tensors outputs = callWithKey(
      convseq_attention_dropout_mask, convseq_attention_dropout_mask_args,
      std::size(convseq_attention_dropout_mask_args), seed, step,
      [](const std::string &name, ref::Tensor<double> &x) {
        std::fill(x.data.begin(), x.data.end(), 0.0);
        if (name == "k")
          for (size_t e = 0; e < x.data.size(); ++e)
            x.data[e] = std::sin(0.37 * static_cast<double>(e));
        if (name == "v") {
          // [S, S] per head: the identity.
          size_t size = x.shape.back();
          for (size_t head = 0; head < x.data.size(); head += size * size)
            for (size_t j = 0; j < size; ++j)
              x.data[head + j * size + j] = 1.0;
        }
      });
  const ref::Tensor<double> &y = outputs.at("y");
  const int64_t numKeys = y.shape.back();
  expectMask(y, seed, step, stream, rate, 1.0 / ((1.0 - rate) * numKeys),
             /*tolerance=*/1e-12);
}

} // namespace
