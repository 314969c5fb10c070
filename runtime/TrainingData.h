//===- TrainingData.h - Training examples read on demand --------*- C++ -*-===//
//
// The training set of a run may be larger than memory. One pass over the
// file checks every line (so a malformed one is reported before training
// starts) and keeps an index: where each example starts in the file and its
// source length in tokens, which length bucketing needs. A batch reads and
// tokenizes its examples from the file when the step needs it. Evaluation
// sets are read whole (Dataset, runtime/Commands.h).
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_TRAININGDATA_H
#define CONVSEQ_RUNTIME_TRAININGDATA_H

#include "runtime/Batching.h"
#include "runtime/Commands.h"
#include "runtime/Data.h"

#include <memory>

namespace convseq::runtime {

/// The examples of a training file, by index.
class TrainingData {
public:
  virtual ~TrainingData() = default;

  int64_t size() const { return static_cast<int64_t>(lengths.size()); }
  /// Each example's source length in tokens (with EOS), for bucketing.
  const std::vector<int32_t> &sourceLengths() const { return lengths; }
  const TsvStats &stats() const { return counts; }

  /// The examples at `indices` as one padded batch, read from the file.
  /// Fails if the file changed since the index was made.
  absl::StatusOr<Batch> batch(const std::vector<size_t> &indices);

protected:
  TrainingData(LineReader reader, int32_t padId)
      : reader(std::move(reader)), padId(padId) {}

  /// Example `index`, read from the file with `reader`.
  virtual absl::StatusOr<EncodedExample> readExample(size_t index) = 0;
  /// An error unless the file is still what it was when `reader` opened it.
  absl::Status checkUnchanged() const;

  /// The file, open for the whole run, as it was when indexed.
  LineReader reader;
  int32_t padId;
  std::vector<int32_t> lengths;
  TsvStats counts;
};

/// The examples of the seq2seq or classification TSV file at `path`
/// (errors as for forEachTsvExample, or "path: no examples").
absl::StatusOr<std::unique_ptr<TrainingData>>
streamTsvData(const std::string &path, const TaskSettings &task,
              const Tokenizer &tokenizer);

/// Span-corruption examples (T5 pre-training) from the raw text file at
/// `path`, one paragraph a line (runtime/Pretraining.cpp).
absl::StatusOr<std::unique_ptr<TrainingData>>
streamSpanCorruptionData(const std::string &path, const TaskSettings &task,
                         const Tokenizer &tokenizer, uint64_t seed);

/// The error for a training file that changed under a running training.
absl::Status changedFileError(const std::string &path);

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_TRAININGDATA_H
