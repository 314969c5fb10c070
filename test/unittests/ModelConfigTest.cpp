//===- ModelConfigTest.cpp - Parsing and validating model definitions -----===//
//
// Every model of models/ parses to the values its file says, with defaults
// and per-layer lists filled in; every kind of bad input is reported with
// the exact message, line and column (docs/model-format.md), and none
// crashes the parser.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/ModelConfig.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The outcome of parsing one definition: the config, and every diagnostic
/// as "line:column: kind: message".
struct ParseResult {
  FailureOr<ModelConfig> config = failure();
  std::vector<std::string> diagnostics;
  /// line:column of each frozen pattern, resolved while the buffer lives.
  std::vector<std::string> frozenPositions;
};

void collectDiagnostic(const llvm::SMDiagnostic &diag, void *context) {
  const char *kind = diag.getKind() == llvm::SourceMgr::DK_Error  ? "error"
                     : diag.getKind() == llvm::SourceMgr::DK_Note ? "note"
                                                                  : "other";
  static_cast<std::vector<std::string> *>(context)->push_back(
      llvm::formatv("{0}:{1}: {2}: {3}", diag.getLineNo(),
                    diag.getColumnNo() + 1, kind, diag.getMessage())
          .str());
}

ParseResult parseBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  ParseResult result;
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  sourceMgr.setDiagHandler(collectDiagnostic, &result.diagnostics);
  result.config = parseModelConfig(sourceMgr);
  if (succeeded(result.config))
    for (llvm::SMLoc loc : result.config->training.frozenLocations) {
      auto [line, column] = sourceMgr.getLineAndColumn(loc);
      result.frozenPositions.push_back(
          llvm::formatv("{0}:{1}", line, column).str());
    }
  return result;
}

ParseResult parseString(StringRef text) {
  return parseBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "test.yaml"));
}

ParseResult parseModelFile(StringRef name) {
  std::string path = (CONVSEQ_MODELS_DIR "/" + name).str();
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    ParseResult result;
    result.diagnostics.push_back("cannot open " + path);
    return result;
  }
  return parseBuffer(std::move(*buffer));
}

/// The smallest complete definition; cases below append to it (from line
/// 10 on) or replace one of its lines.
constexpr const char *kMinimal = "name: test\n"          // 1
                                 "family: conv\n"        // 2
                                 "model:\n"              // 3
                                 "  d_model: 256\n"      // 4
                                 "  heads: 4\n"          // 5
                                 "  d_ff: 1024\n"        // 6
                                 "  encoder_layers: 4\n" // 7
                                 "  decoder_layers: 4\n" // 8
                                 "  vocab_size: 8000\n"; // 9

std::string minimalWith(StringRef extra) { return kMinimal + extra.str(); }

std::string minimalReplacing(StringRef line, StringRef replacement) {
  std::string text = kMinimal;
  size_t at = text.find(line.str());
  // Runs while the cases are built, outside any test: a typo in `line`
  // yields a definition that fails every expectation of its case.
  if (at == std::string::npos)
    return "<no line '" + line.str() + "' in kMinimal>";
  return text.replace(at, line.size(), replacement.str());
}

using Strings = std::vector<std::string>;

std::vector<int64_t> repeat(int64_t value, size_t count) {
  return std::vector<int64_t>(count, value);
}

//===----------------------------------------------------------------------===//
// The models of models/
//===----------------------------------------------------------------------===//

struct ModelFile {
  const char *file;
  ModelFamily family;
  ConvVariant variant;
  bool base;
};

constexpr ModelFile kModelFiles[] = {
    {"light-small.yaml", ModelFamily::ConvSeq2Seq, ConvVariant::lightweight,
     false},
    {"dynamic-small.yaml", ModelFamily::ConvSeq2Seq, ConvVariant::dynamic,
     false},
    {"dilated-small.yaml", ModelFamily::ConvSeq2Seq, ConvVariant::dilated,
     false},
    {"transformer-small.yaml", ModelFamily::Transformer,
     ConvVariant::lightweight, false},
    {"light-base.yaml", ModelFamily::ConvSeq2Seq, ConvVariant::lightweight,
     true},
    {"dynamic-base.yaml", ModelFamily::ConvSeq2Seq, ConvVariant::dynamic, true},
    {"dilated-base.yaml", ModelFamily::ConvSeq2Seq, ConvVariant::dilated, true},
    {"transformer-base.yaml", ModelFamily::Transformer,
     ConvVariant::lightweight, true},
};

class ModelFileTest : public ::testing::TestWithParam<ModelFile> {};

