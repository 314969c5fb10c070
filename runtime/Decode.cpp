//===- Decode.cpp - Generating targets with the compiled decoder step -----===//

#include "runtime/Decode.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace convseq::runtime {

namespace {

/// `sizes` with each of `slot`'s static sizes in place of the given one.
std::vector<int64_t> slotShape(const convseq_arg_info &slot,
                               std::vector<int64_t> sizes) {
  for (int d = 0; d < slot.rank && d < static_cast<int>(sizes.size()); ++d)
    if (slot.shape[d] >= 0)
      sizes[d] = slot.shape[d];
  return sizes;
}

/// `tensor` with each row (first dimension) repeated `times` times.
Tensor repeatRows(const Tensor &tensor, int64_t times) {
  if (times == 1)
    return tensor;
  std::vector<int64_t> shape = tensor.shape;
  shape[0] *= times;
  Tensor result = Tensor::zeros(tensor.dtype, shape);
  size_t rowBytes = tensor.bytes.size() / std::max<int64_t>(1, tensor.shape[0]);
  for (int64_t row = 0; row < shape[0]; ++row)
    std::memcpy(result.bytes.data() + row * rowBytes,
                tensor.bytes.data() + (row / times) * rowBytes, rowBytes);
  return result;
}

/// `tensor` with row i replaced by row `rows[i]`.
void gatherRows(Tensor &tensor, const std::vector<int64_t> &rows) {
  size_t rowBytes = tensor.bytes.size() / std::max<int64_t>(1, tensor.shape[0]);
  std::vector<uint8_t> gathered(tensor.bytes.size());
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(gathered.data() + i * rowBytes,
                tensor.bytes.data() + rows[i] * rowBytes, rowBytes);
  tensor.bytes = std::move(gathered);
}

/// The compiled decoder on `rows` rows: the encoder and decoder_init run
/// once on the source, then step() feeds one token per row.
class Decoder {
public:
  static absl::StatusOr<Decoder> create(Model &model, Tensor &source,
                                        int64_t repeat) {
    Decoder decoder(model);
    absl::StatusOr<const EntryPoint *> encoder = model.requireEntry("encoder");
    absl::StatusOr<const EntryPoint *> init =
        model.requireEntry("decoder_init");
    absl::StatusOr<const EntryPoint *> step =
        model.requireEntry("decoder_step");
    for (const auto *entry : {&encoder, &init, &step})
      if (!entry->ok())
        return entry->status();
    decoder.stepEntry = *step;
    int64_t batch = source.shape[0], length = source.shape[1];

    CallArgs encoderArgs;
    model.bindParameters(encoderArgs, /*withState=*/false);
    encoderArgs.tensors["src_ids"] = &source;
    encoderArgs.outputShapes["enc_out"] =
        slotShape(*(*encoder)->slot("enc_out"), {batch, length, -1});
    auto encoded = (*encoder)->call(encoderArgs);
    if (!encoded.ok())
      return encoded.status();

    CallArgs initArgs;
    model.bindParameters(initArgs, /*withState=*/false);
    initArgs.tensors["enc_out"] = &(*encoded)["enc_out"];
    for (const convseq_arg_info *slot : (*init)->slots(CONVSEQ_OUTPUT))
      initArgs.outputShapes[slot->name] =
          slotShape(*slot, {batch, -1, length, -1});
    auto crossKV = (*init)->call(initArgs);
    if (!crossKV.ok())
      return crossKV.status();

    // Every hypothesis of a source row reads that row's keys and values.
    decoder.rows = batch * repeat;
    decoder.source = repeatRows(source, repeat);
    for (auto &[name, tensor] : *crossKV)
      decoder.crossKV[name] = repeatRows(tensor, repeat);
    // The state starts as zeros (conv window) or empty (attention cache).
    for (const convseq_arg_info *slot : (*step)->slots(CONVSEQ_INPUT)) {
      if (!absl::StartsWith(slot->name, "state."))
        continue;
      std::vector<int64_t> shape = slotShape(
          *slot, slot->rank == 4 ? std::vector<int64_t>{decoder.rows, -1, 0, -1}
                                 : std::vector<int64_t>{decoder.rows, -1, -1});
      absl::StatusOr<Dtype> dtype = slotDtype(*slot);
      if (!dtype.ok())
        return dtype.status();
      decoder.state[slot->name] = Tensor::zeros(*dtype, shape);
    }
    decoder.vocab = (*step)->slot("logits")->shape[2];
    return decoder;
  }

  int64_t vocabSize() const { return vocab; }

