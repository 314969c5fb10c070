//===- ModelGradientTest.cpp - Whole-model gradients against differences --===//
//
// Built once per f64 test model: CONVSEQ_MODEL_HEADER is the header of the
// model compiled with the VJP of forward_train (forward_train_vjp). Its
// gradient of the training loss (dropout on, fixed RNG key) is compared
// with central differences of forward_train, on sampled elements of every
// parameter and along random directions through all of them.
//
//===----------------------------------------------------------------------===//

#include CONVSEQ_MODEL_HEADER

#include "test/e2e/ModelTest.h"
#include "test/e2e/PackedCall.h"
#include "test/reference/Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace ref = convseq::reference;
using mlir::convseq::ModelConfig;
using Inputs = convseq::test::Inputs<double>;
using PackedCall = convseq::test::PackedCall<double>;

namespace {

constexpr double kStep = 1e-5;
constexpr double kTolerance = 1e-6;
/// Below this, a difference of gradients is round-off in the loss.
constexpr double kAbsoluteFloor = 1e-9;

class ModelGradientTest : public ::testing::Test {
protected:
  void SetUp() override {
    config = convseq::test::loadModelConfig();
    ASSERT_FALSE(HasFailure());
    params = ref::randomParameters<double>(config, /*seed=*/7);
    // Batch 3 with the second row padded, odd lengths.
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<int32_t> token(3, config.vocabSize - 1);
    src = ref::Ids({3, 7});
    tgt = ref::Ids({3, 5});
    for (int64_t b = 0; b < 3; ++b) {
      for (int64_t s = 0; s < (b == 1 ? 4 : 7); ++s)
        src.data[b * 7 + s] = token(rng);
      for (int64_t t = 0; t < (b == 1 ? 2 : 5); ++t)
        tgt.data[b * 5 + t] = token(rng);
    }
  }

  Inputs inputs() const {
    return {
        {}, {{"src_ids", src}, {"tgt_ids", tgt}}, {{"seed", 3}, {"step", 9}}};
  }

  double loss(const ref::TensorMap<double> &at) {
    PackedCall call(convseq_forward_train_args,
                    std::size(convseq_forward_train_args));
    return call.run(convseq_forward_train, at, inputs(), {{"loss", {}}})["loss"]
        .data[0];
  }

  /// The VJP's outputs for the cotangent 1 of the loss.
  ref::TensorMap<double> gradients() {
    std::map<std::string, std::vector<int64_t>> shapes = {{"loss", {}}};
    for (const auto &[name, tensor] : params)
      shapes["grad." + name] = tensor.shape;
    Inputs in = inputs();
    in.floats["grad.loss"] = ref::Tensor<double>(std::vector<int64_t>{});
    in.floats["grad.loss"].data[0] = 1.0;
    PackedCall call(convseq_forward_train_vjp_args,
                    std::size(convseq_forward_train_vjp_args));
    return call.run(convseq_forward_train_vjp, params, in, shapes);
  }

  ModelConfig config;
  ref::TensorMap<double> params;
  ref::Ids src, tgt;
};

TEST_F(ModelGradientTest, SampledElementsMatchFiniteDifferences) {
  ref::TensorMap<double> grads = gradients();
  EXPECT_EQ(grads["loss"].data[0], loss(params));
  std::mt19937_64 rng(11);
  for (auto &[name, tensor] : params) {
    const std::vector<double> &gradient = grads.at("grad." + name).data;
    ASSERT_EQ(gradient.size(), tensor.data.size()) << name;
    std::uniform_int_distribution<size_t> pick(0, tensor.data.size() - 1);
    for (int sample = 0; sample < 4; ++sample) {
      size_t e = pick(rng);
      double saved = tensor.data[e];
      tensor.data[e] = saved + kStep;
      double plus = loss(params);
      tensor.data[e] = saved - kStep;
      double minus = loss(params);
      tensor.data[e] = saved;
      double difference = (plus - minus) / (2 * kStep);
      double scale = std::max(std::abs(difference), std::abs(gradient[e]));
      EXPECT_LE(std::abs(gradient[e] - difference),
                kTolerance * scale + kAbsoluteFloor)
          << name << "[" << e << "]: gradient " << gradient[e]
          << ", finite difference " << difference;
    }
  }
}

TEST_F(ModelGradientTest, DirectionalDerivativesMatch) {
  ref::TensorMap<double> grads = gradients();
  std::mt19937_64 rng(13);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int direction = 0; direction < 3; ++direction) {
    // A unit direction, so the step along it is kStep whatever the number
    // of parameters.
    ref::TensorMap<double> v = params;
    double norm = 0.0;
    for (auto &[name, tensor] : v)
      for (double &x : tensor.data) {
        x = normal(rng);
        norm += x * x;
      }
    norm = std::sqrt(norm);
    ref::TensorMap<double> plus = params, minus = params;
    double predicted = 0.0;
    for (auto &[name, tensor] : params)
      for (size_t e = 0; e < tensor.data.size(); ++e) {
        double step = v[name].data[e] / norm;
        plus[name].data[e] += kStep * step;
        minus[name].data[e] -= kStep * step;
        predicted += grads.at("grad." + name).data[e] * step;
      }
    double difference = (loss(plus) - loss(minus)) / (2 * kStep);
    EXPECT_NEAR(predicted, difference, kTolerance * std::abs(difference))
        << "direction " << direction;
  }
}

} // namespace
