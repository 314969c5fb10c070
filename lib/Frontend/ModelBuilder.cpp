//===- ModelBuilder.cpp - Model definition to convseq IR ------------------===//
//
// Emits the entry points of spec sections 1-4 with block ops where the model
// has whole blocks (the teacher-forced passes) and primitives where decoding
// one token at a time needs its own dataflow (the decoder step).
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/ModelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <functional>

using namespace mlir;
using namespace mlir::convseq;

//===----------------------------------------------------------------------===//
// IR construction
//===----------------------------------------------------------------------===//

namespace {

/// The RNG key of dropout; a null seed means inference (no dropout).
struct DropoutKey {
  Value seed, step;
};

/// Builds one module of entry points; each `build*Entry` method adds one
/// function.
class ModelBuilder {
public:
  ModelBuilder(MLIRContext *context, const ModelConfig &config)
      : config(config), builder(context), loc(builder.getUnknownLoc()),
        elementType(getElementType(context, config)),
        params(collectParameters(config)) {}

  OwningOpRef<ModuleOp> build();

private:
  //===--- Entry points ---------------------------------------------------===//

  /// Starts function `name` with the parameters and then `inputs` as
  /// arguments; its result types are set by finishEntry.
  SmallVector<Value> beginEntry(StringRef name,
                                ArrayRef<std::pair<StringRef, Type>> inputs);
  void finishEntry(ArrayRef<std::pair<std::string, Value>> results);

  void buildEncoderEntry();
  void buildDecoderInitEntry();
  void buildDecoderStepEntry();
  void buildForwardEntry(bool training);
  /// The training settings as convseq-generate-train-step reads them.
  DictionaryAttr trainingSettings();

  //===--- Model pieces ---------------------------------------------------===//

  Value param(const std::string &name) const {
    Value value = paramValues.lookup(name);
    assert(value && "unknown parameter");
    return value;
  }
  Value rmsNorm(Value input, const std::string &scaleName);
  Value dropout(Value input, const DropoutKey &key);
  /// x + Dropout(sublayer(RMSNorm(x))), the pre-norm wrapper; `prefix`
  /// names the sublayer ("encoder.layers.0.ffn.").
  Value sublayer(Value input, const std::string &prefix, const DropoutKey &key,
                 llvm::function_ref<Value(Value)> body);
  Value embed(Value ids, Value position, const DropoutKey &key);
  Value ffn(Value input, const std::string &prefix, const DropoutKey &key);
  Value attention(Value query, Value memory, Value keyMask, bool causal,
                  const std::string &prefix, const DropoutKey &key);
  Value convBlock(Value input, Value mask, int64_t layer, bool causal,
                  const std::string &prefix);
  Value encoderStack(Value srcIds, Value srcMask, const DropoutKey &key);
  Value decoderStack(Value decoderIds, Value tgtMask, Value encoded,
                     Value srcMask, const DropoutKey &key);
  Value logits(Value hidden);
  Value splitHeads(Value input, const std::string &weightName);

  //===--- Types ----------------------------------------------------------===//

  RankedTensorType activationType(int64_t length = ShapedType::kDynamic) {
    return RankedTensorType::get({ShapedType::kDynamic, length, config.dModel},
                                 elementType);
  }
  RankedTensorType idsType(int64_t length = ShapedType::kDynamic) {
    return RankedTensorType::get({ShapedType::kDynamic, length},
                                 builder.getI32Type());
  }
  RankedTensorType headsType() const {
    int64_t dyn = ShapedType::kDynamic;
    return RankedTensorType::get(
        {dyn, config.heads, dyn, config.dModel / config.heads}, elementType);
  }
  int64_t decoderWindow(int64_t layer) const {
    return (config.conv.decoderKernelSizes[layer] - 1) *
           config.conv.decoderDilations[layer];
  }

