//===- ModelConfig.cpp - Parse and validate a model definition ------------===//
//
// Reads the YAML model definition of docs/model-format.md in two phases:
// every section is read as it comes (types and the range of each value),
// then the checks that relate fields of several sections run and the
// defaults that depend on other fields (per-layer kernel widths and
// dilations) are filled in. Problems are reported at the key or value that
// causes them; reading goes on after an error so one run shows them all.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/ModelConfig.h"
#include "lib/Frontend/ModelConfigParser.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::detail;
namespace yaml = llvm::yaml;

namespace {

const StringRef kTopLevelKeys[] = {"name", "family",    "dtype", "model",
                                   "conv", "tokenizer", "task",  "training"};
const StringRef kModelKeys[] = {
    "d_model",        "heads",      "d_ff",    "encoder_layers",
    "decoder_layers", "vocab_size", "dropout", "rms_norm_epsilon"};
const StringRef kConvKeys[] = {"variant",
                               "kernel_size",
                               "encoder_kernel_sizes",
                               "decoder_kernel_sizes",
                               "encoder_dilations",
                               "decoder_dilations"};
const StringRef kTokenizerKeys[] = {"model", "sentinels"};
const StringRef kTaskKeys[] = {"type",
                               "labels",
                               "max_source_length",
                               "max_target_length",
                               "noise_density",
                               "mean_span_length"};
const StringRef kTrainingKeys[] = {
    "optimizer",       "learning_rate", "schedule",     "warmup_steps",
    "batch_size",      "steps",         "weight_decay", "clip_norm",
    "label_smoothing", "seed",          "frozen"};

const StringRef kFamilyNames[] = {"conv", "transformer"};
const ModelFamily kFamilies[] = {ModelFamily::ConvSeq2Seq,
                                 ModelFamily::Transformer};
const StringRef kReservedFamilies[] = {"convbert", "frozen"};
const StringRef kDTypeNames[] = {"f32", "f64", "bf16"};
const ElementKind kDTypes[] = {ElementKind::F32, ElementKind::F64,
                               ElementKind::BF16};
const StringRef kVariantNames[] = {"lightweight", "dynamic", "dilated"};
const ConvVariant kVariants[] = {ConvVariant::lightweight, ConvVariant::dynamic,
                                 ConvVariant::dilated};
const StringRef kTaskNames[] = {"seq2seq", "classification", "span_corruption"};
const TaskKind kTasks[] = {TaskKind::Seq2Seq, TaskKind::Classification,
                           TaskKind::SpanCorruption};
const StringRef kOptimizerNames[] = {"adafactor", "adamw"};
const OptimizerKind kOptimizers[] = {OptimizerKind::Adafactor,
                                     OptimizerKind::AdamW};
const StringRef kScheduleNames[] = {"constant", "linear_warmup_decay",
                                    "inverse_sqrt"};
const ScheduleKind kSchedules[] = {ScheduleKind::Constant,
                                   ScheduleKind::LinearWarmupDecay,
                                   ScheduleKind::InverseSqrt};

bool isPositive(double x) { return x > 0; }
bool isNonNegative(double x) { return x >= 0; }
bool isFraction(double x) { return x >= 0 && x < 1; }

} // namespace

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

FailureOr<ModelConfig> ModelConfigParser::parse(llvm::SMLoc bufferStart) {
  yaml::document_iterator document = stream.begin();
  if (stream.failed())
    return failure();
  if (document == stream.end()) {
    readDocument(nullptr, bufferStart);
    return failure();
  }
  readDocument(document->getRoot(), bufferStart);
  if (!stream.failed() && ++document != stream.end() && !stream.failed())
    reader.emitError(document->getRoot()->getSourceRange().Start,
                     "a model definition is a single YAML document; remove "
                     "this second one");
  // Checks across fields skip values that could not be read, so they run
  // after other errors too; a syntax error makes everything else moot.
  if (stream.failed())
    return failure();

  checkModel();
  if (config.family == ModelFamily::ConvSeq2Seq && usable("family"))
    finishConv();
  checkTokenizer();
  checkTask();
  checkTraining();
  if (reader.failed())
    return failure();
  return std::move(config);
}