  /// Runs decoder_step at `position` with one token per row; returns the
  /// logits [rows, 1, V] and keeps the new state.
  absl::StatusOr<Tensor> step(const std::vector<int32_t> &tokens,
                              int64_t position) {
    // The arguments are bound on the first step, once the decoder is where
    // it stays: they point into its members.
    if (stepArgs.tensors.empty())
      bindStepArguments();
    std::copy(tokens.begin(), tokens.end(), token.data<int32_t>());
    stepArgs.scalars["position"] = position;
    for (auto &[name, tensor] : state)
      if (tensor.shape.size() == 4) // the cache grows by one position
        stepArgs.outputShapes[name][2] = tensor.shape[2] + 1;
    auto results = stepEntry->call(stepArgs);
    if (!results.ok())
      return results.status();
    for (auto &[name, tensor] : state)
      tensor = std::move((*results)[name]);
    return std::move((*results)["logits"]);
  }

  /// Makes row i continue from the state of row `parents[i]`.
  void reorder(const std::vector<int64_t> &parents) {
    bool identity = true;
    for (size_t row = 0; row < parents.size(); ++row)
      identity &= parents[row] == static_cast<int64_t>(row);
    if (identity) // greedy decoding, or beams that all kept their rows
      return;
    for (auto &[name, tensor] : state)
      gatherRows(tensor, parents);
  }

private:
  explicit Decoder(Model &model) : model(model) {}

  void bindStepArguments() {
    model.bindParameters(stepArgs, /*withState=*/false);
    stepArgs.tensors["src_ids"] = &source;
    for (auto &[name, tensor] : crossKV)
      stepArgs.tensors[name] = &tensor;
    for (auto &[name, tensor] : state) {
      stepArgs.tensors[name] = &tensor;
      stepArgs.outputShapes[name] = tensor.shape;
    }
    token = Tensor::zeros(Dtype::I32, {rows, 1});
    stepArgs.tensors["token"] = &token;
    stepArgs.outputShapes["logits"] =
        slotShape(*stepEntry->slot("logits"), {rows, 1, vocab});
  }

  Model &model;
  const EntryPoint *stepEntry = nullptr;
  int64_t rows = 0;
  int64_t vocab = 0;
  Tensor source;
  std::map<std::string, Tensor, std::less<>> crossKV;
  std::map<std::string, Tensor, std::less<>> state;
  Tensor token;
  CallArgs stepArgs;
};

/// Row `row` of [rows, 1, V] logits as log-probabilities, in f64.
std::vector<double> logSoftmax(const Tensor &logits, int64_t row, int64_t vocab,
                               int64_t limit) {
  std::vector<double> values(limit);
  for (int64_t v = 0; v < limit; ++v)
    values[v] = logits.dtype == Dtype::F32
                    ? logits.data<float>()[row * vocab + v]
                    : logits.data<double>()[row * vocab + v];
  double max = *std::max_element(values.begin(), values.end());
  double sum = 0;
  for (double value : values)
    sum += std::exp(value - max);
  double shift = max + std::log(sum);
  for (double &value : values)
    value -= shift;
  return values;
}

/// The token with the largest logit in row `row` of [rows, 1, V] logits,
/// below `limit`; the smallest such token on a tie. A row's log-softmax
/// subtracts one constant from all its logits, so this is also the most
/// probable token, which is all greedy decoding needs.
int32_t mostLikelyToken(const Tensor &logits, int64_t row, int64_t vocab,
                        int64_t limit) {
  auto argmax = [&](const auto *values) {
    int64_t best = 0;
    for (int64_t v = 1; v < limit; ++v)
      if (values[v] > values[best])
        best = v;
    return static_cast<int32_t>(best);
  };
  return logits.dtype == Dtype::F32
             ? argmax(logits.data<float>() + row * vocab)
             : argmax(logits.data<double>() + row * vocab);
}

double lengthPenalty(size_t length) {
  return std::pow((5.0 + static_cast<double>(length)) / 6.0, 0.6);
}

} // namespace

