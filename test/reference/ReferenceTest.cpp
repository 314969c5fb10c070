//===- ReferenceTest.cpp - Properties of the naive reference --------------===//
//
// The reference is only useful if it is right, so it is tested on its own:
// hand-computed values for every op, the invariants of the spec (causality,
// no leaks across padding, normalization), and, for every model family,
// that step-by-step decoding reproduces the teacher-forced logits.
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace convseq::reference;
using mlir::convseq::ConvVariant;
using mlir::convseq::ModelFamily;

namespace {

using TensorD = Tensor<double>;

constexpr double kExact = 1e-12;

void expectNear(const TensorD &actual, const TensorD &expected,
                double tolerance = kExact) {
  ASSERT_EQ(actual.shape, expected.shape);
  for (int64_t e = 0; e < actual.numElements(); ++e)
    EXPECT_NEAR(actual.data[e], expected.data[e], tolerance) << "element " << e;
}

TensorD randomTensor(std::vector<int64_t> shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  TensorD x(std::move(shape));
  for (double &v : x.data)
    v = normal(rng);
  return x;
}

/// The conv input used by the hand-computed cases: B=1, L=4, D=2, channel 0
/// holds 1 3 5 7 and channel 1 holds 2 4 6 8.
TensorD handInput() { return TensorD({1, 4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}); }

/// Per-head (lightweight) or per-channel (dilated) weights, k = 3.
TensorD handWeight() { return TensorD({2, 3}, {0.2, 0.3, 0.5, 0.1, 0.6, 0.3}); }

//===----------------------------------------------------------------------===//
// Dense layers and element-wise ops
//===----------------------------------------------------------------------===//

TEST(ReferenceOps, Linear) {
  TensorD x({2, 2}, {1, 2, 3, 4});
  TensorD w({2, 3}, {1, 0, 2, 0, 1, -1});
  expectNear(linear(x, w), TensorD({2, 3}, {1, 2, 0, 3, 4, 2}));

  // The same product from the transposed storage, scaled.
  TensorD wt({3, 2}, {1, 0, 0, 1, 2, -1});
  expectNear(linear(x, wt, /*transposeWeight=*/true, 0.5),
             TensorD({2, 3}, {0.5, 1, 0, 1.5, 2, 1}));

  // Leading dimensions are kept.
  TensorD x3({2, 1, 2}, {1, 2, 3, 4});
  expectNear(linear(x3, w), TensorD({2, 1, 3}, {1, 2, 0, 3, 4, 2}));
}

TEST(ReferenceOps, ElementWise) {
  expectNear(glu(TensorD({3}, {2, -4, 3}), TensorD({3}, {0, 0, 50})),
             TensorD({3}, {1, -2, 3}));
  expectNear(relu(TensorD({3}, {-1, 0, 2.5})), TensorD({3}, {0, 0, 2.5}));
  expectNear(gelu(TensorD({3}, {-1, 0, 1})),
             TensorD({3}, {-0.15865525393145707, 0, 0.8413447460685429}));
}

TEST(ReferenceOps, SoftmaxRowsSumToOne) {
  expectNear(softmax(TensorD({1, 2}, {0, std::log(3.0)})),
             TensorD({1, 2}, {0.25, 0.75}));

  // Max subtraction keeps huge logits finite.
  TensorD big = softmax(TensorD({1, 3}, {1000, 1000, 1000 - std::log(2.0)}));
  expectNear(big, TensorD({1, 3}, {0.4, 0.4, 0.2}));

  TensorD rows = softmax(randomTensor({3, 4, 7}, 1));
  for (int64_t r = 0; r < 12; ++r) {
    double sum = 0;
    for (int64_t j = 0; j < 7; ++j) {
      EXPECT_GT(rows.data[r * 7 + j], 0.0);
      sum += rows.data[r * 7 + j];
    }
    EXPECT_NEAR(sum, 1.0, kExact);
  }
}

//===----------------------------------------------------------------------===//
// Convolutions: hand-computed cases (D=2, L=4, k=3)
//===----------------------------------------------------------------------===//

TEST(ReferenceConv, LightweightByHand) {
  // Two heads of one channel each: channel c uses weight row c.
  // Centred (p = 1): out[i] = w0 a[i-1] + w1 a[i] + w2 a[i+1].
  expectNear(lightweightConv(handInput(), handWeight(), /*causal=*/false),
             TensorD({1, 4, 2}, {1.8, 2.4, 3.6, 4.4, 5.6, 6.4, 3.1, 5.4}));
  // Causal (p = 2): out[i] = w0 a[i-2] + w1 a[i-1] + w2 a[i].
  expectNear(lightweightConv(handInput(), handWeight(), /*causal=*/true),
             TensorD({1, 4, 2}, {0.5, 0.6, 1.8, 2.4, 3.6, 4.4, 5.6, 6.4}));
  // Position 2 padded: it reads as zero.
  Mask mask({1, 4}, {1, 1, 0, 1});
  expectNear(lightweightConv(handInput(), handWeight(), /*causal=*/true, &mask),
             TensorD({1, 4, 2}, {0.5, 0.6, 1.8, 2.4, 1.1, 2.6, 4.1, 2.8}));
}

TEST(ReferenceConv, LightweightHeadMapping) {
  // D=4, H=2, k=1: channels 0-1 use head 0, channels 2-3 head 1.
  TensorD x = randomTensor({2, 3, 4}, 2);
  TensorD out = lightweightConv(x, TensorD({2, 1}, {2, 3}), false);
  for (int64_t e = 0; e < x.numElements(); ++e)
    EXPECT_NEAR(out.data[e], (e % 4 < 2 ? 2 : 3) * x.data[e], kExact);
}

TEST(ReferenceConv, DynamicByHand) {
  // One head, a different kernel at each position.
  TensorD kernel({1, 4, 1, 3},
                 {0.5, 0.25, 0.25, 0, 1, 0, 0.25, 0.25, 0.5, 1, 0, 0});
  expectNear(dynamicConv(handInput(), kernel, /*causal=*/false),
             TensorD({1, 4, 2}, {1, 1.5, 3, 4, 5.5, 6.5, 5, 6}));
  expectNear(dynamicConv(handInput(), kernel, /*causal=*/true),
             TensorD({1, 4, 2}, {0.25, 0.5, 1, 2, 3.5, 4.5, 3, 4}));

  // D=4, H=2, k=1: head 1 scales channels 2-3 by its own kernel.
  TensorD x = randomTensor({1, 2, 4}, 3);
  TensorD heads({1, 2, 2, 1}, {2, 3, 5, 7});
  TensorD out = dynamicConv(x, heads, false);
  expectNear(out,
             TensorD({1, 2, 4}, {2 * x.data[0], 2 * x.data[1], 3 * x.data[2],
                                 3 * x.data[3], 5 * x.data[4], 5 * x.data[5],
                                 7 * x.data[6], 7 * x.data[7]}));
}

TEST(ReferenceConv, DilatedByHand) {
  // Dilation 2, raw per-channel weights.
  // Centred (p = 1): out[i] = w0 a[i-2] + w1 a[i] + w2 a[i+2].
  expectNear(dilatedConv(handInput(), handWeight(), 2, /*causal=*/false),
             TensorD({1, 4, 2}, {2.8, 3.0, 4.4, 4.8, 1.7, 3.8, 2.7, 5.2}));
  // Causal (p = 2): out[i] = w0 a[i-4] + w1 a[i-2] + w2 a[i].
  expectNear(dilatedConv(handInput(), handWeight(), 2, /*causal=*/true),
             TensorD({1, 4, 2}, {0.5, 0.6, 1.5, 1.2, 2.8, 3.0, 4.4, 4.8}));
  // Dilation 1 with the same weights is the lightweight conv with one head
  // per channel.
  expectNear(dilatedConv(handInput(), handWeight(), 1, true),
             lightweightConv(handInput(), handWeight(), true));
}

//===----------------------------------------------------------------------===//
// Convolutions: causality and padding, all variants
//===----------------------------------------------------------------------===//

enum class Conv { Lightweight, Dynamic, Dilated };

/// A conv of `kind` over `x [B, L, 4]`, k = 3, with fixed random weights.
TensorD runConv(Conv kind, const TensorD &x, bool causal, const Mask *mask) {
  switch (kind) {
  case Conv::Lightweight:
    return lightweightConv(x, softmax(randomTensor({2, 3}, 10)), causal, mask);
  case Conv::Dynamic:
    return dynamicConv(x, softmax(randomTensor({x.dim(0), x.dim(1), 2, 3}, 11)),
                       causal, mask);
  case Conv::Dilated:
    return dilatedConv(x, randomTensor({4, 3}, 12), 2, causal, mask);
  }
  return {};
}

void PrintTo(Conv kind, std::ostream *os) {
  const char *names[] = {"Lightweight", "Dynamic", "Dilated"};
  *os << names[static_cast<int>(kind)];
}

class ReferenceConvProperties : public ::testing::TestWithParam<Conv> {};

TEST_P(ReferenceConvProperties, CausalIgnoresTheFuture) {
  TensorD x = randomTensor({2, 7, 4}, 20);
  TensorD base = runConv(GetParam(), x, /*causal=*/true, nullptr);
  for (int64_t i = 0; i < 7; ++i) {
    TensorD changed = x;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t later = i + 1; later < 7; ++later)
        for (int64_t c = 0; c < 4; ++c)
          changed(b, later, c) += 1.0 + later;
    TensorD out = runConv(GetParam(), changed, true, nullptr);
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t j = 0; j < 7; ++j)
        for (int64_t c = 0; c < 4; ++c) {
          if (j <= i)
            EXPECT_EQ(out(b, j, c), base(b, j, c));
          else
            EXPECT_NE(out(b, j, c), base(b, j, c));
        }
  }
}

