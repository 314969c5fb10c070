//===- Pretraining.cpp - Span-corruption examples from raw text -----------===//
//
// T5's pre-training data (spec section 5): the text is tokenized line by
// line into one stream, cut into chunks, and each chunk is span-corrupted
// (runtime/Data.h) into an input with sentinels and a target of the dropped
// spans. The chunk length is the longest whose expected input and target fit
// the model's length limits. Each chunk's noise is drawn from (seed, chunk
// index), once: the corrupted set is fixed for the run, like a preprocessed
// corpus, so batches stay a function of the step and resuming stays exact.
//
//===----------------------------------------------------------------------===//

#include "runtime/Commands.h"
#include "runtime/Random.h"

#include "absl/strings/str_cat.h"

#include <cmath>

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

} // namespace

absl::StatusOr<Dataset> loadSpanCorruptionDataset(const std::string &path,
                                                  const TaskSettings &task,
                                                  const Tokenizer &tokenizer,
                                                  uint64_t seed) {
  std::vector<int32_t> sentinels;
  for (int64_t i = 0; i < tokenizer.numSentinels(); ++i)
    sentinels.push_back(tokenizer.sentinelId(i));
  if (sentinels.empty())
    return absl::FailedPreconditionError(
        absl::StrCat(tokenizer.path(), ": the tokenizer has no sentinels "
                                       "(<extra_id_0>, ...) for span "
                                       "corruption"));
  std::vector<int32_t> stream;
  int64_t replaced = 0;
  absl::Status read = forEachTextLine(
      path,
      [&](std::string_view line, int64_t) {
        std::vector<int32_t> ids = tokenizer.encode(line);
        stream.insert(stream.end(), ids.begin(), ids.end());
        return absl::OkStatus();
      },
      &replaced);
  if (!read.ok())
    return read;

  Dataset data;
  int64_t length = chunkLength(task);
  for (size_t begin = 0; begin + 2 <= stream.size(); begin += length) {
    std::vector<int32_t> chunk(stream.begin() + begin,
                               stream.begin() +
                                   std::min(stream.size(), begin + length));
    uint64_t state =
        Random(seed, absl::StrCat("span_corruption.", begin)).next();
    absl::StatusOr<Corrupted> corrupted =
        spanCorrupt(chunk, task.noiseDensity, task.meanSpanLength, sentinels,
                    task.eosId, state);
    if (!corrupted.ok())
      return corrupted.status();
    corrupted->input.push_back(task.eosId);
    data.encoded.push_back(
        {std::move(corrupted->input), std::move(corrupted->target)});
  }
  if (data.encoded.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no text to pre-train on"));
  data.stats.read = static_cast<int64_t>(data.encoded.size());
  return data;
}

} // namespace convseq::runtime