  const ModelConfig &config;
  OpBuilder builder;
  Location loc;
  Type elementType;
  std::vector<ParameterInfo> params;
  OwningOpRef<ModuleOp> module;
  func::FuncOp currentFunc;
  llvm::StringMap<Value> paramValues;
  /// The next dropout stream; every dropout site of an entry gets its own.
  int64_t nextStream = 0;
};

SmallVector<Value>
ModelBuilder::beginEntry(StringRef name,
                         ArrayRef<std::pair<StringRef, Type>> inputs) {
  SmallVector<Type> argTypes;
  for (const ParameterInfo &info : params)
    argTypes.push_back(RankedTensorType::get(info.shape, elementType));
  for (const auto &input : inputs)
    argTypes.push_back(input.second);

  builder.setInsertionPointToEnd(module->getBody());
  currentFunc = func::FuncOp::create(builder, loc, name,
                                     builder.getFunctionType(argTypes, {}));
  Block *entry = currentFunc.addEntryBlock();
  paramValues.clear();
  nextStream = 0;
  for (auto [index, info] : llvm::enumerate(params)) {
    currentFunc.setArgAttr(index, kParamAttrName,
                           builder.getStringAttr(info.name));
    if (info.frozen)
      currentFunc.setArgAttr(index, kFrozenAttrName, builder.getUnitAttr());
    paramValues[info.name] = entry->getArgument(index);
  }
  SmallVector<Value> inputValues;
  for (auto [index, input] : llvm::enumerate(inputs)) {
    unsigned argIndex = params.size() + index;
    currentFunc.setArgAttr(argIndex, kIOAttrName,
                           builder.getStringAttr(input.first));
    inputValues.push_back(entry->getArgument(argIndex));
  }
  builder.setInsertionPointToEnd(entry);
  return inputValues;
}

void ModelBuilder::finishEntry(
    ArrayRef<std::pair<std::string, Value>> results) {
  SmallVector<Value> values;
  for (const auto &result : results)
    values.push_back(result.second);
  func::ReturnOp::create(builder, loc, values);
  currentFunc.setFunctionType(builder.getFunctionType(
      currentFunc.getArgumentTypes(), ValueRange(values).getTypes()));
  for (auto [index, result] : llvm::enumerate(results))
    currentFunc.setResultAttr(index, kIOAttrName,
                              builder.getStringAttr(result.first));
}

Value ModelBuilder::rmsNorm(Value input, const std::string &scaleName) {
  return RMSNormOp::create(builder, loc, input, param(scaleName),
                           llvm::APFloat(config.rmsNormEpsilon));
}

Value ModelBuilder::dropout(Value input, const DropoutKey &key) {
  if (!key.seed || config.dropout == 0.0)
    return input;
  return DropoutOp::create(builder, loc, input, key.seed, key.step,
                           llvm::APFloat(config.dropout), nextStream++);
}

Value ModelBuilder::sublayer(Value input, const std::string &prefix,
                             const DropoutKey &key,
                             llvm::function_ref<Value(Value)> body) {
  Value normed = rmsNorm(input, prefix + "norm.scale");
  Value output = dropout(body(normed), key);
  return arith::AddFOp::create(builder, loc, input, output);
}

Value ModelBuilder::embed(Value ids, Value position, const DropoutKey &key) {
  Value embedded = EmbeddingOp::create(builder, loc, ids, param("embedding"));
  if (!isConvModel(config))
    embedded = AddPositionsOp::create(builder, loc, embedded, position);
  return dropout(embedded, key);
}

Value ModelBuilder::ffn(Value input, const std::string &prefix,
                        const DropoutKey &key) {
  double rate = key.seed ? config.dropout : 0.0;
  int64_t stream = rate > 0.0 ? nextStream++ : 0;
  Value seed = rate > 0.0 ? key.seed : Value();
  Value step = rate > 0.0 ? key.step : Value();
  return FFNOp::create(builder, loc, input, param(prefix + "w_1"),
                       param(prefix + "w_2"), seed, step, Activation::relu,
                       llvm::APFloat(rate), stream);
}

Value ModelBuilder::attention(Value query, Value memory, Value keyMask,
                              bool causal, const std::string &prefix,
                              const DropoutKey &key) {
  double rate = key.seed ? config.dropout : 0.0;
  int64_t stream = rate > 0.0 ? nextStream++ : 0;
  Value seed = rate > 0.0 ? key.seed : Value();
  Value step = rate > 0.0 ? key.step : Value();
  return AttentionOp::create(
      builder, loc, query, memory, param(prefix + "w_q"), param(prefix + "w_k"),
      param(prefix + "w_v"), param(prefix + "w_o"), keyMask, seed, step,
      config.heads, causal, llvm::APFloat(rate), stream);
}

Value ModelBuilder::convBlock(Value input, Value mask, int64_t layer,
                              bool causal, const std::string &prefix) {
  const ConvConfig &conv = config.conv;
  int64_t kernelSize = causal ? conv.decoderKernelSizes[layer]
                              : conv.encoderKernelSizes[layer];
  int64_t dilation =
      causal ? conv.decoderDilations[layer] : conv.encoderDilations[layer];
  int64_t heads = conv.variant == ConvVariant::dilated ? 1 : config.heads;
  return ConvBlockOp::create(builder, loc, conv.variant, input,
                             param(prefix + "w_in"), param(prefix + "w_gate"),
                             param(prefix + "w_conv"), param(prefix + "w_out"),
                             mask, kernelSize, heads, dilation, causal);
}

Value ModelBuilder::encoderStack(Value srcIds, Value srcMask,
                                 const DropoutKey &key) {
  Value x = embed(srcIds, /*position=*/Value(), key);
  for (int64_t l = 0; l < config.encoderLayers; ++l) {
    std::string prefix = layerPrefix("encoder", l);
    if (isConvModel(config)) {
      x = sublayer(x, prefix + "conv.", key, [&](Value h) {
        return convBlock(h, srcMask, l, /*causal=*/false, prefix + "conv.");
      });
    } else {
      x = sublayer(x, prefix + "self_attention.", key, [&](Value h) {
        return attention(h, h, srcMask, /*causal=*/false,
                         prefix + "self_attention.", key);
      });
    }
    x = sublayer(x, prefix + "ffn.", key,
                 [&](Value h) { return ffn(h, prefix + "ffn.", key); });
  }
  return rmsNorm(x, "encoder.final_norm.scale");
}

Value ModelBuilder::decoderStack(Value decoderIds, Value tgtMask,
                                 Value encoded, Value srcMask,
                                 const DropoutKey &key) {
  Value y = embed(decoderIds, /*position=*/Value(), key);
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    std::string prefix = layerPrefix("decoder", l);
    if (isConvModel(config)) {
      y = sublayer(y, prefix + "conv.", key, [&](Value h) {
        return convBlock(h, tgtMask, l, /*causal=*/true, prefix + "conv.");
      });
    } else {
      // Causality alone keeps the padded tail from reaching real positions.
      y = sublayer(y, prefix + "self_attention.", key, [&](Value h) {
        return attention(h, h, /*keyMask=*/Value(), /*causal=*/true,
                         prefix + "self_attention.", key);
      });
    }
    y = sublayer(y, prefix + "cross_attention.", key, [&](Value h) {
      return attention(h, encoded, srcMask, /*causal=*/false,
                       prefix + "cross_attention.", key);
    });
    y = sublayer(y, prefix + "ffn.", key,
                 [&](Value h) { return ffn(h, prefix + "ffn.", key); });
  }
  return rmsNorm(y, "decoder.final_norm.scale");
}

