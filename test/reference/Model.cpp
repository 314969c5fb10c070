//===- Model.cpp - Naive reference of the convseq entry points ------------===//
//
// The encoder, decoder_init, decoder_step and forward entry points of
// docs/entry-points.md, composed from the primitive ops of Ops.cpp exactly as
// spec sections 1-4 write them: pre-norm sublayers `x + f(rms_norm(x))`, conv
// blocks `linear -> glu -> conv -> linear`, multi-head attention, the ReLU
// FFN and tied output logits `h E^T D^-0.5`.
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace convseq::reference {

using mlir::convseq::ConvVariant;
using mlir::convseq::ModelFamily;

namespace {

//===----------------------------------------------------------------------===//
// Tensor plumbing the model needs besides the ops
//===----------------------------------------------------------------------===//

template <typename T>
const Tensor<T> &param(const TensorMap<T> &params, const std::string &name) {
  auto it = params.find(name);
  if (it == params.end()) {
    std::fprintf(stderr, "convseq reference: missing tensor '%s'\n",
                 name.c_str());
    std::abort();
  }
  return it->second;
}

template <typename T> Tensor<T> add(const Tensor<T> &x, const Tensor<T> &y) {
  require(x.shape == y.shape, "add: shapes differ");
  Tensor<T> result = x;
  for (int64_t e = 0; e < x.numElements(); ++e)
    result.data[e] += y.data[e];
  return result;
}

/// `where(mask, x, 0)` for `x [B, L, D]` and `mask [B, L]`.
template <typename T> Tensor<T> zeroPadded(const Tensor<T> &x, const Mask &m) {
  Tensor<T> result = x;
  for (int64_t b = 0; b < x.dim(0); ++b)
    for (int64_t i = 0; i < x.dim(1); ++i)
      if (!m(b, i))
        for (int64_t c = 0; c < x.dim(2); ++c)
          result(b, i, c) = 0;
  return result;
}

/// Products of the dimensions before and after `axis`.
template <typename T>
std::pair<int64_t, int64_t> outerInner(const Tensor<T> &x, int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    inner *= x.dim(d);
  return {outer, inner};
}

/// `x` and `y` joined along `axis`; all other dimensions must agree.
template <typename T>
Tensor<T> concat(const Tensor<T> &x, const Tensor<T> &y, int64_t axis) {
  require(x.rank() == y.rank(), "concat: ranks differ");
  for (int64_t d = 0; d < x.rank(); ++d)
    require(d == axis || x.dim(d) == y.dim(d), "concat: shapes differ");
  std::vector<int64_t> shape = x.shape;
  shape[axis] += y.dim(axis);
  Tensor<T> result(shape);
  auto [outer, inner] = outerInner(x, axis);
  int64_t xBlock = x.dim(axis) * inner, yBlock = y.dim(axis) * inner;
  for (int64_t o = 0; o < outer; ++o) {
    T *out = result.data.data() + o * (xBlock + yBlock);
    std::copy_n(x.data.data() + o * xBlock, xBlock, out);
    std::copy_n(y.data.data() + o * yBlock, yBlock, out + xBlock);
  }
  return result;
}

/// Indices `[begin, end)` of `x` along `axis`.
template <typename T>
Tensor<T> slice(const Tensor<T> &x, int64_t axis, int64_t begin, int64_t end) {
  require(0 <= begin && begin <= end && end <= x.dim(axis), "slice: bad range");
  std::vector<int64_t> shape = x.shape;
  shape[axis] = end - begin;
  Tensor<T> result(shape);
  auto [outer, inner] = outerInner(x, axis);
  int64_t block = (end - begin) * inner;
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(x.data.data() + (o * x.dim(axis) + begin) * inner, block,
                result.data.data() + o * block);
  return result;
}

//===----------------------------------------------------------------------===//
// Model structure
//===----------------------------------------------------------------------===//

std::string layerPrefix(const char *stack, int64_t layer) {
  return std::string(stack) + ".layers." + std::to_string(layer) + ".";
}

bool isTransformer(const ModelConfig &config) {
  return config.family == ModelFamily::Transformer;
}

int64_t kernelSize(const ModelConfig &config, bool decoder, int64_t layer) {
  const std::vector<int64_t> &sizes =
      decoder ? config.conv.decoderKernelSizes : config.conv.encoderKernelSizes;
  require(layer < static_cast<int64_t>(sizes.size()),
          "config: no kernel size for a layer");
  return sizes[layer];
}

/// The dilation of a layer; only the dilated variant has one.
int64_t dilationOf(const ModelConfig &config, bool decoder, int64_t layer) {
  if (config.conv.variant != ConvVariant::dilated)
    return 1;
  const std::vector<int64_t> &rates =
      decoder ? config.conv.decoderDilations : config.conv.encoderDilations;
  require(layer < static_cast<int64_t>(rates.size()),
          "config: no dilation for a layer");
  return rates[layer];
}

std::vector<int64_t> convWeightShape(const ModelConfig &config, int64_t k) {
  switch (config.conv.variant) {
  case ConvVariant::lightweight:
    return {config.heads, k};
  case ConvVariant::dynamic:
    return {config.dModel, config.heads * k};
  case ConvVariant::dilated:
    return {config.dModel, k};
  }
  require(false, "config: unknown conv variant");
  return {};
}

/// `Conv(a)` of spec section 2 for the layer's variant. `wConv` is the raw
/// parameter; lightweight and dynamic kernels are softmax-normalized here.
template <typename T>
Tensor<T> convolve(const ModelConfig &config, const Tensor<T> &wConv,
                   const Tensor<T> &a, int64_t k, int64_t dilation, bool causal,
                   const Mask *mask) {
  require(wConv.shape == convWeightShape(config, k),
          "conv: w_conv does not have the variant's shape");
  switch (config.conv.variant) {
  case ConvVariant::lightweight:
    return lightweightConv(a, softmax(wConv), causal, mask);
  case ConvVariant::dynamic: {
    Tensor<T> raw = linear(a, wConv);
    raw.shape = {a.dim(0), a.dim(1), config.heads, k};
    return dynamicConv(a, softmax(raw), causal, mask);
  }
  case ConvVariant::dilated:
    return dilatedConv(a, wConv, dilation, causal, mask);
  }
  require(false, "config: unknown conv variant");
  return {};
}

/// The GLU of a conv block, `(x W_in) * sigmoid(x W_gate)`.
template <typename T>
Tensor<T> convGlu(const TensorMap<T> &params, const std::string &prefix,
                  const Tensor<T> &x) {
  return glu(linear(x, param(params, prefix + "w_in")),
             linear(x, param(params, prefix + "w_gate")));
}

/// The whole conv block over a sequence; `mask` zeroes padded GLU outputs.
template <typename T>
Tensor<T> convBlock(const ModelConfig &config, const TensorMap<T> &params,
                    const std::string &prefix, int64_t k, int64_t dilation,
                    bool causal, const Mask &mask, const Tensor<T> &x) {
  Tensor<T> a = zeroPadded(convGlu(params, prefix, x), mask);
  Tensor<T> c = convolve(config, param(params, prefix + "w_conv"), a, k,
                         dilation, causal, &mask);
  return linear(c, param(params, prefix + "w_out"));
}

/// `memory W_k` and `memory W_v`, split into heads.
template <typename T>
std::pair<Tensor<T>, Tensor<T>>
keysValues(const ModelConfig &config, const TensorMap<T> &params,
           const std::string &prefix, const Tensor<T> &memory) {
  return {
      splitHeads(linear(memory, param(params, prefix + "w_k")), config.heads),
      splitHeads(linear(memory, param(params, prefix + "w_v")), config.heads)};
}

/// Multi-head attention of `x` to keys/values already split into heads.
template <typename T>
Tensor<T> attend(const ModelConfig &config, const TensorMap<T> &params,
                 const std::string &prefix, const Tensor<T> &x,
                 const Tensor<T> &keys, const Tensor<T> &values,
                 const Mask *keyMask, bool causal) {
  Tensor<T> q =
      splitHeads(linear(x, param(params, prefix + "w_q")), config.heads);
  double scale = 1.0 / std::sqrt(double(config.dModel / config.heads));
  Tensor<T> o = dotProductAttention(q, keys, values, keyMask, causal, scale);
  return linear(mergeHeads(o), param(params, prefix + "w_o"));
}

template <typename T>
Tensor<T> attention(const ModelConfig &config, const TensorMap<T> &params,
                    const std::string &prefix, const Tensor<T> &x,
                    const Tensor<T> &memory, const Mask *keyMask, bool causal) {
  auto [keys, values] = keysValues(config, params, prefix, memory);
  return attend(config, params, prefix, x, keys, values, keyMask, causal);
}

template <typename T>
Tensor<T> ffn(const TensorMap<T> &params, const std::string &prefix,
              const Tensor<T> &x) {
  return linear(relu(linear(x, param(params, prefix + "w_1"))),
                param(params, prefix + "w_2"));
}

/// `RMSNorm` with the gain `<prefix>norm.scale`.
template <typename T>
Tensor<T> preNorm(const ModelConfig &config, const TensorMap<T> &params,
                  const std::string &prefix, const Tensor<T> &x) {
  return rmsNorm(x, param(params, prefix + "norm.scale"),
                 config.rmsNormEpsilon);
}

/// Token embeddings (plus positions for the Transformer baseline).
template <typename T>
Tensor<T> embed(const ModelConfig &config, const TensorMap<T> &params,
                const Ids &ids, int64_t firstPosition) {
  Tensor<T> x = embedding(ids, param(params, "embedding"));
  if (isTransformer(config))
    x = addPositions(x, firstPosition);
  return x;
}

/// `h E^T D^-0.5` after the decoder's final norm.
template <typename T>
Tensor<T> outputLogits(const ModelConfig &config, const TensorMap<T> &params,
                       const Tensor<T> &y) {
  Tensor<T> h = rmsNorm(y, param(params, "decoder.final_norm.scale"),
                        config.rmsNormEpsilon);
  return linear(h, param(params, "embedding"), /*transposeWeight=*/true,
                1.0 / std::sqrt(double(config.dModel)));
}

/// Cross-attention then FFN, the part of a decoder layer shared by the
/// teacher-forced pass and the step.
template <typename T>
Tensor<T> decoderLayerTail(const ModelConfig &config,
                           const TensorMap<T> &params,
                           const std::string &prefix, const Tensor<T> &y,
                           const Tensor<T> &crossKeys,
                           const Tensor<T> &crossValues, const Mask &srcMask) {
  std::string cross = prefix + "cross_attention.";
  Tensor<T> z =
      add(y, attend(config, params, cross, preNorm(config, params, cross, y),
                    crossKeys, crossValues, &srcMask, /*causal=*/false));
  std::string f = prefix + "ffn.";
  return add(z, ffn(params, f, preNorm(config, params, f, z)));
}

} // namespace

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

std::vector<std::pair<std::string, std::vector<int64_t>>>
parameterShapes(const ModelConfig &config) {
  int64_t d = config.dModel;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  auto addAttention = [&](const std::string &prefix) {
    shapes.push_back({prefix + "norm.scale", {d}});
    for (const char *w : {"w_q", "w_k", "w_v", "w_o"})
      shapes.push_back({prefix + w, {d, d}});
  };
  auto addMixing = [&](const char *stack, int64_t layer) {
    std::string prefix = layerPrefix(stack, layer);
    if (isTransformer(config)) {
      addAttention(prefix + "self_attention.");
      return;
    }
    std::string conv = prefix + "conv.";
    shapes.push_back({conv + "norm.scale", {d}});
    for (const char *w : {"w_in", "w_gate", "w_out"})
      shapes.push_back({conv + w, {d, d}});
    int64_t k = kernelSize(config, std::string(stack) == "decoder", layer);
    shapes.push_back({conv + "w_conv", convWeightShape(config, k)});
  };
  auto addFfn = [&](const char *stack, int64_t layer) {
    std::string prefix = layerPrefix(stack, layer) + "ffn.";
    shapes.push_back({prefix + "norm.scale", {d}});
    shapes.push_back({prefix + "w_1", {d, config.dFF}});
    shapes.push_back({prefix + "w_2", {config.dFF, d}});
  };

  shapes.push_back({"embedding", {config.vocabSize, d}});
  for (int64_t l = 0; l < config.encoderLayers; ++l) {
    addMixing("encoder", l);
    addFfn("encoder", l);
  }
  shapes.push_back({"encoder.final_norm.scale", {d}});
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    addMixing("decoder", l);
    addAttention(layerPrefix("decoder", l) + "cross_attention.");
    addFfn("decoder", l);
  }
  shapes.push_back({"decoder.final_norm.scale", {d}});
  return shapes;
}

