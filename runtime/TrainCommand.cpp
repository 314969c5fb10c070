//===- TrainCommand.cpp - `<model> train` ---------------------------------===//
//
// The training loop around the compiled train_step (or, accumulating
// gradients, train_grad and train_apply): data, tokenizer, checkpoints,
// metrics, progress and signals. Everything a step computes (forward,
// backward, accumulation, clipping, schedule, optimizer update) is
// generated code; the loop only chooses the batches of each step and keeps
// state.
//
//===----------------------------------------------------------------------===//

#include "runtime/Checkpoint.h"
#include "runtime/Commands.h"
#include "runtime/Progress.h"
#include "runtime/Random.h"
#include "runtime/TrainingData.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sys/stat.h>

ABSL_FLAG(std::string, train, "",
          "Training data (required): TSV, or raw text (one paragraph a line) "
          "for a span-corruption model");
ABSL_FLAG(std::string, valid, "",
          "Validation data (TSV): accuracy every --eval_every steps");
ABSL_FLAG(std::string, test, "",
          "Test data (TSV): accuracy of the final model, printed at the end");
ABSL_FLAG(std::string, output_dir, "",
          "Where checkpoints, the tokenizer and metrics.jsonl go (default: "
          "<model>-run)");
ABSL_FLAG(int64_t, steps, 0,
          "Training steps (default: the model definition's training.steps)");
ABSL_FLAG(int64_t, epochs, 0,
          "Train for this many passes over the data instead of --steps");
ABSL_FLAG(int64_t, accumulate, 1,
          "Micro-batches of --batch_size per step: the step applies the mean "
          "of their gradients (needs an executable built with convseqc "
          "--accumulation)");
ABSL_FLAG(int64_t, save_every, 500, "Steps between checkpoints");
ABSL_FLAG(int, keep_checkpoints, 3, "Checkpoints kept in --output_dir");
ABSL_FLAG(int64_t, eval_every, 0,
          "Steps between validation runs on --valid (0: only at the end)");
ABSL_FLAG(bool, resume, false,
          "Continue from the latest checkpoint in --output_dir, bit-exactly");
ABSL_FLAG(std::string, init_from, "",
          "Start from the parameters of this checkpoint (fine-tuning); the "
          "optimizer starts afresh");
ABSL_FLAG(std::string, task, "",
          "span_corruption: pre-train on raw text (T5 span corruption) "
          "instead of the definition's task; the compiled training step is "
          "the same");
ABSL_FLAG(int64_t, log_every, 100,
          "Steps between progress lines when stderr is not a terminal");

namespace convseq::runtime {

namespace {

std::atomic<int> pendingSignal{0};

void onSignal(int signal) { pendingSignal = signal; }

/// Installs the SIGINT/SIGTERM handlers for the lifetime of the loop.
class SignalScope {
public:
  SignalScope() {
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &oldInt);
    sigaction(SIGTERM, &action, &oldTerm);
  }
  ~SignalScope() {
    sigaction(SIGINT, &oldInt, nullptr);
    sigaction(SIGTERM, &oldTerm, nullptr);
  }

private:
  struct sigaction oldInt = {}, oldTerm = {};
};

absl::Status makeDirectories(const std::string &path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
      return absl::InternalError(absl::StrCat(
          prefix, ": cannot create the directory: ", std::strerror(errno)));
    if (slash == std::string::npos)
      return absl::OkStatus();
  }
}

std::string taskName(const TaskSettings &task) {
  if (task.spanCorruption)
    return "span_corruption";
  return task.classification ? "classification" : "seq2seq";
}

double scalar(const Tensor &tensor) {
  return tensor.dtype == Dtype::F64 ? tensor.data<double>()[0]
                                    : tensor.data<float>()[0];
}

/// What one training step reports.
struct StepResult {
  double loss = 0, gradNorm = 0, learningRate = 0;
  int64_t tokens = 0;
};

