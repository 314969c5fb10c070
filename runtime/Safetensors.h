//===- Safetensors.h - Checkpoint files -------------------------*- C++ -*-===//
//
// Checkpoints are stored in Hugging Face's safetensors format
// (https://github.com/huggingface/safetensors) so that they can be exchanged
// with PyTorch and JAX: an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw tensor data.
// Writes are atomic; reads validate the file as strictly as the reference
// implementation and report what is wrong instead of trusting the header.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_SAFETENSORS_H
#define CONVSEQ_RUNTIME_SAFETENSORS_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace convseq::runtime {

/// The element types a checkpoint may hold (safetensors names "F32", "F64",
/// "I32" and "I64"); files with other dtypes are rejected when read.
enum class Dtype { F32, F64, I32, I64 };

/// The size in bytes of one element of `dtype`.
size_t dtypeSize(Dtype dtype);

/// The safetensors name of `dtype`, e.g. "F32".
const char *dtypeName(Dtype dtype);

/// A tensor to write: a dense row-major buffer of `shape` at `data`, which
/// is not owned and may be null if the tensor has no elements.
struct TensorView {
  std::string name;
  Dtype dtype;
  std::vector<int64_t> shape;
  const void *data;
};

/// A tensor read from a file: owns its dense row-major bytes (in the
/// little-endian order of the file).
struct StoredTensor {
  std::string name;
  Dtype dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  /// The product of `shape` (1 for a rank-0 tensor).
  int64_t numElements() const;
};

/// The contents of a safetensors file.
struct SafetensorsFile {
  /// The string-to-string "__metadata__" of the header (empty if absent).
  std::map<std::string, std::string> metadata;
  /// The tensors in the order of their data in the file.
  std::vector<StoredTensor> tensors;

  /// The tensor called `name`, or nullptr if there is none.
  const StoredTensor *find(std::string_view name) const;
};

/// Writes `tensors` and `metadata` (omitted from the header if empty) to
/// `path`. Tensors are laid out in the given order and the header is padded
/// with spaces to a multiple of 8 bytes, as the reference implementation
/// does. Writes atomically: to "<path>.tmp", fsync, rename over `path`, then
/// fsync the directory. On a failure before the rename, the old file at
/// `path` is untouched and the temporary file is removed. Names must be
/// unique, valid UTF-8 and not "__metadata__"; dimensions non-negative.
absl::Status
writeSafetensors(const std::string &path,
                 const std::vector<TensorView> &tensors,
                 const std::map<std::string, std::string> &metadata);

/// Reads and validates the safetensors file at `path`. Fails, with a message
/// that starts with `path` and says what is wrong, if the file is missing,
/// truncated, has an invalid header (a JSON error gives its byte offset in
/// the header), a dtype other than F32/F64/I32/I64, duplicate names, or
/// data_offsets that do not match their dtype and shape or do not tile the
/// data exactly (gaps, overlaps and trailing bytes are errors).
absl::StatusOr<SafetensorsFile> readSafetensors(const std::string &path);

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_SAFETENSORS_H
