//===- ModelConfigChecks.cpp - Checks across a definition's fields --------===//
//
// The second phase of parsing a model definition: once every section is
// read, check what relates several fields (d_model and heads, the family and
// its sections, the task and its keys, the vocabulary and the sentinels) and
// expand the per-layer conv settings with their defaults (spec section 2).
// Each check skips values that could not be read, so it runs after other
// errors without repeating them.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/ModelConfigParser.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::detail;

//===----------------------------------------------------------------------===//
// Checks across fields
//===----------------------------------------------------------------------===//

void ModelConfigParser::checkModel() {
  if (config.dModel > 0 && config.heads > 0 &&
      config.dModel % config.heads != 0)
    reader.emitError(valueLoc("model.heads"),
                     "d_model " + Twine(config.dModel) +
                         " is not divisible by heads " + Twine(config.heads));
  if (!usable("family"))
    return;
  if (config.family == ModelFamily::Transformer && config.dModel > 0 &&
      (config.dModel % 2 != 0 || config.dModel < 4))
    reader.emitError(valueLoc("model.d_model"),
                     "the transformer's sinusoidal positions need an even "
                     "d_model of at least 4, got " +
                         Twine(config.dModel));
  if (config.family != ModelFamily::ConvSeq2Seq && given("conv"))
    reader.emitError(keyLoc("conv"), "'conv' is only valid for family 'conv'");
}

void ModelConfigParser::finishConv() {
  bool dilated = config.conv.variant == ConvVariant::dilated;
  if (!dilated && usable("conv.variant")) {
    for (StringRef path : {"conv.encoder_dilations", "conv.decoder_dilations"})
      if (given(path))
        reader.emitError(keyLoc(path),
                         "dilations are only valid for the dilated variant");
  }
  if (invalid.contains("conv"))
    return;
  expandStack("encoder", config.encoderLayers, convInput.encoderKernelSizes,
              convInput.encoderDilations, config.conv.encoderKernelSizes,
              config.conv.encoderDilations);
  expandStack("decoder", config.decoderLayers, convInput.decoderKernelSizes,
              convInput.decoderDilations, config.conv.decoderKernelSizes,
              config.conv.decoderDilations);
}

void ModelConfigParser::expandStack(
    StringRef stack, int64_t layers,
    const std::optional<SmallVector<Located<int64_t>>> &kernels,
    const std::optional<SmallVector<Located<int64_t>>> &dilations,
    std::vector<int64_t> &kernelsOut, std::vector<int64_t> &dilationsOut) {
  std::string kernelsKey = (stack + "_kernel_sizes").str();
  std::string dilationsKey = (stack + "_dilations").str();
  std::string kernelsPath = "conv." + kernelsKey;
  std::string dilationsPath = "conv." + dilationsKey;
  if (layers <= 0 || !usable(kernelsPath) || !usable(dilationsPath) ||
      !usable("conv.kernel_size"))
    return;
  bool dilated = config.conv.variant == ConvVariant::dilated;
  auto checkLength = [&](const SmallVector<Located<int64_t>> &list,
                         StringRef key) {
    if (static_cast<int64_t>(list.size()) == layers)
      return true;
    reader.emitError(keyLoc(("conv." + key).str()),
                     "'" + key + "' has " + Twine(list.size()) +
                         (list.size() == 1 ? " entry" : " entries") +
                         " but the " + stack + " has " + Twine(layers) +
                         (layers == 1 ? " layer" : " layers"));
    return false;
  };
  bool lengthsMatch = !kernels || checkLength(*kernels, kernelsKey);
  if (dilated && dilations && !checkLength(*dilations, dilationsKey))
    lengthsMatch = false;
  if (!lengthsMatch)
    return;

  Located<int64_t> defaultKernel = convInput.kernelSize.value_or(
      Located<int64_t>{kDefaultKernelSize, locOrSection("conv.kernel_size")});
  for (int64_t layer = 0; layer < layers; ++layer) {
    Located<int64_t> kernel = kernels ? (*kernels)[layer] : defaultKernel;
    // Spec section 2: r_l = 2^(l mod 4) unless given.
    Located<int64_t> dilation = {int64_t(1) << (layer % 4), kernel.loc};
    if (!dilated)
      dilation.value = 1;
    else if (dilations)
      dilation = (*dilations)[layer];
    // A causal layer keeps (k-1)*r inputs; it must stay a 32-bit size.
    if ((kernel.value - 1) * dilation.value > kMaxSize) {
      reader.emitError(dilation.loc, "kernel width " + Twine(kernel.value) +
                                         " with dilation " +
                                         Twine(dilation.value) +
                                         " spans more than " + Twine(kMaxSize) +
                                         " positions");
      return;
    }
    kernelsOut.push_back(kernel.value);
    dilationsOut.push_back(dilation.value);
  }
}