template <typename T>
TensorMap<T> randomParameters(const ModelConfig &config, uint64_t seed,
                              double stddev) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  TensorMap<T> params;
  for (const auto &[name, shape] : parameterShapes(config)) {
    bool isGain = name.size() >= 10 &&
                  name.compare(name.size() - 10, 10, "norm.scale") == 0;
    Tensor<T> value(shape);
    for (T &x : value.data)
      x = static_cast<T>(isGain ? 1.0 + 0.1 * normal(rng)
                                : stddev * normal(rng));
    params[name] = std::move(value);
  }
  return params;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

template <typename T>
Tensor<T> encoder(const ModelConfig &config, const TensorMap<T> &params,
                  const Ids &srcIds) {
  require(srcIds.rank() == 2, "encoder: src_ids must be [B, S]");
  Mask mask = paddingMask(srcIds, config.padId);
  Tensor<T> x = embed(config, params, srcIds, /*firstPosition=*/0);
  for (int64_t l = 0; l < config.encoderLayers; ++l) {
    std::string prefix = layerPrefix("encoder", l);
    if (isTransformer(config)) {
      std::string sa = prefix + "self_attention.";
      Tensor<T> xn = preNorm(config, params, sa, x);
      x = add(x, attention(config, params, sa, xn, xn, &mask,
                           /*causal=*/false));
    } else {
      std::string conv = prefix + "conv.";
      x = add(x, convBlock(config, params, conv, kernelSize(config, false, l),
                           dilationOf(config, false, l), /*causal=*/false, mask,
                           preNorm(config, params, conv, x)));
    }
    std::string f = prefix + "ffn.";
    x = add(x, ffn(params, f, preNorm(config, params, f, x)));
  }
  return rmsNorm(x, param(params, "encoder.final_norm.scale"),
                 config.rmsNormEpsilon);
}

