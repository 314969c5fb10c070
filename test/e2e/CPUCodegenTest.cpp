//===- CPUCodegenTest.cpp - Generated CPU code against the reference ------===//
//
// Built once per test model: CONVSEQ_MODEL_HEADER is the header convseqc
// wrote next to the model's object file, CONVSEQ_MODEL_YAML the definition,
// CONVSEQ_ELEMENT_TYPE its element type. Every entry point of the object is
// called through its packed `void **args` interface and compared with the
// naive reference (test/reference) on shapes chosen to miss tile sizes:
// batch 1, odd lengths, length 1, padded rows.
//
//===----------------------------------------------------------------------===//

#include CONVSEQ_MODEL_HEADER

#include "lib/Frontend/ModelConfig.h"
#include "runtime/Decode.h"
#include "test/e2e/ModelTest.h"
#include "test/e2e/PackedCall.h"
#include "test/reference/Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace ref = convseq::reference;
using T = CONVSEQ_ELEMENT_TYPE;
using mlir::convseq::ModelConfig;

namespace {

using Inputs = convseq::test::Inputs<T>;
using PackedCall = convseq::test::PackedCall<T>;

constexpr double kTolerance = sizeof(T) == 8 ? 1e-9 : 2e-4;

/// Random token ids in [3, V) with rows padded (id 0) after their length.
ref::Ids randomIds(std::mt19937_64 &rng, int64_t batch, int64_t length,
                   int64_t vocab, bool pad) {
  ref::Ids ids({batch, length});
  std::uniform_int_distribution<int64_t> token(3, vocab - 1);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t used =
        pad && b % 2 == 1 ? std::max<int64_t>(1, length / 2) : length;
    for (int64_t t = 0; t < used; ++t)
      ids.data[b * length + t] = token(rng);
  }
  return ids;
}

void expectClose(const ref::Tensor<T> &actual, const ref::Tensor<T> &expected,
                 const std::string &what) {
  ASSERT_EQ(actual.shape, expected.shape) << what;
  double scale = 1.0;
  for (T value : expected.data)
    scale = std::max(scale, std::abs(double(value)));
  for (size_t i = 0; i < actual.data.size(); ++i)
    ASSERT_NEAR(actual.data[i], expected.data[i], kTolerance * scale)
        << what << " element " << i;
}

struct Shape {
  int64_t batch, source, target;
  bool pad;
};

class CPUCodegenTest : public ::testing::TestWithParam<Shape> {
protected:
  void SetUp() override {
    config = convseq::test::loadModelConfig();
    params = ref::randomParameters<T>(config, /*seed=*/42);
    Shape shape = GetParam();
    std::mt19937_64 rng(shape.batch * 1000 + shape.source * 10 + shape.target);
    src =
        randomIds(rng, shape.batch, shape.source, config.vocabSize, shape.pad);
    tgt =
        randomIds(rng, shape.batch, shape.target, config.vocabSize, shape.pad);
  }

  ref::TensorMap<T> forward(const ref::Ids &targets) {
    Shape shape = GetParam();
    PackedCall call(convseq_forward_args, std::size(convseq_forward_args));
    return call.run(
        convseq_forward, params,
        {{}, {{"src_ids", src}, {"tgt_ids", targets}}, {}},
        {{"loss", {}},
         {"logits", {shape.batch, shape.target, config.vocabSize}}});
  }

  ModelConfig config;
  ref::TensorMap<T> params;
  ref::Ids src, tgt;
};

TEST_P(CPUCodegenTest, ForwardMatchesReference) {
  ref::ForwardResult<T> expected = ref::forward(config, params, src, tgt);
  ref::TensorMap<T> actual = forward(tgt);
  expectClose(actual["logits"], expected.logits, "logits");
  EXPECT_NEAR(actual["loss"].data[0], expected.loss,
              kTolerance * std::max(1.0, std::abs(double(expected.loss))));
}

TEST_P(CPUCodegenTest, EncoderMatchesReference) {
  Shape shape = GetParam();
  PackedCall call(convseq_encoder_args, std::size(convseq_encoder_args));
  ref::TensorMap<T> actual =
      call.run(convseq_encoder, params, {{}, {{"src_ids", src}}, {}},
               {{"enc_out", {shape.batch, shape.source, config.dModel}}});
  expectClose(actual["enc_out"], ref::encoder(config, params, src), "enc_out");
}