TEST_P(ModelFileTest, ParsesToTheSpecConfiguration) {
  const ModelFile &file = GetParam();
  ParseResult result = parseModelFile(file.file);
  ASSERT_TRUE(succeeded(result.config));
  EXPECT_TRUE(result.diagnostics.empty());
  const ModelConfig &config = *result.config;

  EXPECT_EQ(config.name, StringRef(file.file).drop_back(strlen(".yaml")));
  EXPECT_EQ(config.family, file.family);
  EXPECT_EQ(config.dtype, ElementKind::F32);
  // Spec section 9.
  int64_t layers = file.base ? 12 : 4;
  EXPECT_EQ(config.dModel, file.base ? 768 : 256);
  EXPECT_EQ(config.heads, file.base ? 12 : 4);
  EXPECT_EQ(config.dFF, file.base ? 3072 : 1024);
  EXPECT_EQ(config.encoderLayers, layers);
  EXPECT_EQ(config.decoderLayers, layers);
  EXPECT_EQ(config.vocabSize, file.base ? 32128 : 8000);
  EXPECT_DOUBLE_EQ(config.dropout, 0.1);
  EXPECT_DOUBLE_EQ(config.rmsNormEpsilon, 1e-6);
  EXPECT_EQ(config.padId, 0);
  EXPECT_EQ(config.eosId, 1);
  EXPECT_EQ(config.unkId, 2);
  EXPECT_EQ(config.tokenizer.sentinels, 100);
  EXPECT_EQ(config.tokenizer.model, "");

  const ConvConfig &conv = config.conv;
  if (file.family == ModelFamily::Transformer) {
    EXPECT_TRUE(conv.encoderKernelSizes.empty());
    EXPECT_TRUE(conv.decoderDilations.empty());
  } else {
    EXPECT_EQ(conv.variant, file.variant);
    EXPECT_EQ(conv.encoderKernelSizes, repeat(7, layers));
    EXPECT_EQ(conv.decoderKernelSizes, repeat(7, layers));
    std::vector<int64_t> dilations = repeat(1, layers);
    if (file.variant == ConvVariant::dilated)
      for (int64_t l = 0; l < layers; ++l)
        dilations[l] = int64_t(1) << (l % 4);
    EXPECT_EQ(conv.encoderDilations, dilations);
    EXPECT_EQ(conv.decoderDilations, dilations);
  }

  const TaskConfig &task = config.task;
  const TrainingConfig &training = config.training;
  if (file.base) {
    EXPECT_EQ(task.kind, TaskKind::SpanCorruption);
    EXPECT_EQ(task.maxSourceLength, 512);
    EXPECT_EQ(task.maxTargetLength, 114);
    EXPECT_DOUBLE_EQ(task.noiseDensity, 0.15);
    EXPECT_DOUBLE_EQ(task.meanSpanLength, 3.0);
    EXPECT_TRUE(task.labels.empty());
    EXPECT_EQ(training.optimizer, OptimizerKind::Adafactor);
    EXPECT_FALSE(training.learningRate.has_value());
    EXPECT_EQ(training.schedule, ScheduleKind::InverseSqrt);
    EXPECT_EQ(training.warmupSteps, 10000);
    EXPECT_EQ(training.batchSize, 128);
  } else {
    EXPECT_EQ(task.kind, TaskKind::Classification);
    EXPECT_EQ(task.labels, Strings({"abbreviation", "description", "entity",
                                    "human", "location", "number"}));
    EXPECT_EQ(task.labelClasses,
              Strings({"ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"}));
    EXPECT_EQ(task.maxSourceLength, 64);
    EXPECT_EQ(task.maxTargetLength, 8);
    EXPECT_EQ(training.optimizer, OptimizerKind::Adafactor);
    ASSERT_TRUE(training.learningRate.has_value());
    EXPECT_DOUBLE_EQ(*training.learningRate, 1e-3);
    EXPECT_EQ(training.schedule, ScheduleKind::Constant);
    EXPECT_EQ(training.batchSize, 16);
    EXPECT_EQ(training.steps, 2000);
  }
  EXPECT_TRUE(training.frozen.empty());
}

INSTANTIATE_TEST_SUITE_P(Models, ModelFileTest,
                         ::testing::ValuesIn(kModelFiles),
                         [](const ::testing::TestParamInfo<ModelFile> &info) {
                           std::string name =
                               StringRef(info.param.file).drop_back(5).str();
                           llvm::erase(name, '-');
                           return name;
                         });

TEST(ModelConfigDocs, EveryCompleteExampleParses) {
  // docs/model-format.md must stay accurate: each ```yaml block that is a
  // whole definition (it has a top-level `family:`) parses without errors.
  std::string path = CONVSEQ_MODELS_DIR "/../docs/model-format.md";
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> doc =
      llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(bool(doc)) << "cannot open " << path;
  StringRef rest = (*doc)->getBuffer();
  int examples = 0;
  while (true) {
    size_t begin = rest.find("```yaml\n");
    if (begin == StringRef::npos)
      break;
    rest = rest.drop_front(begin + strlen("```yaml\n"));
    StringRef block = rest.take_front(rest.find("```"));
    rest = rest.drop_front(block.size());
    if (!block.starts_with("family:") && !block.contains("\nfamily:"))
      continue;
    ++examples;
    ParseResult result = parseString(block);
    EXPECT_TRUE(succeeded(result.config)) << block.str();
    EXPECT_TRUE(result.diagnostics.empty()) << block.str() << "\n"
                                            << result.diagnostics.front();
  }
  EXPECT_EQ(examples, 5);
}