template <typename T>
TensorMap<T> decoderInit(const ModelConfig &config, const TensorMap<T> &params,
                         const Tensor<T> &encOut) {
  TensorMap<T> crossKV;
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    std::string name = "cross_kv." + std::to_string(l);
    auto [keys, values] = keysValues(
        config, params, layerPrefix("decoder", l) + "cross_attention.", encOut);
    crossKV[name + ".k"] = std::move(keys);
    crossKV[name + ".v"] = std::move(values);
  }
  return crossKV;
}

template <typename T>
TensorMap<T> initialDecoderState(const ModelConfig &config, int64_t batch) {
  TensorMap<T> state;
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    std::string name = "state." + std::to_string(l);
    if (isTransformer(config)) {
      int64_t e = config.dModel / config.heads;
      state[name + ".k"] = Tensor<T>({batch, config.heads, 0, e});
      state[name + ".v"] = Tensor<T>({batch, config.heads, 0, e});
    } else {
      int64_t rows =
          (kernelSize(config, true, l) - 1) * dilationOf(config, true, l);
      state[name] = Tensor<T>({batch, rows, config.dModel});
    }
  }
  return state;
}

template <typename T>
StepResult<T> decoderStep(const ModelConfig &config, const TensorMap<T> &params,
                          const Ids &srcIds, const TensorMap<T> &crossKV,
                          const TensorMap<T> &state, const Ids &token,
                          int64_t position) {
  require(token.rank() == 2 && token.dim(1) == 1,
          "decoder_step: token must be [B, 1]");
  Mask srcMask = paddingMask(srcIds, config.padId);
  StepResult<T> result;
  Tensor<T> y = embed(config, params, token, position);
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    std::string prefix = layerPrefix("decoder", l);
    std::string name = "state." + std::to_string(l);
    if (isTransformer(config)) {
      std::string sa = prefix + "self_attention.";
      Tensor<T> yn = preNorm(config, params, sa, y);
      auto [newKeys, newValues] = keysValues(config, params, sa, yn);
      Tensor<T> keys = concat(param(state, name + ".k"), newKeys, 2);
      Tensor<T> values = concat(param(state, name + ".v"), newValues, 2);
      y = add(y, attend(config, params, sa, yn, keys, values,
                        /*keyMask=*/nullptr, /*causal=*/true));
      result.state[name + ".k"] = std::move(keys);
      result.state[name + ".v"] = std::move(values);
    } else {
      // The new GLU output goes behind the state; the causal conv over that
      // window yields this step's output in its last row.
      std::string conv = prefix + "conv.";
      int64_t k = kernelSize(config, true, l);
      int64_t dilation = dilationOf(config, true, l);
      const Tensor<T> &old = param(state, name);
      require(old.rank() == 3 && old.dim(1) == (k - 1) * dilation,
              "decoder_step: conv state must be [B, (k-1) r, D]");
      Tensor<T> a = convGlu(params, conv, preNorm(config, params, conv, y));
      Tensor<T> window = concat(old, a, 1);
      int64_t len = window.dim(1);
      Tensor<T> c = convolve(config, param(params, conv + "w_conv"), window, k,
                             dilation, /*causal=*/true, /*mask=*/nullptr);
      y = add(y,
              linear(slice(c, 1, len - 1, len), param(params, conv + "w_out")));
      result.state[name] = slice(window, 1, 1, len);
    }
    std::string cross = "cross_kv." + std::to_string(l);
    y = decoderLayerTail(config, params, prefix, y,
                         param(crossKV, cross + ".k"),
                         param(crossKV, cross + ".v"), srcMask);
  }
  result.logits = outputLogits(config, params, y);
  return result;
}

