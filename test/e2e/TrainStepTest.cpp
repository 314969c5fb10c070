//===- TrainStepTest.cpp - The generated training step
//---------------------===//
//
// Built once per f64 test model, from the object that also holds
// forward_train_vjp (CONVSEQ_MODEL_HEADER). Checks that train_step
//  - equals the gradients of forward_train_vjp followed by the reference
//    optimizer (test/reference/Optimizer.cpp), over several steps, with
//    parameters and optimizer state updated in place;
//  - learns: a synthetic reversal task drops below a stated loss;
//  - is bit-reproducible for one seed, and depends on the seed;
// and that its halves for gradient accumulation, train_grad and
// train_apply, equal the reference optimizer applied to the mean of the
// micro-batches' gradients.
//
//===----------------------------------------------------------------------===//

#include CONVSEQ_MODEL_HEADER

#include "test/e2e/ModelTest.h"
#include "test/e2e/PackedCall.h"
#include "test/reference/Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace ref = convseq::reference;
using mlir::convseq::ModelConfig;
using Inputs = convseq::test::Inputs<double>;
using PackedCall = convseq::test::PackedCall<double>;

namespace {

/// Norm-wise relative error of `actual` against `expected`.
double relativeError(const std::vector<double> &actual,
                     const std::vector<double> &expected) {
  double difference = 0.0, norm = 0.0;
  for (size_t i = 0; i < actual.size(); ++i) {
    difference += (actual[i] - expected[i]) * (actual[i] - expected[i]);
    norm += expected[i] * expected[i];
  }
  return std::sqrt(difference) / std::max(std::sqrt(norm), 1e-300);
}

class TrainStepTest : public ::testing::Test {
protected:
  void SetUp() override {
    config = convseq::test::loadModelConfig();
    ASSERT_FALSE(HasFailure());
  }

  /// The optimizer state train_step expects, all zeros (its slots are the
  /// float inputs whose name starts with "opt.").
  ref::TensorMap<double> zeroState() const {
    ref::TensorMap<double> state;
    for (const convseq_arg_info &slot : convseq_train_step_args) {
      std::string name = slot.name;
      if (name.rfind("opt.", 0) != 0)
        continue;
      EXPECT_TRUE(slot.updated) << name;
      state[name] =
          ref::Tensor<double>(std::vector<int64_t>(slot.shape,
                                                   slot.shape + slot.rank));
    }
    return state;
  }

  /// One train_step: updates `params` and `state` in place, returns the
  /// loss, gradient norm and learning rate.
  std::array<double, 3> trainStep(ref::TensorMap<double> &params,
                                  ref::TensorMap<double> &state,
                                  const ref::Ids &src, const ref::Ids &tgt,
                                  int64_t seed, int64_t step) {
    Inputs in{state,
              {{"src_ids", src}, {"tgt_ids", tgt}},
              {{"seed", seed}, {"step", step}}};
    PackedCall call(convseq_train_step_args,
                    std::size(convseq_train_step_args));
    ref::TensorMap<double> out =
        call.run(convseq_train_step, params, in,
                 {{"loss", {}}, {"grad_norm", {}}, {"learning_rate", {}}});
    state = std::move(in.floats);
    return {out["loss"].data[0], out["grad_norm"].data[0],
            out["learning_rate"].data[0]};
  }

  /// The reversal task: random tokens, the target is the source reversed,
  /// then EOS.
  void reversalBatch(std::mt19937_64 &rng, int64_t batch, int64_t length,
                     ref::Ids &src, ref::Ids &tgt) const {
    std::uniform_int_distribution<int64_t> token(3, config.vocabSize - 1);
    src = ref::Ids({batch, length});
    tgt = ref::Ids({batch, length + 1});
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < length; ++i)
        src.data[b * length + i] = token(rng);
      for (int64_t i = 0; i < length; ++i)
        tgt.data[b * (length + 1) + i] = src.data[b * length + length - 1 - i];
      tgt.data[b * (length + 1) + length] = config.eosId;
    }
  }

  ModelConfig config;
};

