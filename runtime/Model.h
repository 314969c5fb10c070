//===- Model.h - A compiled model and its buffers ---------------*- C++ -*-===//
//
// The runtime's view of what convseqc compiled: the settings it embedded,
// the entry points with their slot tables, and the buffers every entry point
// shares (the parameters, and the optimizer state of train_step). Calls go
// through the slot tables only, so the runtime never assumes an argument
// order the compiler did not write down.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_MODEL_H
#define CONVSEQ_RUNTIME_MODEL_H

#include "runtime/Runtime.h"
#include "runtime/Safetensors.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace convseq::runtime {

/// A dense row-major buffer.
struct Tensor {
  Dtype dtype = Dtype::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  /// A zero-filled tensor.
  static Tensor zeros(Dtype dtype, std::vector<int64_t> shape);
  int64_t numElements() const;
  template <typename T> T *data() {
    return reinterpret_cast<T *>(bytes.data());
  }
  template <typename T> const T *data() const {
    return reinterpret_cast<const T *>(bytes.data());
  }
};

/// "[2, 3]".
std::string shapeString(const std::vector<int64_t> &shape);

/// The `key=value` settings convseqc embeds (lib/Frontend/RuntimeSettings.h),
/// in their order.
class Settings {
public:
  static absl::StatusOr<Settings> parse(std::string_view text);

  /// The value of `key`; an error names the key if it is missing or not a
  /// number.
  absl::StatusOr<std::string> getString(std::string_view key) const;
  absl::StatusOr<int64_t> getInt(std::string_view key) const;
  absl::StatusOr<double> getDouble(std::string_view key) const;
  /// The entries whose key starts with `prefix`, with the prefix removed.
  std::vector<std::pair<std::string, std::string>>
  withPrefix(std::string_view prefix) const;
  const std::string &text() const { return source; }

private:
  std::vector<std::pair<std::string, std::string>> entries;
  std::string source;
};

/// The tensors and scalars of one call, by slot name. Outputs are allocated
/// by the call with the shapes in `outputShapes` (checked against the
/// slots' static sizes like every other tensor).
struct CallArgs {
  std::map<std::string, Tensor *, std::less<>> tensors;
  std::map<std::string, int64_t, std::less<>> scalars;
  std::map<std::string, std::vector<int64_t>, std::less<>> outputShapes;
};

/// One compiled entry point.
class EntryPoint {
public:
  /// `onDevice`: the entry point was compiled for an NVIDIA GPU (setting
  /// `target=cuda`) and takes device buffers.
  explicit EntryPoint(const convseq_entry_point &entry, bool onDevice = false)
      : entry(entry), onDevice(onDevice) {}

  std::string_view name() const { return entry.name; }
  bool runsOnDevice() const { return onDevice; }
  const convseq_arg_info *slot(std::string_view name) const;
  std::vector<const convseq_arg_info *> slots(convseq_role role) const;

  /// Calls the entry point with `args`; returns its outputs by name. Every
  /// tensor is checked against its slot (dtype, rank, static sizes) first.
  /// On the GPU, the call fails if there is no device (runtime/Cuda.h);
  /// otherwise every tensor is copied to a device buffer for the call, and
  /// the outputs and the tensors the entry point updates in place are
  /// copied back.
  absl::StatusOr<std::map<std::string, Tensor, std::less<>>>
  call(const CallArgs &args) const;

private:
  convseq_entry_point entry;
  bool onDevice;
};

/// Named tensors in a fixed order (parameter order, then state order).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// A compiled model with its parameters and optimizer state.
class Model {
public:
  /// Reads the settings and slot tables of `model`; parameters are zeros
  /// until initialize() or a checkpoint sets them.
  static absl::StatusOr<Model> create(const convseq_model &model);

  const std::string &name() const { return modelName; }
  const Settings &settings() const { return modelSettings; }
  const std::string &definition() const { return modelDefinition; }
  /// The entry point `name`, or null if it was not compiled.
  const EntryPoint *entry(std::string_view name) const;
  /// As entry(), with an error saying how to compile it if it is missing.
  absl::StatusOr<const EntryPoint *> requireEntry(std::string_view name) const;
  std::vector<std::string> entryNames() const;

  NamedTensors &parameters() { return params; }
  const NamedTensors &parameters() const { return params; }
  /// train_step's optimizer state (`opt.*`), zeros at first.
  NamedTensors &optimizerState() { return state; }
  const NamedTensors &optimizerState() const { return state; }
  int64_t numParameterElements() const;

  /// Draws every parameter from the spec's initialization (section 8,
  /// docs/runtime.md), reproducibly from `seed`, and zeros the state.
  void initialize(uint64_t seed);
  /// Zeros the optimizer state.
  void resetOptimizerState();

  /// Adds the parameters (and the state, if `withState`) to `args`.
  void bindParameters(CallArgs &args, bool withState);

private:
  std::string modelName;
  std::string modelDefinition;
  Settings modelSettings;
  std::vector<EntryPoint> entries;
  NamedTensors params;
  NamedTensors state;
};

/// The runtime dtype of a slot's element type, or an error for types the
/// runtime does not allocate.
absl::StatusOr<Dtype> slotDtype(const convseq_arg_info &slot);

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_MODEL_H