TEST_P(ReferenceConvProperties, CentredSeesBothSides) {
  TensorD x = randomTensor({1, 7, 4}, 21);
  TensorD base = runConv(GetParam(), x, /*causal=*/false, nullptr);
  TensorD changed = x;
  changed(0, 5, 0) += 1.0;
  TensorD out = runConv(GetParam(), changed, false, nullptr);
  // Position 5 reaches 4 (k=3, p=1), or 3 with dilation 2.
  int64_t before = GetParam() == Conv::Dilated ? 3 : 4;
  EXPECT_NE(out(0, before, 0), base(0, before, 0));
}

TEST_P(ReferenceConvProperties, PaddingDoesNotLeak) {
  TensorD x = randomTensor({2, 7, 4}, 22);
  Mask mask({2, 7}, {1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1});
  for (bool causal : {false, true}) {
    TensorD base = runConv(GetParam(), x, causal, &mask);
    TensorD changed = x;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t i = 0; i < 7; ++i)
        if (!mask(b, i))
          for (int64_t c = 0; c < 4; ++c)
            changed(b, i, c) = 100.0 + c;
    expectNear(runConv(GetParam(), changed, causal, &mask), base, 0.0);
    // Masking equals zeroing the input.
    TensorD zeroed = x;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t i = 0; i < 7; ++i)
        if (!mask(b, i))
          for (int64_t c = 0; c < 4; ++c)
            zeroed(b, i, c) = 0;
    expectNear(runConv(GetParam(), zeroed, causal, nullptr), base);
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, ReferenceConvProperties,
                         ::testing::Values(Conv::Lightweight, Conv::Dynamic,
                                           Conv::Dilated));

