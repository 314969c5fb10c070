//===- TrainingData.cpp - Training examples read on demand ----------------===//

#include "runtime/TrainingData.h"

#include "absl/strings/str_cat.h"

#include <numeric>

namespace convseq::runtime {

absl::Status changedFileError(const std::string &path) {
  return absl::FailedPreconditionError(
      absl::StrCat(path, ": the training file changed since training started; "
                         "restart (or --resume) to read it again"));
}

absl::Status TrainingData::checkUnchanged() const {
  absl::StatusOr<LineReader> now = LineReader::open(reader.path());
  if (!now.ok())
    return now.status();
  if (!now->sameFileAs(reader))
    return changedFileError(reader.path());
  return absl::OkStatus();
}

absl::StatusOr<Batch> TrainingData::batch(const std::vector<size_t> &indices) {
  if (absl::Status status = checkUnchanged(); !status.ok())
    return status;
  std::vector<EncodedExample> encoded;
  for (size_t index : indices) {
    absl::StatusOr<EncodedExample> example = readExample(index);
    if (!example.ok())
      return example.status();
    encoded.push_back(*std::move(example));
  }
  std::vector<size_t> rows(indices.size());
  std::iota(rows.begin(), rows.end(), 0);
  Batch batch = makeBatch(encoded, rows, padId);
  batch.examples = indices;
  return batch;
}

namespace {

/// A TSV training file: where each example's line starts.
class TsvData : public TrainingData {
public:
  static absl::StatusOr<std::unique_ptr<TrainingData>>
  create(const std::string &path, const TaskSettings &task,
         const Tokenizer &tokenizer) {
    absl::StatusOr<LineReader> reader = LineReader::open(path);
    if (!reader.ok())
      return reader.status();
    TsvOptions options = tsvOptions(task, true);
    absl::StatusOr<TsvParser> parser = TsvParser::create(path, options);
    if (!parser.ok())
      return parser.status();
    std::unique_ptr<TsvData> data(
        new TsvData(*std::move(reader), *std::move(parser), task, tokenizer));
    absl::Status read = forEachTsvExample(
        path, options,
        [&](Example example) {
          data->offsets.push_back(example.offset);
          data->lengths.push_back(static_cast<int32_t>(
              encodeText(example.source, task.maxSourceLength, task, tokenizer)
                  .size()));
          return absl::OkStatus();
        },
        &data->counts);
    if (!read.ok())
      return read;
    if (data->lengths.empty())
      return absl::InvalidArgumentError(absl::StrCat(path, ": no examples"));
    // The index was made from another open: make sure it read this file.
    if (absl::Status status = data->checkUnchanged(); !status.ok())
      return status;
    return std::unique_ptr<TrainingData>(std::move(data));
  }

private:
  TsvData(LineReader reader, TsvParser parser, const TaskSettings &task,
          const Tokenizer &tokenizer)
      : TrainingData(std::move(reader), task.padId), parser(std::move(parser)),
        task(task), tokenizer(tokenizer) {}

  absl::StatusOr<EncodedExample> readExample(size_t index) override {
    if (absl::Status status = reader.seek(offsets[index]); !status.ok())
      return status;
    absl::StatusOr<bool> read = reader.next();
    if (!read.ok())
      return read.status();
    Example example;
    if (!*read ||
        !parser.parse(std::string_view(reader.data(), reader.size()), example)
             .empty())
      return changedFileError(reader.path());
    return encodeExample(example, task, tokenizer);
  }

  TsvParser parser;
  const TaskSettings &task;
  const Tokenizer &tokenizer;
  /// Where each example's line starts: with its length, 12 bytes of
  /// memory an example.
  std::vector<int64_t> offsets;
};

} // namespace

absl::StatusOr<std::unique_ptr<TrainingData>>
streamTsvData(const std::string &path, const TaskSettings &task,
              const Tokenizer &tokenizer) {
  return TsvData::create(path, task, tokenizer);
}

} // namespace convseq::runtime
