//===- Reference.h - Naive reference of the ops and the model ---*- C++ -*-===//
//
// An independent, deliberately naive implementation of every convseq
// primitive op and of the whole model (spec sections 1-4,
// docs/entry-points.md), written from the math alone. Generated code is tested
// against it; it is never linked into the compiler.
//
// Everything is a plain loop over a row-major `Tensor<T>`; `T` is float or
// double. Token ids are `Ids` (int64_t), padding masks are `Mask` (1 marks a
// real token). Dropout is not modelled: these are inference semantics.
//
// Shape errors abort with a message (also in release builds): a reference
// that silently reads out of bounds would be worse than none.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_TEST_REFERENCE_REFERENCE_H
#define CONVSEQ_TEST_REFERENCE_REFERENCE_H

#include "lib/Frontend/ModelConfig.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace convseq::reference {

using mlir::convseq::ModelConfig;

/// Aborts with `message` unless `condition` holds.
inline void require(bool condition, const char *message) {
  if (condition)
    return;
  std::fprintf(stderr, "convseq reference: %s\n", message);
  std::abort();
}

/// A dense row-major tensor: a shape and its elements.
template <typename T> struct Tensor {
  std::vector<int64_t> shape;
  std::vector<T> data;

  Tensor() = default;
  /// A tensor of `shape` filled with zeros.
  explicit Tensor(std::vector<int64_t> shape) : shape(std::move(shape)) {
    data.assign(count(this->shape), T());
  }
  /// A tensor of `shape` holding `values` in row-major order.
  Tensor(std::vector<int64_t> shape, std::vector<T> values)
      : shape(std::move(shape)), data(std::move(values)) {
    require(static_cast<int64_t>(data.size()) == count(this->shape),
            "tensor: value count does not match the shape");
  }

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t dim(int64_t i) const {
    require(i >= 0 && i < rank(), "tensor: dimension out of range");
    return shape[i];
  }
  int64_t numElements() const { return static_cast<int64_t>(data.size()); }

  /// The element at a full index, e.g. `x(b, i, c)`.
  template <typename... Index> T &operator()(Index... index) {
    return data[offset({static_cast<int64_t>(index)...})];
  }
  template <typename... Index> const T &operator()(Index... index) const {
    return data[offset({static_cast<int64_t>(index)...})];
  }

  /// Number of elements of a tensor of `shape`.
  static int64_t count(const std::vector<int64_t> &shape) {
    int64_t n = 1;
    for (int64_t d : shape) {
      require(d >= 0, "tensor: negative dimension");
      n *= d;
    }
    return n;
  }

private:
  int64_t offset(std::initializer_list<int64_t> index) const {
    require(static_cast<int64_t>(index.size()) == rank(),
            "tensor: index rank does not match the tensor rank");
    int64_t flat = 0;
    int64_t d = 0;
    for (int64_t i : index) {
      require(i >= 0 && i < shape[d], "tensor: index out of range");
      flat = flat * shape[d] + i;
      ++d;
    }
    return flat;
  }
};

using Ids = Tensor<int64_t>;
/// 1 for a real token, 0 for padding (`uint8_t` avoids `vector<bool>`).
using Mask = Tensor<uint8_t>;
/// Named tensors: parameters, decoder state, cross-attention keys/values.
template <typename T> using TensorMap = std::map<std::string, Tensor<T>>;

//===----------------------------------------------------------------------===//
// Primitive ops (dialect/ConvSeqPrimitiveOps.td)
//===----------------------------------------------------------------------===//

/// `result[..., o] = scale * sum_i input[..., i] * W[i, o]` with `W` =
/// `weight` (`[in, out]`) or, with `transposeWeight`, its transpose
/// (`weight` is `[out, in]`).
template <typename T>
Tensor<T> linear(const Tensor<T> &input, const Tensor<T> &weight,
                 bool transposeWeight = false, double scale = 1.0);

/// Element-wise `value * sigmoid(gate)`.
template <typename T>
Tensor<T> glu(const Tensor<T> &value, const Tensor<T> &gate);

