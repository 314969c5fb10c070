//===- DataTest.cpp - Reading training data and span corruption -----------===//

#include "runtime/Data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

#include "gtest/gtest.h"

namespace {

using namespace convseq::runtime;

/// The project's shared data (`<repo>/../shared/data`): CONVSEQ_SHARED_DATA
/// in the environment, else CONVSEQ_SHARED_DATA_DIR if the build defines it,
/// else found from this file's path.
std::string sharedDataDir() {
  if (const char *dir = std::getenv("CONVSEQ_SHARED_DATA"))
    return dir;
#ifdef CONVSEQ_SHARED_DATA_DIR
  return CONVSEQ_SHARED_DATA_DIR;
#else
  return (std::filesystem::path(__FILE__).parent_path() /
          "../../../shared/data")
      .lexically_normal()
      .string();
#endif
}

/// A temporary file with the given contents, removed at destruction.
class TempFile {
public:
  explicit TempFile(std::string_view contents) {
    path = ::testing::TempDir() + "convseq_data_XXXXXX";
    int fd = mkstemp(path.data());
    EXPECT_GE(fd, 0) << path;
    EXPECT_EQ(write(fd, contents.data(), contents.size()),
              static_cast<ssize_t>(contents.size()));
    close(fd);
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
};

TsvOptions trecOptions() {
  TsvOptions options;
  options.sourceColumn = 2;
  options.targetColumn = 0;
  options.labels = {{"ABBR", "abbreviation"}, {"DESC", "description"},
                    {"ENTY", "entity"},       {"HUM", "human"},
                    {"LOC", "location"},      {"NUM", "number"}};
  return options;
}

//===----------------------------------------------------------------------===//
// UTF-8
//===----------------------------------------------------------------------===//

TEST(Utf8, AcceptsWellFormedText) {
  for (std::string_view text :
       {"", "plain ASCII", "caf\xC3\xA9", "\xE2\x82\xAC 5",
        "\xF0\x9D\x84\x9E clef", "\xED\x9F\xBF", "\xEE\x80\x80",
        "\xF4\x8F\xBF\xBF", "\xF0\x90\x80\x80"})
    EXPECT_TRUE(isValidUtf8(text)) << text;
  EXPECT_TRUE(isValidUtf8(std::string_view("a\0b", 3)));
}

TEST(Utf8, RejectsIllFormedTextAtTheRightOffset) {
  struct Case {
    std::string_view text;
    size_t offset;
    const char *what;
  };
  for (const Case &c : {
           Case{"a\xC0\xAF", 1, "overlong 2-byte /"},
           Case{"\xC1\xBF", 0, "overlong 2-byte"},
           Case{"ab\xE0\x80\xAF", 2, "overlong 3-byte"},
           Case{"\xF0\x80\x80\xAF", 0, "overlong 4-byte"},
           Case{"ok \xED\xA0\x80", 3, "high surrogate U+D800"},
           Case{"\xED\xBF\xBF", 0, "low surrogate U+DFFF"},
           Case{"\xF4\x90\x80\x80", 0, "U+110000"},
           Case{"\xF5\x80\x80\x80", 0, "lead byte F5"},
           Case{"\xFF", 0, "byte FF"},
           Case{"x\xE2\x82", 1, "truncated at the end"},
           Case{"\xE2\x82x", 0, "truncated before ASCII"},
           Case{"\xC3\xA9\x80", 2, "stray continuation byte"},
           Case{"\xF0", 0, "F0 alone"},
           Case{"sister\xF0"
                "city",
                6, "F0 inside ASCII (TREC)"},
       }) {
    size_t offset = 12345;
    EXPECT_FALSE(isValidUtf8(c.text, &offset)) << c.what;
    EXPECT_EQ(offset, c.offset) << c.what;
  }
}

//===----------------------------------------------------------------------===//
// TSV
//===----------------------------------------------------------------------===//

TEST(Tsv, ReadsColumnsAndMapsLabels) {
  TempFile file("DESC\tDESC:manner\tHow did it go ?\n"
                "HUM\tHUM:ind\tWho was it ?\n");
  TsvStats stats;
  auto examples = readTsv(file.path, trecOptions(), &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 2u);
  EXPECT_EQ((*examples)[0].source, "How did it go ?");
  EXPECT_EQ((*examples)[0].target, "description");
  EXPECT_EQ((*examples)[0].line, 1);
  EXPECT_EQ((*examples)[1].source, "Who was it ?");
  EXPECT_EQ((*examples)[1].target, "human");
  EXPECT_EQ((*examples)[1].line, 2);
  EXPECT_EQ(stats.read, 2);
  EXPECT_EQ(stats.skipped, 0);
}

TEST(Tsv, TakesTheTargetAsIsWithoutLabels) {
  TempFile file("translate this\tdas hier\textra\n");
  auto examples = readTsv(file.path, TsvOptions());
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 1u);
  EXPECT_EQ((*examples)[0].source, "translate this");
  EXPECT_EQ((*examples)[0].target, "das hier");
}

TEST(Tsv, NeedsNoTargetColumnForPrediction) {
  TempFile file("just an input\n");
  TsvOptions options;
  options.targetColumn = -1;
  auto examples = readTsv(file.path, options);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 1u);
  EXPECT_EQ((*examples)[0].source, "just an input");
  EXPECT_EQ((*examples)[0].target, "");
}