//===----------------------------------------------------------------------===//
// Normalization, embedding, positions
//===----------------------------------------------------------------------===//

TEST(ReferenceOps, RmsNorm) {
  double rms = std::sqrt(12.5);
  expectNear(rmsNorm(TensorD({1, 2}, {3, 4}), TensorD({2}, {1, 2}), 0.0),
             TensorD({1, 2}, {3 / rms, 8 / rms}));
  // Epsilon enters under the square root.
  expectNear(rmsNorm(TensorD({1, 2}, {0, 0}), TensorD({2}, {1, 1})),
             TensorD({1, 2}, {0, 0}));
  expectNear(rmsNorm(TensorD({2}, {1, 1}), TensorD({2}, {1, 1}), 3.0),
             TensorD({2}, {0.5, 0.5}));
}

TEST(ReferenceOps, EmbeddingOutOfRangeReadsZero) {
  TensorD table({3, 2}, {1, 2, 3, 4, 5, 6});
  Ids ids({2, 2}, {2, -1, 3, 0});
  expectNear(embedding(ids, table),
             TensorD({2, 2, 2}, {5, 6, 0, 0, 0, 0, 1, 2}));
}

TEST(ReferenceOps, AddPositions) {
  // D = 4: D/2 - 1 = 1, so channel 0 uses t and channel 1 uses t / 10000.
  TensorD zeros({1, 2, 4});
  expectNear(addPositions(zeros),
             TensorD({1, 2, 4}, {0, 0, 1, 1, std::sin(1.0), std::sin(1e-4),
                                 std::cos(1.0), std::cos(1e-4)}));
  // An offset continues the sequence: row 0 at offset 3 is row 3.
  TensorD x = randomTensor({2, 5, 8}, 30);
  TensorD full = addPositions(x);
  TensorD row({2, 1, 8});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 8; ++c)
      row(b, 0, c) = x(b, 3, c);
  TensorD shifted = addPositions(row, 3);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 8; ++c)
      EXPECT_NEAR(shifted(b, 0, c), full(b, 3, c), kExact);
}

