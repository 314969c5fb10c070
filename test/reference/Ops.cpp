//===- Ops.cpp - Naive reference of the convseq primitive ops -------------===//
//
// One function per primitive of dialect/ConvSeqPrimitiveOps.td, written as
// the plainest loops over the op's formula. Explicitly instantiated for float
// and double at the end.
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace convseq::reference {

namespace {

/// Number of rows when the last dimension is taken as the row length.
template <typename T> int64_t leadingCount(const Tensor<T> &x) {
  require(x.rank() >= 1, "expected a tensor of rank >= 1");
  return x.numElements() / std::max<int64_t>(x.shape.back(), 1);
}

/// Whether position `i` of row `b` is a real token (no mask: all are).
bool maskAllows(const Mask *mask, int64_t b, int64_t i) {
  return !mask || (*mask)(b, i) != 0;
}

/// `input[b, pos, c]`, or zero when `pos` is outside `[0, L)` or padded.
template <typename T>
T readInput(const Tensor<T> &input, const Mask *mask, int64_t b, int64_t pos,
            int64_t c) {
  if (pos < 0 || pos >= input.dim(1) || !maskAllows(mask, b, pos))
    return T(0);
  return input(b, pos, c);
}

template <typename T>
void checkConvOperands(const Tensor<T> &input, const Mask *mask) {
  require(input.rank() == 3, "conv: input must be [B, L, D]");
  if (mask)
    require(mask->rank() == 2 && mask->dim(0) == input.dim(0) &&
                mask->dim(1) == input.dim(1),
            "conv: mask must be [B, L]");
}

/// The head of channel `c` when `d` channels are split into `heads`
/// contiguous blocks: `floor(c * heads / d)`.
int64_t headOf(int64_t c, int64_t heads, int64_t d) { return c * heads / d; }

/// Padding offset of a width-`k` kernel: `k-1` (causal) or `k/2` (centred).
int64_t padOffset(int64_t k, bool causal) { return causal ? k - 1 : k / 2; }

} // namespace

//===----------------------------------------------------------------------===//
// Dense layers and element-wise ops
//===----------------------------------------------------------------------===//

template <typename T>
Tensor<T> linear(const Tensor<T> &input, const Tensor<T> &weight,
                 bool transposeWeight, double scale) {
  require(input.rank() >= 1 && weight.rank() == 2,
          "linear: expected input of rank >= 1 and a 2-d weight");
  int64_t in = transposeWeight ? weight.dim(1) : weight.dim(0);
  int64_t out = transposeWeight ? weight.dim(0) : weight.dim(1);
  require(input.shape.back() == in, "linear: inner dimensions differ");

  std::vector<int64_t> shape = input.shape;
  shape.back() = out;
  Tensor<T> result(shape);
  int64_t rows = leadingCount(input);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      T sum = 0;
      for (int64_t i = 0; i < in; ++i) {
        T w = transposeWeight ? weight(o, i) : weight(i, o);
        sum += input.data[r * in + i] * w;
      }
      result.data[r * out + o] = static_cast<T>(scale) * sum;
    }
  }
  return result;
}

template <typename T>
Tensor<T> glu(const Tensor<T> &value, const Tensor<T> &gate) {
  require(value.shape == gate.shape, "glu: value and gate shapes differ");
  Tensor<T> result(value.shape);
  for (int64_t e = 0; e < value.numElements(); ++e)
    result.data[e] = value.data[e] / (T(1) + std::exp(-gate.data[e]));
  return result;
}

template <typename T> Tensor<T> relu(const Tensor<T> &input) {
  Tensor<T> result(input.shape);
  for (int64_t e = 0; e < input.numElements(); ++e)
    result.data[e] = std::max(input.data[e], T(0));
  return result;
}

template <typename T> Tensor<T> gelu(const Tensor<T> &input) {
  Tensor<T> result(input.shape);
  for (int64_t e = 0; e < input.numElements(); ++e) {
    T x = input.data[e];
    result.data[e] = T(0.5) * x * (T(1) + std::erf(x / std::sqrt(T(2))));
  }
  return result;
}

template <typename T> Tensor<T> softmax(const Tensor<T> &input) {
  Tensor<T> result(input.shape);
  int64_t n = input.shape.empty() ? 0 : input.shape.back();
  int64_t rows = leadingCount(input);
  for (int64_t r = 0; r < rows; ++r) {
    const T *x = input.data.data() + r * n;
    T *y = result.data.data() + r * n;
    T max = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < n; ++j)
      max = std::max(max, x[j]);
    T sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      y[j] = std::exp(x[j] - max);
      sum += y[j];
    }
    for (int64_t j = 0; j < n; ++j)
      y[j] /= sum;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