template <typename T>
ForwardResult<T> forward(const ModelConfig &config, const TensorMap<T> &params,
                         const Ids &srcIds, const Ids &tgtIds) {
  require(tgtIds.rank() == 2 && srcIds.rank() == 2 &&
              tgtIds.dim(0) == srcIds.dim(0),
          "forward: expected src_ids [B, S] and tgt_ids [B, T]");
  Tensor<T> encOut = encoder(config, params, srcIds);
  Mask srcMask = paddingMask(srcIds, config.padId);
  Mask tgtMask = paddingMask(tgtIds, config.padId);
  Ids decoderIds = shiftRight(tgtIds, config.padId);

  Tensor<T> y = embed(config, params, decoderIds, /*firstPosition=*/0);
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    std::string prefix = layerPrefix("decoder", l);
    if (isTransformer(config)) {
      std::string sa = prefix + "self_attention.";
      Tensor<T> yn = preNorm(config, params, sa, y);
      y = add(y, attention(config, params, sa, yn, yn, /*keyMask=*/nullptr,
                           /*causal=*/true));
    } else {
      std::string conv = prefix + "conv.";
      y = add(y, convBlock(config, params, conv, kernelSize(config, true, l),
                           dilationOf(config, true, l), /*causal=*/true,
                           tgtMask, preNorm(config, params, conv, y)));
    }
    auto [crossKeys, crossValues] =
        keysValues(config, params, prefix + "cross_attention.", encOut);
    y = decoderLayerTail(config, params, prefix, y, crossKeys, crossValues,
                         srcMask);
  }
  ForwardResult<T> result;
  result.logits = outputLogits(config, params, y);
  result.loss = crossEntropy(result.logits, tgtIds, config.padId);
  return result;
}

//===----------------------------------------------------------------------===//
// Instantiations
//===----------------------------------------------------------------------===//

#define CONVSEQ_INSTANTIATE_MODEL(T)                                           \
  template TensorMap<T> randomParameters<T>(const ModelConfig &, uint64_t,     \
                                            double);                           \
  template Tensor<T> encoder(const ModelConfig &, const TensorMap<T> &,        \
                             const Ids &);                                     \
  template TensorMap<T> decoderInit(const ModelConfig &, const TensorMap<T> &, \
                                    const Tensor<T> &);                        \
  template TensorMap<T> initialDecoderState<T>(const ModelConfig &, int64_t);  \
  template StepResult<T> decoderStep(                                          \
      const ModelConfig &, const TensorMap<T> &, const Ids &,                  \
      const TensorMap<T> &, const TensorMap<T> &, const Ids &, int64_t);       \
  template ForwardResult<T> forward(const ModelConfig &, const TensorMap<T> &, \
                                    const Ids &, const Ids &);

CONVSEQ_INSTANTIATE_MODEL(float)
CONVSEQ_INSTANTIATE_MODEL(double)

#undef CONVSEQ_INSTANTIATE_MODEL

} // namespace convseq::reference
