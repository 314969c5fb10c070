//===- TokenizerTest.cpp - SentencePiece tokenizer for T5 models ----------===//

#include "runtime/Tokenizer.h"

#include "runtime/Data.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "gtest/gtest.h"

// See Tokenizer.cpp: SentencePiece's `absl` is not Debian's Abseil.
#define absl convseq_sentencepiece_absl
#include <sentencepiece_trainer.h>
#undef absl

namespace {

using namespace convseq::runtime;


std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

constexpr int64_t kVocabSize = 8000;
constexpr int64_t kSentinels = 100;

/// Trains one tokenizer on the TREC training questions for all tests.
class TokenizerTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    std::string pattern = ::testing::TempDir() + "convseq_tokenizer_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir = new std::string(pattern);
    std::string trec = std::string(CONVSEQ_TREC_DIR) + "/train.tsv";
    if (!std::filesystem::exists(trec))
      return;
    TsvOptions options;
    options.sourceColumn = 2;
    options.targetColumn = -1;
    auto examples = readTsv(trec, options);
    ASSERT_TRUE(examples.ok()) << examples.status();
    texts = new std::vector<std::string>();
    for (Example &example : *examples)
      texts->push_back(std::move(example.source));
    auto trained =
        Tokenizer::train(*texts, kVocabSize, kSentinels, *dir + "/trec.model");
    ASSERT_TRUE(trained.ok()) << trained.status();
    tokenizer = new Tokenizer(*trained);
  }

  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir);
    delete tokenizer;
    delete texts;
    delete dir;
    tokenizer = nullptr;
    texts = nullptr;
    dir = nullptr;
  }

  void SetUp() override {
    if (!tokenizer)
      FAIL() << "training the TREC tokenizer failed (see above)";
  }

  static std::string *dir;
  static std::vector<std::string> *texts;
  static Tokenizer *tokenizer;
};

std::string *TokenizerTest::dir = nullptr;
std::vector<std::string> *TokenizerTest::texts = nullptr;
Tokenizer *TokenizerTest::tokenizer = nullptr;

TEST_F(TokenizerTest, HasTheT5SpecialIds) {
  // TREC cannot fill 8000 pieces; the soft limit gives fewer.
  EXPECT_LE(tokenizer->vocabSize(), kVocabSize);
  EXPECT_GT(tokenizer->vocabSize(), 1000);
  std::printf("TREC vocabulary: %lld pieces\n",
              static_cast<long long>(tokenizer->vocabSize()));
  // A character that is not in TREC is unknown (id 2).
  std::vector<int32_t> snowman = tokenizer->encode("\xE2\x98\x83");
  EXPECT_NE(std::find(snowman.begin(), snowman.end(), Tokenizer::kUnkId),
            snowman.end());
  // Decoding stops at eos (1) and skips pads (0) and spare embedding rows.
  std::vector<int32_t> ids = tokenizer->encode("What is it ?");
  std::vector<int32_t> padded = {Tokenizer::kPadId};
  padded.insert(padded.end(), ids.begin(), ids.end());
  padded.push_back(static_cast<int32_t>(tokenizer->vocabSize()) + 5);
  padded.push_back(Tokenizer::kEosId);
  std::vector<int32_t> more = tokenizer->encode("Who ?");
  padded.insert(padded.end(), more.begin(), more.end());
  EXPECT_EQ(tokenizer->decode(padded), "What is it ?");
  for (int32_t id : ids) {
    EXPECT_NE(id, Tokenizer::kPadId);
    EXPECT_NE(id, Tokenizer::kEosId);
  }
}

TEST_F(TokenizerTest, HasTheSentinels) {
  EXPECT_EQ(tokenizer->numSentinels(), kSentinels);
  EXPECT_EQ(tokenizer->sentinelId(0), 3);
  EXPECT_EQ(tokenizer->sentinelId(99), 102);
  EXPECT_EQ(tokenizer->sentinelId(100), -1);
  EXPECT_EQ(tokenizer->sentinelId(-1), -1);
  // A sentinel is one piece, also inside text; SentencePiece puts the word
  // boundary "▁" before it as a piece of its own.
  std::vector<int32_t> alone = tokenizer->encode("<extra_id_0>");
  ASSERT_EQ(alone.size(), 2u);
  EXPECT_EQ(alone[1], 3);
  std::vector<int32_t> inside =
      tokenizer->encode("What <extra_id_0> the <extra_id_1> ?");
  EXPECT_EQ(std::count(inside.begin(), inside.end(), 3), 1);
  EXPECT_EQ(std::count(inside.begin(), inside.end(), 4), 1);
  EXPECT_EQ(tokenizer->decode({tokenizer->sentinelId(7)}), "<extra_id_7>");
}

