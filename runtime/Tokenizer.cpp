//===- Tokenizer.cpp - SentencePiece tokenizer for T5 models --------------===//
//
// SentencePiece's headers declare `namespace absl { using std::string_view; }`
// (it builds against its own copy of the Abseil pieces it needs), which
// clashes with the real absl::string_view of Debian's Abseil. They are
// included with `absl` renamed, so that their string_view is std's, as in
// the library's ABI, and does not collide.
//
//===----------------------------------------------------------------------===//

#include "runtime/Tokenizer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#define absl convseq_sentencepiece_absl
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#undef absl

namespace convseq::runtime {
namespace {

/// SentencePiece's seed for training; any value but -1 (which asks for
/// std::random_device).
constexpr unsigned kTrainingSeed = 20240601;

absl::Status toStatus(const sentencepiece::util::Status &status,
                      std::string_view context) {
  return absl::Status(
      static_cast<absl::StatusCode>(status.code()),
      absl::StrCat(absl::string_view(context.data(), context.size()),
                   status.message()));
}

std::string sentinelPiece(int64_t i) {
  return absl::StrCat("<extra_id_", i, ">");
}

/// Hands SentencePiece's trainer the texts in order, without a file.
class TextIterator : public sentencepiece::SentenceIterator {
public:
  explicit TextIterator(const std::vector<std::string> &texts) : texts(texts) {}
  bool done() const override { return index >= texts.size(); }
  void Next() override { ++index; }
  const std::string &value() const override { return texts[index]; }
  sentencepiece::util::Status status() const override { return {}; }

private:
  const std::vector<std::string> &texts;
  size_t index = 0;
};

/// Writes `contents` to `path` through a temporary file and a rename, so
/// that `path` is never left half written.
absl::Status writeFile(const std::string &path, const std::string &contents) {
  std::string temporary = path + ".tmp";
  auto fail = [&](std::string_view what) {
    int err = errno;
    std::remove(temporary.c_str());
    return absl::Status(
        absl::ErrnoToStatusCode(err),
        absl::StrCat(path, ": cannot ",
                     absl::string_view(what.data(), what.size()), ": ",
                     std::generic_category().message(err)));
  };
  std::FILE *file = std::fopen(temporary.c_str(), "wb");
  if (!file)
    return fail("write");
  size_t written = std::fwrite(contents.data(), 1, contents.size(), file);
  if (std::fclose(file) != 0 || written != contents.size())
    return fail("write");
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    return fail("rename the temporary file");
  return absl::OkStatus();
}

} // namespace

Tokenizer::Tokenizer(
    std::shared_ptr<const sentencepiece::SentencePieceProcessor> sp,
    std::string modelPath, std::vector<int32_t> sentinels)
    : processor(std::move(sp)), modelPath(std::move(modelPath)),
      sentinels(std::move(sentinels)) {}

absl::StatusOr<Tokenizer> Tokenizer::load(const std::string &modelPath,
                                          int64_t maxVocabSize) {
  auto sp = std::make_shared<sentencepiece::SentencePieceProcessor>();
  if (sentencepiece::util::Status status = sp->Load(modelPath); !status.ok())
    return toStatus(
        status, absl::StrCat(modelPath, ": cannot load SentencePiece model: "));
  if (sp->pad_id() != kPadId || sp->eos_id() != kEosId ||
      sp->unk_id() != kUnkId)
    return absl::InvalidArgumentError(absl::StrCat(
        modelPath, ": expected the ids pad=", kPadId, ", eos=", kEosId,
        ", unk=", kUnkId, ", found pad=", sp->pad_id(), ", eos=", sp->eos_id(),
        ", unk=", sp->unk_id()));
  int64_t pieces = sp->GetPieceSize();
  if (pieces > maxVocabSize)
    return absl::InvalidArgumentError(absl::StrCat(
        modelPath, ": vocabulary of ", pieces,
        " pieces does not fit the model's ", maxVocabSize, " embedding rows"));
  std::vector<int32_t> sentinels;
  for (int64_t i = 0; i < pieces; ++i) {
    int id = sp->PieceToId(sentinelPiece(i));
    if (id == sp->unk_id())
      break;
    sentinels.push_back(id);
  }
  return Tokenizer(std::move(sp), modelPath, std::move(sentinels));
}

absl::StatusOr<Tokenizer>
Tokenizer::train(const std::vector<std::string> &texts, int64_t vocabSize,
                 int64_t sentinels, const std::string &modelPath) {
  if (texts.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(modelPath, ": no texts to train a tokenizer on"));
  if (sentinels < 0)
    return absl::InvalidArgumentError(
        absl::StrCat(modelPath, ": negative number of sentinels"));
  std::string userSymbols;
  for (int64_t i = 0; i < sentinels; ++i)
    absl::StrAppend(&userSymbols, i == 0 ? "" : ",", sentinelPiece(i));
  std::unordered_map<std::string, std::string> args = {
      {"model_type", "unigram"},
      {"vocab_size", absl::StrCat(vocabSize)},
      {"hard_vocab_limit", "false"},
      {"pad_id", absl::StrCat(kPadId)},
      {"eos_id", absl::StrCat(kEosId)},
      {"unk_id", absl::StrCat(kUnkId)},
      {"bos_id", "-1"},
      {"character_coverage", "1.0"},
      {"num_threads", "1"},
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      {"minloglevel", "2"},
  };
  if (!userSymbols.empty())
    args["user_defined_symbols"] = userSymbols;

  sentencepiece::SetRandomGeneratorSeed(kTrainingSeed);
  TextIterator iterator(texts);
  std::string model;
  if (sentencepiece::util::Status status =
          sentencepiece::SentencePieceTrainer::Train(args, &iterator, &model);
      !status.ok())
    return toStatus(
        status,
        absl::StrCat(modelPath, ": cannot train SentencePiece model: "));
  if (absl::Status status = writeFile(modelPath, model); !status.ok())
    return status;
  return load(modelPath, vocabSize);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  processor->Encode(text, &ids).IgnoreError();
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  int pieces = processor->GetPieceSize();
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int32_t id : ids) {
    if (id == kEosId)
      break;
    if (id != kPadId && id >= 0 && id < pieces)
      kept.push_back(id);
  }
  std::string text;
  processor->Decode(kept, &text).IgnoreError();
  return text;
}

int64_t Tokenizer::vocabSize() const { return processor->GetPieceSize(); }

int32_t Tokenizer::sentinelId(int64_t i) const {
  return i >= 0 && i < numSentinels() ? sentinels[i] : -1;
}

std::string Tokenizer::serializedModel() const {
  return processor->serialized_model_proto();
}

} // namespace convseq::runtime
