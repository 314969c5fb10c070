//===- Batching.h - Examples as token ids, grouped into batches -*- C++ -*-===//
//
// Training batches are drawn by step, not by iterator state: the batches of
// epoch e are a pure function of (seed, e), so step s always sees the same
// examples and a resumed run continues bit-exactly. Within an epoch,
// examples of similar source length share a batch (length bucketing), so
// padding stays small with the dynamic batch shapes of the entry points.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_BATCHING_H
#define CONVSEQ_RUNTIME_BATCHING_H

#include "runtime/Model.h"

#include <cstdint>
#include <vector>

namespace convseq::runtime {

/// An example as token ids; both sequences end with EOS.
struct EncodedExample {
  std::vector<int32_t> source;
  std::vector<int32_t> target;
};

/// A padded batch: `source` [B, S] and `target` [B, T] i32.
struct Batch {
  Tensor source;
  Tensor target;
  /// The examples in it, by index.
  std::vector<size_t> examples;
  /// Non-pad tokens, source and target.
  int64_t tokens = 0;
};

/// Pads the examples at `indices` to the longest source and target.
Batch makeBatch(const std::vector<EncodedExample> &examples,
                const std::vector<size_t> &indices, int32_t padId);

/// Draws the batches of each epoch reproducibly.
class BatchPlan {
public:
  /// Plans batches of the examples whose source lengths are
  /// `sourceLengths` (kept by reference).
  BatchPlan(const std::vector<int32_t> &sourceLengths, int64_t batchSize,
            uint64_t seed);

  /// The examples of training step `step` (1 for the first).
  const std::vector<size_t> &batchOfStep(int64_t step);
  int64_t batchesPerEpoch() const;

private:
  void planEpoch(int64_t epoch);

  const std::vector<int32_t> &lengths;
  int64_t batchSize;
  uint64_t seed;
  int64_t plannedEpoch = -1;
  std::vector<std::vector<size_t>> batches;
};

/// The examples in batches of at most `batchSize`, sorted by source length
/// (for evaluation: order does not matter, padding does).
std::vector<std::vector<size_t>>
evaluationBatches(const std::vector<EncodedExample> &examples,
                  int64_t batchSize);

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_BATCHING_H
