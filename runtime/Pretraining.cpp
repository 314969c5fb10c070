//===- Pretraining.cpp - Span-corruption examples from raw text -----------===//
//
// T5's pre-training data (spec section 5): the text is tokenized line by
// line into one stream, cut into chunks, and each chunk is span-corrupted
// (runtime/Data.h) into an input with sentinels and a target of the dropped
// spans. The chunk length is the longest whose expected input and target fit
// the model's length limits. Each chunk's noise is drawn from (seed, chunk
// start): the corrupted set is fixed for the run, like a preprocessed corpus,
// so batches stay a function of the step and resuming stays exact. Only where
// each chunk starts is kept; a batch reads its chunks from the file again.
//
//===----------------------------------------------------------------------===//

#include "runtime/Random.h"
#include "runtime/TrainingData.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <numeric>

namespace convseq::runtime {

namespace {

/// The longest chunk whose corrupted input and target fit the limits.
int64_t chunkLength(const TaskSettings &task) {
  int64_t best = 2;
  for (int64_t n = 2; n < task.maxSourceLength; ++n) {
    double noise = std::max(1.0, std::round(n * task.noiseDensity));
    double spans = std::max(1.0, std::round(noise / task.meanSpanLength));
    bool inputFits = n - noise + spans + 1 <= task.maxSourceLength;
    bool targetFits = noise + spans + 1 <= task.maxTargetLength;
    if (inputFits && targetFits)
      best = n;
  }
  return best;
}

/// The chunks of a raw text file: where each starts (its line and the
/// tokens of that line before it).
class SpanCorruptionData : public TrainingData {
public:
  static absl::StatusOr<std::unique_ptr<TrainingData>>
  create(const std::string &path, const TaskSettings &task,
         const Tokenizer &tokenizer, uint64_t seed) {
    std::vector<int32_t> sentinels;
    for (int64_t i = 0; i < tokenizer.numSentinels(); ++i)
      sentinels.push_back(tokenizer.sentinelId(i));
    if (sentinels.empty())
      return absl::FailedPreconditionError(
          absl::StrCat(tokenizer.path(), ": the tokenizer has no sentinels "
                                         "(<extra_id_0>, ...) for span "
                                         "corruption"));
    absl::StatusOr<LineReader> reader = LineReader::open(path);
    if (!reader.ok())
      return reader.status();
    std::unique_ptr<SpanCorruptionData> data(new SpanCorruptionData(
        *std::move(reader), task, tokenizer, seed, std::move(sentinels)));
    int64_t length = data->chunkTokens = chunkLength(task);
    int64_t total = 0;
    absl::Status read = forEachTextLine(
        path, [&](std::string_view line, int64_t number, int64_t offset) {
          int64_t count = static_cast<int64_t>(tokenizer.encode(line).size());
          // The chunks that start in this line.
          for (int64_t begin = (total + length - 1) / length * length;
               begin < total + count; begin += length)
            data->starts.push_back({offset, number, begin - total});
          total += count;
          return absl::OkStatus();
        });
    if (!read.ok())
      return read;
    data->totalTokens = total;
    // A last chunk of fewer than 2 tokens has nothing to corrupt.
    while (!data->starts.empty() &&
           total - chunkBegin(data->starts.size() - 1, length) < 2)
      data->starts.pop_back();
    if (data->starts.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": no text to pre-train on"));
    // Bucketing by chunk length: all chunks but the last are as long.
    for (size_t chunk = 0; chunk < data->starts.size(); ++chunk)
      data->lengths.push_back(static_cast<int32_t>(data->chunkSize(chunk)));
    data->counts.read = data->size();
    if (absl::Status status = data->checkUnchanged(); !status.ok())
      return status;
    return std::unique_ptr<TrainingData>(std::move(data));
  }

private:
  /// Where a chunk starts: its line's offset and number, and the tokens of
  /// that line before it.
  struct Start {
    int64_t offset, line, skip;
  };

  SpanCorruptionData(LineReader reader, const TaskSettings &task,
                     const Tokenizer &tokenizer, uint64_t seed,
                     std::vector<int32_t> sentinels)
      : TrainingData(std::move(reader), task.padId), task(task),
        tokenizer(tokenizer), seed(seed), sentinels(std::move(sentinels)) {}

  /// Chunk `chunk`, span-corrupted with its own noise.
  absl::StatusOr<EncodedExample> readExample(size_t chunk) override {
    absl::StatusOr<std::vector<int32_t>> tokens = readChunk(chunk);
    if (!tokens.ok())
      return tokens.status();
    int64_t begin = chunkBegin(chunk, chunkTokens);
    uint64_t state =
        Random(seed, absl::StrCat("span_corruption.", begin)).next();
    absl::StatusOr<Corrupted> corrupted =
        spanCorrupt(*tokens, task.noiseDensity, task.meanSpanLength, sentinels,
                    task.eosId, state);
    if (!corrupted.ok())
      return corrupted.status();
    corrupted->input.push_back(task.eosId);
    return EncodedExample{std::move(corrupted->input),
                          std::move(corrupted->target)};
  }

  static int64_t chunkBegin(size_t chunk, int64_t length) {
    return static_cast<int64_t>(chunk) * length;
  }
  int64_t chunkSize(size_t chunk) const {
    return std::min(chunkTokens, totalTokens - chunkBegin(chunk, chunkTokens));
  }

  /// The tokens of `chunk`: the text stream from its start, line by line
  /// as forEachTextLine cleans them.
  absl::StatusOr<std::vector<int32_t>> readChunk(size_t chunk) {
    const Start &start = starts[chunk];
    if (absl::Status status = reader.seek(start.offset, start.line);
        !status.ok())
      return status;
    size_t size = static_cast<size_t>(chunkSize(chunk));
    std::vector<int32_t> tokens;
    int64_t skip = start.skip;
    while (tokens.size() < size) {
      absl::StatusOr<bool> read = reader.next();
      if (!read.ok())
        return read.status();
      if (!*read)
        return changedFileError(reader.path());
      replaceInvalidUtf8(reader.data(), reader.size());
      std::string_view line(reader.data(), reader.size());
      if (isBlank(line))
        continue;
      std::vector<int32_t> ids = tokenizer.encode(line);
      if (skip > static_cast<int64_t>(ids.size()))
        return changedFileError(reader.path());
      size_t take = std::min(ids.size() - skip, size - tokens.size());
      tokens.insert(tokens.end(), ids.begin() + skip,
                    ids.begin() + skip + take);
      skip = 0;
    }
    return tokens;
  }

  const TaskSettings &task;
  const Tokenizer &tokenizer;
  uint64_t seed;
  std::vector<int32_t> sentinels;
  int64_t chunkTokens = 0, totalTokens = 0;
  std::vector<Start> starts;
};

} // namespace

absl::StatusOr<std::unique_ptr<TrainingData>>
streamSpanCorruptionData(const std::string &path, const TaskSettings &task,
                         const Tokenizer &tokenizer, uint64_t seed) {
  return SpanCorruptionData::create(path, task, tokenizer, seed);
}

} // namespace convseq::runtime
