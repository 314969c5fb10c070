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
//===----------------------------------------------------------------------===//

#include "gradient_checks.h"

#include "runtime/MemRef.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

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

/// A dense buffer: float slots use `values`, integer ones `ids`.
struct Buffer {
  std::vector<int64_t> shape;
  std::vector<double> values;
  std::vector<int32_t> ids;
};

using Buffers = std::map<std::string, Buffer>;

std::vector<int64_t> staticShape(const convseq_arg_info &slot) {
  std::vector<int64_t> shape(slot.shape, slot.shape + slot.rank);
  for (int64_t dim : shape)
    EXPECT_GE(dim, 0) << slot.name << " must have a static shape";
  return shape;
}

size_t numElements(const std::vector<int64_t> &shape) {
  size_t n = 1;
  for (int64_t dim : shape)
    n *= dim;
  return n;
}

/// Calls `entry` with `inputs` by slot name (scalar slots are RNG keys and
/// get fixed values) and returns the outputs, allocated from their static
/// shapes.
Buffers call(Entry entry, const convseq_arg_info *slots, size_t count,
             const Buffers &inputs) {
  Buffers outputs;
  std::vector<std::vector<int64_t>> descriptors;
  std::vector<int64_t> scalars;
  descriptors.reserve(count);
  scalars.reserve(count);
  std::vector<void *> args;
  for (size_t i = 0; i < count; ++i) {
    const convseq_arg_info &slot = slots[i];
    if (slot.rank < 0) {
      scalars.push_back(std::string(slot.name) == "seed" ? 11 : 4);
      args.push_back(&scalars.back());
      continue;
    }
    const Buffer *buffer;
    if (slot.role == CONVSEQ_OUTPUT) {
      Buffer &out = outputs[slot.name];
      out.shape = staticShape(slot);
      out.values.assign(numElements(out.shape), std::nan(""));
      buffer = &out;
    } else {
      auto found = inputs.find(slot.name);
      EXPECT_NE(found, inputs.end()) << "no input " << slot.name;
      buffer = &found->second;
    }
    const void *data = slot.dtype == CONVSEQ_I32
                           ? static_cast<const void *>(buffer->ids.data())
                           : buffer->values.data();
    descriptors.push_back(
        convseq::runtime::denseDescriptor(data, buffer->shape));
    args.push_back(descriptors.back().data());
  }
  entry(args.data());
  return outputs;
}

/// <dy, f(x)> over every output.
double project(const Buffers &outputs, const Buffers &cotangents) {
  double sum = 0.0;
  for (const auto &[name, buffer] : outputs) {
    const Buffer &dy = cotangents.at("grad." + name);
    for (size_t i = 0; i < buffer.values.size(); ++i)
      sum += dy.values[i] * buffer.values[i];
  }
  return sum;
}

class GradientCheck : public ::testing::TestWithParam<Checked> {};

TEST_P(GradientCheck, VJPMatchesFiniteDifferences) {
  const Checked &f = GetParam();
  std::mt19937_64 rng(std::hash<std::string>()(f.name));
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int32_t> id(0, 5);

  Buffers inputs;
  std::vector<std::string> floats;
  for (size_t i = 0; i < f.forwardCount; ++i) {
    const convseq_arg_info &slot = f.forwardArgs[i];
    if (slot.role == CONVSEQ_OUTPUT || slot.rank < 0)
      continue;
    Buffer &buffer = inputs[slot.name];
    buffer.shape = staticShape(slot);
    size_t n = numElements(buffer.shape);
    if (slot.dtype == CONVSEQ_I32) {
      for (size_t e = 0; e < n; ++e)
        buffer.ids.push_back(id(rng));
      continue;
    }
    ASSERT_EQ(slot.dtype, CONVSEQ_F64) << slot.name;
    for (size_t e = 0; e < n; ++e)
      buffer.values.push_back(normal(rng));
    floats.push_back(slot.name);
  }
  Buffers outputs = call(f.forward, f.forwardArgs, f.forwardCount, inputs);

  // A random cotangent per output, passed to the VJP with the inputs.
  Buffers cotangents;
  for (const auto &[name, buffer] : outputs) {
    Buffer &dy = cotangents["grad." + name];
    dy.shape = buffer.shape;
    for (size_t e = 0; e < buffer.values.size(); ++e)
      dy.values.push_back(normal(rng));
  }
  Buffers vjpInputs = inputs;
  vjpInputs.insert(cotangents.begin(), cotangents.end());
  Buffers vjp = call(f.vjp, f.vjpArgs, f.vjpCount, vjpInputs);

  // The VJP recomputes the outputs exactly.
  for (const auto &[name, buffer] : outputs)
    for (size_t e = 0; e < buffer.values.size(); ++e)
      ASSERT_EQ(vjp.at(name).values[e], buffer.values[e]) << name;

  for (const std::string &name : floats) {
    ASSERT_TRUE(vjp.count("grad." + name)) << "no gradient for " << name;
    const std::vector<double> &gradient = vjp.at("grad." + name).values;
    std::vector<double> differences;
    Buffers shifted = inputs;
    std::vector<double> &x = shifted.at(name).values;
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
        CHECKED(heads), CHECKED(attention_masked), CHECKED(attention_causal),
        CHECKED(attention_dropout), CHECKED(cross_entropy),
        CHECKED(cross_entropy_smoothed), CHECKED(residual_reuse),
        CHECKED(reshape_then_softmax), CHECKED(two_results)),
    [](const auto &info) { return std::string(info.param.name); });

} // namespace