//===----------------------------------------------------------------------===//
// Defaults and per-layer lists
//===----------------------------------------------------------------------===//

TEST(ModelConfigDefaults, MinimalDefinitionGetsEveryDefault) {
  ParseResult result = parseString(kMinimal);
  ASSERT_TRUE(succeeded(result.config));
  EXPECT_TRUE(result.diagnostics.empty());
  const ModelConfig &config = *result.config;
  EXPECT_EQ(config.name, "test");
  EXPECT_EQ(config.dtype, ElementKind::F32);
  EXPECT_DOUBLE_EQ(config.dropout, 0.1);
  EXPECT_DOUBLE_EQ(config.rmsNormEpsilon, 1e-6);
  EXPECT_EQ(config.conv.variant, ConvVariant::lightweight);
  EXPECT_EQ(config.conv.encoderKernelSizes, repeat(7, 4));
  EXPECT_EQ(config.conv.decoderKernelSizes, repeat(7, 4));
  EXPECT_EQ(config.conv.encoderDilations, repeat(1, 4));
  EXPECT_EQ(config.conv.decoderDilations, repeat(1, 4));
  EXPECT_EQ(config.tokenizer.model, "");
  EXPECT_EQ(config.tokenizer.sentinels, 100);
  EXPECT_EQ(config.task.kind, TaskKind::Seq2Seq);
  EXPECT_TRUE(config.task.labels.empty());
  EXPECT_EQ(config.task.maxSourceLength, 512);
  EXPECT_EQ(config.task.maxTargetLength, 128);
  EXPECT_DOUBLE_EQ(config.task.noiseDensity, 0.15);
  EXPECT_DOUBLE_EQ(config.task.meanSpanLength, 3.0);
  const TrainingConfig &training = config.training;
  EXPECT_EQ(training.optimizer, OptimizerKind::Adafactor);
  EXPECT_FALSE(training.learningRate.has_value());
  EXPECT_EQ(training.schedule, ScheduleKind::InverseSqrt);
  EXPECT_EQ(training.warmupSteps, 1000);
  EXPECT_EQ(training.batchSize, 16);
  EXPECT_EQ(training.steps, 1000);
  EXPECT_DOUBLE_EQ(training.weightDecay, 0.0);
  EXPECT_DOUBLE_EQ(training.clipNorm, 1.0);
  EXPECT_DOUBLE_EQ(training.labelSmoothing, 0.0);
  EXPECT_EQ(training.seed, 0u);
  EXPECT_TRUE(training.frozen.empty());
}

TEST(ModelConfigDefaults, DilatedDefaultIsTwoToTheLayerModFour) {
  ParseResult result = parseString(
      minimalReplacing("  encoder_layers: 4\n", "  encoder_layers: 6\n") +
      "conv:\n  variant: dilated\n  kernel_size: 5\n");
  ASSERT_TRUE(succeeded(result.config));
  EXPECT_EQ(result.config->conv.encoderDilations,
            (std::vector<int64_t>{1, 2, 4, 8, 1, 2}));
  EXPECT_EQ(result.config->conv.decoderDilations,
            (std::vector<int64_t>{1, 2, 4, 8}));
  EXPECT_EQ(result.config->conv.encoderKernelSizes, repeat(5, 6));
}

TEST(ModelConfigDefaults, PerLayerListsOverrideKernelSize) {
  ParseResult result =
      parseString(minimalWith("conv:\n"
                              "  variant: dilated\n"
                              "  kernel_size: 3\n"
                              "  encoder_kernel_sizes: [3, 7, 15, 31]\n"
                              "  decoder_dilations:\n"
                              "    - 1\n"
                              "    - 1\n"
                              "    - 2\n"
                              "    - 2\n"));
  ASSERT_TRUE(succeeded(result.config));
  EXPECT_TRUE(result.diagnostics.empty());
  const ConvConfig &conv = result.config->conv;
  EXPECT_EQ(conv.encoderKernelSizes, (std::vector<int64_t>{3, 7, 15, 31}));
  EXPECT_EQ(conv.decoderKernelSizes, repeat(3, 4));
  EXPECT_EQ(conv.encoderDilations, (std::vector<int64_t>{1, 2, 4, 8}));
  EXPECT_EQ(conv.decoderDilations, (std::vector<int64_t>{1, 1, 2, 2}));
}