template <typename T>
Tensor<T> lightweightConv(const Tensor<T> &input, const Tensor<T> &weight,
                          bool causal, const Mask *mask) {
  checkConvOperands(input, mask);
  require(weight.rank() == 2, "lightweight_conv: weight must be [H, k]");
  int64_t batch = input.dim(0), len = input.dim(1), d = input.dim(2);
  int64_t heads = weight.dim(0), k = weight.dim(1);
  require(heads >= 1 && d % heads == 0,
          "lightweight_conv: heads must divide the channels");
  int64_t p = padOffset(k, causal);

  Tensor<T> result(input.shape);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < len; ++i)
      for (int64_t c = 0; c < d; ++c) {
        T sum = 0;
        for (int64_t j = 0; j < k; ++j)
          sum += weight(headOf(c, heads, d), j) *
                 readInput(input, mask, b, i + j - p, c);
        result(b, i, c) = sum;
      }
  return result;
}

template <typename T>
Tensor<T> dynamicConv(const Tensor<T> &input, const Tensor<T> &kernel,
                      bool causal, const Mask *mask) {
  checkConvOperands(input, mask);
  require(kernel.rank() == 4 && kernel.dim(0) == input.dim(0) &&
              kernel.dim(1) == input.dim(1),
          "dynamic_conv: kernel must be [B, L, H, k]");
  int64_t batch = input.dim(0), len = input.dim(1), d = input.dim(2);
  int64_t heads = kernel.dim(2), k = kernel.dim(3);
  require(heads >= 1 && d % heads == 0,
          "dynamic_conv: heads must divide the channels");
  int64_t p = padOffset(k, causal);

  Tensor<T> result(input.shape);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < len; ++i)
      for (int64_t c = 0; c < d; ++c) {
        T sum = 0;
        for (int64_t j = 0; j < k; ++j)
          sum += kernel(b, i, headOf(c, heads, d), j) *
                 readInput(input, mask, b, i + j - p, c);
        result(b, i, c) = sum;
      }
  return result;
}

template <typename T>
Tensor<T> dilatedConv(const Tensor<T> &input, const Tensor<T> &weight,
                      int64_t dilation, bool causal, const Mask *mask) {
  checkConvOperands(input, mask);
  require(weight.rank() == 2 && weight.dim(0) == input.dim(2),
          "dilated_conv: weight must be [D, k]");
  require(dilation >= 1, "dilated_conv: dilation must be >= 1");
  int64_t batch = input.dim(0), len = input.dim(1), d = input.dim(2);
  int64_t k = weight.dim(1);
  int64_t p = padOffset(k, causal);

  Tensor<T> result(input.shape);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < len; ++i)
      for (int64_t c = 0; c < d; ++c) {
        T sum = 0;
        for (int64_t j = 0; j < k; ++j)
          sum += weight(c, j) *
                 readInput(input, mask, b, i + dilation * (j - p), c);
        result(b, i, c) = sum;
      }
  return result;
}

//===----------------------------------------------------------------------===//
// Normalization, embedding, positions
//===----------------------------------------------------------------------===//

template <typename T>
Tensor<T> rmsNorm(const Tensor<T> &input, const Tensor<T> &scale,
                  double epsilon) {
  int64_t d = input.shape.empty() ? 0 : input.shape.back();
  require(scale.rank() == 1 && scale.dim(0) == d,
          "rms_norm: scale must be [D]");
  Tensor<T> result(input.shape);
  int64_t rows = leadingCount(input);
  for (int64_t r = 0; r < rows; ++r) {
    T sumSquares = 0;
    for (int64_t c = 0; c < d; ++c)
      sumSquares += input.data[r * d + c] * input.data[r * d + c];
    T inverseRms =
        T(1) / std::sqrt(sumSquares / T(d) + static_cast<T>(epsilon));
    for (int64_t c = 0; c < d; ++c)
      result.data[r * d + c] = input.data[r * d + c] * inverseRms * scale(c);
  }
  return result;
}