/// Decoding one token at a time gives the reference's step logits and state,
/// and the generated teacher-forced logits, for every step.
TEST_P(CPUCodegenTest, DecoderStepsMatchReferenceAndForward) {
  Shape shape = GetParam();
  ref::Tensor<T> encoded = ref::encoder(config, params, src);
  ref::TensorMap<T> expectedKV = ref::decoderInit(config, params, encoded);

  std::map<std::string, std::vector<int64_t>> kvShapes;
  for (const auto &[name, tensor] : expectedKV)
    kvShapes[name] = tensor.shape;
  PackedCall init(convseq_decoder_init_args,
                  std::size(convseq_decoder_init_args));
  ref::TensorMap<T> crossKV = init.run(
      convseq_decoder_init, params, {{{"enc_out", encoded}}, {}, {}}, kvShapes);
  for (const auto &[name, tensor] : expectedKV)
    expectClose(crossKV[name], tensor, name);

  ref::TensorMap<T> teacherForced = forward(tgt);
  ref::Ids decoderIds = ref::shiftRight(tgt);
  ref::TensorMap<T> state = ref::initialDecoderState<T>(config, shape.batch);
  PackedCall step(convseq_decoder_step_args,
                  std::size(convseq_decoder_step_args));
  for (int64_t t = 0; t < shape.target; ++t) {
    ref::Ids token({shape.batch, 1});
    for (int64_t b = 0; b < shape.batch; ++b)
      token.data[b] = decoderIds.data[b * shape.target + t];
    ref::StepResult<T> expected =
        ref::decoderStep(config, params, src, crossKV, state, token, t);

    Inputs inputs;
    inputs.ids = {{"src_ids", src}, {"token", token}};
    inputs.scalars = {{"position", t}};
    inputs.floats = crossKV;
    for (const auto &[name, tensor] : state)
      inputs.floats[name] = tensor;
    std::map<std::string, std::vector<int64_t>> shapes = {
        {"logits", {shape.batch, 1, config.vocabSize}}};
    for (const auto &[name, tensor] : expected.state)
      shapes[name] = tensor.shape;
    ref::TensorMap<T> actual =
        step.run(convseq_decoder_step, params, inputs, shapes);

    std::string at = " at step " + std::to_string(t);
    expectClose(actual["logits"], expected.logits, "step logits" + at);
    for (auto &[name, tensor] : expected.state) {
      expectClose(actual[name], tensor, name + at);
      state[name] = actual[name];
    }
    // Equal to the teacher-forced logits wherever the target is real.
    const ref::Tensor<T> &full = teacherForced["logits"];
    for (int64_t b = 0; b < shape.batch; ++b) {
      if (tgt.data[b * shape.target + t] == 0)
        continue;
      for (int64_t v = 0; v < config.vocabSize; ++v)
        ASSERT_NEAR(actual["logits"].data[b * config.vocabSize + v],
                    full.data[(b * shape.target + t) * config.vocabSize + v],
                    10 * kTolerance)
            << "row " << b << at;
    }
  }
}

