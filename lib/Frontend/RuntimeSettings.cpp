//===- RuntimeSettings.cpp - The settings a generated executable reads ----===//

#include "lib/Frontend/RuntimeSettings.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::convseq;

namespace {

StringRef taskName(TaskKind kind) {
  switch (kind) {
  case TaskKind::Seq2Seq:
    return "seq2seq";
  case TaskKind::Classification:
    return "classification";
  case TaskKind::SpanCorruption:
    return "span_corruption";
  }
  llvm_unreachable("unknown task");
}

StringRef optimizerName(OptimizerKind kind) {
  return kind == OptimizerKind::Adafactor ? "adafactor" : "adamw";
}

} // namespace

std::string mlir::convseq::writeRuntimeSettings(const ModelConfig &config,
                                                StringRef definitionDir) {
  std::string text;
  llvm::raw_string_ostream os(text);
  auto line = [&](StringRef key, const auto &value) {
    os << key << "=" << value << "\n";
  };
  line("name", config.name);
  line("family",
       config.family == ModelFamily::Transformer ? "transformer" : "conv");
  line("conv.variant", config.family == ModelFamily::Transformer
                           ? StringRef("none")
                           : stringifyConvVariant(config.conv.variant));
  line("vocab_size", config.vocabSize);
  line("d_model", config.dModel);
  line("pad_id", config.padId);
  line("eos_id", config.eosId);
  line("unk_id", config.unkId);

  std::string tokenizer = config.tokenizer.model;
  if (!tokenizer.empty() && llvm::sys::path::is_relative(tokenizer)) {
    SmallString<256> path(definitionDir);
    llvm::sys::path::append(path, tokenizer);
    llvm::sys::fs::make_absolute(path);
    llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
    tokenizer = path.str().str();
  }
  line("tokenizer.model", tokenizer);
  line("tokenizer.sentinels", config.tokenizer.sentinels);

  line("task.type", taskName(config.task.kind));
  for (auto [index, word] : llvm::enumerate(config.task.labels))
    line("task.label." + config.task.labelClasses[index], word);
  line("task.max_source_length", config.task.maxSourceLength);
  line("task.max_target_length", config.task.maxTargetLength);
  line("task.noise_density", config.task.noiseDensity);
  line("task.mean_span_length", config.task.meanSpanLength);

  line("training.optimizer", optimizerName(config.training.optimizer));
  line("training.batch_size", config.training.batchSize);
  line("training.steps", config.training.steps);
  line("training.seed", config.training.seed);
  return text;
}
