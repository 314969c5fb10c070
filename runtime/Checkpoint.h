//===- Checkpoint.h - Saving and restoring training state -------*- C++ -*-===//
//
// A checkpoint is one safetensors file (runtime/Safetensors.h) holding the
// parameters under their front-end names, the optimizer state (`opt.*`)
// alongside, and in its metadata the step, the model's name, resolved
// settings and definition, and the tokenizer it was trained with. Files are
// written atomically and named by step, so a crash or a signal at any moment
// leaves the previous checkpoint intact.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_CHECKPOINT_H
#define CONVSEQ_RUNTIME_CHECKPOINT_H

#include "runtime/Model.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace convseq::runtime {

/// What a checkpoint says besides its tensors.
struct CheckpointInfo {
  int64_t step = 0;
  /// The tokenizer model file the run used.
  std::string tokenizer;
  std::map<std::string, std::string> metadata;
};

/// Writes `model`'s parameters and optimizer state to `path`.
absl::Status saveCheckpoint(const std::string &path, const Model &model,
                            const CheckpointInfo &info);

enum class LoadMode {
  /// Parameters and optimizer state, which must match the model exactly:
  /// continuing a run.
  Resume,
  /// Parameters only, which must all be there with the model's shapes; the
  /// optimizer state starts from zero: fine-tuning from pre-trained weights.
  Parameters,
};

/// Loads the checkpoint at `path` into `model`. A file that is not a
/// safetensors checkpoint, or whose tensors do not match the model (names,
/// shapes, dtypes), is an error naming the file and the tensor; `model` is
/// unchanged then.
absl::StatusOr<CheckpointInfo> loadCheckpoint(const std::string &path,
                                              Model &model, LoadMode mode);

/// `dir`/ckpt-<step, 8 digits>.safetensors.
std::string checkpointPath(const std::string &dir, int64_t step);

/// The checkpoints in `dir` by increasing step.
std::vector<std::pair<int64_t, std::string>>
listCheckpoints(const std::string &dir);

/// Removes all but the `keep` most recent checkpoints of `dir`.
absl::Status pruneCheckpoints(const std::string &dir, int keep);

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_CHECKPOINT_H