TEST_F(TrainStepTest, MatchesGradientsThenReferenceOptimizer) {
  ref::TensorMap<double> params = ref::randomParameters<double>(config, 7);
  ref::TensorMap<double> expectedParams = params;
  ref::TensorMap<double> state = zeroState(), expectedState;
  std::mt19937_64 rng(5);
  for (int64_t step = 1; step <= 3; ++step) {
    ref::Ids src, tgt;
    reversalBatch(rng, 3, 5 + step, src, tgt);
    tgt.data[tgt.data.size() - 1] = config.padId; // a padded target

    // Gradients of the reference parameters from forward_train_vjp.
    std::map<std::string, std::vector<int64_t>> shapes = {{"loss", {}}};
    for (const auto &[name, tensor] : expectedParams)
      shapes["grad." + name] = tensor.shape;
    Inputs in{{}, {{"src_ids", src}, {"tgt_ids", tgt}},
              {{"seed", 3}, {"step", step}}};
    in.floats["grad.loss"] = ref::Tensor<double>(std::vector<int64_t>{});
    in.floats["grad.loss"].data[0] = 1.0;
    PackedCall vjp(convseq_forward_train_vjp_args,
                   std::size(convseq_forward_train_vjp_args));
    ref::TensorMap<double> out =
        vjp.run(convseq_forward_train_vjp, expectedParams, in, shapes);
    ref::TensorMap<double> grads;
    for (const auto &[name, tensor] : expectedParams)
      grads[name] = out.at("grad." + name);
    double expectedNorm = ref::optimizerStep(config.training, step, grads,
                                             expectedParams, expectedState);

    auto [loss, norm, lr] = trainStep(params, state, src, tgt, 3, step);
    EXPECT_NEAR(loss, out["loss"].data[0], 1e-12 * std::abs(loss)) << step;
    EXPECT_NEAR(norm, expectedNorm, 1e-10 * expectedNorm) << step;
    EXPECT_DOUBLE_EQ(lr, ref::learningRate(config.training, step)) << step;
    for (const auto &[name, tensor] : expectedParams)
      EXPECT_LT(relativeError(params.at(name).data, tensor.data), 1e-10)
          << name << " after step " << step;
    ASSERT_EQ(state.size(), expectedState.size());
    for (const auto &[name, tensor] : expectedState)
      EXPECT_LT(relativeError(state.at(name).data, tensor.data), 1e-10)
          << name << " after step " << step;
  }
}

TEST_F(TrainStepTest, AccumulatedMicroBatchesMatchTheMeanGradient) {
  ref::TensorMap<double> params = ref::randomParameters<double>(config, 13);
  ref::TensorMap<double> expectedParams = params;
  ref::TensorMap<double> state = zeroState(), expectedState;
  constexpr int64_t kMicroBatches = 3;
  std::mt19937_64 rng(29);
  for (int64_t step = 1; step <= 2; ++step) {
    // The accumulators train_grad adds to, zeros at each step.
    Inputs accumulate;
    for (const convseq_arg_info &slot : convseq_train_grad_args)
      if (slot.updated && slot.role == CONVSEQ_INPUT)
        accumulate.floats[slot.name] = ref::Tensor<double>(
            std::vector<int64_t>(slot.shape, slot.shape + slot.rank));
    ASSERT_FALSE(accumulate.floats.empty());
    ref::TensorMap<double> meanGrads;
    for (int64_t micro = 0; micro < kMicroBatches; ++micro) {
      // Micro-batches of different lengths, as length bucketing makes them;
      // each has a dropout key of its own.
      ref::Ids src, tgt;
      reversalBatch(rng, 2, 4 + micro, src, tgt);
      int64_t key = (step - 1) * kMicroBatches + micro + 1;
      accumulate.ids = {{"src_ids", src}, {"tgt_ids", tgt}};
      accumulate.scalars = {{"seed", 5}, {"step", key}};
      PackedCall grad(convseq_train_grad_args,
                      std::size(convseq_train_grad_args));
      ref::TensorMap<double> out =
          grad.run(convseq_train_grad, params, accumulate, {{"loss", {}}});

      std::map<std::string, std::vector<int64_t>> shapes = {{"loss", {}}};
      for (const auto &[name, tensor] : expectedParams)
        shapes["grad." + name] = tensor.shape;
      Inputs in{{}, accumulate.ids, accumulate.scalars};
      in.floats["grad.loss"] = ref::Tensor<double>(std::vector<int64_t>{});
      in.floats["grad.loss"].data[0] = 1.0;
      PackedCall vjp(convseq_forward_train_vjp_args,
                     std::size(convseq_forward_train_vjp_args));
      ref::TensorMap<double> expected =
          vjp.run(convseq_forward_train_vjp, expectedParams, in, shapes);
      EXPECT_NEAR(out["loss"].data[0], expected["loss"].data[0],
                  1e-12 * std::abs(expected["loss"].data[0]));
      for (const auto &[name, tensor] : expectedParams) {
        ref::Tensor<double> &mean =
            meanGrads.try_emplace(name, tensor.shape).first->second;
        for (size_t i = 0; i < mean.data.size(); ++i)
          mean.data[i] += expected.at("grad." + name).data[i] / kMicroBatches;
      }
    }
    double expectedNorm = ref::optimizerStep(config.training, step, meanGrads,
                                             expectedParams, expectedState);

    Inputs apply{state, {}, {{"step", step}, {"micro_batches", kMicroBatches}}};
    for (auto &[name, tensor] : accumulate.floats)
      apply.floats[name] = tensor;
    PackedCall call(convseq_train_apply_args,
                    std::size(convseq_train_apply_args));
    ref::TensorMap<double> out =
        call.run(convseq_train_apply, params, apply,
                 {{"grad_norm", {}}, {"learning_rate", {}}});
    for (auto &[name, tensor] : state)
      tensor = apply.floats.at(name);
    EXPECT_NEAR(out["grad_norm"].data[0], expectedNorm, 1e-10 * expectedNorm)
        << step;
    EXPECT_DOUBLE_EQ(out["learning_rate"].data[0],
                     ref::learningRate(config.training, step));
    for (const auto &[name, tensor] : expectedParams)
      EXPECT_LT(relativeError(params.at(name).data, tensor.data), 1e-10)
          << name << " after step " << step;
    for (const auto &[name, tensor] : expectedState)
      EXPECT_LT(relativeError(state.at(name).data, tensor.data), 1e-10)
          << name << " after step " << step;
  }
}

