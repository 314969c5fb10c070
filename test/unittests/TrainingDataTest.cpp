//===- TrainingDataTest.cpp - Training examples read on demand ------------===//
//
// The streamed training sets (runtime/TrainingData.h) against what reading
// the whole file gives: the same lengths and batches for TSV, chunks that
// cover the text exactly for span corruption, and an error when the file
// changes under a run.
//
//===----------------------------------------------------------------------===//

#include "runtime/TrainingData.h"

#include "runtime/Tokenizer.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "gtest/gtest.h"

namespace {

using namespace convseq::runtime;

/// A small tokenizer trained on TREC's questions, and a directory for the
/// tests' files.
class TrainingDataTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    std::string pattern = ::testing::TempDir() + "convseq_training_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir = new std::string(pattern);
    TsvOptions options;
    options.sourceColumn = 2;
    options.targetColumn = 0;
    auto examples =
        readTsv(std::string(CONVSEQ_TREC_DIR) + "/train.tsv", options);
    ASSERT_TRUE(examples.ok()) << examples.status();
    questions = new std::vector<Example>(*std::move(examples));
    std::vector<std::string> texts;
    for (const Example &example : *questions)
      texts.push_back(example.source);
    auto trained = Tokenizer::train(texts, 600, 20, *dir + "/t.model");
    ASSERT_TRUE(trained.ok()) << trained.status();
    tokenizer = new Tokenizer(*trained);
  }

  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir);
    delete tokenizer;
    delete questions;
    delete dir;
  }

  void SetUp() override {
    if (!tokenizer)
      FAIL() << "training the tokenizer failed (see above)";
    task.maxSourceLength = 24;
    task.maxTargetLength = 12;
    task.sentinels = 20;
  }

  static std::string write(const std::string &name,
                           const std::string &contents) {
    std::string path = *dir + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  static std::string *dir;
  static std::vector<Example> *questions;
  static Tokenizer *tokenizer;
  TaskSettings task;
};

std::string *TrainingDataTest::dir = nullptr;
std::vector<Example> *TrainingDataTest::questions = nullptr;
Tokenizer *TrainingDataTest::tokenizer = nullptr;

std::vector<int32_t> row(const Tensor &tensor, int64_t r) {
  const int32_t *data = tensor.data<int32_t>() + r * tensor.shape[1];
  return std::vector<int32_t>(data, data + tensor.shape[1]);
}

TEST_F(TrainingDataTest, TsvBatchesEqualThoseOfTheWholeFile) {
  // Questions (some longer than the source limit) and labels, with CRLF
  // endings on some lines.
  std::string contents;
  for (size_t i = 0; i < 200; ++i)
    contents += (*questions)[i].source + "\t" + (*questions)[i].target +
                (i % 3 == 0 ? "\r\n" : "\n");
  std::string path = write("data.tsv", contents);
  auto whole = loadDataset(path, task, *tokenizer, true);
  ASSERT_TRUE(whole.ok()) << whole.status();
  auto streamed = streamTsvData(path, task, *tokenizer);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  TrainingData &data = **streamed;
  ASSERT_EQ(data.size(), 200);
  EXPECT_EQ(data.stats().read, 200);
  for (size_t i = 0; i < 200; ++i)
    ASSERT_EQ(data.sourceLengths()[i],
              static_cast<int32_t>(whole->encoded[i].source.size()))
        << "example " << i;

  for (std::vector<size_t> indices :
       {std::vector<size_t>{7, 199, 0, 42}, std::vector<size_t>{150}}) {
    auto batch = data.batch(indices);
    ASSERT_TRUE(batch.ok()) << batch.status();
    Batch expected = makeBatch(whole->encoded, indices, task.padId);
    EXPECT_EQ(batch->examples, indices);
    EXPECT_EQ(batch->tokens, expected.tokens);
    ASSERT_EQ(batch->source.shape, expected.source.shape);
    ASSERT_EQ(batch->target.shape, expected.target.shape);
    EXPECT_EQ(batch->source.bytes, expected.source.bytes);
    EXPECT_EQ(batch->target.bytes, expected.target.bytes);
  }
}

TEST_F(TrainingDataTest, TsvIndexReportsMalformedLinesFirst) {
  std::string path = write("bad.tsv", "what is it ?\tDESC\nno label\n");
  auto streamed = streamTsvData(path, task, *tokenizer);
  ASSERT_FALSE(streamed.ok());
  EXPECT_EQ(streamed.status().message(),
            path + ":2: expected at least 2 tab-separated columns, found 1");
}

TEST_F(TrainingDataTest, ChangedFileIsAnError) {
  std::string path = write("changing.tsv", "what is it ?\tDESC\n"
                                           "who is he ?\tHUM\n");
  auto streamed = streamTsvData(path, task, *tokenizer);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  ASSERT_TRUE((*streamed)->batch({0, 1}).ok());
  std::ofstream(path, std::ios::app) << "where is it ?\tLOC\n";
  auto batch = (*streamed)->batch({0, 1});
  ASSERT_FALSE(batch.ok());
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(batch.status().message().find("changed since training started"),
            std::string::npos)
      << batch.status();
}

TEST_F(TrainingDataTest, SpanCorruptionChunksCoverTheTextExactly) {
  // Paragraphs of several questions each, a blank line and a Latin-1 byte
  // (replaced by a space, as forEachTextLine does).
  std::string contents, cleaned;
  for (size_t i = 0; i < 300; ++i) {
    contents += (*questions)[i].source + (i % 4 == 3 ? "\n" : " ");
    if (i == 101)
      contents += "caf\xe9 au lait\n\n";
  }
  std::string path = write("text.txt", contents);
  std::vector<int32_t> stream;
  ASSERT_TRUE(
      forEachTextLine(path, [&](std::string_view line, int64_t, int64_t) {
        std::vector<int32_t> ids = tokenizer->encode(line);
        stream.insert(stream.end(), ids.begin(), ids.end());
        return absl::OkStatus();
      }).ok());

  auto streamed = streamSpanCorruptionData(path, task, *tokenizer, 5);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  TrainingData &data = **streamed;
  std::map<int32_t, int64_t> sentinel;
  for (int64_t i = 0; i < tokenizer->numSentinels(); ++i)
    sentinel[tokenizer->sentinelId(i)] = i;
  std::vector<size_t> all(data.size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  auto batch = data.batch(all);
  ASSERT_TRUE(batch.ok()) << batch.status();

  // Undo the corruption of every chunk: each sentinel of the input stands
  // for the tokens after it in the target.
  std::vector<int32_t> restored;
  for (int64_t r = 0; r < data.size(); ++r) {
    std::vector<int32_t> input = row(batch->source, r);
    std::vector<int32_t> target = row(batch->target, r);
    EXPECT_LE(static_cast<int64_t>(input.size()), task.maxSourceLength);
    std::map<int64_t, std::vector<int32_t>> spans;
    int64_t current = -1;
    for (int32_t id : target) {
      if (id == task.eosId)
        break;
      if (sentinel.count(id))
        current = sentinel[id];
      else
        spans[current].push_back(id);
    }
    for (int32_t id : input) {
      if (id == task.eosId)
        break;
      if (sentinel.count(id))
        restored.insert(restored.end(), spans[sentinel[id]].begin(),
                        spans[sentinel[id]].end());
      else
        restored.push_back(id);
    }
  }
  // Every chunk but a last one of a single token.
  if (restored.size() + 1 == stream.size())
    stream.pop_back();
  EXPECT_EQ(restored, stream);
  EXPECT_GT(data.size(), 10);
}

} // namespace