TEST(Tsv, HandlesCrlfAndAMissingFinalNewline) {
  TempFile file("a\tb\r\nc\td");
  auto examples = readTsv(file.path, TsvOptions());
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 2u);
  EXPECT_EQ((*examples)[0].target, "b");
  EXPECT_EQ((*examples)[1].source, "c");
  EXPECT_EQ((*examples)[1].target, "d");
}

TEST(Tsv, AllowsABlankFinalLine) {
  for (std::string_view contents : {"a\tb\n\n", "a\tb\r\n\r\n", "a\tb\n\r"}) {
    TsvStats stats;
    auto examples = readTsv(TempFile(contents).path, TsvOptions(), &stats);
    ASSERT_TRUE(examples.ok()) << examples.status();
    EXPECT_EQ(examples->size(), 1u);
    EXPECT_EQ(stats.skipped, 0);
  }
  auto empty = readTsv(TempFile("").path, TsvOptions());
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
}

// Each case has a good line 1, a malformed line `line` and a good last line.
TEST(Tsv, ReportsAndSkipsMalformedLines) {
  struct Case {
    std::string contents;
    int64_t line;
    std::string message;
    TsvOptions options = TsvOptions();
  };
  TsvOptions labels;
  labels.labels = {{"A", "alpha"}, {"B", "beta"}};
  TsvOptions wide;
  wide.sourceColumn = 2;
  const Case cases[] = {
      {"a\tb\nc\nd\te\n", 2,
       "expected at least 2 tab-separated columns, found 1"},
      {"a\tb\tc\nd\te\nf\tg\th\n", 2,
       "expected at least 3 tab-separated columns, found 2", wide},
      {"a\tb\n\tc\nd\te\n", 2, "empty text in column 0"},
      {"a\tb\nc\t \t\nd\te\n", 2, "empty text in column 1"},
      {"a\tb\nc\t\r\nd\te\n", 2, "empty text in column 1"},
      {"a\tA\nb\tFOO\nc\tB\n", 2, "unknown label 'FOO' (expected one of A, B)",
       labels},
      {"a\tA\nb\ta\nc\tB\n", 2, "unknown label 'a' (expected one of A, B)",
       labels},
      {"a\tb\n\nc\td\n", 2, "blank line"},
      {"a\tb\r\n\r\nc\td\r\n", 2, "blank line"},
      {"a\tb\n\n\n", 2, "blank line"},
      {"a\tb\nsister\xF0"
       "city\td\ne\tf\n",
       2, "invalid UTF-8 at byte 6"},
      {"a\tb\nc\td\xC0\xAF\ne\tf\n", 2, "invalid UTF-8 at byte 3"},
      {"a\tb\nc\td\ne\t\xED\xA0\x80", 3, "invalid UTF-8 at byte 2"},
  };
  for (const Case &c : cases) {
    TempFile file(c.contents);
    auto failed = readTsv(file.path, c.options);
    ASSERT_FALSE(failed.ok()) << c.message;
    EXPECT_EQ(failed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(failed.status().message(),
              file.path + ":" + std::to_string(c.line) + ": " + c.message);

    TsvOptions skipping = c.options;
    skipping.skipMalformed = true;
    TsvStats stats;
    auto examples = readTsv(file.path, skipping, &stats);
    ASSERT_TRUE(examples.ok()) << examples.status();
    EXPECT_EQ(stats.skipped, 1) << c.message;
    EXPECT_EQ(stats.read, static_cast<int64_t>(examples->size()));
    for (const Example &example : *examples)
      EXPECT_NE(example.line, c.line) << c.message;
  }
}

TEST(Tsv, CountsEverySkippedLine) {
  TempFile file("a\tb\nbad\n\nc\td\n\t\ne\tf\n");
  TsvOptions options;
  options.skipMalformed = true;
  TsvStats stats;
  auto examples = readTsv(file.path, options, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(stats.read, 3);
  EXPECT_EQ(stats.skipped, 3);
  ASSERT_EQ(examples->size(), 3u);
  EXPECT_EQ((*examples)[1].line, 4);
  EXPECT_EQ((*examples)[2].line, 6);
}

TEST(Tsv, StopsAtTheCallbacksError) {
  TempFile file("a\tb\nc\td\n");
  int calls = 0;
  absl::Status status =
      forEachTsvExample(file.path, TsvOptions(), [&](Example example) {
        ++calls;
        return absl::CancelledError(example.source);
      });
  EXPECT_EQ(status, absl::CancelledError("a"));
  EXPECT_EQ(calls, 1);
}

TEST(Tsv, ReportsAMissingFile) {
  std::string path = ::testing::TempDir() + "convseq_no_such_file.tsv";
  auto examples = readTsv(path, TsvOptions());
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(examples.status().message(),
            path + ": cannot open: No such file or directory");
}

TEST(Tsv, ReportsAnUnreadableFile) {
  std::string directory = ::testing::TempDir();
  auto examples = readTsv(directory, TsvOptions());
  EXPECT_FALSE(examples.ok());
  EXPECT_EQ(examples.status().message(),
            directory + ":1: cannot read: Is a directory");
}

TEST(Tsv, RejectsBadOptions) {
  TempFile file("a\tb\n");
  TsvOptions options;
  options.targetColumn = -1;
  options.labels = {{"A", "alpha"}};
  EXPECT_EQ(readTsv(file.path, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = TsvOptions();
  options.sourceColumn = -1;
  EXPECT_EQ(readTsv(file.path, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Tsv, ReadsTrec) {
  std::string path = std::string(CONVSEQ_TREC_DIR) + "/train.tsv";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " not found";
  TsvStats stats;
  auto examples = readTsv(path, trecOptions(), &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 5452u);
  EXPECT_EQ(stats.read, 5452);
  EXPECT_EQ(stats.skipped, 0);
  EXPECT_EQ(examples->front().source,
            "How did serfdom develop in and then leave Russia ?");
  EXPECT_EQ(examples->front().target, "description");
  EXPECT_EQ(examples->back().line, 5452);
  std::map<std::string, int> counts;
  for (const Example &example : *examples)
    ++counts[example.target];
  EXPECT_EQ(counts, (std::map<std::string, int>{{"abbreviation", 86},
                                                {"description", 1162},
                                                {"entity", 1250},
                                                {"human", 1223},
                                                {"location", 835},
                                                {"number", 896}}));

  auto test = readTsv(std::string(CONVSEQ_TREC_DIR) + "/test.tsv", trecOptions());
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->size(), 500u);
}

// The original TREC file has one byte that is not UTF-8: 0xF0 in line 66.
TEST(Tsv, FindsTheInvalidByteOfTheOriginalTrecFile) {
  std::string path = sharedDataDir() + "/trec/train_5500.label";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " not found";
  std::ifstream in(path, std::ios::binary);
  std::string line;
  for (int i = 0; i < 66; ++i)
    std::getline(in, line);
  size_t offset;
  EXPECT_FALSE(isValidUtf8(line, &offset));
  EXPECT_EQ(offset, line.find("sister") + 6);

  // Read as a one-column file (its lines have no tabs).
  TsvOptions options;
  options.targetColumn = -1;
  auto failed = readTsv(path, options);
  EXPECT_EQ(failed.status().message(),
            path + ":66: invalid UTF-8 at byte " + std::to_string(offset));
  options.skipMalformed = true;
  TsvStats stats;
  ASSERT_TRUE(readTsv(path, options, &stats).ok());
  EXPECT_EQ(stats.read, 5451);
  EXPECT_EQ(stats.skipped, 1);

  int64_t replaced = -1;
  std::string line66;
  ASSERT_TRUE(forEachTextLine(
                  path,
                  [&](std::string_view text, int64_t number, int64_t) {
                    if (number == 66)
                      line66 = text;
                    return absl::OkStatus();
                  },
                  &replaced)
                  .ok());
  EXPECT_EQ(replaced, 1);
  EXPECT_NE(line66.find("sister city"), std::string::npos) << line66;
}

//===----------------------------------------------------------------------===//
// Raw text
//===----------------------------------------------------------------------===//

TEST(TextLines, ReplacesInvalidBytesAndSkipsBlankLines) {
  TempFile file("caf\xE9 au lait\r\n"
                "\n"
                "   \r\n"
                "na\xEFve \xE2\x82\n"
                "\xC3\xA9t\xC3\xA9\n"
                "\xA0\n"
                "last");
  std::vector<std::pair<int64_t, std::string>> lines;
  int64_t replaced = -1;
  absl::Status status = forEachTextLine(
      file.path,
      [&](std::string_view line, int64_t number, int64_t) {
        lines.emplace_back(number, std::string(line));
        return absl::OkStatus();
      },
      &replaced);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(lines, (std::vector<std::pair<int64_t, std::string>>{
                       {1, "caf  au lait"},
                       {4, "na ve   "},
                       {5, "\xC3\xA9t\xC3\xA9"},
                       {7, "last"}}));
  EXPECT_EQ(replaced, 5);
}

TEST(TextLines, StopsAtTheCallbacksErrorAndReportsAMissingFile) {
  TempFile file("one\ntwo\n");
  int calls = 0;
  absl::Status status =
      forEachTextLine(file.path, [&](std::string_view, int64_t, int64_t) {
        ++calls;
        return absl::AbortedError("stop");
      });
  EXPECT_EQ(status, absl::AbortedError("stop"));
  EXPECT_EQ(calls, 1);
  std::string missing = ::testing::TempDir() + "convseq_no_such_file.txt";
  EXPECT_EQ(forEachTextLine(missing, [](std::string_view, int64_t,
                                        int64_t) { return absl::OkStatus(); })
                .code(),
            absl::StatusCode::kNotFound);
}

//===----------------------------------------------------------------------===//
// Span corruption
//===----------------------------------------------------------------------===//

constexpr int32_t kEos = 1;

std::vector<int32_t> sentinelIds(int count) {
  std::vector<int32_t> ids;
  for (int i = 0; i < count; ++i)
    ids.push_back(3 + i);
  return ids;
}

std::vector<int32_t> iota(int64_t n) {
  std::vector<int32_t> tokens;
  for (int64_t i = 0; i < n; ++i)
    tokens.push_back(static_cast<int32_t>(1000 + i));
  return tokens;
}

bool isSentinel(int32_t id) { return id >= 3 && id < 1000; }

/// Puts the target's spans back in place of the input's sentinels, checking
/// the structure on the way; returns the number of spans through `spans`.
std::vector<int32_t> reconstruct(const Corrupted &corrupted, int64_t &spans) {
  std::map<int32_t, std::vector<int32_t>> dropped;
  const std::vector<int32_t> &target = corrupted.target;
  EXPECT_FALSE(target.empty());
  EXPECT_EQ(target.back(), kEos);
  int32_t current = -1;
  for (size_t i = 0; i + 1 < target.size(); ++i) {
    if (isSentinel(target[i])) {
      EXPECT_EQ(target[i], current < 0 ? 3 : current + 1) << "in order";
      current = target[i];
      dropped[current];
    } else {
      EXPECT_GE(current, 0) << "the target starts with a sentinel";
      dropped[current].push_back(target[i]);
    }
  }
  std::vector<int32_t> tokens;
  spans = 0;
  EXPECT_FALSE(isSentinel(corrupted.input.front())) << "starts with non-noise";
  for (size_t i = 0; i < corrupted.input.size(); ++i) {
    int32_t id = corrupted.input[i];
    if (!isSentinel(id)) {
      tokens.push_back(id);
      continue;
    }
    ++spans;
    EXPECT_EQ(id, 3 + spans - 1);
    EXPECT_FALSE(dropped[id].empty()) << "noise spans are not empty";
    tokens.insert(tokens.end(), dropped[id].begin(), dropped[id].end());
  }
  EXPECT_EQ(static_cast<size_t>(spans), dropped.size());
  return tokens;
}

TEST(SpanCorruption, ReconstructsTheTokensAndDropsTheRightNumber) {
  for (int64_t n : {2, 3, 5, 10, 17, 33, 100, 512}) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      std::vector<int32_t> tokens = iota(n);
      uint64_t state = seed;
      auto corrupted =
          spanCorrupt(tokens, 0.15, 3.0, sentinelIds(100), kEos, state);
      ASSERT_TRUE(corrupted.ok()) << corrupted.status();
      int64_t spans = 0;
      EXPECT_EQ(reconstruct(*corrupted, spans), tokens) << n << " " << seed;
      int64_t noise = std::clamp<int64_t>(std::lround(n * 0.15), 1, n - 1);
      EXPECT_EQ(static_cast<int64_t>(corrupted->target.size()),
                noise + spans + 1);
      EXPECT_EQ(static_cast<int64_t>(corrupted->input.size()),
                n - noise + spans);
      EXPECT_EQ(spans, std::max<int64_t>(1, std::lround(noise / 3.0)));
    }
  }
}

TEST(SpanCorruption, UsesNoMoreSpansThanSentinels) {
  std::vector<int32_t> tokens = iota(200);
  uint64_t state = 7;
  auto corrupted = spanCorrupt(tokens, 0.5, 2.0, sentinelIds(4), kEos, state);
  ASSERT_TRUE(corrupted.ok()) << corrupted.status();
  int64_t spans = 0;
  EXPECT_EQ(reconstruct(*corrupted, spans), tokens);
  EXPECT_EQ(spans, 4);
  EXPECT_EQ(corrupted->target.size(), 100u + 4 + 1);
}

TEST(SpanCorruption, IsDeterministicGivenTheSeed) {
  std::vector<int32_t> tokens = iota(100);
  uint64_t a = 42, b = 42, c = 43;
  auto first = spanCorrupt(tokens, 0.15, 3.0, sentinelIds(100), kEos, a);
  auto second = spanCorrupt(tokens, 0.15, 3.0, sentinelIds(100), kEos, b);
  auto other = spanCorrupt(tokens, 0.15, 3.0, sentinelIds(100), kEos, c);
  ASSERT_TRUE(first.ok() && second.ok() && other.ok());
  EXPECT_EQ(first->input, second->input);
  EXPECT_EQ(first->target, second->target);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, 42u) << "the state advances";
  EXPECT_NE(first->input, other->input);
  // The next call with the advanced state differs from the first.
  auto next = spanCorrupt(tokens, 0.15, 3.0, sentinelIds(100), kEos, a);
  ASSERT_TRUE(next.ok());
  EXPECT_NE(next->input, first->input);
}

TEST(SpanCorruption, RejectsBadArguments) {
  uint64_t state = 0;
  for (int64_t n : {0, 1})
    EXPECT_EQ(spanCorrupt(iota(n), 0.15, 3.0, sentinelIds(100), kEos, state)
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(spanCorrupt(iota(10), 0.15, 3.0, {}, kEos, state).ok());
  EXPECT_FALSE(
      spanCorrupt(iota(10), 1.5, 3.0, sentinelIds(10), kEos, state).ok());
  EXPECT_FALSE(
      spanCorrupt(iota(10), NAN, 3.0, sentinelIds(10), kEos, state).ok());
  EXPECT_FALSE(
      spanCorrupt(iota(10), 0.15, 0.0, sentinelIds(10), kEos, state).ok());
  EXPECT_EQ(state, 0u) << "errors draw nothing";
}

// Pins the random draws (splitmix64, Lemire's bounded integers, Fisher-Yates
// as in T5): pre-training data must not change with the platform.
TEST(SpanCorruption, GivesTheReferenceResult) {
  uint64_t state = 1;
  auto corrupted =
      spanCorrupt(iota(20), 0.3, 2.0, sentinelIds(100), kEos, state);
  ASSERT_TRUE(corrupted.ok()) << corrupted.status();
  EXPECT_EQ(
      corrupted->input,
      (std::vector<int32_t>{1000, 1001, 3, 1003, 4, 1005, 1006, 1007, 1008,
                            1009, 1010, 1011, 1012, 1013, 1014, 1015, 5}));
  EXPECT_EQ(corrupted->target, (std::vector<int32_t>{3, 1002, 4, 1004, 5, 1016,
                                                     1017, 1018, 1019, kEos}));
}

} // namespace