/// Runs the compiled update of each step on the batches the plan gives it:
/// train_step on one batch, or train_grad on each of k micro-batches
/// (batches k(s-1)+1 .. ks of the plan, each its own dropout key) and then
/// train_apply on the mean of their gradients.
class StepRunner {
public:
  static absl::StatusOr<StepRunner> create(Model &model, int64_t microBatches) {
    StepRunner runner(model, microBatches);
    if (microBatches < 1)
      return absl::InvalidArgumentError(
          absl::StrCat("--accumulate=", microBatches, ": expected at least 1"));
    if (microBatches == 1 && (runner.fused = model.entry("train_step")))
      return runner;
    runner.grad = model.entry("train_grad");
    runner.apply = model.entry("train_apply");
    if (!runner.grad || !runner.apply) {
      if (microBatches == 1)
        return model.requireEntry("train_step").status();
      return absl::FailedPreconditionError(
          "--accumulate needs the entry points train_grad and train_apply, "
          "which this executable was compiled without; compile the model "
          "with convseqc --accumulation");
    }
    for (const convseq_arg_info *slot : runner.grad->slots(CONVSEQ_INPUT)) {
      if (!slot->updated)
        continue;
      absl::StatusOr<Dtype> dtype = slotDtype(*slot);
      if (!dtype.ok())
        return dtype.status();
      runner.accumulators.emplace_back(
          slot->name,
          Tensor::zeros(*dtype, std::vector<int64_t>(
                                    slot->shape, slot->shape + slot->rank)));
    }
    return runner;
  }

  absl::StatusOr<StepResult> run(int64_t step, TrainingData &data,
                                 BatchPlan &plan, int64_t seed) {
    StepResult result;
    std::map<std::string, Tensor, std::less<>> outputs;
    for (int64_t micro = 0; micro < microBatches; ++micro) {
      int64_t key = (step - 1) * microBatches + micro + 1;
      absl::StatusOr<Batch> batch = data.batch(plan.batchOfStep(key));
      if (!batch.ok())
        return batch.status();
      CallArgs args;
      model.bindParameters(args, /*withState=*/fused != nullptr);
      for (auto &[name, tensor] : accumulators)
        args.tensors[name] = &tensor;
      args.tensors["src_ids"] = &batch->source;
      args.tensors["tgt_ids"] = &batch->target;
      args.scalars["seed"] = seed;
      args.scalars["step"] = key;
      args.outputShapes["loss"] = {};
      if (fused)
        args.outputShapes["grad_norm"] =
            args.outputShapes["learning_rate"] = {};
      absl::StatusOr<std::map<std::string, Tensor, std::less<>>> called =
          (fused ? fused : grad)->call(args);
      if (!called.ok())
        return called.status();
      result.loss += scalar((*called)["loss"]) / microBatches;
      result.tokens += batch->tokens;
      outputs = *std::move(called);
    }
    if (!fused) {
      CallArgs args;
      model.bindParameters(args, /*withState=*/true);
      for (auto &[name, tensor] : accumulators)
        args.tensors[name] = &tensor;
      args.scalars["step"] = step;
      args.scalars["micro_batches"] = microBatches;
      args.outputShapes["grad_norm"] = args.outputShapes["learning_rate"] = {};
      absl::StatusOr<std::map<std::string, Tensor, std::less<>>> called =
          apply->call(args);
      if (!called.ok())
        return called.status();
      outputs = *std::move(called);
      for (auto &[name, tensor] : accumulators)
        std::fill(tensor.bytes.begin(), tensor.bytes.end(), 0);
    }
    result.gradNorm = scalar(outputs["grad_norm"]);
    result.learningRate = scalar(outputs["learning_rate"]);
    return result;
  }

private:
  StepRunner(Model &model, int64_t microBatches)
      : model(model), microBatches(microBatches) {}

  Model &model;
  int64_t microBatches;
  const EntryPoint *fused = nullptr, *grad = nullptr, *apply = nullptr;
  /// train_grad's gradient sums (`grad.<p>`), zeros between steps.
  NamedTensors accumulators;
};