template <typename T>
Tensor<T> embedding(const Ids &ids, const Tensor<T> &table) {
  require(table.rank() == 2, "embedding: table must be [V, D]");
  int64_t vocab = table.dim(0), d = table.dim(1);
  std::vector<int64_t> shape = ids.shape;
  shape.push_back(d);
  Tensor<T> result(shape);
  for (int64_t e = 0; e < ids.numElements(); ++e) {
    int64_t id = ids.data[e];
    if (id < 0 || id >= vocab)
      continue;
    for (int64_t c = 0; c < d; ++c)
      result.data[e * d + c] = table(id, c);
  }
  return result;
}

template <typename T>
Tensor<T> addPositions(const Tensor<T> &input, int64_t offset) {
  require(input.rank() == 3, "add_positions: input must be [B, L, D]");
  int64_t batch = input.dim(0), len = input.dim(1), d = input.dim(2);
  require(d % 2 == 0 && d >= 4, "add_positions: D must be even and >= 4");
  int64_t half = d / 2;

  Tensor<T> result = input;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < len; ++i) {
      double t = static_cast<double>(offset + i);
      for (int64_t c = 0; c < half; ++c) {
        double angle = t / std::pow(10000.0, static_cast<double>(c) /
                                                 static_cast<double>(half - 1));
        result(b, i, c) += static_cast<T>(std::sin(angle));
        result(b, i, half + c) += static_cast<T>(std::cos(angle));
      }
    }
  return result;
}

//===----------------------------------------------------------------------===//
// Attention pieces
//===----------------------------------------------------------------------===//

template <typename T>
Tensor<T> splitHeads(const Tensor<T> &input, int64_t heads) {
  require(input.rank() == 3, "split_heads: input must be [B, L, D]");
  int64_t batch = input.dim(0), len = input.dim(1), d = input.dim(2);
  require(heads >= 1 && d % heads == 0,
          "split_heads: heads must divide the channels");
  int64_t e = d / heads;
  Tensor<T> result({batch, heads, len, e});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t l = 0; l < len; ++l)
        for (int64_t x = 0; x < e; ++x)
          result(b, h, l, x) = input(b, l, h * e + x);
  return result;
}

template <typename T> Tensor<T> mergeHeads(const Tensor<T> &input) {
  require(input.rank() == 4, "merge_heads: input must be [B, H, L, E]");
  int64_t batch = input.dim(0), heads = input.dim(1), len = input.dim(2),
          e = input.dim(3);
  Tensor<T> result({batch, len, heads * e});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t l = 0; l < len; ++l)
        for (int64_t x = 0; x < e; ++x)
          result(b, l, h * e + x) = input(b, h, l, x);
  return result;
}

template <typename T>
Tensor<T> dotProductAttention(const Tensor<T> &query, const Tensor<T> &key,
                              const Tensor<T> &value, const Mask *keyMask,
                              bool causal, std::optional<double> scale) {
  require(query.rank() == 4 && key.rank() == 4 && value.rank() == 4,
          "dot_product_attention: operands must be 4-d");
  int64_t batch = query.dim(0), heads = query.dim(1), tLen = query.dim(2),
          e = query.dim(3);
  int64_t sLen = key.dim(2), f = value.dim(3);
  require(key.dim(0) == batch && key.dim(1) == heads && key.dim(3) == e,
          "dot_product_attention: key must be [B, H, S, E]");
  require(value.dim(0) == batch && value.dim(1) == heads &&
              value.dim(2) == sLen,
          "dot_product_attention: value must be [B, H, S, F]");
  if (keyMask)
    require(keyMask->rank() == 2 && keyMask->dim(0) == batch &&
                keyMask->dim(1) == sLen,
            "dot_product_attention: key mask must be [B, S]");
  T s = static_cast<T>(scale ? *scale : 1.0 / std::sqrt(double(e)));

  Tensor<T> result({batch, heads, tLen, f});
  std::vector<T> scores(sLen);
  std::vector<bool> admissible(sLen);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < tLen; ++i) {
        bool any = false;
        T max = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j < sLen; ++j) {
          admissible[j] =
              maskAllows(keyMask, b, j) && (!causal || j <= i + sLen - tLen);
          if (!admissible[j])
            continue;
          T dot = 0;
          for (int64_t x = 0; x < e; ++x)
            dot += query(b, h, i, x) * key(b, h, j, x);
          scores[j] = dot * s;
          max = any ? std::max(max, scores[j]) : scores[j];
          any = true;
        }
        if (!any)
          continue; // The result row stays zero.
        T sum = 0;
        for (int64_t j = 0; j < sLen; ++j) {
          scores[j] = admissible[j] ? std::exp(scores[j] - max) : T(0);
          sum += scores[j];
        }
        for (int64_t x = 0; x < f; ++x) {
          T acc = 0;
          for (int64_t j = 0; j < sLen; ++j)
            if (admissible[j])
              acc += scores[j] / sum * value(b, h, j, x);
          result(b, h, i, x) = acc;
        }
      }
  return result;
}

