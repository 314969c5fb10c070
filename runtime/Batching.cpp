//===- Batching.cpp - Examples as token ids, grouped into batches ---------===//

#include "runtime/Batching.h"

#include "runtime/Random.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <numeric>

namespace convseq::runtime {

namespace {

/// Batches per bucket: examples are sorted by length within groups of this
/// many batches, so the order stays random across groups.
constexpr size_t kBucketBatches = 32;

} // namespace

Batch makeBatch(const std::vector<EncodedExample> &examples,
                const std::vector<size_t> &indices, int32_t padId) {
  size_t sourceLength = 1, targetLength = 1;
  for (size_t index : indices) {
    sourceLength = std::max(sourceLength, examples[index].source.size());
    targetLength = std::max(targetLength, examples[index].target.size());
  }
  int64_t rows = static_cast<int64_t>(indices.size());
  Batch batch;
  batch.examples = indices;
  batch.source = Tensor::zeros(Dtype::I32, {rows, int64_t(sourceLength)});
  batch.target = Tensor::zeros(Dtype::I32, {rows, int64_t(targetLength)});
  auto fill = [&](Tensor &tensor, size_t length, size_t row,
                  const std::vector<int32_t> &ids) {
    int32_t *data = tensor.data<int32_t>() + row * length;
    std::fill(data, data + length, padId);
    std::copy(ids.begin(), ids.end(), data);
    batch.tokens += static_cast<int64_t>(ids.size());
  };
  for (size_t row = 0; row < indices.size(); ++row) {
    fill(batch.source, sourceLength, row, examples[indices[row]].source);
    fill(batch.target, targetLength, row, examples[indices[row]].target);
  }
  return batch;
}

BatchPlan::BatchPlan(const std::vector<int32_t> &sourceLengths,
                     int64_t batchSize, uint64_t seed)
    : lengths(sourceLengths), batchSize(batchSize), seed(seed) {}

int64_t BatchPlan::batchesPerEpoch() const {
  return (static_cast<int64_t>(lengths.size()) + batchSize - 1) / batchSize;
}

void BatchPlan::planEpoch(int64_t epoch) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  Random random(seed, absl::StrCat("data.epoch.", epoch));
  random.shuffle(order);
  size_t bucket = kBucketBatches * batchSize;
  for (size_t begin = 0; begin < order.size(); begin += bucket) {
    auto end = order.begin() + std::min(order.size(), begin + bucket);
    std::stable_sort(order.begin() + begin, end, [&](size_t a, size_t b) {
      return lengths[a] < lengths[b];
    });
  }
  batches.clear();
  for (size_t begin = 0; begin < order.size(); begin += batchSize)
    batches.emplace_back(order.begin() + begin,
                         order.begin() +
                             std::min(order.size(), begin + batchSize));
  random.shuffle(batches);
  plannedEpoch = epoch;
}

const std::vector<size_t> &BatchPlan::batchOfStep(int64_t step) {
  int64_t perEpoch = batchesPerEpoch();
  int64_t epoch = (step - 1) / perEpoch;
  if (epoch != plannedEpoch)
    planEpoch(epoch);
  return batches[(step - 1) % perEpoch];
}

std::vector<std::vector<size_t>>
evaluationBatches(const std::vector<EncodedExample> &examples,
                  int64_t batchSize) {
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return examples[a].source.size() < examples[b].source.size();
  });
  std::vector<std::vector<size_t>> batches;
  for (size_t begin = 0; begin < order.size(); begin += batchSize)
    batches.emplace_back(order.begin() + begin,
                         order.begin() +
                             std::min(order.size(), begin + size_t(batchSize)));
  return batches;
}

} // namespace convseq::runtime