/// Texts a tokenizer is trained on at most: SentencePiece's own advice is a
/// sample of a few million sentences.
constexpr int64_t kTokenizerTexts = 2'000'000;

/// The tokenizer of a fresh run: given, defined, or trained on the
/// training text (a sample of it, for a large file) into `dir`.
absl::StatusOr<Tokenizer> freshTokenizer(const Model &model,
                                         const TaskSettings &task,
                                         const std::string &dir) {
  if (!absl::GetFlag(FLAGS_tokenizer).empty() ||
      !model.settings().getString("tokenizer.model").value_or("").empty())
    return loadTokenizer(model, task, "");
  // A uniform sample of at most kTokenizerTexts texts (reservoir
  // sampling), all of them in file order for a smaller file.
  std::vector<std::string> texts;
  int64_t seen = 0;
  Random random(0, "tokenizer.sample");
  auto add = [&](std::string_view text) {
    if (seen++ < kTokenizerTexts)
      texts.emplace_back(text);
    else if (uint64_t slot = random.below(seen); slot < kTokenizerTexts)
      texts[slot] = std::string(text);
  };
  std::string train = absl::GetFlag(FLAGS_train);
  absl::Status read =
      task.spanCorruption
          ? forEachTextLine(train,
                            [&](std::string_view line, int64_t, int64_t) {
                              add(line);
                              return absl::OkStatus();
                            })
          : forEachTsvExample(train, tsvOptions(task, true),
                              [&](Example example) {
                                add(example.source);
                                add(example.target);
                                return absl::OkStatus();
                              });
  if (!read.ok())
    return read;
  std::string path = dir + "/tokenizer.model";
  std::cerr << "training a SentencePiece tokenizer on " << texts.size()
            << " texts -> " << path << "\n";
  return Tokenizer::train(texts, task.vocabSize, task.sentinels, path);
}

/// Validation or test accuracy of the current parameters; `correct`, if
/// given, receives the number of exact matches.
absl::StatusOr<double> evaluateOn(Model &model, const Tokenizer &tokenizer,
                                  const TaskSettings &task, const Dataset &data,
                                  int64_t *correct = nullptr) {
  absl::StatusOr<std::vector<std::string>> predictions =
      predict(model, tokenizer, task, data);
  if (!predictions.ok())
    return predictions.status();
  return accuracy(data, *predictions, correct);
}