//===----------------------------------------------------------------------===//
// Attention pieces
//===----------------------------------------------------------------------===//

TEST(ReferenceOps, SplitMergeHeads) {
  TensorD x = randomTensor({2, 3, 8}, 40);
  TensorD split = splitHeads(x, 2);
  ASSERT_EQ(split.shape, (std::vector<int64_t>{2, 2, 3, 4}));
  EXPECT_EQ(split(1, 1, 2, 3), x(1, 2, 7));
  EXPECT_EQ(split(0, 1, 0, 0), x(0, 0, 4));
  EXPECT_EQ(split(1, 0, 1, 2), x(1, 1, 2));
  expectNear(mergeHeads(split), x, 0.0);
}

TEST(ReferenceAttention, EqualKeysAverageValues) {
  // All keys equal: every admissible key gets the same probability.
  TensorD q = randomTensor({1, 2, 2, 3}, 50);
  TensorD k({1, 2, 3, 3});
  for (double &v : k.data)
    v = 0.7;
  TensorD v = randomTensor({1, 2, 3, 2}, 51);
  TensorD out = dotProductAttention(q, k, v);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t f = 0; f < 2; ++f)
        EXPECT_NEAR(out(0, h, i, f),
                    (v(0, h, 0, f) + v(0, h, 1, f) + v(0, h, 2, f)) / 3,
                    kExact);

  // A padded key drops out of the average.
  Mask mask({1, 3}, {1, 0, 1});
  out = dotProductAttention(q, k, v, &mask);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t f = 0; f < 2; ++f)
      EXPECT_NEAR(out(0, h, 1, f), (v(0, h, 0, f) + v(0, h, 2, f)) / 2, kExact);

  // Causal with T=2, S=3: query 0 sees keys 0-1, query 1 sees keys 0-2.
  out = dotProductAttention(q, k, v, nullptr, /*causal=*/true);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t f = 0; f < 2; ++f) {
      EXPECT_NEAR(out(0, h, 0, f), (v(0, h, 0, f) + v(0, h, 1, f)) / 2, kExact);
      EXPECT_NEAR(out(0, h, 1, f),
                  (v(0, h, 0, f) + v(0, h, 1, f) + v(0, h, 2, f)) / 3, kExact);
    }
}

TEST(ReferenceAttention, ScaleAndNoAdmissibleKey) {
  // Scores 0 and ln 3 give probabilities 1/4 and 3/4.
  TensorD q({1, 1, 1, 1}, {1});
  TensorD k({1, 1, 2, 1}, {0, 1});
  TensorD v({1, 1, 2, 2}, {4, 8, 0, 4});
  expectNear(dotProductAttention(q, k, v, nullptr, false, std::log(3.0)),
             TensorD({1, 1, 1, 2}, {1, 5}));
  // Default scale 1/sqrt(E): E = 4, scores 0 and 2 * 0.5 = 1.
  TensorD q4({1, 1, 1, 4}, {1, 1, 0, 0});
  TensorD k4({1, 1, 2, 4}, {0, 0, 0, 0, 1, 1, 0, 0});
  double p1 = std::exp(1.0) / (1 + std::exp(1.0));
  expectNear(dotProductAttention(q4, k4, v),
             TensorD({1, 1, 1, 2}, {4 * (1 - p1), 8 * (1 - p1) + 4 * p1}));

  // Causal with T=3 > S=2: query 0 has no admissible key and yields zeros.
  TensorD q3 = randomTensor({1, 1, 3, 1}, 52);
  TensorD out = dotProductAttention(q3, k, v, nullptr, true);
  EXPECT_EQ(out(0, 0, 0, 0), 0.0);
  EXPECT_EQ(out(0, 0, 0, 1), 0.0);
  EXPECT_NEAR(out(0, 0, 1, 0), 4.0, kExact);
  // Every key padded: zeros.
  Mask none({1, 2}, {0, 0});
  expectNear(dotProductAttention(q, k, v, &none), TensorD({1, 1, 1, 2}));
}