void ModelConfigParser::readDocument(yaml::Node *root,
                                     llvm::SMLoc bufferStart) {
  if (!root || isa<yaml::NullNode>(root)) {
    reader.emitError(bufferStart, "the model definition is empty; expected a "
                                  "mapping with at least 'name', 'family' and "
                                  "'model'");
    return;
  }
  documentLoc = root->getSourceRange().Start;
  readSection(YAMLField{"", documentLoc, root}, "", kTopLevelKeys,
              {"name", "family", "model"},
              [&](const YAMLField &field) { readTopLevelField(field); });
}

void ModelConfigParser::readTopLevelField(const YAMLField &field) {
  StringRef key = field.key;
  if (key == "name") {
    std::optional<std::string> name = reader.readString(field);
    if (!name) {
      markInvalid(field);
    } else if (name->empty()) {
      reader.emitError(field.valueLoc(), "model name must not be empty");
    } else if (!llvm::all_of(*name, [](char c) {
                 return llvm::isAlnum(c) || c == '_' || c == '-' || c == '.';
               })) {
      reader.emitError(field.valueLoc(),
                       "model name '" + *name +
                           "' may contain only letters, digits, '_', '-' "
                           "and '.'");
    } else {
      config.name = std::move(*name);
    }
  } else if (key == "family") {
    readEnum(field, "model family", kFamilyNames, ArrayRef(kFamilies),
             config.family, kReservedFamilies);
  } else if (key == "dtype") {
    readEnum(field, "dtype", kDTypeNames, ArrayRef(kDTypes), config.dtype);
  } else if (key == "model") {
    readModel(field);
  } else if (key == "conv") {
    readConv(field);
  } else if (key == "tokenizer") {
    readTokenizer(field);
  } else if (key == "task") {
    readTask(field);
  } else if (key == "training") {
    readTraining(field);
  }
}

void ModelConfigParser::readSection(
    const YAMLField &field, StringRef section, ArrayRef<StringRef> keys,
    ArrayRef<StringRef> required,
    function_ref<void(const YAMLField &)> handle) {
  std::string outer = currentSection;
  currentSection = section.str();
  std::string context =
      section.empty() ? "at the top level" : ("in '" + section + "'").str();
  std::optional<llvm::StringMap<FieldLocation>> seen =
      reader.readMapping(field, context, keys, handle);
  if (seen) {
    for (const auto &entry : *seen)
      locations[pathOf(entry.getKey())] = entry.second;
    // Missing keys are reported at the section's key, or for the top level
    // at the start of the document.
    reader.checkRequired(*seen, required, context,
                         section.empty() ? field.valueLoc() : field.keyLoc);
    for (StringRef key : required)
      if (!seen->contains(key))
        invalid.insert(pathOf(key));
  } else {
    invalid.insert(section);
  }
  currentSection = outer;
}

llvm::SMLoc ModelConfigParser::locOrSection(StringRef path) const {
  if (given(path))
    return valueLoc(path);
  StringRef section = path.split('.').first;
  if (given(section))
    return keyLoc(section);
  return documentLoc;
}

//===----------------------------------------------------------------------===//
// Values with a range
//===----------------------------------------------------------------------===//

/// Reports `value` outside [min, max] at `loc` as "<what> must be ...".
static bool checkIntegerRange(YAMLReader &reader, llvm::SMLoc loc,
                              StringRef what, int64_t value, int64_t min,
                              int64_t max) {
  if (value < min) {
    reader.emitError(loc, what +
                              (min == 1 ? " must be positive, got "
                                        : " must not be negative, got ") +
                              Twine(value));
    return false;
  }
  if (value > max) {
    reader.emitError(loc, what + " must be at most " + Twine(max) + ", got " +
                              Twine(value));
    return false;
  }
  return true;
}