/// Element-wise `max(x, 0)`.
template <typename T> Tensor<T> relu(const Tensor<T> &input);

/// Element-wise `0.5 x (1 + erf(x / sqrt(2)))`.
template <typename T> Tensor<T> gelu(const Tensor<T> &input);

/// Softmax over the last dimension, max-subtracted.
template <typename T> Tensor<T> softmax(const Tensor<T> &input);

/// `input [B, L, D]`, `weight [H, k]` (already normalized):
/// `out[b,i,c] = sum_j weight[c*H/D, j] * input[b, i+j-p, c]`, `p = k-1` if
/// `causal`, else `k/2`. Outside `[0, L)` and, with `mask [B, L]`, padded
/// positions read as zero.
template <typename T>
Tensor<T> lightweightConv(const Tensor<T> &input, const Tensor<T> &weight,
                          bool causal, const Mask *mask = nullptr);

/// `input [B, L, D]`, `kernel [B, L, H, k]`: as lightweightConv with the
/// weight `kernel[b, i]` of the output position.
template <typename T>
Tensor<T> dynamicConv(const Tensor<T> &input, const Tensor<T> &kernel,
                      bool causal, const Mask *mask = nullptr);

/// `input [B, L, D]`, `weight [D, k]` (raw):
/// `out[b,i,c] = sum_j weight[c, j] * input[b, i + r*(j-p), c]`.
template <typename T>
Tensor<T> dilatedConv(const Tensor<T> &input, const Tensor<T> &weight,
                      int64_t dilation, bool causal,
                      const Mask *mask = nullptr);

/// `x / sqrt(mean_c(x^2) + epsilon) * scale` over the last dimension.
template <typename T>
Tensor<T> rmsNorm(const Tensor<T> &input, const Tensor<T> &scale,
                  double epsilon = 1e-6);

/// `result[..., :] = table[ids[...], :]`; an id outside `[0, V)` reads zeros.
template <typename T>
Tensor<T> embedding(const Ids &ids, const Tensor<T> &table);

/// Adds sinusoidal positions to `input [B, L, D]`, row `i` at position
/// `offset + i`: channel `c < D/2` gets `sin(t / 10000^(c/(D/2-1)))`,
/// channel `D/2 + c` the matching cos.
template <typename T>
Tensor<T> addPositions(const Tensor<T> &input, int64_t offset = 0);

/// `[B, L, D] -> [B, H, L, D/H]`; channel `h*(D/H) + e` goes to `[b,h,l,e]`.
template <typename T>
Tensor<T> splitHeads(const Tensor<T> &input, int64_t heads);

/// `[B, H, L, E] -> [B, L, H*E]`, the inverse of splitHeads.
template <typename T> Tensor<T> mergeHeads(const Tensor<T> &input);

/// `softmax(Q K^T * scale + mask) V` per batch and head. `query [B,H,T,E]`,
/// `key [B,H,S,E]`, `value [B,H,S,F]`, result `[B,H,T,F]`. `scale` defaults
/// to `1/sqrt(E)`. `keyMask [B, S]` drops padded keys; with `causal` query
/// `i` sees keys `j <= i + S - T`. A query with no admissible key yields 0.
template <typename T>
Tensor<T> dotProductAttention(const Tensor<T> &query, const Tensor<T> &key,
                              const Tensor<T> &value,
                              const Mask *keyMask = nullptr,
                              bool causal = false,
                              std::optional<double> scale = std::nullopt);

/// 1 where `ids` differs from `padId`.
Mask paddingMask(const Ids &ids, int64_t padId = 0);

/// `[B, L]`: `result[b, 0] = startId`, `result[b, t] = ids[b, t-1]`.
Ids shiftRight(const Ids &ids, int64_t startId = 0);