Value ModelBuilder::logits(Value hidden) {
  // Tied output embedding: h E^T D^-0.5.
  return LinearOp::create(builder, loc, hidden, param("embedding"),
                          /*transposeWeight=*/true,
                          1.0 / std::sqrt(static_cast<double>(config.dModel)));
}

Value ModelBuilder::splitHeads(Value input, const std::string &weightName) {
  Value projected = LinearOp::create(builder, loc, input, param(weightName));
  return SplitHeadsOp::create(builder, loc, projected, config.heads);
}

void ModelBuilder::buildEncoderEntry() {
  SmallVector<Value> inputs = beginEntry("encoder", {{"src_ids", idsType()}});
  Value srcMask = PaddingMaskOp::create(builder, loc, inputs[0], config.padId);
  finishEntry({{"enc_out", encoderStack(inputs[0], srcMask, DropoutKey())}});
}

void ModelBuilder::buildDecoderInitEntry() {
  SmallVector<Value> inputs =
      beginEntry("decoder_init", {{"enc_out", activationType()}});
  SmallVector<std::pair<std::string, Value>> results;
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    std::string prefix = layerPrefix("decoder", l) + "cross_attention.";
    std::string name = "cross_kv." + std::to_string(l);
    results.push_back({name + ".k", splitHeads(inputs[0], prefix + "w_k")});
    results.push_back({name + ".v", splitHeads(inputs[0], prefix + "w_v")});
  }
  finishEntry(results);
}