TEST_F(TrainStepTest, LearnsToReverse) {
  ref::TensorMap<double> params =
      ref::randomParameters<double>(config, 11, /*stddev=*/0.25);
  ref::TensorMap<double> state = zeroState();
  std::mt19937_64 rng(17);
  constexpr int64_t kSteps = 1500, kWindow = 50;
  double first = 0.0, last = 0.0;
  for (int64_t step = 1; step <= kSteps; ++step) {
    ref::Ids src, tgt;
    reversalBatch(rng, 16, 5, src, tgt);
    double loss = trainStep(params, state, src, tgt, 1, step)[0];
    ASSERT_TRUE(std::isfinite(loss)) << "step " << step;
    if (step <= kWindow)
      first += loss / kWindow;
    if (step > kSteps - kWindow)
      last += loss / kWindow;
  }
  RecordProperty("first_loss", std::to_string(first));
  RecordProperty("last_loss", std::to_string(last));
  std::printf("mean loss: first %d steps %.4f, last %d steps %.4f\n",
              static_cast<int>(kWindow), first, static_cast<int>(kWindow),
              last);
  EXPECT_LT(last, CONVSEQ_REVERSAL_LOSS);
}

TEST_F(TrainStepTest, BitReproducibleForOneSeed) {
  auto run = [&](int64_t seed) {
    ref::TensorMap<double> params = ref::randomParameters<double>(config, 3);
    ref::TensorMap<double> state = zeroState();
    std::mt19937_64 rng(23);
    for (int64_t step = 1; step <= 8; ++step) {
      ref::Ids src, tgt;
      reversalBatch(rng, 4, 6, src, tgt);
      trainStep(params, state, src, tgt, seed, step);
    }
    for (auto &[name, tensor] : state)
      params[name] = tensor;
    return params;
  };
  ref::TensorMap<double> a = run(42), b = run(42), c = run(43);
  size_t differing = 0;
  for (const auto &[name, tensor] : a) {
    EXPECT_EQ(std::memcmp(tensor.data.data(), b.at(name).data.data(),
                          tensor.data.size() * sizeof(double)),
              0)
        << name << " differs between two runs with one seed";
    differing += tensor.data != c.at(name).data;
  }
  // Dropout is keyed by the seed: another seed trains differently.
  EXPECT_GT(differing, 0u);
}

} // namespace