void ModelConfigParser::readSize(const YAMLField &field, int64_t &out,
                                 StringRef what) {
  std::optional<int64_t> value = reader.readInteger(field);
  if (!value || !checkIntegerRange(reader, field.valueLoc(),
                                   what.empty() ? field.key : what, *value, 1,
                                   kMaxSize)) {
    markInvalid(field);
    return;
  }
  out = *value;
}

void ModelConfigParser::readCount(const YAMLField &field, int64_t &out,
                                  int64_t max) {
  std::optional<int64_t> value = reader.readInteger(field);
  if (!value ||
      !checkIntegerRange(reader, field.valueLoc(), field.key, *value, 0, max)) {
    markInvalid(field);
    return;
  }
  out = *value;
}

void ModelConfigParser::readNumber(const YAMLField &field, double &out,
                                   function_ref<bool(double)> inRange,
                                   StringRef requirement) {
  std::optional<double> value = reader.readNumber(field);
  if (value && inRange(*value)) {
    out = *value;
    return;
  }
  if (value)
    reader.emitError(field.valueLoc(), field.key + " " + requirement +
                                           ", got " +
                                           YAMLReader::scalarText(field));
  markInvalid(field);
}

//===----------------------------------------------------------------------===//
// Sections: model, conv, tokenizer
//===----------------------------------------------------------------------===//

void ModelConfigParser::readModel(const YAMLField &section) {
  readSection(section, "model", kModelKeys,
              {"d_model", "heads", "d_ff", "encoder_layers", "decoder_layers",
               "vocab_size"},
              [&](const YAMLField &field) {
                StringRef key = field.key;
                if (key == "d_model")
                  readSize(field, config.dModel);
                else if (key == "heads")
                  readSize(field, config.heads);
                else if (key == "d_ff")
                  readSize(field, config.dFF);
                else if (key == "encoder_layers")
                  readSize(field, config.encoderLayers);
                else if (key == "decoder_layers")
                  readSize(field, config.decoderLayers);
                else if (key == "vocab_size")
                  readSize(field, config.vocabSize);
                else if (key == "dropout")
                  readNumber(field, config.dropout, isFraction,
                             "must be in [0, 1)");
                else if (key == "rms_norm_epsilon")
                  readNumber(field, config.rmsNormEpsilon, isPositive,
                             "must be positive");
              });
}

void ModelConfigParser::readConv(const YAMLField &section) {
  auto readList = [&](const YAMLField &field, StringRef what,
                      std::optional<SmallVector<Located<int64_t>>> &out) {
    out = reader.readIntegerList(field);
    if (!out) {
      markInvalid(field);
      return;
    }
    for (const Located<int64_t> &entry : *out)
      if (!checkIntegerRange(reader, entry.loc, what, entry.value, 1, kMaxSize))
        markInvalid(field);
  };
  readSection(section, "conv", kConvKeys, {}, [&](const YAMLField &field) {
    StringRef key = field.key;
    if (key == "variant") {
      readEnum(field, "conv variant", kVariantNames, ArrayRef(kVariants),
               config.conv.variant);
    } else if (key == "kernel_size") {
      int64_t size = 0;
      readSize(field, size, "kernel width");
      if (size > 0)
        convInput.kernelSize = Located<int64_t>{size, field.valueLoc()};
    } else if (key == "encoder_kernel_sizes") {
      readList(field, "kernel width", convInput.encoderKernelSizes);
    } else if (key == "decoder_kernel_sizes") {
      readList(field, "kernel width", convInput.decoderKernelSizes);
    } else if (key == "encoder_dilations") {
      readList(field, "dilation", convInput.encoderDilations);
    } else if (key == "decoder_dilations") {
      readList(field, "dilation", convInput.decoderDilations);
    }
  });
}