//===----------------------------------------------------------------------===//
// Token-level ops
//===----------------------------------------------------------------------===//

TEST(ReferenceOps, PaddingMaskAndShiftRight) {
  Ids ids({2, 3}, {5, 6, 0, 7, 0, 0});
  EXPECT_EQ(paddingMask(ids).data, (std::vector<uint8_t>{1, 1, 0, 1, 0, 0}));
  EXPECT_EQ(paddingMask(ids, 6).data, (std::vector<uint8_t>{1, 0, 1, 1, 1, 1}));
  EXPECT_EQ(shiftRight(ids).data, (std::vector<int64_t>{0, 5, 6, 0, 7, 0}));
  EXPECT_EQ(shiftRight(ids, 9).data, (std::vector<int64_t>{9, 5, 6, 9, 7, 0}));
}

TEST(ReferenceOps, CrossEntropy) {
  // Uniform logits: log V, with or without smoothing.
  TensorD uniform({2, 3, 5});
  for (double &v : uniform.data)
    v = 1.5;
  Ids targets({2, 3}, {1, 2, 3, 4, 0, 0});
  EXPECT_NEAR(crossEntropy(uniform, targets), std::log(5.0), kExact);
  EXPECT_NEAR(crossEntropy(uniform, targets, 0, 0.1), std::log(5.0), kExact);

  // V = 2, p = (1/4, 3/4); the pad position (huge logits) is ignored.
  TensorD logits({1, 3, 2}, {0, std::log(3.0), 7, -7, 1e3, 0});
  Ids tgt({1, 3}, {1, 0, 0});
  double eps = 0.2;
  double expected =
      -(1 - eps) * std::log(0.75) - eps / 2 * (std::log(0.25) + std::log(0.75));
  EXPECT_NEAR(crossEntropy(logits, tgt, 0, eps), expected, kExact);
  EXPECT_NEAR(crossEntropy(logits, tgt), -std::log(0.75), kExact);
  // Mean over two non-pad targets (pad id 5 here).
  Ids two({1, 3}, {1, 0, 5});
  EXPECT_NEAR(crossEntropy(logits, two, 5),
              (-std::log(0.75) + std::log1p(std::exp(-14.0))) / 2, 1e-9);

  // Only padding: 0.
  EXPECT_EQ(crossEntropy(logits, Ids({1, 3}, {0, 0, 0})), 0.0);
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

/// D=8, H=2, F=16, 2+2 layers, V=11, kernel widths 3 and 4.
ModelConfig tinyConfig(ModelFamily family, ConvVariant variant) {
  ModelConfig config;
  config.name = "tiny";
  config.family = family;
  config.dtype = mlir::convseq::ElementKind::F64;
  config.dModel = 8;
  config.heads = 2;
  config.dFF = 16;
  config.encoderLayers = 2;
  config.decoderLayers = 2;
  config.vocabSize = 11;
  config.conv.variant = variant;
  config.conv.encoderKernelSizes = {3, 4};
  config.conv.decoderKernelSizes = {4, 3};
  bool dilated = variant == ConvVariant::dilated;
  config.conv.encoderDilations =
      dilated ? std::vector<int64_t>{1, 2} : std::vector<int64_t>{1, 1};
  config.conv.decoderDilations =
      dilated ? std::vector<int64_t>{2, 3} : std::vector<int64_t>{1, 1};
  return config;
}

struct Family {
  const char *name;
  ModelFamily family;
  ConvVariant variant;
};

void PrintTo(const Family &family, std::ostream *os) { *os << family.name; }

std::string familyName(const ::testing::TestParamInfo<Family> &info) {
  return info.param.name;
}

class ReferenceModel : public ::testing::TestWithParam<Family> {
protected:
  ModelConfig config = tinyConfig(GetParam().family, GetParam().variant);
  TensorMap<double> params = randomParameters<double>(config, 7);
  // Row 1 is padded in both source and target.
  Ids src = Ids({2, 5}, {3, 4, 5, 6, 7, 8, 9, 10, 0, 0});
  Ids tgt = Ids({2, 4}, {4, 5, 6, 7, 9, 3, 0, 0});
};

TEST_P(ReferenceModel, StepByStepMatchesForward) {
  ForwardResult<double> full = forward(config, params, src, tgt);
  ASSERT_EQ(full.logits.shape, (std::vector<int64_t>{2, 4, 11}));

  TensorMap<double> crossKV =
      decoderInit(config, params, encoder(config, params, src));
  ASSERT_EQ(crossKV.size(), 4u);
  EXPECT_EQ(crossKV["cross_kv.1.v"].shape, (std::vector<int64_t>{2, 2, 5, 4}));
  TensorMap<double> state = initialDecoderState<double>(config, 2);
  Ids decoderIds = shiftRight(tgt, config.padId);

  int64_t compared = 0;
  double largest = 0, lossSum = 0;
  for (int64_t t = 0; t < 4; ++t) {
    Ids token({2, 1}, {decoderIds(0, t), decoderIds(1, t)});
    StepResult<double> step =
        decoderStep(config, params, src, crossKV, state, token, t);
    ASSERT_EQ(step.logits.shape, (std::vector<int64_t>{2, 1, 11}));
    ASSERT_EQ(step.state.size(), state.size());
    for (const auto &[name, value] : step.state) {
      std::vector<int64_t> expected = state[name].shape;
      if (config.family == ModelFamily::Transformer)
        ++expected[2]; // The cache grows by one position.
      EXPECT_EQ(value.shape, expected) << name;
    }
    state = std::move(step.state);

    for (int64_t b = 0; b < 2; ++b) {
      if (tgt(b, t) == config.padId)
        continue;
      ++compared;
      TensorD row({1, 11});
      for (int64_t v = 0; v < 11; ++v) {
        EXPECT_NEAR(step.logits(b, 0, v), full.logits(b, t, v), 1e-10)
            << "batch " << b << " step " << t << " vocab " << v;
        largest = std::max(largest, std::abs(step.logits(b, 0, v)));
        row(0, v) = step.logits(b, 0, v);
      }
      lossSum += crossEntropy(row, Ids({1}, {tgt(b, t)}));
    }
  }
  EXPECT_EQ(compared, 6);
  EXPECT_GT(largest, 1e-2); // Not trivially zero.
  EXPECT_NEAR(full.loss, lossSum / compared, 1e-10);
}

TEST_P(ReferenceModel, StateShapes) {
  TensorMap<double> state = initialDecoderState<double>(config, 3);
  if (config.family == ModelFamily::Transformer) {
    EXPECT_EQ(state["state.0.k"].shape, (std::vector<int64_t>{3, 2, 0, 4}));
    EXPECT_EQ(state["state.1.v"].shape, (std::vector<int64_t>{3, 2, 0, 4}));
    return;
  }
  // (k - 1) r rows: k = 4, 3 and r = 2, 3 for the dilated variant.
  bool dilated = config.conv.variant == ConvVariant::dilated;
  EXPECT_EQ(state["state.0"].shape,
            (std::vector<int64_t>{3, dilated ? 6 : 3, 8}));
  EXPECT_EQ(state["state.1"].shape,
            (std::vector<int64_t>{3, dilated ? 6 : 2, 8}));
  for (const auto &entry : state)
    for (double v : entry.second.data)
      EXPECT_EQ(v, 0.0);
}

TEST_P(ReferenceModel, PaddingDoesNotLeak) {
  // The padded row alone, without its padding, gives the same encoder output
  // and logits at its real positions.
  Ids shortSrc({1, 3}, {8, 9, 10});
  Ids shortTgt({1, 2}, {9, 3});
  TensorD enc = encoder(config, params, src);
  TensorD shortEnc = encoder(config, params, shortSrc);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t c = 0; c < 8; ++c)
      EXPECT_NEAR(enc(1, i, c), shortEnc(0, i, c), 1e-12);

  ForwardResult<double> full = forward(config, params, src, tgt);
  ForwardResult<double> alone = forward(config, params, shortSrc, shortTgt);
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t v = 0; v < 11; ++v)
      EXPECT_NEAR(full.logits(1, t, v), alone.logits(0, t, v), 1e-12);
}

