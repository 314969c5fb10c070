//===- Main.cpp - The command line of a generated executable --------------===//
//
// convseq_main dispatches `<model> <command> [--flags]` to the commands,
// parses the flags with Abseil (each command's --help lists its own flags
// and the shared ones below), and implements what the commands share.
//
//===----------------------------------------------------------------------===//

#include "runtime/Allocator.h"
#include "runtime/Checkpoint.h"
#include "runtime/Commands.h"
#include "runtime/Cuda.h"
#include "runtime/Decode.h"
#include "runtime/Runtime.h"

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cstdio>
#include <iostream>

ABSL_FLAG(int, source_column, 0,
          "0-based column of the input text in the TSV data");
ABSL_FLAG(int, target_column, 1,
          "0-based column of the target (seq2seq) or label (classification)");
ABSL_FLAG(bool, skip_malformed, false,
          "Skip and count malformed data lines instead of stopping at the "
          "first one");
ABSL_FLAG(int, batch_size, 0,
          "Examples per batch (default: the model definition's "
          "training.batch_size)");
ABSL_FLAG(int, beam, 1,
          "Beam width when decoding (1: greedy); scores use the GNMT "
          "length penalty");
ABSL_FLAG(std::string, tokenizer, "",
          "SentencePiece model to use (default: the checkpoint's, else the "
          "model definition's)");