void ModelBuilder::buildDecoderStepEntry() {
  // Inputs: source ids, cross K/V per layer, the incremental state per layer
  // (conv: the last (k-1)*r GLU outputs; attention: the K/V cache), the
  // current token [B, 1] and its position.
  SmallVector<std::string> names;
  SmallVector<Type> types;
  names.push_back("src_ids");
  types.push_back(idsType());
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    for (const char *part : {".k", ".v"}) {
      names.push_back("cross_kv." + std::to_string(l) + part);
      types.push_back(headsType());
    }
  }
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    if (isConvModel(config)) {
      names.push_back("state." + std::to_string(l));
      types.push_back(activationType(decoderWindow(l)));
      continue;
    }
    for (const char *part : {".k", ".v"}) {
      names.push_back("state." + std::to_string(l) + part);
      types.push_back(headsType());
    }
  }
  names.push_back("token");
  types.push_back(idsType(1));
  names.push_back("position");
  types.push_back(builder.getIndexType());
  SmallVector<std::pair<StringRef, Type>> inputs;
  for (auto [name, type] : llvm::zip(names, types))
    inputs.push_back({name, type});
  SmallVector<Value> args = beginEntry("decoder_step", inputs);

  Value srcMask = PaddingMaskOp::create(builder, loc, args[0], config.padId);
  ArrayRef<Value> crossKV = ArrayRef<Value>(args).slice(1, 2 * config.decoderLayers);
  unsigned stateBegin = 1 + 2 * config.decoderLayers;
  Value token = args[args.size() - 2], position = args.back();

  Value y = embed(token, position, DropoutKey());
  SmallVector<std::pair<std::string, Value>> newState;
  Value batch = tensor::DimOp::create(builder, loc, y, 0);
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    std::string prefix = layerPrefix("decoder", l);
    std::string stateName = "state." + std::to_string(l);
    if (isConvModel(config)) {
      Value state = args[stateBegin + l];
      y = sublayer(y, prefix + "conv.", DropoutKey(), [&](Value h) {
        std::string conv = prefix + "conv.";
        Value value = LinearOp::create(builder, loc, h, param(conv + "w_in"));
        Value gate = LinearOp::create(builder, loc, h, param(conv + "w_gate"));
        Value glu = GLUOp::create(builder, loc, value, gate);
        // The window is the state followed by the new GLU output; the causal
        // convolution's last output reads exactly that window.
        int64_t window = decoderWindow(l);
        Value inputs =
            tensor::ConcatOp::create(builder, loc, 1, ValueRange{state, glu});
        int64_t heads =
            config.conv.variant == ConvVariant::dilated ? 1 : config.heads;
        Value convolved = buildConvolution(
            builder, loc, config.conv.variant, inputs, param(conv + "w_conv"),
            /*mask=*/Value(), config.conv.decoderKernelSizes[l], heads,
            config.conv.decoderDilations[l], /*causal=*/true);
        auto rowSlice = [&](Value source, int64_t offset, int64_t rows) {
          SmallVector<OpFoldResult> offsets = {builder.getIndexAttr(0),
                                               builder.getIndexAttr(offset),
                                               builder.getIndexAttr(0)};
          SmallVector<OpFoldResult> sizes = {batch, builder.getIndexAttr(rows),
                                             builder.getIndexAttr(config.dModel)};
          SmallVector<OpFoldResult> strides(3, builder.getIndexAttr(1));
          return tensor::ExtractSliceOp::create(builder, loc, source, offsets,
                                                sizes, strides)
              .getResult();
        };
        newState.push_back({stateName, rowSlice(inputs, 1, window)});
        Value last = rowSlice(convolved, window, 1);
        return LinearOp::create(builder, loc, last, param(conv + "w_out"))
            .getResult();
      });
    } else {
      Value cacheK = args[stateBegin + 2 * l];
      Value cacheV = args[stateBegin + 2 * l + 1];
      std::string attn = prefix + "self_attention.";
      y = sublayer(y, attn, DropoutKey(), [&](Value h) {
        Value query = splitHeads(h, attn + "w_q");
        Value keys = tensor::ConcatOp::create(
            builder, loc, 2, ValueRange{cacheK, splitHeads(h, attn + "w_k")});
        Value values = tensor::ConcatOp::create(
            builder, loc, 2, ValueRange{cacheV, splitHeads(h, attn + "w_v")});
        newState.push_back({stateName + ".k", keys});
        newState.push_back({stateName + ".v", values});
        Value attended = DotProductAttentionOp::create(
            builder, loc, query, keys, values, /*key_mask=*/Value(),
            /*seed=*/Value(), /*step=*/Value(), /*scale=*/nullptr,
            /*causal=*/true, llvm::APFloat(0.0));
        Value merged = MergeHeadsOp::create(builder, loc, attended);
        return LinearOp::create(builder, loc, merged, param(attn + "w_o"))
            .getResult();
      });
    }
    std::string cross = prefix + "cross_attention.";
    y = sublayer(y, cross, DropoutKey(), [&](Value h) {
      Value attended = DotProductAttentionOp::create(
          builder, loc, splitHeads(h, cross + "w_q"), crossKV[2 * l],
          crossKV[2 * l + 1], srcMask, /*seed=*/Value(), /*step=*/Value(),
          /*scale=*/nullptr, /*causal=*/false, llvm::APFloat(0.0));
      Value merged = MergeHeadsOp::create(builder, loc, attended);
      return LinearOp::create(builder, loc, merged, param(cross + "w_o"))
          .getResult();
    });
    y = sublayer(y, prefix + "ffn.", DropoutKey(),
                 [&](Value h) { return ffn(h, prefix + "ffn.", DropoutKey()); });
  }
  Value hidden = rmsNorm(y, "decoder.final_norm.scale");
  SmallVector<std::pair<std::string, Value>> results = {
      {"logits", logits(hidden)}};
  results.append(newState.begin(), newState.end());
  finishEntry(results);
}

