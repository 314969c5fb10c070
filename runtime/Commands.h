//===- Commands.h - The commands of a generated executable ------*- C++ -*-===//
//
// `<model> train|eval|predict|info`: each command is a function of the model
// and the flags of its own file (runtime/<Command>Command.cpp, plus the
// shared ones in runtime/Main.cpp). What more than one command needs (the
// tokenizer, data sets as token ids, evaluation) is here.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_COMMANDS_H
#define CONVSEQ_RUNTIME_COMMANDS_H

#include "runtime/Batching.h"
#include "runtime/Data.h"
#include "runtime/Model.h"
#include "runtime/Tokenizer.h"

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"

#include <optional>
#include <string>
#include <vector>

ABSL_DECLARE_FLAG(int, source_column);
ABSL_DECLARE_FLAG(int, target_column);
ABSL_DECLARE_FLAG(bool, skip_malformed);
ABSL_DECLARE_FLAG(int, batch_size);
ABSL_DECLARE_FLAG(std::string, tokenizer);

namespace convseq::runtime {

int runTrain(Model &model);
int runEval(Model &model);
int runPredict(Model &model);

/// Prints `status` as an error and returns the exit status 1.
int reportError(const absl::Status &status);

/// The task settings the runtime reads.
struct TaskSettings {
  bool classification = false;
  /// Pre-training: the data is raw text, corrupted into examples.
  bool spanCorruption = false;
  double noiseDensity = 0.15;
  double meanSpanLength = 3.0;
  std::vector<std::pair<std::string, std::string>> labels;
  int64_t maxSourceLength = 0;
  int64_t maxTargetLength = 0;
  int64_t vocabSize = 0;
  int64_t sentinels = 0;
  int32_t padId = 0;
  int32_t eosId = 1;
};
absl::StatusOr<TaskSettings> readTaskSettings(const Model &model);

/// The batch size: --batch_size if given, else the training settings'.
int64_t batchSize(const Model &model);

/// The columns and labels of the data files, from the flags and settings.
TsvOptions tsvOptions(const TaskSettings &task, bool withTarget);

/// A data set as text and as token ids.
struct Dataset {
  std::vector<Example> examples;
  std::vector<EncodedExample> encoded;
  TsvStats stats;
};

/// `text` as token ids, truncated to `limit - 1` ids and ended by EOS.
std::vector<int32_t> encodeText(const std::string &text, int64_t limit,
                                const TaskSettings &task,
                                const Tokenizer &tokenizer);

/// `example` as token ids, each side truncated to the model's length limit
/// and ended by EOS (an empty target is EOS alone).
EncodedExample encodeExample(const Example &example, const TaskSettings &task,
                             const Tokenizer &tokenizer);

/// Reads and tokenizes the TSV file at `path`. Sources longer than the
/// model's limit are truncated (counted in `truncated` if given).
absl::StatusOr<Dataset> loadDataset(const std::string &path,
                                    const TaskSettings &task,
                                    const Tokenizer &tokenizer,
                                    bool withTarget);

/// The tokenizer --tokenizer names, else `fallback` (a checkpoint's), else
/// the model definition's.
absl::StatusOr<Tokenizer> loadTokenizer(const Model &model,
                                        const TaskSettings &task,
                                        const std::string &fallback);

/// Greedy predictions for `data`, as text, in its order.
absl::StatusOr<std::vector<std::string>> predict(Model &model,
                                                 const Tokenizer &tokenizer,
                                                 const TaskSettings &task,
                                                 const Dataset &data);

/// Exact-match accuracy of `predictions` against `data`'s targets.
double accuracy(const Dataset &data,
                const std::vector<std::string> &predictions,
                int64_t *correct = nullptr);

/// The latest checkpoint in `dir`, or an error saying there is none.
absl::StatusOr<std::string> latestCheckpoint(const std::string &dir);

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_COMMANDS_H