/// Mean over the positions whose target is not `padId` of
/// `-(1-eps) log p[target] - eps/V sum_v log p[v]`, `p = softmax(logits)`;
/// 0 if every target is padding. `logits [..., V]`, `targets [...]`.
template <typename T>
T crossEntropy(const Tensor<T> &logits, const Ids &targets, int64_t padId = 0,
               double labelSmoothing = 0.0);

//===----------------------------------------------------------------------===//
// The model (spec sections 1-4, docs/entry-points.md)
//===----------------------------------------------------------------------===//

/// Every parameter of `config` with its shape, named as in
/// docs/entry-points.md. Sublayers come in the documented canonical order;
/// within a sublayer the gain comes first, then the weights in the order of
/// the docs' table. Nothing in the reference depends on this order.
std::vector<std::pair<std::string, std::vector<int64_t>>>
parameterShapes(const ModelConfig &config);

/// Reproducible random parameters: RMSNorm gains `1 + N(0, 0.1)` (not all 1,
/// so a misplaced gain shows), everything else `N(0, stddev)`; drawn in
/// double from `std::mt19937_64(seed)` in the order of parameterShapes, then
/// rounded to `T`, so float and double parameters agree up to rounding.
template <typename T>
TensorMap<T> randomParameters(const ModelConfig &config, uint64_t seed,
                              double stddev = 0.5);

/// `encoder`: `srcIds [B, S]` -> `enc_out [B, S, D]` (after the final norm).
template <typename T>
Tensor<T> encoder(const ModelConfig &config, const TensorMap<T> &params,
                  const Ids &srcIds);

/// `decoder_init`: `cross_kv.<l>.k` and `cross_kv.<l>.v`, `[B, H, S, D/H]`.
template <typename T>
TensorMap<T> decoderInit(const ModelConfig &config, const TensorMap<T> &params,
                         const Tensor<T> &encOut);

/// The decoder state at the start of decoding: `state.<l> [B, (k-1) r, D]`
/// of zeros (conv models) or empty caches `state.<l>.k`, `state.<l>.v
/// [B, H, 0, D/H]` (Transformer baseline).
template <typename T>
TensorMap<T> initialDecoderState(const ModelConfig &config, int64_t batch);

template <typename T> struct StepResult {
  /// `[B, 1, V]`.
  Tensor<T> logits;
  TensorMap<T> state;
};

/// `decoder_step`: one token per batch row (`token [B, 1]`) at `position`.
template <typename T>
StepResult<T> decoderStep(const ModelConfig &config, const TensorMap<T> &params,
                          const Ids &srcIds, const TensorMap<T> &crossKV,
                          const TensorMap<T> &state, const Ids &token,
                          int64_t position);

template <typename T> struct ForwardResult {
  /// Mean cross-entropy over non-pad targets (no label smoothing).
  T loss;
  /// `[B, T, V]`.
  Tensor<T> logits;
};

/// `forward`: the teacher-forced pass, `srcIds [B, S]`, `tgtIds [B, T]`.
template <typename T>
ForwardResult<T> forward(const ModelConfig &config, const TensorMap<T> &params,
                         const Ids &srcIds, const Ids &tgtIds);

//===----------------------------------------------------------------------===//
// Optimizers (docs/training.md), in f64
//===----------------------------------------------------------------------===//

/// The learning rate of update `step` (1 for the first) under `training`.
double learningRate(const mlir::convseq::TrainingConfig &training,
                    int64_t step);

/// One training step's update of `params` and `state` from `grads` (the
/// gradients of the trainable parameters, by parameter name): global-norm
/// clipping, then AdamW or Adafactor with the state named as the generated
/// train_step names it (`opt.m.<p>`, `opt.v.<p>`, `opt.v_row.<p>`,
/// `opt.v_col.<p>`); absent state starts at zero. Returns the gradient norm.
double optimizerStep(const mlir::convseq::TrainingConfig &training,
                     int64_t step, const TensorMap<double> &grads,
                     TensorMap<double> &params, TensorMap<double> &state);

} // namespace convseq::reference

#endif // CONVSEQ_TEST_REFERENCE_REFERENCE_H