TEST_P(ReferenceModel, DecoderSeesPastNotFuture) {
  ForwardResult<double> base = forward(config, params, src, tgt);
  // Changing target 2 changes decoder input 3 only: logits 0-2 are
  // unchanged, logit 3 changes.
  Ids laterChange = tgt;
  laterChange(0, 2) = 1;
  ForwardResult<double> later = forward(config, params, src, laterChange);
  for (int64_t t = 0; t < 4; ++t) {
    double diff = 0;
    for (int64_t v = 0; v < 11; ++v)
      diff = std::max(diff,
                      std::abs(later.logits(0, t, v) - base.logits(0, t, v)));
    if (t < 3)
      EXPECT_EQ(diff, 0.0) << "position " << t;
    else
      EXPECT_GT(diff, 1e-6) << "position " << t;
  }
  // Target 0 reaches the last position through the stack.
  Ids earlyChange = tgt;
  earlyChange(0, 0) = 2;
  ForwardResult<double> early = forward(config, params, src, earlyChange);
  EXPECT_GT(std::abs(early.logits(0, 3, 0) - base.logits(0, 3, 0)), 1e-9);
  // The source reaches the decoder through cross-attention.
  Ids otherSrc = src;
  otherSrc(0, 4) = 1;
  ForwardResult<double> cross = forward(config, params, otherSrc, tgt);
  EXPECT_GT(std::abs(cross.logits(0, 0, 0) - base.logits(0, 0, 0)), 1e-9);
}