void ModelConfigParser::checkTokenizer() {
  int64_t sentinels = config.tokenizer.sentinels;
  if (config.vocabSize <= 0 || !usable("tokenizer.sentinels") ||
      config.vocabSize > kNumSpecialIds + sentinels)
    return;
  reader.emitError(valueLoc("model.vocab_size"),
                   "vocab_size " + Twine(config.vocabSize) +
                       " leaves no room for ordinary pieces; it must be "
                       "greater than " +
                       Twine(kNumSpecialIds + sentinels) + ", the " +
                       Twine(kNumSpecialIds) +
                       " special ids (pad, eos, unk) plus " + Twine(sentinels) +
                       " sentinels");
}

void ModelConfigParser::checkTask() {
  const TaskConfig &task = config.task;
  if (!usable("task.type"))
    return;
  bool classification = task.kind == TaskKind::Classification;
  bool spanCorruption = task.kind == TaskKind::SpanCorruption;
  if (!classification && given("task.labels"))
    reader.emitError(keyLoc("task.labels"),
                     "'labels' is only valid for task type classification");
  for (StringRef key : {"noise_density", "mean_span_length"})
    if (!spanCorruption && given(("task." + key).str()))
      reader.emitError(keyLoc(("task." + key).str()),
                       "'" + key +
                           "' is only valid for task type span_corruption");

  if (classification && !given("task.labels"))
    reader.emitError(locOrSection("task.type"),
                     "missing required key 'labels' in 'task' for a "
                     "classification task");
  else if (classification && usable("task.labels") && task.labels.size() < 2)
    reader.emitError(keyLoc("task.labels"),
                     "a classification task needs at least 2 labels, got " +
                         Twine(task.labels.size()));
  // A target is at least one piece of a label word and EOS.
  if (classification && usable("task.max_target_length") &&
      task.maxTargetLength < 2)
    reader.emitError(locOrSection("task.max_target_length"),
                     "a classification task needs max_target_length of at "
                     "least 2 (a label word and EOS), got " +
                         Twine(task.maxTargetLength));
  if (spanCorruption)
    checkSpanBudget();
}

void ModelConfigParser::checkSpanBudget() {
  const TaskConfig &task = config.task;
  if (!usable("task.max_source_length") || !usable("task.noise_density") ||
      !usable("task.mean_span_length") || !usable("tokenizer.sentinels"))
    return;
  // T5's rule: round(length * density) noise tokens in spans of the mean
  // length; every span takes one sentinel.
  double noiseTokens = std::round(task.maxSourceLength * task.noiseDensity);
  int64_t spans = std::max<int64_t>(
      1, static_cast<int64_t>(std::round(noiseTokens / task.meanSpanLength)));
  int64_t sentinels = config.tokenizer.sentinels;
  if (spans <= sentinels)
    return;
  reader.emitError(locOrSection("tokenizer.sentinels"),
                   "span corruption of " + Twine(task.maxSourceLength) +
                       "-token inputs makes up to " + Twine(spans) +
                       " spans but only " + Twine(sentinels) +
                       " sentinels are reserved");
}

void ModelConfigParser::checkTraining() {
  const TrainingConfig &training = config.training;
  if (usable("training.optimizer") && usable("training.learning_rate") &&
      training.optimizer == OptimizerKind::AdamW && !training.learningRate)
    reader.emitError(locOrSection("training.optimizer"),
                     "missing required key 'learning_rate' in 'training' for "
                     "optimizer adamw");
  if (usable("training.schedule") && usable("training.warmup_steps") &&
      usable("training.steps") &&
      training.schedule == ScheduleKind::LinearWarmupDecay &&
      training.warmupSteps > training.steps)
    reader.emitError(locOrSection("training.warmup_steps"),
                     "warmup_steps " + Twine(training.warmupSteps) +
                         " exceeds steps " + Twine(training.steps) +
                         ": linear_warmup_decay would never decay");
}
