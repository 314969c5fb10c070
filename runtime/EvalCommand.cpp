//===- EvalCommand.cpp - `<model> eval` and `<model> predict` -------------===//
//
// Both decode with a checkpoint's parameters through the compiled encoder
// and decoder step (greedy); eval compares with the targets, predict prints.
//
//===----------------------------------------------------------------------===//

#include "runtime/Checkpoint.h"
#include "runtime/Commands.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

#include <fstream>
#include <iostream>
#include <sys/stat.h>

ABSL_FLAG(std::string, checkpoint, "",
          "Checkpoint file, or a directory whose latest checkpoint to use "
          "(default: <model>-run, where train writes)");
ABSL_FLAG(std::string, data, "", "eval: the TSV data to score (required)");
ABSL_FLAG(std::string, predictions, "",
          "eval: also write line, prediction, target and whether they match, "
          "tab-separated, to this file");
ABSL_FLAG(std::string, input, "-",
          "predict: TSV file of inputs (the --source_column), or - for one "
          "input per line on stdin");

namespace convseq::runtime {

namespace {

/// What decoding needs besides the parameters.
struct Inference {
  TaskSettings task;
  Tokenizer tokenizer;
};

/// Loads the checkpoint --checkpoint names into `model`; returns the task
/// settings and the checkpoint's tokenizer.
absl::StatusOr<Inference> loadForInference(Model &model) {
  absl::StatusOr<TaskSettings> task = readTaskSettings(model);
  if (!task.ok())
    return task.status();
  std::string path = absl::GetFlag(FLAGS_checkpoint);
  if (path.empty())
    path = model.name() + "-run";
  struct stat info;
  if (stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    absl::StatusOr<std::string> latest = latestCheckpoint(path);
    if (!latest.ok())
      return latest.status();
    path = *latest;
  }
  absl::StatusOr<CheckpointInfo> checkpoint =
      loadCheckpoint(path, model, LoadMode::Parameters);
  if (!checkpoint.ok())
    return checkpoint.status();
  absl::StatusOr<Tokenizer> tokenizer =
      loadTokenizer(model, *task, checkpoint->tokenizer);
  if (!tokenizer.ok())
    return tokenizer.status();
  return Inference{*task, *std::move(tokenizer)};
}

/// Inputs from stdin, one per line (the --source_column if it has tabs).
absl::StatusOr<Dataset> readStdin(const TaskSettings &task,
                                  const Tokenizer &tokenizer) {
  Dataset data;
  std::string line;
  int column = absl::GetFlag(FLAGS_source_column);
  for (int64_t number = 1; std::getline(std::cin, line); ++number) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    size_t offset;
    if (!isValidUtf8(line, &offset))
      return absl::InvalidArgumentError(
          absl::StrCat("<stdin>:", number, ": invalid UTF-8 at byte ", offset));
    std::string text = line;
    if (line.find('\t') != std::string::npos) {
      std::vector<std::string> columns = absl::StrSplit(line, '\t');
      if (column >= static_cast<int>(columns.size()))
        return absl::InvalidArgumentError(
            absl::StrCat("<stdin>:", number, ": no column ", column,
                         " (--source_column) in a line of ", columns.size()));
      text = columns[column];
    }
    data.examples.push_back({text, "", number});
  }
  for (const Example &example : data.examples)
    data.encoded.push_back(encodeExample(example, task, tokenizer));
  return data;
}

int eval(Model &model) {
  if (absl::GetFlag(FLAGS_data).empty())
    return reportError(
        absl::InvalidArgumentError("--data is required: the TSV to score"));
  absl::StatusOr<Inference> ready = loadForInference(model);
  if (!ready.ok())
    return reportError(ready.status());
  const TaskSettings &task = ready->task;
  absl::StatusOr<Dataset> data =
      loadDataset(absl::GetFlag(FLAGS_data), task, ready->tokenizer, true);
  if (!data.ok())
    return reportError(data.status());
  absl::StatusOr<std::vector<std::string>> predictions =
      predict(model, ready->tokenizer, task, *data);
  if (!predictions.ok())
    return reportError(predictions.status());
  int64_t correct;
  double score = accuracy(*data, *predictions, &correct);
  if (std::string path = absl::GetFlag(FLAGS_predictions); !path.empty()) {
    std::ofstream out(path);
    for (size_t i = 0; i < predictions->size(); ++i) {
      const Example &example = data->examples[i];
      out << example.line << "\t" << (*predictions)[i] << "\t" << example.target
          << "\t" << ((*predictions)[i] == example.target ? "1" : "0") << "\n";
    }
    if (!out)
      return reportError(absl::InternalError(
          absl::StrCat(path, ": cannot write the predictions")));
  }
  std::cout << absl::StrFormat("%s %.4f (%d/%d)\n",
                               task.classification ? "accuracy" : "exact_match",
                               score, correct, predictions->size());
  if (data->stats.skipped)
    std::cout << data->stats.skipped << " malformed lines skipped\n";
  return 0;
}

int predictCommand(Model &model) {
  absl::StatusOr<Inference> ready = loadForInference(model);
  if (!ready.ok())
    return reportError(ready.status());
  std::string input = absl::GetFlag(FLAGS_input);
  absl::StatusOr<Dataset> data =
      input == "-" ? readStdin(ready->task, ready->tokenizer)
                   : loadDataset(input, ready->task, ready->tokenizer, false);
  if (!data.ok())
    return reportError(data.status());
  if (data->examples.empty())
    return 0;
  absl::StatusOr<std::vector<std::string>> predictions =
      predict(model, ready->tokenizer, ready->task, *data);
  if (!predictions.ok())
    return reportError(predictions.status());
  for (const std::string &prediction : *predictions)
    std::cout << prediction << "\n";
  return 0;
}

} // namespace

int runEval(Model &model) { return eval(model); }
int runPredict(Model &model) { return predictCommand(model); }

} // namespace convseq::runtime