/// The runtime's greedy decoding (runtime/Decode.h, width 1) runs the
/// compiled encoder, decoder_init and decoder steps, carrying the state and
/// arguments from step to step, and takes the most likely token each time:
/// every token it picks has the largest teacher-forced logit of its
/// position, up to the tolerance.
TEST_P(CPUCodegenTest, GreedyDecodingTakesTheLargestLogits) {
  namespace rt = convseq::runtime;
  Shape shape = GetParam();
  const convseq_entry_point entries[] = {
      CONVSEQ_ENTRY_POINT(encoder),
      CONVSEQ_ENTRY_POINT(decoder_init),
      CONVSEQ_ENTRY_POINT(decoder_step),
  };
  convseq_model compiled = {config.name.c_str(), entries,
                            int(std::size(entries)), "", ""};
  absl::StatusOr<rt::Model> model = rt::Model::create(compiled);
  ASSERT_TRUE(model.ok()) << model.status();
  for (auto &[name, tensor] : model->parameters()) {
    const ref::Tensor<T> &value = params.at(name);
    ASSERT_EQ(tensor.bytes.size(), value.data.size() * sizeof(T)) << name;
    std::memcpy(tensor.bytes.data(), value.data.data(), tensor.bytes.size());
  }
  rt::Tensor source =
      rt::Tensor::zeros(rt::Dtype::I32, {shape.batch, shape.source});
  for (size_t i = 0; i < src.data.size(); ++i)
    source.data<int32_t>()[i] = static_cast<int32_t>(src.data[i]);
  rt::DecodeOptions options;
  options.maxLength = shape.target;
  options.eosId = -1; // never chosen: every row decodes `target` tokens
  absl::StatusOr<std::vector<std::vector<int32_t>>> decoded =
      rt::beamDecode(*model, source, options, /*width=*/1);
  ASSERT_TRUE(decoded.ok()) << decoded.status();

  ref::Ids chosen({shape.batch, shape.target});
  for (int64_t b = 0; b < shape.batch; ++b) {
    ASSERT_EQ(static_cast<int64_t>((*decoded)[b].size()), shape.target);
    for (int64_t t = 0; t < shape.target; ++t)
      chosen.data[b * shape.target + t] = (*decoded)[b][t];
  }
  // Teacher forcing reads a target id 0 as padding: a row is compared up
  // to the first 0 it chose (untrained weights may choose it).
  ref::Tensor<T> logits = forward(chosen)["logits"];
  for (int64_t b = 0; b < shape.batch; ++b) {
    for (int64_t t = 0; t < shape.target; ++t) {
      if (chosen.data[b * shape.target + t] == 0)
        break;
      const T *row =
          logits.data.data() + (b * shape.target + t) * config.vocabSize;
      double largest = *std::max_element(row, row + config.vocabSize);
      double scale = std::max(1.0, std::abs(largest));
      EXPECT_GE(row[chosen.data[b * shape.target + t]],
                largest - 10 * kTolerance * scale)
          << "row " << b << " step " << t;
    }
  }
}

/// Changing a target changes no logit at or before its position.
TEST_P(CPUCodegenTest, GeneratedDecoderIsCausal) {
  Shape shape = GetParam();
  ref::TensorMap<T> before = forward(tgt);
  for (int64_t position = 0; position < shape.target; ++position) {
    ref::Ids changed = tgt;
    for (int64_t b = 0; b < shape.batch; ++b) {
      int64_t &id = changed.data[b * shape.target + position];
      id = id == 0 ? 0 : 3 + (id - 2) % (config.vocabSize - 3);
    }
    ref::TensorMap<T> after = forward(changed);
    for (int64_t b = 0; b < shape.batch; ++b)
      for (int64_t t = 0; t <= position; ++t)
        for (int64_t v = 0; v < config.vocabSize; ++v) {
          int64_t i = (b * shape.target + t) * config.vocabSize + v;
          ASSERT_EQ(after["logits"].data[i], before["logits"].data[i])
              << "target " << position << " changed logit " << t;
        }
  }
}

/// Dropout is a function of (seed, step): the same key gives bit-identical
/// losses, another step a different one.
TEST_P(CPUCodegenTest, TrainingForwardIsReproducible) {
  PackedCall call(convseq_forward_train_args,
                  std::size(convseq_forward_train_args));
  auto loss = [&](int64_t seed, int64_t step) {
    return call
        .run(convseq_forward_train, params,
             {{},
              {{"src_ids", src}, {"tgt_ids", tgt}},
              {{"seed", seed}, {"step", step}}},
             {{"loss", {}}})["loss"]
        .data[0];
  };
  T first = loss(7, 3);
  EXPECT_EQ(first, loss(7, 3));
  if (config.dropout > 0.0) {
    EXPECT_NE(first, loss(7, 4));
    EXPECT_NE(first, loss(8, 3));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CPUCodegenTest,
    ::testing::Values(Shape{1, 1, 1, false}, Shape{1, 5, 4, false},
                      Shape{3, 9, 7, true}, Shape{2, 6, 1, true},
                      Shape{4, 13, 11, true},
                      // More tokens than one parallel block of rows holds.
                      Shape{3, 67, 50, true}),
    [](const auto &info) {
      const Shape &s = info.param;
      return "B" + std::to_string(s.batch) + "_S" + std::to_string(s.source) +
             "_T" + std::to_string(s.target) + (s.pad ? "_padded" : "");
    });

} // namespace
