//===- Decode.h - Decoding with the compiled decoder step -------*- C++ -*-===//
//
// Decoding runs the generated code only: encoder once, decoder_init
// once (the cross-attention keys and values), then decoder_step per token
// with the constant-size conv state (or the Transformer's growing cache)
// the step returns (spec section 4, docs/entry-points.md).
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_DECODE_H
#define CONVSEQ_RUNTIME_DECODE_H

#include "runtime/Model.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <vector>

namespace convseq::runtime {

struct DecodeOptions {
  int64_t maxLength = 128;
  int32_t padId = 0;
  int32_t eosId = 1;
  /// Ids at or above this are never chosen (the tokenizer's vocabulary can
  /// be smaller than the embedding).
  int64_t vocabLimit = 0;
};

/// The output of each row of `source` [B, S] i32, without EOS, by beam
/// search with `width` hypotheses per row: the decoder step runs on
/// B x width rows, whose state rows follow their hypotheses.
/// A finished hypothesis is scored by its log-probability divided by the
/// GNMT length penalty ((5 + length) / 6)^0.6 (Wu et al. 2016); the search
/// stops when every row has `width` finished hypotheses or at the length
/// limit, and returns the best finished one per row (the best unfinished
/// one if none finished). Width 1 is greedy decoding.
absl::StatusOr<std::vector<std::vector<int32_t>>>
beamDecode(Model &model, Tensor &source, const DecodeOptions &options,
           int64_t width);

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_DECODE_H