namespace convseq::runtime {

int reportError(const absl::Status &status) {
  std::cerr << "error: " << status.message() << "\n";
  return 1;
}

absl::StatusOr<TaskSettings> readTaskSettings(const Model &model) {
  const Settings &settings = model.settings();
  TaskSettings task;
  absl::StatusOr<std::string> type = settings.getString("task.type");
  if (!type.ok())
    return type.status();
  task.classification = *type == "classification";
  task.spanCorruption = *type == "span_corruption";
  for (auto [key, field] :
       {std::pair{"task.noise_density", &task.noiseDensity},
        std::pair{"task.mean_span_length", &task.meanSpanLength}}) {
    absl::StatusOr<double> value = settings.getDouble(key);
    if (!value.ok())
      return value.status();
    *field = *value;
  }
  task.labels = settings.withPrefix("task.label.");
  for (auto [key, field] :
       {std::pair{"task.max_source_length", &task.maxSourceLength},
        std::pair{"task.max_target_length", &task.maxTargetLength},
        std::pair{"vocab_size", &task.vocabSize},
        std::pair{"tokenizer.sentinels", &task.sentinels}}) {
    absl::StatusOr<int64_t> value = settings.getInt(key);
    if (!value.ok())
      return value.status();
    *field = *value;
  }
  absl::StatusOr<int64_t> pad = settings.getInt("pad_id"),
                          eos = settings.getInt("eos_id");
  if (!pad.ok() || !eos.ok())
    return pad.ok() ? eos.status() : pad.status();
  task.padId = static_cast<int32_t>(*pad);
  task.eosId = static_cast<int32_t>(*eos);
  return task;
}

int64_t batchSize(const Model &model) {
  if (absl::GetFlag(FLAGS_batch_size) > 0)
    return absl::GetFlag(FLAGS_batch_size);
  absl::StatusOr<int64_t> size = model.settings().getInt("training.batch_size");
  return size.ok() && *size > 0 ? *size : 16;
}

TsvOptions tsvOptions(const TaskSettings &task, bool withTarget) {
  TsvOptions options;
  options.sourceColumn = absl::GetFlag(FLAGS_source_column);
  options.targetColumn = withTarget ? absl::GetFlag(FLAGS_target_column) : -1;
  if (task.classification)
    options.labels = task.labels;
  options.skipMalformed = absl::GetFlag(FLAGS_skip_malformed);
  return options;
}

absl::StatusOr<Dataset> loadDataset(const std::string &path,
                                    const TaskSettings &task,
                                    const Tokenizer &tokenizer,
                                    bool withTarget) {
  Dataset data;
  absl::StatusOr<std::vector<Example>> examples =
      readTsv(path, tsvOptions(task, withTarget), &data.stats);
  if (!examples.ok())
    return examples.status();
  if (examples->empty())
    return absl::InvalidArgumentError(absl::StrCat(path, ": no examples"));
  data.examples = *std::move(examples);
  for (const Example &example : data.examples)
    data.encoded.push_back(encodeExample(example, task, tokenizer));
  return data;
}

std::vector<int32_t> encodeText(const std::string &text, int64_t limit,
                                const TaskSettings &task,
                                const Tokenizer &tokenizer) {
  std::vector<int32_t> ids = tokenizer.encode(text);
  if (static_cast<int64_t>(ids.size()) > limit - 1)
    ids.resize(limit - 1);
  ids.push_back(task.eosId);
  return ids;
}

EncodedExample encodeExample(const Example &example, const TaskSettings &task,
                             const Tokenizer &tokenizer) {
  return {encodeText(example.source, task.maxSourceLength, task, tokenizer),
          encodeText(example.target, task.maxTargetLength, task, tokenizer)};
}

absl::StatusOr<Tokenizer> loadTokenizer(const Model &model,
                                        const TaskSettings &task,
                                        const std::string &fallback) {
  std::string path = absl::GetFlag(FLAGS_tokenizer);
  if (path.empty())
    path = fallback;
  if (path.empty()) {
    absl::StatusOr<std::string> defined =
        model.settings().getString("tokenizer.model");
    if (defined.ok())
      path = *defined;
  }
  if (path.empty())
    return absl::FailedPreconditionError(
        "no tokenizer: pass --tokenizer, or a checkpoint that names one");
  return Tokenizer::load(path, task.vocabSize);
}

absl::StatusOr<std::vector<std::string>> predict(Model &model,
                                                 const Tokenizer &tokenizer,
                                                 const TaskSettings &task,
                                                 const Dataset &data) {
  std::vector<std::string> predictions(data.encoded.size());
  DecodeOptions options;
  options.maxLength = task.maxTargetLength;
  options.padId = task.padId;
  options.eosId = task.eosId;
  options.vocabLimit = tokenizer.vocabSize();
  for (const std::vector<size_t> &indices :
       evaluationBatches(data.encoded, batchSize(model))) {
    Batch batch = makeBatch(data.encoded, indices, task.padId);
    absl::StatusOr<std::vector<std::vector<int32_t>>> outputs =
        beamDecode(model, batch.source, options, absl::GetFlag(FLAGS_beam));
    if (!outputs.ok())
      return outputs.status();
    for (size_t row = 0; row < indices.size(); ++row)
      predictions[indices[row]] = tokenizer.decode((*outputs)[row]);
  }
  return predictions;
}

double accuracy(const Dataset &data,
                const std::vector<std::string> &predictions, int64_t *correct) {
  int64_t matches = 0;
  for (size_t i = 0; i < predictions.size(); ++i)
    matches += predictions[i] == data.examples[i].target;
  if (correct)
    *correct = matches;
  return predictions.empty() ? 0.0
                             : static_cast<double>(matches) /
                                   static_cast<double>(predictions.size());
}

absl::StatusOr<std::string> latestCheckpoint(const std::string &dir) {
  std::vector<std::pair<int64_t, std::string>> found = listCheckpoints(dir);
  if (found.empty())
    return absl::NotFoundError(
        absl::StrCat(dir, ": no checkpoint (ckpt-<step>.safetensors) here"));
  return found.back().second;
}

namespace {

int runInfo(Model &model) {
  const EntryPoint *first = model.entry(model.entryNames().front());
  std::string device = "the CPU";
  if (first->runsOnDevice())
    device = absl::StrCat("an NVIDIA GPU (compiled for ",
                          model.settings().getString("gpu_arch").value_or("?"),
                          "); this machine: ", cuda::deviceDescription());
  std::cout << "model " << model.name() << "\n"
            << "runs on " << device << "\n"
            << "parameters " << model.parameters().size() << " tensors, "
            << model.numParameterElements() << " elements\n"
            << "entry points " << absl::StrJoin(model.entryNames(), ", ")
            << "\n"
            << "optimizer state " << model.optimizerState().size()
            << " tensors\n\nsettings:\n"
            << model.settings().text();
  return 0;
}

struct Command {
  const char *name;
  const char *summary;
  /// The source file with the command's own flags.
  const char *flagFile;
  int (*run)(Model &);
};

const Command kCommands[] = {
    {"train",
     "train the model on TSV data; checkpoints, metrics, test accuracy",
     "TrainCommand.cpp", runTrain},
    {"eval", "accuracy (exact match) of a checkpoint on TSV data",
     "EvalCommand.cpp", runEval},
    {"predict", "decode TSV or stdin lines with a checkpoint, one per line",
     "EvalCommand.cpp", runPredict},
    {"info", "the model's settings, parameters and entry points", "", runInfo},
};

void printOverview(const std::string &program, const convseq_model &model) {
  std::cout << program << ": the model '" << model.name
            << "', compiled by convseqc.\n\nUsage: " << program
            << " <command> [--flags]\n\nCommands:\n";
  for (const Command &command : kCommands)
    std::cout << "  " << command.name
              << std::string(9 - strlen(command.name), ' ') << command.summary
              << "\n";
  std::cout << "\n'" << program
            << " <command> --help' lists a command's flags.\n";
}

/// Rejects flags of other commands that were set: every command's flags
/// are registered in one program.
absl::Status checkFlagsBelongTo(const Command &command) {
  for (const auto &[name, flag] : absl::GetAllFlags()) {
    std::string file = flag->Filename();
    if (!absl::StrContains(file, "runtime/") ||
        absl::StrContains(file, "runtime/Main.cpp") ||
        (*command.flagFile && absl::StrContains(file, command.flagFile)))
      continue;
    if (flag->CurrentValue() != flag->DefaultValue())
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " is not a flag of '", command.name,
                       "'; see '", command.name, " --help'"));
  }
  return absl::OkStatus();
}

} // namespace

} // namespace convseq::runtime