void ModelConfigParser::readTokenizer(const YAMLField &section) {
  readSection(section, "tokenizer", kTokenizerKeys, {},
              [&](const YAMLField &field) {
                if (field.key == "sentinels") {
                  readCount(field, config.tokenizer.sentinels, kMaxSize);
                  return;
                }
                std::optional<std::string> path = reader.readString(field);
                if (path && path->empty())
                  reader.emitError(field.valueLoc(),
                                   "tokenizer model path must not be empty; "
                                   "leave 'model' out to train a tokenizer");
                if (!path || path->empty()) {
                  markInvalid(field);
                  return;
                }
                config.tokenizer.model = std::move(*path);
              });
}

//===----------------------------------------------------------------------===//
// Sections: task, training
//===----------------------------------------------------------------------===//

void ModelConfigParser::readTask(const YAMLField &section) {
  TaskConfig &task = config.task;
  readSection(section, "task", kTaskKeys, {}, [&](const YAMLField &field) {
    StringRef key = field.key;
    if (key == "type")
      readEnum(field, "task type", kTaskNames, ArrayRef(kTasks), task.kind);
    else if (key == "labels")
      readLabels(field);
    else if (key == "max_source_length")
      readSize(field, task.maxSourceLength);
    else if (key == "max_target_length")
      readSize(field, task.maxTargetLength);
    else if (key == "noise_density")
      readNumber(
          field, task.noiseDensity, [](double x) { return x > 0 && x < 1; },
          "must be in (0, 1)");
    else if (key == "mean_span_length")
      readNumber(
          field, task.meanSpanLength, [](double x) { return x >= 1; },
          "must be at least 1");
  });
}

void ModelConfigParser::readLabels(const YAMLField &field) {
  // A rejected label must not also make the task look short of labels.
  unsigned errors = reader.getNumErrors();
  readLabelEntries(field);
  if (reader.getNumErrors() != errors)
    markInvalid(field);
}

void ModelConfigParser::readLabelEntries(const YAMLField &field) {
  llvm::StringMap<llvm::SMLoc> seenWords;
  // `labels: {ABBR: abbreviation, ...}`: dataset class -> label word.
  if (isa<yaml::MappingNode>(field.value)) {
    reader.readMapping(field, "in 'labels'", {}, [&](const YAMLField &entry) {
      if (std::optional<std::string> word = reader.readString(entry))
        addLabel(entry.key.str(), {*word, entry.valueLoc()}, seenWords);
    });
    return;
  }
  // `labels: [positive, negative]`: the words are the dataset's classes.
  std::optional<SmallVector<Located<std::string>>> words =
      reader.readStringList(field);
  if (!words)
    return;
  for (const Located<std::string> &word : *words)
    addLabel(word.value, word, seenWords);
}

void ModelConfigParser::addLabel(const std::string &labelClass,
                                 const Located<std::string> &word,
                                 llvm::StringMap<llvm::SMLoc> &seenWords) {
  if (word.value.empty() || labelClass.empty()) {
    reader.emitError(word.loc, "label words and classes must not be empty");
    return;
  }
  if (llvm::any_of(word.value, llvm::isSpace)) {
    reader.emitError(word.loc, "label word '" + word.value +
                                   "' must be a single word without spaces");
    return;
  }
  auto [it, inserted] = seenWords.try_emplace(word.value, word.loc);
  if (!inserted) {
    reader.emitError(word.loc, "duplicate label word '" + word.value + "'");
    reader.emitNote(it->second, "'" + word.value + "' was first given here");
    return;
  }
  config.task.labels.push_back(word.value);
  config.task.labelClasses.push_back(labelClass);
}

void ModelConfigParser::readTraining(const YAMLField &section) {
  readSection(section, "training", kTrainingKeys, {},
              [&](const YAMLField &field) { readTrainingField(field); });
}