TEST_P(ReferenceModel, FloatAgreesWithDouble) {
  TensorMap<float> paramsF = randomParameters<float>(config, 7);
  ForwardResult<float> f = forward(config, paramsF, src, tgt);
  ForwardResult<double> d = forward(config, params, src, tgt);
  for (int64_t e = 0; e < d.logits.numElements(); ++e)
    EXPECT_NEAR(f.logits.data[e], d.logits.data[e], 1e-4);
  EXPECT_NEAR(f.loss, d.loss, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(
    AllFamilies, ReferenceModel,
    ::testing::Values(
        Family{"Lightweight", ModelFamily::ConvSeq2Seq,
               ConvVariant::lightweight},
        Family{"Dynamic", ModelFamily::ConvSeq2Seq, ConvVariant::dynamic},
        Family{"Dilated", ModelFamily::ConvSeq2Seq, ConvVariant::dilated},
        Family{"Transformer", ModelFamily::Transformer,
               ConvVariant::lightweight}),
    familyName);

/// The small reference configuration (spec section 9) of each family.
ModelConfig smallConfig(ModelFamily family, ConvVariant variant) {
  ModelConfig config;
  config.family = family;
  config.dModel = 256;
  config.heads = 4;
  config.dFF = 1024;
  config.encoderLayers = 4;
  config.decoderLayers = 4;
  config.vocabSize = 8000;
  config.conv.variant = variant;
  config.conv.encoderKernelSizes =
      config.conv.decoderKernelSizes = {7, 7, 7, 7};
  config.conv.encoderDilations = config.conv.decoderDilations = {1, 2, 4, 8};
  return config;
}

int64_t parameterCount(const ModelConfig &config) {
  int64_t total = 0;
  for (const auto &entry : parameterShapes(config))
    total += Tensor<double>::count(entry.second);
  return total;
}

TEST(ReferenceParameters, CountsMatchTheDocs) {
  // docs/entry-points.md, "Parameter counts".
  EXPECT_EQ(parameterCount(smallConfig(ModelFamily::ConvSeq2Seq,
                                       ConvVariant::lightweight)),
            8869600);
  EXPECT_EQ(parameterCount(
                smallConfig(ModelFamily::ConvSeq2Seq, ConvVariant::dynamic)),
            8926720);
  EXPECT_EQ(parameterCount(
                smallConfig(ModelFamily::ConvSeq2Seq, ConvVariant::dilated)),
            8883712);
  EXPECT_EQ(parameterCount(smallConfig(ModelFamily::Transformer,
                                       ConvVariant::lightweight)),
            9393664);
}

TEST(ReferenceParameters, RandomParametersAreReproducible) {
  ModelConfig config =
      tinyConfig(ModelFamily::ConvSeq2Seq, ConvVariant::dynamic);
  TensorMap<double> a = randomParameters<double>(config, 3);
  TensorMap<double> b = randomParameters<double>(config, 3);
  TensorMap<double> c = randomParameters<double>(config, 4);
  EXPECT_EQ(a.size(), parameterShapes(config).size());
  EXPECT_EQ(a["decoder.layers.1.conv.w_conv"].shape,
            (std::vector<int64_t>{8, 6}));
  EXPECT_EQ(a["embedding"].data, b["embedding"].data);
  EXPECT_NE(a["embedding"].data, c["embedding"].data);
}

} // namespace