extern "C" int convseq_main(int argc, char **argv,
                            const convseq_model *compiled) {
  using namespace convseq::runtime;
  keepFreedMemory();
  std::string program = argv[0];
  if (size_t slash = program.rfind('/'); slash != std::string::npos)
    program = program.substr(slash + 1);
  if (argc < 2) {
    printOverview(program, *compiled);
    return 1;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    printOverview(program, *compiled);
    return 0;
  }
  const Command *command = nullptr;
  for (const Command &candidate : kCommands)
    if (name == candidate.name)
      command = &candidate;
  if (!command) {
    std::cerr << "error: unknown command '" << name << "'\n\n";
    printOverview(program, *compiled);
    return 1;
  }

  std::string commandLine = absl::StrCat(program, " ", name);
  absl::SetProgramUsageMessage(
      absl::StrCat(command->summary, "\n\nUsage: ", commandLine,
                   " [--flags]\n(docs/runtime.md has examples)"));
  absl::FlagsUsageConfig usage;
  std::string flagFile = command->flagFile;
  auto ownFlags = [flagFile](absl::string_view file) {
    return absl::StrContains(file, "runtime/Main.cpp") ||
           (!flagFile.empty() && absl::StrContains(file, flagFile));
  };
  usage.contains_help_flags = ownFlags;
  usage.contains_helpshort_flags = ownFlags;
  absl::SetFlagsUsageConfig(usage);

  std::vector<char *> args = {commandLine.data()};
  args.insert(args.end(), argv + 2, argv + argc);
  std::vector<char *> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (positional.size() > 1)
    return reportError(absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", positional[1],
                     "'; flags are written --name=value")));
  if (absl::Status status = checkFlagsBelongTo(*command); !status.ok())
    return reportError(status);
  if (absl::GetFlag(FLAGS_beam) < 1)
    return reportError(absl::InvalidArgumentError(
        absl::StrCat("--beam=", absl::GetFlag(FLAGS_beam),
                     ": the beam width must be at least 1")));

  absl::StatusOr<Model> model = Model::create(*compiled);
  if (!model.ok())
    return reportError(model.status());
  return command->run(*model);
}