void ModelConfigParser::readTrainingField(const YAMLField &field) {
  TrainingConfig &training = config.training;
  StringRef key = field.key;
  if (key == "optimizer") {
    readEnum(field, "optimizer", kOptimizerNames, ArrayRef(kOptimizers),
             training.optimizer);
  } else if (key == "learning_rate") {
    double rate = 0.0;
    readNumber(field, rate, isPositive, "must be positive");
    if (rate > 0.0)
      training.learningRate = rate;
  } else if (key == "schedule") {
    readEnum(field, "schedule", kScheduleNames, ArrayRef(kSchedules),
             training.schedule);
  } else if (key == "warmup_steps") {
    readCount(field, training.warmupSteps);
  } else if (key == "batch_size") {
    readSize(field, training.batchSize);
  } else if (key == "steps") {
    readSize(field, training.steps);
  } else if (key == "weight_decay") {
    readNumber(field, training.weightDecay, isNonNegative,
               "must not be negative");
  } else if (key == "clip_norm") {
    readNumber(field, training.clipNorm, isNonNegative, "must not be negative");
  } else if (key == "label_smoothing") {
    readNumber(field, training.labelSmoothing, isFraction, "must be in [0, 1)");
  } else if (key == "seed") {
    if (std::optional<uint64_t> seed = reader.readUnsigned(field))
      training.seed = *seed;
    else
      markInvalid(field);
  } else if (key == "frozen") {
    readFrozen(field);
  }
}

void ModelConfigParser::readFrozen(const YAMLField &field) {
  std::optional<SmallVector<Located<std::string>>> patterns =
      reader.readStringList(field);
  if (!patterns) {
    markInvalid(field);
    return;
  }
  for (const Located<std::string> &pattern : *patterns) {
    if (pattern.value.empty()) {
      reader.emitError(pattern.loc, "frozen-parameter pattern must not be "
                                    "empty");
      continue;
    }
    llvm::Expected<llvm::GlobPattern> glob =
        llvm::GlobPattern::create(pattern.value);
    if (!glob) {
      reader.emitError(pattern.loc,
                       "invalid frozen-parameter pattern '" + pattern.value +
                           "': " + llvm::toString(glob.takeError()));
      continue;
    }
    config.training.frozen.push_back(pattern.value);
    config.training.frozenLocations.push_back(pattern.loc);
  }
}

//===----------------------------------------------------------------------===//
// Entry point
//===----------------------------------------------------------------------===//

FailureOr<ModelConfig>
mlir::convseq::parseModelConfig(llvm::SourceMgr &sourceMgr) {
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  // The YAML scanner registers the buffer once more with the SourceMgr it is
  // given. Give it a private one that forwards its syntax errors, so they
  // reach `sourceMgr`'s handler as ours do while `sourceMgr` stays unchanged.
  llvm::SourceMgr yamlSourceMgr;
  yamlSourceMgr.setDiagHandler(
      [](const llvm::SMDiagnostic &diag, void *target) {
        static_cast<llvm::SourceMgr *>(target)->PrintMessage(
            diag.getLoc(), diag.getKind(), diag.getMessage());
      },
      &sourceMgr);
  // Syntax first: the parser streams, so reading stops at the first syntax
  // error, and what was read before it would only add confusing errors.
  {
    yaml::Stream syntaxCheck(buffer->getMemBufferRef(), yamlSourceMgr);
    syntaxCheck.skip();
    if (syntaxCheck.failed())
      return failure();
  }
  yaml::Stream stream(buffer->getMemBufferRef(), yamlSourceMgr);
  ModelConfigParser parser(sourceMgr, stream);
  return parser.parse(llvm::SMLoc::getFromPointer(buffer->getBufferStart()));
}

FailureOr<ModelConfig>
mlir::convseq::parseModelConfigFile(StringRef path,
                                    llvm::SourceMgr &sourceMgr) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    sourceMgr.PrintMessage(llvm::SMLoc(), llvm::SourceMgr::DK_Error,
                           "cannot read '" + path +
                               "': " + buffer.getError().message());
    return failure();
  }
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  return parseModelConfig(sourceMgr);
}