int train(Model &model) {
  if (absl::GetFlag(FLAGS_train).empty())
    return reportError(absl::InvalidArgumentError(
        "--train is required: a TSV file of training examples"));
  int64_t microBatches = absl::GetFlag(FLAGS_accumulate);
  absl::StatusOr<StepRunner> runner = StepRunner::create(model, microBatches);
  if (!runner.ok())
    return reportError(runner.status());
  absl::StatusOr<TaskSettings> task = readTaskSettings(model);
  if (!task.ok())
    return reportError(task.status());
  if (std::string name = absl::GetFlag(FLAGS_task); !name.empty()) {
    if (name != "span_corruption")
      return reportError(absl::InvalidArgumentError(
          absl::StrCat("--task=", name,
                       ": expected span_corruption (other tasks come "
                       "from the model definition)")));
    task->spanCorruption = true;
    task->classification = false;
  }
  const Settings &settings = model.settings();
  int64_t steps = absl::GetFlag(FLAGS_steps) > 0
                      ? absl::GetFlag(FLAGS_steps)
                      : settings.getInt("training.steps").value_or(1000);
  int64_t seed = settings.getInt("training.seed").value_or(0);
  std::string dir = absl::GetFlag(FLAGS_output_dir);
  if (dir.empty())
    dir = model.name() + "-run";
  if (absl::Status status = makeDirectories(dir); !status.ok())
    return reportError(status);

  // Parameters, optimizer state and tokenizer: resumed, fine-tuned or new.
  int64_t firstStep = 1;
  absl::StatusOr<Tokenizer> tokenizer = absl::UnknownError("unset");
  bool resume = absl::GetFlag(FLAGS_resume);
  if (resume) {
    absl::StatusOr<std::string> latest = latestCheckpoint(dir);
    if (!latest.ok())
      return reportError(latest.status());
    absl::StatusOr<CheckpointInfo> info =
        loadCheckpoint(*latest, model, LoadMode::Resume);
    if (!info.ok())
      return reportError(info.status());
    firstStep = info->step + 1;
    // Step s trains on batches k(s-1)+1 .. ks: another k would not continue
    // the same sequence of batches.
    if (std::string saved = info->metadata["accumulate"];
        saved != absl::StrCat(microBatches) &&
        !(saved.empty() && microBatches == 1))
      return reportError(absl::InvalidArgumentError(absl::StrCat(
          *latest, ": this run accumulated ", saved.empty() ? "1" : saved,
          " micro-batches a step; resume it with --accumulate=",
          saved.empty() ? "1" : saved)));
    std::string savedTask = info->metadata["task"];
    if (savedTask != taskName(*task))
      return reportError(absl::InvalidArgumentError(
          absl::StrCat(*latest, ": this run trained on the task '", savedTask,
                       "', not '", taskName(*task), "' (--task)")));
    tokenizer = loadTokenizer(model, *task, info->tokenizer);
    std::cerr << "resuming from " << *latest << " at step " << firstStep
              << "\n";
  } else {
    if (!listCheckpoints(dir).empty())
      return reportError(absl::FailedPreconditionError(absl::StrCat(
          dir, " already has checkpoints: pass --resume to continue that "
               "run, or choose another --output_dir")));
    model.initialize(static_cast<uint64_t>(seed));
    if (std::string from = absl::GetFlag(FLAGS_init_from); !from.empty()) {
      absl::StatusOr<CheckpointInfo> info =
          loadCheckpoint(from, model, LoadMode::Parameters);
      if (!info.ok())
        return reportError(info.status());
      tokenizer = loadTokenizer(model, *task, info->metadata["tokenizer"]);
    } else {
      tokenizer = freshTokenizer(model, *task, dir);
    }
  }
  if (!tokenizer.ok())
    return reportError(tokenizer.status());

  absl::StatusOr<std::unique_ptr<TrainingData>> data =
      task->spanCorruption
          ? streamSpanCorruptionData(absl::GetFlag(FLAGS_train), *task,
                                     *tokenizer, static_cast<uint64_t>(seed))
          : streamTsvData(absl::GetFlag(FLAGS_train), *task, *tokenizer);
  if (!data.ok())
    return reportError(data.status());
  if (task->spanCorruption && !(absl::GetFlag(FLAGS_valid).empty() &&
                                absl::GetFlag(FLAGS_test).empty()))
    return reportError(absl::InvalidArgumentError(
        "--valid and --test need a seq2seq or classification model; "
        "span-corruption pre-training reports its training loss"));
  std::optional<Dataset> valid, test;
  for (auto [flag, target] :
       {std::pair{&FLAGS_valid, &valid}, std::pair{&FLAGS_test, &test}}) {
    if (absl::GetFlag(*flag).empty())
      continue;
    absl::StatusOr<Dataset> loaded =
        loadDataset(absl::GetFlag(*flag), *task, *tokenizer, true);
    if (!loaded.ok())
      return reportError(loaded.status());
    *target = *std::move(loaded);
  }
  BatchPlan plan((*data)->sourceLengths(), batchSize(model),
                 static_cast<uint64_t>(seed));
  if (int64_t epochs = absl::GetFlag(FLAGS_epochs); epochs > 0) {
    if (absl::GetFlag(FLAGS_steps) > 0)
      return reportError(absl::InvalidArgumentError(
          "--steps and --epochs both say when to stop; give one"));
    steps = (epochs * plan.batchesPerEpoch() + microBatches - 1) / microBatches;
  }
  std::cerr << absl::StrFormat(
      "%s: %d parameters, %d training examples%s, batch %d%s, steps %d..%d, "
      "output in %s\n",
      model.name(), model.numParameterElements(), (*data)->size(),
      (*data)->stats().skipped
          ? absl::StrCat(" (", (*data)->stats().skipped, " malformed skipped)")
          : "",
      batchSize(model),
      microBatches > 1 ? absl::StrCat(" x ", microBatches, " micro-batches")
                       : "",
      firstStep, steps, dir);

  std::ofstream metrics(dir + "/metrics.jsonl",
                        resume ? std::ios::app : std::ios::trunc);
  CheckpointInfo info;
  info.tokenizer = tokenizer->path();
  info.metadata["task"] = taskName(*task);
  info.metadata["accumulate"] = absl::StrCat(microBatches);
  auto save = [&](int64_t stepNumber) -> absl::Status {
    info.step = stepNumber;
    if (absl::Status status =
            saveCheckpoint(checkpointPath(dir, stepNumber), model, info);
        !status.ok())
      return status;
    return pruneCheckpoints(dir, absl::GetFlag(FLAGS_keep_checkpoints));
  };

  Progress progress(firstStep - 1, steps, absl::GetFlag(FLAGS_log_every));
  SignalScope signals;
  int64_t lastSaved = firstStep - 1;
  for (int64_t current = firstStep; current <= steps; ++current) {
    absl::StatusOr<StepResult> result =
        runner->run(current, **data, plan, seed);
    if (!result.ok())
      return reportError(result.status());
    auto [loss, gradNorm, learningRate, tokens] = *result;
    if (!std::isfinite(loss))
      return reportError(absl::InternalError(
          absl::StrCat("step ", current, ": the loss is ", loss,
                       "; stopping (the last checkpoint, step ", lastSaved,
                       ", is intact). Try a smaller learning rate.")));
    progress.update(current, loss, tokens);
    metrics << absl::StrFormat(
        "{\"step\": %d, \"loss\": %.6g, \"grad_norm\": %.6g, "
        "\"learning_rate\": %.6g, \"tokens\": %d, \"tokens_per_second\": "
        "%.1f}\n",
        current, loss, gradNorm, learningRate, tokens,
        progress.tokensPerSecond());

    bool interrupted = pendingSignal != 0;
    if (interrupted || current % absl::GetFlag(FLAGS_save_every) == 0 ||
        current == steps) {
      if (absl::Status status = save(current); !status.ok())
        return reportError(status);
      lastSaved = current;
    }
    if (interrupted) {
      progress.finish();
      metrics.flush();
      std::cerr << "interrupted (signal " << pendingSignal << ") at step "
                << current << "; saved " << checkpointPath(dir, current)
                << "; continue with --resume\n";
      return 128 + pendingSignal;
    }
    int64_t every = absl::GetFlag(FLAGS_eval_every);
    if (valid && every > 0 && current % every == 0 && current != steps) {
      absl::StatusOr<double> score =
          evaluateOn(model, *tokenizer, *task, *valid);
      if (!score.ok())
        return reportError(score.status());
      progress.note(absl::StrFormat("step %d: validation accuracy %.4f",
                                    current, *score));
      metrics << absl::StrFormat("{\"step\": %d, \"valid_accuracy\": %.6g}\n",
                                 current, *score);
    }
    metrics.flush();
  }
  progress.finish();

  for (auto [label, set] :
       {std::pair{"validation", &valid}, std::pair{"test", &test}}) {
    if (!*set)
      continue;
    int64_t correct;
    absl::StatusOr<double> score =
        evaluateOn(model, *tokenizer, *task, **set, &correct);
    if (!score.ok())
      return reportError(score.status());
    std::cout << absl::StrFormat("%s accuracy %.4f (%d/%d)\n", label, *score,
                                 correct, (*set)->examples.size());
    metrics << absl::StrFormat("{\"step\": %d, \"%s_accuracy\": %.6g}\n", steps,
                               label, *score);
  }
  std::cerr << "checkpoint " << checkpointPath(dir, steps) << "\n";
  return 0;
}

} // namespace

int runTrain(Model &model) { return train(model); }

} // namespace convseq::runtime