absl::StatusOr<std::vector<std::vector<int32_t>>>
beamDecode(Model &model, Tensor &source, const DecodeOptions &options,
           int64_t width) {
  width = std::max<int64_t>(1, width);
  int64_t batch = source.shape[0];
  absl::StatusOr<Decoder> decoder = Decoder::create(model, source, width);
  if (!decoder.ok())
    return decoder.status();
  int64_t vocab = decoder->vocabSize();
  int64_t limit =
      options.vocabLimit > 0 ? std::min(options.vocabLimit, vocab) : vocab;
  constexpr double kDead = -std::numeric_limits<double>::infinity();

  struct Hypothesis {
    std::vector<int32_t> tokens;
    double score = kDead;
  };
  // Live hypotheses, `width` per source row; only the first starts alive,
  // so the first step does not pick the same token `width` times.
  std::vector<Hypothesis> live(batch * width);
  for (int64_t b = 0; b < batch; ++b)
    live[b * width].score = 0;
  std::vector<std::vector<Hypothesis>> finished(batch);
  std::vector<int32_t> tokens(batch * width, options.padId);

  for (int64_t position = 0; position < options.maxLength; ++position) {
    bool anyLive = false;
    for (int64_t b = 0; b < batch; ++b)
      anyLive |= static_cast<int64_t>(finished[b].size()) < width &&
                 live[b * width].score != kDead;
    if (!anyLive)
      break;
    absl::StatusOr<Tensor> logits = decoder->step(tokens, position);
    if (!logits.ok())
      return logits.status();

    std::vector<Hypothesis> next(batch * width);
    std::vector<int64_t> parents(batch * width);
    for (int64_t b = 0; b < batch; ++b) {
      if (static_cast<int64_t>(finished[b].size()) >= width) {
        for (int64_t k = 0; k < width; ++k)
          parents[b * width + k] = b * width; // done: the rows stay dead
        continue;
      }
      // Greedy decoding: the most likely token, without the log-softmax
      // (8000 exponentials a row) that only ranks several beams; the score
      // of one hypothesis per row decides nothing.
      if (width == 1) {
        Hypothesis &hypothesis = live[b];
        int32_t token = mostLikelyToken(*logits, b, vocab, limit);
        parents[b] = b;
        if (token == options.eosId) {
          finished[b].push_back({hypothesis.tokens, hypothesis.score});
          continue;
        }
        next[b].tokens = std::move(hypothesis.tokens);
        next[b].tokens.push_back(token);
        next[b].score = hypothesis.score;
        continue;
      }
      // The best `2 width` extensions of this row's live hypotheses: enough
      // to keep `width` alive after some of them finish.
      struct Candidate {
        double score;
        int64_t beam;
        int32_t token;
      };
      std::vector<Candidate> candidates;
      for (int64_t k = 0; k < width; ++k) {
        int64_t row = b * width + k;
        if (live[row].score == kDead)
          continue;
        std::vector<double> logProbs = logSoftmax(*logits, row, vocab, limit);
        for (int64_t v = 0; v < limit; ++v)
          candidates.push_back(
              {live[row].score + logProbs[v], row, static_cast<int32_t>(v)});
      }
      size_t keep = std::min<size_t>(candidates.size(), 2 * width);
      std::partial_sort(candidates.begin(), candidates.begin() + keep,
                        candidates.end(),
                        [](const Candidate &a, const Candidate &c) {
                          return a.score > c.score ||
                                 (a.score == c.score && a.token < c.token);
                        });
      int64_t filled = 0;
      for (size_t i = 0; i < keep && filled < width; ++i) {
        const Candidate &candidate = candidates[i];
        const Hypothesis &parent = live[candidate.beam];
        if (candidate.token == options.eosId) {
          if (static_cast<int64_t>(finished[b].size()) < width)
            finished[b].push_back(
                {parent.tokens,
                 candidate.score / lengthPenalty(parent.tokens.size() + 1)});
          continue;
        }
        int64_t row = b * width + filled++;
        next[row].tokens = parent.tokens;
        next[row].tokens.push_back(candidate.token);
        next[row].score = candidate.score;
        parents[row] = candidate.beam;
      }
      for (int64_t k = filled; k < width; ++k)
        parents[b * width + k] = b * width; // dead rows: any state will do
    }
    live = std::move(next);
    for (size_t row = 0; row < live.size(); ++row)
      tokens[row] =
          live[row].tokens.empty() ? options.padId : live[row].tokens.back();
    decoder->reorder(parents);
  }

  std::vector<std::vector<int32_t>> outputs(batch);
  for (int64_t b = 0; b < batch; ++b) {
    const Hypothesis *best = nullptr;
    for (const Hypothesis &hypothesis : finished[b])
      if (!best || hypothesis.score > best->score)
        best = &hypothesis;
    if (!best) // nothing finished within the limit: the best live one
      for (int64_t k = 0; k < width; ++k)
        if (!best || live[b * width + k].score > best->score)
          best = &live[b * width + k];
    outputs[b] = best->tokens;
  }
  return outputs;
}

} // namespace convseq::runtime