TEST(ModelConfigDefaults, EveryKeyIsRead) {
  ParseResult result = parseString(R"(name: every.key_1
family: transformer
dtype: bf16
model:
  d_model: 64
  heads: 2
  d_ff: 128
  encoder_layers: 1
  decoder_layers: 3
  vocab_size: 500
  dropout: 0
  rms_norm_epsilon: 1.0e-5
tokenizer:
  model: "spm/trec.model"
  sentinels: 0
task:
  type: classification
  labels: [positive, negative]
  max_source_length: 32
  max_target_length: 2
training:
  optimizer: adamw
  learning_rate: 3e-4
  schedule: linear_warmup_decay
  warmup_steps: 100
  batch_size: 8
  steps: 100
  weight_decay: 0.01
  clip_norm: 0
  label_smoothing: 0.1
  seed: 18446744073709551615
  frozen:
    - "encoder.layers.*.self_attention.*"
    - embedding
)");
  ASSERT_TRUE(succeeded(result.config));
  EXPECT_TRUE(result.diagnostics.empty());
  const ModelConfig &config = *result.config;
  EXPECT_EQ(config.name, "every.key_1");
  EXPECT_EQ(config.family, ModelFamily::Transformer);
  EXPECT_EQ(config.dtype, ElementKind::BF16);
  EXPECT_EQ(config.decoderLayers, 3);
  EXPECT_DOUBLE_EQ(config.dropout, 0.0);
  EXPECT_DOUBLE_EQ(config.rmsNormEpsilon, 1e-5);
  EXPECT_EQ(config.tokenizer.model, "spm/trec.model");
  EXPECT_EQ(config.tokenizer.sentinels, 0);
  EXPECT_EQ(config.task.labels, Strings({"positive", "negative"}));
  EXPECT_EQ(config.task.labelClasses, config.task.labels);
  EXPECT_EQ(config.task.maxTargetLength, 2);
  const TrainingConfig &training = config.training;
  EXPECT_EQ(training.optimizer, OptimizerKind::AdamW);
  EXPECT_DOUBLE_EQ(training.learningRate.value_or(0), 3e-4);
  EXPECT_EQ(training.schedule, ScheduleKind::LinearWarmupDecay);
  EXPECT_EQ(training.warmupSteps, 100);
  EXPECT_EQ(training.batchSize, 8);
  EXPECT_DOUBLE_EQ(training.weightDecay, 0.01);
  EXPECT_DOUBLE_EQ(training.clipNorm, 0.0);
  EXPECT_DOUBLE_EQ(training.labelSmoothing, 0.1);
  EXPECT_EQ(training.seed, 18446744073709551615u);
  EXPECT_EQ(training.frozen,
            Strings({"encoder.layers.*.self_attention.*", "embedding"}));
  EXPECT_EQ(result.frozenPositions, Strings({"33:7", "34:7"}));
}