DictionaryAttr ModelBuilder::trainingSettings() {
  const TrainingConfig &training = config.training;
  NamedAttrList settings;
  settings.append("optimizer",
                  builder.getStringAttr(training.optimizer ==
                                                OptimizerKind::AdamW
                                            ? "adamw"
                                            : "adafactor"));
  if (training.learningRate)
    settings.append("learning_rate",
                    builder.getF64FloatAttr(*training.learningRate));
  StringRef schedule = "constant";
  if (training.schedule == ScheduleKind::LinearWarmupDecay)
    schedule = "linear_warmup_decay";
  else if (training.schedule == ScheduleKind::InverseSqrt)
    schedule = "inverse_sqrt";
  settings.append("schedule", builder.getStringAttr(schedule));
  settings.append("warmup_steps", builder.getI64IntegerAttr(training.warmupSteps));
  settings.append("steps", builder.getI64IntegerAttr(training.steps));
  settings.append("weight_decay", builder.getF64FloatAttr(training.weightDecay));
  settings.append("clip_norm", builder.getF64FloatAttr(training.clipNorm));
  return settings.getDictionary(builder.getContext());
}

void ModelBuilder::buildForwardEntry(bool training) {
  SmallVector<std::pair<StringRef, Type>> inputs = {{"src_ids", idsType()},
                                                    {"tgt_ids", idsType()}};
  if (training) {
    inputs.push_back({"seed", builder.getI64Type()});
    inputs.push_back({"step", builder.getI64Type()});
  }
  SmallVector<Value> args =
      beginEntry(training ? "forward_train" : "forward", inputs);
  DropoutKey key;
  if (training)
    key = {args[2], args[3]};
  Value srcIds = args[0], tgtIds = args[1];

  Value srcMask = PaddingMaskOp::create(builder, loc, srcIds, config.padId);
  Value encoded = encoderStack(srcIds, srcMask, key);
  // Teacher forcing: the decoder reads the targets shifted right behind the
  // start token (the pad id, as in T5); position t is real iff target t is.
  Value decoderIds = ShiftRightOp::create(builder, loc, tgtIds, config.padId);
  Value tgtMask = PaddingMaskOp::create(builder, loc, tgtIds, config.padId);
  Value hidden = decoderStack(decoderIds, tgtMask, encoded, srcMask, key);
  Value scores = logits(hidden);
  double smoothing = training ? config.training.labelSmoothing : 0.0;
  Value loss = CrossEntropyOp::create(builder, loc, scores, tgtIds,
                                      config.padId, smoothing);
  if (training) {
    finishEntry({{"loss", loss}});
    currentFunc->setAttr(kTrainingAttrName, trainingSettings());
  } else
    finishEntry({{"loss", loss}, {"logits", scores}});
}

OwningOpRef<ModuleOp> ModelBuilder::build() {
  module = ModuleOp::create(loc, config.name);
  buildEncoderEntry();
  buildDecoderInitEntry();
  buildDecoderStepEntry();
  buildForwardEntry(/*training=*/false);
  buildForwardEntry(/*training=*/true);
  if (failed(verify(*module)))
    return nullptr;
  return std::move(module);
}

} // namespace

OwningOpRef<ModuleOp> mlir::convseq::buildModel(MLIRContext *context,
                                                const ModelConfig &config) {
  return ModelBuilder(context, config).build();
}
