//===- ModelConfig.h - A parsed, validated model definition -----*- C++ -*-===//
//
// What a model-definition file (docs/model-format.md) says, after parsing and
// validation: every field has its final value (defaults filled in, per-layer
// lists expanded to one entry per layer), so the IR builder never guesses.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_FRONTEND_MODELCONFIG_H
#define CONVSEQ_LIB_FRONTEND_MODELCONFIG_H

#include "dialect/ConvSeqOps.h"

#include "mlir/Support/LLVM.h"
#include "llvm/Support/SourceMgr.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::convseq {

/// The model families the compiler knows. ConvBERT and frozen-pretrained
/// setups are reserved names: the parser rejects them as not yet supported.
enum class ModelFamily {
  /// Encoder-decoder with conv blocks in place of self-attention.
  ConvSeq2Seq,
  /// The same model with multi-head self-attention and sinusoidal positions.
  Transformer,
};

enum class ElementKind { F32, F64, BF16 };

enum class TaskKind { Seq2Seq, Classification, SpanCorruption };

enum class OptimizerKind { Adafactor, AdamW };

enum class ScheduleKind { Constant, LinearWarmupDecay, InverseSqrt };

/// Convolution settings, one entry per layer after parsing.
struct ConvConfig {
  ConvVariant variant = ConvVariant::lightweight;
  std::vector<int64_t> encoderKernelSizes;
  std::vector<int64_t> decoderKernelSizes;
  /// All 1 except for the dilated variant (default 2^(layer mod 4)).
  std::vector<int64_t> encoderDilations;
  std::vector<int64_t> decoderDilations;
};

struct TokenizerConfig {
  /// Path of a SentencePiece model, relative to the definition file; empty
  /// means "train one from the training text".
  std::string model;
  /// Number of `<extra_id_n>` sentinels reserved as user symbols.
  int64_t sentinels = 100;
};

struct TaskConfig {
  TaskKind kind = TaskKind::Seq2Seq;
  /// Label words of a classification task (targets are these words).
  std::vector<std::string> labels;
  /// The dataset's class name for each label word (same index): what the
  /// data files write, e.g. TREC's `ABBR` for the word `abbreviation`. Equal
  /// to `labels` when the definition lists words only.
  std::vector<std::string> labelClasses;
  int64_t maxSourceLength = 512;
  int64_t maxTargetLength = 128;
  /// Span corruption (T5): fraction of tokens noised and mean span length.
  double noiseDensity = 0.15;
  double meanSpanLength = 3.0;
};

struct TrainingConfig {
  OptimizerKind optimizer = OptimizerKind::Adafactor;
  /// Adafactor: absent means the relative step size of the paper.
  std::optional<double> learningRate;
  ScheduleKind schedule = ScheduleKind::InverseSqrt;
  int64_t warmupSteps = 1000;
  int64_t batchSize = 16;
  int64_t steps = 1000;
  double weightDecay = 0.0;
  double clipNorm = 1.0;
  double labelSmoothing = 0.0;
  uint64_t seed = 0;
  /// Glob patterns over parameter names (`encoder.layers.*.conv.*`).
  std::vector<std::string> frozen;
  /// Where each pattern of `frozen` was written, for later diagnostics.
  std::vector<llvm::SMLoc> frozenLocations;
};

struct ModelConfig {
  std::string name;
  ModelFamily family = ModelFamily::ConvSeq2Seq;
  ElementKind dtype = ElementKind::F32;
  int64_t dModel = 0;
  int64_t heads = 0;
  int64_t dFF = 0;
  int64_t encoderLayers = 0;
  int64_t decoderLayers = 0;
  int64_t vocabSize = 0;
  double dropout = 0.1;
  double rmsNormEpsilon = 1e-6;
  int64_t padId = 0;
  int64_t eosId = 1;
  int64_t unkId = 2;
  /// Meaningful for ModelFamily::ConvSeq2Seq only.
  ConvConfig conv;
  TokenizerConfig tokenizer;
  TaskConfig task;
  TrainingConfig training;
};

/// Parses and validates the model definition in `sourceMgr`'s main buffer.
/// Every problem is reported through `sourceMgr` as
/// `file:line:column: error: ...` pointing at the offending key or value;
/// returns failure if there was any.
FailureOr<ModelConfig> parseModelConfig(llvm::SourceMgr &sourceMgr);

/// Reads the file at `path` into `sourceMgr` and parses it as above; a file
/// that cannot be read is reported through `sourceMgr` too.
FailureOr<ModelConfig> parseModelConfigFile(StringRef path,
                                            llvm::SourceMgr &sourceMgr);

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_FRONTEND_MODELCONFIG_H