TEST_F(TokenizerTest, RoundTripsTrecQuestions) {
  for (size_t i = 0; i < 50; ++i) {
    const std::string &text = (*texts)[i];
    std::vector<int32_t> ids = tokenizer->encode(text);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tokenizer->decode(ids), text);
  }
  EXPECT_EQ(tokenizer->decode(tokenizer->encode("How far is it from Denver "
                                                "to Aspen ?")),
            "How far is it from Denver to Aspen ?");
}

TEST_F(TokenizerTest, CopiesShareTheModel) {
  Tokenizer copy = *tokenizer;
  EXPECT_EQ(copy.encode((*texts)[1]), tokenizer->encode((*texts)[1]));
  EXPECT_EQ(copy.path(), *dir + "/trec.model");
  EXPECT_EQ(copy.serializedModel(), readFile(copy.path()));
}

TEST_F(TokenizerTest, TrainsDeterministically) {
  std::string path = *dir + "/again.model";
  auto again = Tokenizer::train(*texts, kVocabSize, kSentinels, path);
  ASSERT_TRUE(again.ok()) << again.status();
  std::string first = readFile(tokenizer->path());
  EXPECT_FALSE(first.empty());
  EXPECT_TRUE(first == readFile(path)) << "model files differ";
  EXPECT_TRUE(again->serializedModel() == tokenizer->serializedModel());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(TokenizerTest, LoadChecksTheVocabularySize) {
  auto exact = Tokenizer::load(tokenizer->path(), tokenizer->vocabSize());
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_EQ(exact->vocabSize(), tokenizer->vocabSize());
  EXPECT_EQ(exact->sentinelId(5), tokenizer->sentinelId(5));
  int64_t rows = tokenizer->vocabSize() - 1;
  auto small = Tokenizer::load(tokenizer->path(), rows);
  EXPECT_EQ(small.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(small.status().message(),
            tokenizer->path() + ": vocabulary of " +
                std::to_string(tokenizer->vocabSize()) +
                " pieces does not fit the model's " + std::to_string(rows) +
                " embedding rows");
}

TEST_F(TokenizerTest, LoadReportsBadFiles) {
  std::string missing = *dir + "/missing.model";
  auto notFound = Tokenizer::load(missing, kVocabSize);
  EXPECT_EQ(notFound.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(notFound.status().message().find(
                missing + ": cannot load SentencePiece model: "),
            0u)
      << notFound.status();

  std::string text = *dir + "/not_a_model.model";
  std::ofstream(text) << "this is not a model\n";
  auto notModel = Tokenizer::load(text, kVocabSize);
  EXPECT_FALSE(notModel.ok());
  EXPECT_EQ(notModel.status().message().find(
                text + ": cannot load SentencePiece model: "),
            0u)
      << notModel.status();
}

TEST_F(TokenizerTest, LoadRejectsOtherSpecialIds) {
  // A model with SentencePiece's own defaults: unk=0, bos=1, eos=2, no pad.
  std::string corpus = *dir + "/corpus.txt";
  {
    std::ofstream out(corpus);
    for (size_t i = 0; i < 200; ++i)
      out << (*texts)[i] << "\n";
  }
  std::string prefix = *dir + "/defaults";
  std::unordered_map<std::string, std::string> args = {
      {"input", corpus},     {"model_prefix", prefix},
      {"vocab_size", "100"}, {"hard_vocab_limit", "false"},
      {"num_threads", "1"},  {"minloglevel", "2"}};
  ASSERT_TRUE(sentencepiece::SentencePieceTrainer::Train(args).ok());
  auto loaded = Tokenizer::load(prefix + ".model", kVocabSize);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(loaded.status().message(),
            prefix + ".model: expected the ids pad=0, eos=1, unk=2, found "
                     "pad=-1, eos=2, unk=0");
}

TEST(Tokenizer, TrainRejectsNoTexts) {
  auto trained = Tokenizer::train({}, 100, 0,
                                  ::testing::TempDir() + "convseq_empty.model");
  EXPECT_EQ(trained.status().code(), absl::StatusCode::kInvalidArgument);
}

} // namespace
