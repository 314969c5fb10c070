//===- Tokenizer.h - SentencePiece tokenizer for T5 models ------*- C++ -*-===//
//
// Text becomes token ids with a SentencePiece unigram model, as in T5:
// pad=0, eos=1, unk=2, no bos, and sentinel pieces <extra_id_i> for span
// corruption. A model can be trained from the training texts themselves,
// deterministically, so that a run is reproducible from its data alone.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_TOKENIZER_H
#define CONVSEQ_RUNTIME_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sentencepiece {
class SentencePieceProcessor;
} // namespace sentencepiece

namespace convseq::runtime {

/// A loaded SentencePiece model. Copies share the model; all methods are
/// const and safe to call from several threads.
class Tokenizer {
public:
  static constexpr int32_t kPadId = 0;
  static constexpr int32_t kEosId = 1;
  static constexpr int32_t kUnkId = 2;

  /// Loads a SentencePiece model file. Fails, naming the file, if it cannot
  /// be read or parsed, if its ids are not pad=0, eos=1, unk=2, or if its
  /// vocabulary has more than `maxVocabSize` pieces (the model's embedding
  /// rows).
  static absl::StatusOr<Tokenizer> load(const std::string &modelPath,
                                        int64_t maxVocabSize);

  /// Trains a unigram model on `texts` (each one sentence) and writes it to
  /// `modelPath` (no .vocab file), then loads it. pad=0, eos=1, unk=2, no
  /// bos, then the user symbols <extra_id_0>..<extra_id_{sentinels-1}> at
  /// ids 3.. . At most `vocabSize` pieces: a small corpus may give fewer
  /// (the limit is soft). Full character coverage, default (NFKC)
  /// normalization. Deterministic: one thread, all sentences in order, a
  /// fixed seed (this sets SentencePiece's global seed). Quiet: sets
  /// SentencePiece's global log level to errors only.
  static absl::StatusOr<Tokenizer> train(const std::vector<std::string> &texts,
                                         int64_t vocabSize, int64_t sentinels,
                                         const std::string &modelPath);

  /// The ids of `text`, without eos.
  std::vector<int32_t> encode(std::string_view text) const;
  /// The text of `ids` up to the first eos; pads, and ids that are not in
  /// the vocabulary (spare embedding rows), are skipped.
  std::string decode(const std::vector<int32_t> &ids) const;
  /// The number of pieces, ids 0..vocabSize()-1.
  int64_t vocabSize() const;
  /// The id of <extra_id_i>, or -1 if the model has no such piece.
  int32_t sentinelId(int64_t i) const;
  /// The number of sentinels: <extra_id_0>.. up to the first one missing.
  int64_t numSentinels() const {
    return static_cast<int64_t>(sentinels.size());
  }
  /// The serialized model proto (to embed or hash).
  std::string serializedModel() const;
  /// The file the model was loaded from.
  const std::string &path() const { return modelPath; }

private:
  Tokenizer(std::shared_ptr<const sentencepiece::SentencePieceProcessor> sp,
            std::string modelPath, std::vector<int32_t> sentinels);

  std::shared_ptr<const sentencepiece::SentencePieceProcessor> processor;
  std::string modelPath;
  std::vector<int32_t> sentinels;
};

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_TOKENIZER_H