//===----------------------------------------------------------------------===//
// Token-level ops
//===----------------------------------------------------------------------===//

Mask paddingMask(const Ids &ids, int64_t padId) {
  Mask result(ids.shape);
  for (int64_t e = 0; e < ids.numElements(); ++e)
    result.data[e] = ids.data[e] != padId ? 1 : 0;
  return result;
}

Ids shiftRight(const Ids &ids, int64_t startId) {
  require(ids.rank() == 2, "shift_right: ids must be [B, L]");
  Ids result(ids.shape);
  for (int64_t b = 0; b < ids.dim(0); ++b)
    for (int64_t t = 0; t < ids.dim(1); ++t)
      result(b, t) = t == 0 ? startId : ids(b, t - 1);
  return result;
}

template <typename T>
T crossEntropy(const Tensor<T> &logits, const Ids &targets, int64_t padId,
               double labelSmoothing) {
  require(logits.rank() == targets.rank() + 1,
          "cross_entropy: logits must be targets' shape plus [V]");
  for (int64_t d = 0; d < targets.rank(); ++d)
    require(logits.dim(d) == targets.dim(d),
            "cross_entropy: logits and targets disagree on a dimension");
  int64_t vocab = logits.shape.back();
  T eps = static_cast<T>(labelSmoothing);

  T total = 0;
  int64_t count = 0;
  for (int64_t r = 0; r < targets.numElements(); ++r) {
    int64_t target = targets.data[r];
    if (target == padId)
      continue;
    require(target >= 0 && target < vocab,
            "cross_entropy: target id outside [0, V)");
    const T *x = logits.data.data() + r * vocab;
    T max = *std::max_element(x, x + vocab);
    T sumExp = 0;
    for (int64_t v = 0; v < vocab; ++v)
      sumExp += std::exp(x[v] - max);
    T logSum = max + std::log(sumExp);
    T sumLogP = 0;
    for (int64_t v = 0; v < vocab; ++v)
      sumLogP += x[v] - logSum;
    total += -(T(1) - eps) * (x[target] - logSum) - eps / T(vocab) * sumLogP;
    ++count;
  }
  return count == 0 ? T(0) : total / T(count);
}

//===----------------------------------------------------------------------===//
// Instantiations
//===----------------------------------------------------------------------===//

#define CONVSEQ_INSTANTIATE_OPS(T)                                             \
  template Tensor<T> linear(const Tensor<T> &, const Tensor<T> &, bool,        \
                            double);                                           \
  template Tensor<T> glu(const Tensor<T> &, const Tensor<T> &);                \
  template Tensor<T> relu(const Tensor<T> &);                                  \
  template Tensor<T> gelu(const Tensor<T> &);                                  \
  template Tensor<T> softmax(const Tensor<T> &);                               \
  template Tensor<T> lightweightConv(const Tensor<T> &, const Tensor<T> &,     \
                                     bool, const Mask *);                      \
  template Tensor<T> dynamicConv(const Tensor<T> &, const Tensor<T> &, bool,   \
                                 const Mask *);                                \
  template Tensor<T> dilatedConv(const Tensor<T> &, const Tensor<T> &,         \
                                 int64_t, bool, const Mask *);                 \
  template Tensor<T> rmsNorm(const Tensor<T> &, const Tensor<T> &, double);    \
  template Tensor<T> embedding(const Ids &, const Tensor<T> &);                \
  template Tensor<T> addPositions(const Tensor<T> &, int64_t);                 \
  template Tensor<T> splitHeads(const Tensor<T> &, int64_t);                   \
  template Tensor<T> mergeHeads(const Tensor<T> &);                            \
  template Tensor<T> dotProductAttention(const Tensor<T> &, const Tensor<T> &, \
                                         const Tensor<T> &, const Mask *,      \
                                         bool, std::optional<double>);         \
  template T crossEntropy(const Tensor<T> &, const Ids &, int64_t, double);

CONVSEQ_INSTANTIATE_OPS(float)
CONVSEQ_INSTANTIATE_OPS(double)

#undef CONVSEQ_INSTANTIATE_OPS

} // namespace convseq::reference