TEST(ModelConfigDefaults, FlowStyleAndQuotingReadTheSame) {
  ParseResult result = parseString(
      "{name: 'flow', family: \"conv\", model: {d_model: \"256\", heads: 4, "
      "d_ff: 1024, encoder_layers: 2, decoder_layers: 2, vocab_size: +8000, "
      "dropout: .5}, conv: {encoder_kernel_sizes: [1, 2]}}\n");
  ASSERT_TRUE(succeeded(result.config));
  EXPECT_EQ(result.config->dModel, 256);
  EXPECT_EQ(result.config->vocabSize, 8000);
  EXPECT_DOUBLE_EQ(result.config->dropout, 0.5);
  EXPECT_EQ(result.config->conv.encoderKernelSizes,
            (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(result.config->conv.decoderKernelSizes, repeat(7, 2));
}

TEST(ModelConfigDefaults, CommentsAndDocumentMarkersAreFine) {
  ParseResult result =
      parseString("# a comment\n---\n" + std::string(kMinimal) + "...\n");
  EXPECT_TRUE(succeeded(result.config));
  EXPECT_TRUE(result.diagnostics.empty());
}

//===----------------------------------------------------------------------===//
// Bad inputs: the exact diagnostics
//===----------------------------------------------------------------------===//

struct BadInput {
  const char *name;
  std::string text;
  std::vector<std::string> diagnostics;
};

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, ReportsExactlyTheseDiagnostics) {
  const BadInput &input = GetParam();
  ParseResult result = parseString(input.text);
  EXPECT_TRUE(failed(result.config));
  EXPECT_EQ(result.diagnostics, input.diagnostics);
}

// clang-format off
const BadInput kBadInputs[] = {
  // The document.
  {"EmptyFile", "",
   {"1:1: error: the model definition is empty; expected a mapping with at "
    "least 'name', 'family' and 'model'"}},
  {"OnlyComments", "# nothing here\n\n",
   {"1:1: error: the model definition is empty; expected a mapping with at "
    "least 'name', 'family' and 'model'"}},
  {"ScalarAtTopLevel", "hello\n",
   {"1:1: error: expected a mapping of model settings at the top level, got "
    "'hello'"}},
  {"SequenceAtTopLevel", "- name: test\n",
   {"1:1: error: expected a mapping of model settings at the top level, got "
    "a sequence"}},
  {"TwoDocuments", std::string(kMinimal) + "---\nname: other\n",
   {"11:1: error: a model definition is a single YAML document; remove this "
    "second one"}},
  {"MissingTopLevelKeys", "name: test\n",
   {"1:1: error: missing required key 'family' at the top level",
    "1:1: error: missing required key 'model' at the top level"}},
  {"UnknownTopLevelKey", minimalWith("optimizer: adamw\n"),
   {"10:1: error: unknown key 'optimizer' at the top level; expected one of: "
    "name, family, dtype, model, conv, tokenizer, task, training"}},
  {"DuplicateKey", minimalWith("  heads: 8\n"),
   {"10:3: error: duplicate key 'heads' in 'model'",
    "5:3: note: 'heads' was first given here"}},
  {"KeyIsNotAName", minimalWith("? [a, b]\n: 1\n"),
   {"10:4: error: expected a key name at the top level, got a sequence"}},
  {"Alias", "name: &n test\nfamily: *n\n",
   {"2:9: error: expected one of conv or transformer for 'family', got an "
    "alias (aliases are not supported)",
    "1:1: error: missing required key 'model' at the top level"}},

  // YAML syntax errors: only the first, nothing read before it.
  {"SyntaxBadIndentation", minimalReplacing("  heads: 4", "   heads: 4"),
   {"5:9: error: Unexpected token. Expected Key or Block End"}},
  {"SyntaxUnclosedFlowSequence", minimalWith("conv:\n  encoder_kernel_sizes: [3, 7\n"),
   {"11:30: error: Could not find closing ]!"}},
  {"SyntaxTab", "name: test\n\tfamily: conv\n",
   {"2:1: error: Found invalid tab character in indentation"}},

  // Names and choices.
  {"EmptyName", minimalReplacing("name: test", "name: ''"),
   {"1:7: error: model name must not be empty"}},
  {"NameWithSpaces", minimalReplacing("name: test", "name: my model"),
   {"1:7: error: model name 'my model' may contain only letters, digits, "
    "'_', '-' and '.'"}},
  {"NameIsAMapping", minimalReplacing("name: test", "name: {a: 1}"),
   {"1:8: error: expected a string for 'name', got a mapping"}},
  {"NameIsEmpty", minimalReplacing("name: test", "name:"),
   {"1:1: error: expected a string for 'name', got an empty value"}},
  {"UnknownFamily", minimalReplacing("family: conv", "family: rnn"),
   {"2:9: error: unknown model family 'rnn'; expected conv or transformer"}},
  {"ReservedFamilyConvBERT", minimalReplacing("family: conv", "family: convbert"),
   {"2:9: error: model family 'convbert' is not supported yet; expected conv "
    "or transformer"}},
  {"ReservedFamilyFrozen", minimalReplacing("family: conv", "family: frozen"),
   {"2:9: error: model family 'frozen' is not supported yet; expected conv "
    "or transformer"}},
  {"UnknownDType", minimalWith("dtype: f16\n"),
   {"10:8: error: unknown dtype 'f16'; expected f32, f64 or bf16"}},
  {"UnknownVariant", minimalWith("conv:\n  variant: lite\n"),
   {"11:12: error: unknown conv variant 'lite'; expected lightweight, "
    "dynamic or dilated"}},
  {"VariantIsASequence", minimalWith("conv:\n  variant: [dilated]\n"),
   {"11:13: error: expected one of lightweight, dynamic or dilated for "
    "'variant', got a sequence"}},

  // The model section.
  {"UnknownModelKey", minimalReplacing("  d_model: 256", "  d_modle: 256"),
   {"4:3: error: unknown key 'd_modle' in 'model'; expected one of: d_model, "
    "heads, d_ff, encoder_layers, decoder_layers, vocab_size, dropout, "
    "rms_norm_epsilon",
    "3:1: error: missing required key 'd_model' in 'model'"}},
  {"MissingModelKeys", "name: test\nfamily: conv\nmodel:\n  d_model: 256\n",
   {"3:1: error: missing required key 'heads' in 'model'",
    "3:1: error: missing required key 'd_ff' in 'model'",
    "3:1: error: missing required key 'encoder_layers' in 'model'",
    "3:1: error: missing required key 'decoder_layers' in 'model'",
    "3:1: error: missing required key 'vocab_size' in 'model'"}},
  {"ModelIsAScalar", "name: test\nfamily: conv\nmodel: small\n",
   {"3:8: error: expected a mapping for 'model', got 'small'"}},
  {"IntegerIsAWord", minimalReplacing("  d_model: 256", "  d_model: abc"),
   {"4:12: error: expected an integer for 'd_model', got 'abc'"}},
  {"IntegerIsAFloat", minimalReplacing("  d_model: 256", "  d_model: 256.0"),
   {"4:12: error: expected an integer for 'd_model', got '256.0'"}},
  {"IntegerIsNaN", minimalReplacing("  d_model: 256", "  d_model: .nan"),
   {"4:12: error: expected an integer for 'd_model', got '.nan'"}},
  {"IntegerTooLarge",
   minimalReplacing("  d_ff: 1024", "  d_ff: 99999999999999999999"),
   {"6:9: error: integer 99999999999999999999 for 'd_ff' is out of range"}},
  {"SizeAbove32Bits", minimalReplacing("  d_ff: 1024", "  d_ff: 4294967296"),
   {"6:9: error: d_ff must be at most 2147483647, got 4294967296"}},
  {"NegativeSize", minimalReplacing("  encoder_layers: 4", "  encoder_layers: -4"),
   {"7:19: error: encoder_layers must be positive, got -4"}},
  {"ZeroSize", minimalReplacing("  vocab_size: 8000", "  vocab_size: 0"),
   {"9:15: error: vocab_size must be positive, got 0"}},
  {"NotDivisibleByHeads", minimalReplacing("  d_model: 256", "  d_model: 250"),
   {"5:10: error: d_model 250 is not divisible by heads 4"}},
  {"TransformerOddWidth",
   minimalReplacing("family: conv\nmodel:\n  d_model: 256\n  heads: 4",
                    "family: transformer\nmodel:\n  d_model: 3\n  heads: 1"),
   {"4:12: error: the transformer's sinusoidal positions need an even "
    "d_model of at least 4, got 3"}},
  {"DropoutOutOfRange", minimalWith("  dropout: 1\n"),
   {"10:12: error: dropout must be in [0, 1), got 1"}},
  {"DropoutNegative", minimalWith("  dropout: -0.1\n"),
   {"10:12: error: dropout must be in [0, 1), got -0.1"}},
  {"DropoutNaN", minimalWith("  dropout: .nan\n"),
   {"10:12: error: expected a finite number for 'dropout', got '.nan'"}},
  {"DropoutInfinite", minimalWith("  dropout: -.inf\n"),
   {"10:12: error: expected a finite number for 'dropout', got '-.inf'"}},
  {"NumberIsAWord", minimalWith("  dropout: ten percent\n"),
   {"10:12: error: expected a number for 'dropout', got 'ten percent'"}},
  {"NumberOverflows", minimalWith("  rms_norm_epsilon: 1e999\n"),
   {"10:21: error: number 1e999 for 'rms_norm_epsilon' is out of range"}},
  {"EpsilonZero", minimalWith("  rms_norm_epsilon: 0.0\n"),
   {"10:21: error: rms_norm_epsilon must be positive, got 0.0"}},
  {"SeveralErrorsInOneRun",
   "name: test\nfamily: conv\nmodel:\n  d_model: x\n  heads: 0\n"
   "  d_ff: 1024\n  encoder_layers: 4\n  decoder_layers: 4\n"
   "  vocab_size: 8000\n  dropout: 2\n",
   {"4:12: error: expected an integer for 'd_model', got 'x'",
    "5:10: error: heads must be positive, got 0",
    "10:12: error: dropout must be in [0, 1), got 2"}},

  // The conv section.
  {"ConvInTransformer",
   minimalReplacing("family: conv", "family: transformer") +
       "conv:\n  variant: dynamic\n",
   {"10:1: error: 'conv' is only valid for family 'conv'"}},
  {"KernelWidthZero", minimalWith("conv:\n  kernel_size: 0\n"),
   {"11:16: error: kernel width must be positive, got 0"}},
  {"KernelWidthZeroInList",
   minimalWith("conv:\n  decoder_kernel_sizes: [3, 0, 7, 9]\n"),
   {"11:29: error: kernel width must be positive, got 0"}},
  {"KernelListTooShort", minimalWith("conv:\n  encoder_kernel_sizes: [3, 7, 15]\n"),
   {"11:3: error: 'encoder_kernel_sizes' has 3 entries but the encoder has 4 "
    "layers"}},
  {"KernelListOfOne",
   minimalReplacing("  decoder_layers: 4", "  decoder_layers: 2") +
       "conv:\n  decoder_kernel_sizes: [3]\n",
   {"11:3: error: 'decoder_kernel_sizes' has 1 entry but the decoder has 2 "
    "layers"}},
  {"KernelListOfWords", minimalWith("conv:\n  encoder_kernel_sizes: [a, 3, b, 7]\n"),
   {"11:26: error: expected an integer for 'encoder_kernel_sizes', got 'a'",
    "11:32: error: expected an integer for 'encoder_kernel_sizes', got 'b'"}},
  {"KernelListIsAScalar", minimalWith("conv:\n  encoder_kernel_sizes: 7\n"),
   {"11:25: error: expected a sequence for 'encoder_kernel_sizes', got '7'"}},
  {"DilationsWithoutDilatedVariant",
   minimalWith("conv:\n  variant: dynamic\n  encoder_dilations: [1, 2, 4, 8]\n"),
   {"12:3: error: dilations are only valid for the dilated variant"}},
  {"DilationsWithDefaultVariant", minimalWith("conv:\n  decoder_dilations: [1, 2, 4, 8]\n"),
   {"11:3: error: dilations are only valid for the dilated variant"}},
  {"DilationZero",
   minimalWith("conv:\n  variant: dilated\n  encoder_dilations: [1, 0, 4, 8]\n"),
   {"12:26: error: dilation must be positive, got 0"}},
  {"DilationNegative",
   minimalWith("conv:\n  variant: dilated\n  encoder_dilations: [1, 2, 4, -8]\n"),
   {"12:32: error: dilation must be positive, got -8"}},
  {"DilationListTooLong",
   minimalWith("conv:\n  variant: dilated\n  decoder_dilations: [1, 2, 4, 8, 16]\n"),
   {"12:3: error: 'decoder_dilations' has 5 entries but the decoder has 4 "
    "layers"}},
  {"DilatedWindowTooWide",
   minimalWith("conv:\n  variant: dilated\n  kernel_size: 100000\n"
               "  decoder_dilations: [1, 2, 4, 100000]\n"),
   {"13:32: error: kernel width 100000 with dilation 100000 spans more than "
    "2147483647 positions"}},

  // The tokenizer and vocabulary.
  {"VocabularyTooSmall", minimalReplacing("  vocab_size: 8000", "  vocab_size: 103"),
   {"9:15: error: vocab_size 103 leaves no room for ordinary pieces; it must "
    "be greater than 103, the 3 special ids (pad, eos, unk) plus 100 "
    "sentinels"}},
  {"NegativeSentinels", minimalWith("tokenizer:\n  sentinels: -1\n"),
   {"11:14: error: sentinels must not be negative, got -1"}},
  {"EmptyTokenizerPath", minimalWith("tokenizer:\n  model: ''\n"),
   {"11:10: error: tokenizer model path must not be empty; leave 'model' out "
    "to train a tokenizer"}},

  // The task section.
  {"UnknownTaskType", minimalWith("task:\n  type: translation\n"),
   {"11:9: error: unknown task type 'translation'; expected seq2seq, "
    "classification or span_corruption"}},
  {"ClassificationWithoutLabels", minimalWith("task:\n  type: classification\n"),
   {"11:9: error: missing required key 'labels' in 'task' for a "
    "classification task"}},
  {"ClassificationWithOneLabel",
   minimalWith("task:\n  type: classification\n  labels: [yes]\n"),
   {"12:3: error: a classification task needs at least 2 labels, got 1"}},
  {"DuplicateLabelWord",
   minimalWith("task:\n  type: classification\n  labels: [good, bad, good]\n"),
   {"12:23: error: duplicate label word 'good'",
    "12:12: note: 'good' was first given here"}},
  {"DuplicateLabelWordInMapping",
   minimalWith("task:\n  type: classification\n  labels:\n"
               "    HUM: person\n    LOC: person\n"),
   {"14:10: error: duplicate label word 'person'",
    "13:10: note: 'person' was first given here"}},
  {"DuplicateLabelClass",
   minimalWith("task:\n  type: classification\n  labels: {HUM: a, HUM: b}\n"),
   {"12:20: error: duplicate key 'HUM' in 'labels'",
    "12:12: note: 'HUM' was first given here"}},
  {"LabelWithSpace",
   minimalWith("task:\n  type: classification\n  labels: [very good, bad]\n"),
   {"12:12: error: label word 'very good' must be a single word without "
    "spaces"}},
  {"LabelsOutsideClassification",
   minimalWith("task:\n  type: seq2seq\n  labels: [a, b]\n"),
   {"12:3: error: 'labels' is only valid for task type classification"}},
  {"NoiseOutsideSpanCorruption",
   minimalWith("task:\n  noise_density: 0.15\n  mean_span_length: 3\n"),
   {"11:3: error: 'noise_density' is only valid for task type "
    "span_corruption",
    "12:3: error: 'mean_span_length' is only valid for task type "
    "span_corruption"}},
  {"NoiseDensityOne",
   minimalWith("task:\n  type: span_corruption\n  noise_density: 1.0\n"),
   {"12:18: error: noise_density must be in (0, 1), got 1.0"}},
  {"MeanSpanBelowOne",
   minimalWith("task:\n  type: span_corruption\n  mean_span_length: 0.5\n"),
   {"12:21: error: mean_span_length must be at least 1, got 0.5"}},
  {"TooFewSentinelsForSpans",
   minimalWith("tokenizer:\n  sentinels: 10\ntask:\n  type: span_corruption\n"),
   {"11:14: error: span corruption of 512-token inputs makes up to 26 spans "
    "but only 10 sentinels are reserved"}},
  {"TargetTooShortForALabel",
   minimalWith("task:\n  type: classification\n  labels: [a, b]\n"
               "  max_target_length: 1\n"),
   {"13:22: error: a classification task needs max_target_length of at "
    "least 2 (a label word and EOS), got 1"}},

  // The training section.
  {"UnknownOptimizer", minimalWith("training:\n  optimizer: sgd\n"),
   {"11:14: error: unknown optimizer 'sgd'; expected adafactor or adamw"}},
  {"AdamWWithoutLearningRate", minimalWith("training:\n  optimizer: adamw\n"),
   {"11:14: error: missing required key 'learning_rate' in 'training' for "
    "optimizer adamw"}},
  {"LearningRateZero", minimalWith("training:\n  learning_rate: 0\n"),
   {"11:18: error: learning_rate must be positive, got 0"}},
  {"UnknownSchedule", minimalWith("training:\n  schedule: cosine\n"),
   {"11:13: error: unknown schedule 'cosine'; expected constant, "
    "linear_warmup_decay or inverse_sqrt"}},
  {"WarmupLongerThanTraining",
   minimalWith("training:\n  schedule: linear_warmup_decay\n"
               "  warmup_steps: 2000\n  steps: 1000\n"),
   {"12:17: error: warmup_steps 2000 exceeds steps 1000: "
    "linear_warmup_decay would never decay"}},
  {"NegativeWarmup", minimalWith("training:\n  warmup_steps: -1\n"),
   {"11:17: error: warmup_steps must not be negative, got -1"}},
  {"BatchSizeZero", minimalWith("training:\n  batch_size: 0\n"),
   {"11:15: error: batch_size must be positive, got 0"}},
  {"StepsZero", minimalWith("training:\n  steps: 0\n"),
   {"11:10: error: steps must be positive, got 0"}},
  {"NegativeWeightDecay", minimalWith("training:\n  weight_decay: -0.1\n"),
   {"11:17: error: weight_decay must not be negative, got -0.1"}},
  {"NegativeClipNorm", minimalWith("training:\n  clip_norm: -1\n"),
   {"11:14: error: clip_norm must not be negative, got -1"}},
  {"LabelSmoothingOne", minimalWith("training:\n  label_smoothing: 1.0\n"),
   {"11:20: error: label_smoothing must be in [0, 1), got 1.0"}},
  {"NegativeSeed", minimalWith("training:\n  seed: -1\n"),
   {"11:9: error: seed must not be negative, got -1"}},
  {"SeedTooLarge", minimalWith("training:\n  seed: 18446744073709551616\n"),
   {"11:9: error: integer 18446744073709551616 for 'seed' is out of range"}},
  {"FrozenIsAString", minimalWith("training:\n  frozen: embedding\n"),
   {"11:11: error: expected a sequence for 'frozen', got 'embedding'"}},
  {"FrozenBadPattern", minimalWith("training:\n  frozen: ['encoder.[', '']\n"),
   {"11:12: error: invalid frozen-parameter pattern 'encoder.[': invalid "
    "glob pattern, unmatched '['",
    "11:25: error: frozen-parameter pattern must not be empty"}},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Diagnostics, BadInputTest,
                         ::testing::ValuesIn(kBadInputs),
                         [](const ::testing::TestParamInfo<BadInput> &info) {
                           return std::string(info.param.name);
                         });

//===----------------------------------------------------------------------===//
// Robustness
//===----------------------------------------------------------------------===//

TEST(ModelConfigRobustness, ArbitraryBytesNeverCrash) {
  // Every prefix of a real definition, and some hostile inputs: each either
  // parses or fails with at least one error, and never crashes.
  std::string definition = minimalWith(
      "conv:\n  variant: dilated\n  encoder_kernel_sizes: [3, 5, 7, 9]\n"
      "task:\n  type: classification\n  labels: {A: a, B: b}\n"
      "training:\n  frozen: ['encoder.*']\n");
  std::vector<std::string> inputs;
  for (size_t length = 0; length <= definition.size(); ++length)
    inputs.push_back(definition.substr(0, length));
  inputs.push_back(std::string("\0\1\2", 3));
  inputs.push_back("\xff\xfe\xfd");
  inputs.push_back("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
  inputs.push_back("{a: {b: {c: {d: 1}}}}");
  inputs.push_back("name: !!binary aGVsbG8=\n");
  inputs.push_back("model: |\n  d_model: 256\n");
  inputs.push_back("? a\n? b\n");
  inputs.push_back(":\n");
  inputs.push_back("---\n---\n---\n");
  for (const std::string &input : inputs) {
    ParseResult result = parseString(input);
    if (failed(result.config))
      EXPECT_FALSE(result.diagnostics.empty()) << "input: " << input;
  }
}

TEST(ModelConfigFile, ReadsAFileAndReportsOneItCannotRead) {
  llvm::SourceMgr sourceMgr;
  std::vector<std::string> diagnostics;
  sourceMgr.setDiagHandler(collectDiagnostic, &diagnostics);
  FailureOr<ModelConfig> config =
      parseModelConfigFile(CONVSEQ_MODELS_DIR "/light-small.yaml", sourceMgr);
  ASSERT_TRUE(succeeded(config));
  EXPECT_EQ(config->name, "light-small");
  EXPECT_TRUE(diagnostics.empty());

  llvm::SourceMgr missing;
  missing.setDiagHandler(collectDiagnostic, &diagnostics);
  EXPECT_TRUE(failed(
      parseModelConfigFile(CONVSEQ_MODELS_DIR "/no-such-model.yaml", missing)));
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0], "0:0: error: cannot read '" CONVSEQ_MODELS_DIR
                            "/no-such-model.yaml': No such file or directory");
}

} // namespace
