//===- Model.cpp - A compiled model: settings, entry points, parameters ---===//

#include "runtime/Model.h"

#include "runtime/Cuda.h"
#include "runtime/MemRef.h"
#include "runtime/Random.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include <cmath>
#include <cstring>

namespace convseq::runtime {

Tensor Tensor::zeros(Dtype dtype, std::vector<int64_t> shape) {
  Tensor tensor;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.bytes.assign(tensor.numElements() * dtypeSize(dtype), 0);
  return tensor;
}

int64_t Tensor::numElements() const {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

//===----------------------------------------------------------------------===//
// Settings
//===----------------------------------------------------------------------===//

absl::StatusOr<Settings> Settings::parse(std::string_view text) {
  Settings settings;
  settings.source = std::string(text);
  int line = 0;
  for (absl::string_view entry :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n',
                      absl::SkipEmpty())) {
    ++line;
    size_t equals = entry.find('=');
    if (equals == absl::string_view::npos)
      return absl::InternalError(absl::StrCat("embedded settings, line ", line,
                                              ": no '=' in '", entry, "'"));
    settings.entries.emplace_back(std::string(entry.substr(0, equals)),
                                  std::string(entry.substr(equals + 1)));
  }
  return settings;
}

absl::StatusOr<std::string> Settings::getString(std::string_view key) const {
  for (const auto &[name, value] : entries)
    if (name == key)
      return value;
  return absl::NotFoundError(
      absl::StrCat("the model's settings have no '", std::string(key),
                   "'; recompile it with this version of convseqc"));
}

absl::StatusOr<int64_t> Settings::getInt(std::string_view key) const {
  absl::StatusOr<std::string> text = getString(key);
  if (!text.ok())
    return text.status();
  int64_t value;
  if (!absl::SimpleAtoi(*text, &value))
    return absl::InternalError(absl::StrCat(
        "setting '", std::string(key), "' = '", *text, "' is not an integer"));
  return value;
}

absl::StatusOr<double> Settings::getDouble(std::string_view key) const {
  absl::StatusOr<std::string> text = getString(key);
  if (!text.ok())
    return text.status();
  double value;
  if (!absl::SimpleAtod(*text, &value))
    return absl::InternalError(absl::StrCat(
        "setting '", std::string(key), "' = '", *text, "' is not a number"));
  return value;
}

std::vector<std::pair<std::string, std::string>>
Settings::withPrefix(std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> result;
  for (const auto &[name, value] : entries)
    if (std::string_view(name).substr(0, prefix.size()) == prefix)
      result.emplace_back(name.substr(prefix.size()), value);
  return result;
}

//===----------------------------------------------------------------------===//
// EntryPoint
//===----------------------------------------------------------------------===//

absl::StatusOr<Dtype> slotDtype(const convseq_arg_info &slot) {
  switch (slot.dtype) {
  case CONVSEQ_F32:
    return Dtype::F32;
  case CONVSEQ_F64:
    return Dtype::F64;
  case CONVSEQ_I32:
    return Dtype::I32;
  case CONVSEQ_I64:
  case CONVSEQ_INDEX:
    return Dtype::I64;
  default:
    return absl::UnimplementedError(
        absl::StrCat("slot '", slot.name,
                     "' has an element type the runtime "
                     "does not support"));
  }
}

namespace {

/// The device buffers of one call, freed when it returns.
class DeviceBuffers {
public:
  DeviceBuffers() = default;
  DeviceBuffers(const DeviceBuffers &) = delete;
  DeviceBuffers &operator=(const DeviceBuffers &) = delete;
  ~DeviceBuffers() {
    for (void *buffer : buffers)
      cuda::release(buffer);
  }

  /// A new device buffer holding a copy of `tensor`'s bytes (at least one
  /// byte, so that an empty tensor has an address too).
  absl::StatusOr<void *> copyOf(const Tensor &tensor) {
    absl::StatusOr<void *> buffer = cuda::allocate(tensor.bytes.size());
    if (!buffer.ok())
      return buffer.status();
    buffers.push_back(*buffer);
    if (absl::Status status = cuda::copyToDevice(*buffer, tensor.bytes.data(),
                                                 tensor.bytes.size());
        !status.ok())
      return status;
    return *buffer;
  }

private:
  std::vector<void *> buffers;
};

} // namespace

const convseq_arg_info *EntryPoint::slot(std::string_view name) const {
  for (int i = 0; i < entry.num_args; ++i)
    if (name == entry.args[i].name)
      return &entry.args[i];
  return nullptr;
}

std::vector<const convseq_arg_info *>
EntryPoint::slots(convseq_role role) const {
  std::vector<const convseq_arg_info *> result;
  for (int i = 0; i < entry.num_args; ++i)
    if (entry.args[i].role == role)
      result.push_back(&entry.args[i]);
  return result;
}

absl::StatusOr<std::map<std::string, Tensor, std::less<>>>
EntryPoint::call(const CallArgs &args) const {
  if (onDevice) {
    absl::Status ready = cuda::available();
    if (ready.ok())
      ready = cuda::kernelsLoaded();
    if (!ready.ok())
      return absl::FailedPreconditionError(ready.message());
  }
  std::map<std::string, Tensor, std::less<>> outputs;
  std::vector<std::vector<int64_t>> descriptors;
  std::vector<int64_t> scalars;
  descriptors.reserve(entry.num_args);
  scalars.reserve(entry.num_args);
  std::vector<void *> pointers;
  // The tensor behind each descriptor.
  std::vector<std::pair<const convseq_arg_info *, Tensor *>> tensors;
  auto fail = [&](const convseq_arg_info &slot, const std::string &problem) {
    return absl::InternalError(absl::StrCat(
        "calling ", entry.name, ": argument '", slot.name, "' ", problem));
  };

  for (int i = 0; i < entry.num_args; ++i) {
    const convseq_arg_info &slot = entry.args[i];
    if (slot.rank < 0) {
      auto scalar = args.scalars.find(slot.name);
      if (scalar == args.scalars.end())
        return fail(slot, "is missing");
      scalars.push_back(scalar->second);
      pointers.push_back(&scalars.back());
      continue;
    }
    absl::StatusOr<Dtype> dtype = slotDtype(slot);
    if (!dtype.ok())
      return dtype.status();
    Tensor *tensor;
    if (slot.role == CONVSEQ_OUTPUT) {
      auto shape = args.outputShapes.find(slot.name);
      if (shape == args.outputShapes.end())
        return fail(slot, "needs its shape");
      tensor = &(outputs[slot.name] = Tensor::zeros(*dtype, shape->second));
    } else {
      auto found = args.tensors.find(slot.name);
      if (found == args.tensors.end())
        return fail(slot, "is missing");
      tensor = found->second;
    }
    if (tensor->dtype != *dtype)
      return fail(slot, absl::StrCat("has dtype ", dtypeName(tensor->dtype),
                                     ", expected ", dtypeName(*dtype)));
    bool matches = static_cast<int>(tensor->shape.size()) == slot.rank;
    for (int d = 0; matches && d < slot.rank; ++d)
      matches = slot.shape[d] < 0 || slot.shape[d] == tensor->shape[d];
    if (!matches)
      return fail(slot, absl::StrCat("has shape ", shapeString(tensor->shape),
                                     ", expected ",
                                     shapeString(std::vector<int64_t>(
                                         slot.shape, slot.shape + slot.rank)),
                                     " (-1: any size)"));
    descriptors.push_back(denseDescriptor(tensor->bytes.data(), tensor->shape));
    pointers.push_back(descriptors.back().data());
    tensors.emplace_back(&slot, tensor);
  }
  if (!onDevice) {
    entry.function(pointers.data());
    return outputs;
  }

  // On the GPU: a device copy of every tensor (the outputs' zeros too),
  // with the descriptors pointing to it. The synchronizations order the
  // copies with the streams of the generated code.
  auto failOnDevice = [&](const convseq_arg_info *slot,
                          const absl::Status &status) {
    std::string where = slot ? absl::StrCat(": argument '", slot->name, "'")
                             : std::string(" on the GPU");
    return absl::Status(
        status.code(),
        absl::StrCat("calling ", entry.name, where, ": ", status.message()));
  };
  DeviceBuffers buffers;
  std::vector<void *> onGPU;
  for (size_t i = 0; i < tensors.size(); ++i) {
    absl::StatusOr<void *> buffer = buffers.copyOf(*tensors[i].second);
    if (!buffer.ok())
      return failOnDevice(tensors[i].first, buffer.status());
    descriptors[i][0] = descriptors[i][1] = reinterpret_cast<int64_t>(*buffer);
    onGPU.push_back(*buffer);
  }
  if (absl::Status status = cuda::synchronize(); !status.ok())
    return failOnDevice(nullptr, status);
  entry.function(pointers.data());
  if (absl::Status status = cuda::synchronize(); !status.ok())
    return failOnDevice(nullptr, status);
  // Back: the outputs, and the parameters and state updated in place.
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto [slot, tensor] = tensors[i];
    if (slot->role != CONVSEQ_OUTPUT && !slot->updated)
      continue;
    if (absl::Status status = cuda::copyToHost(tensor->bytes.data(), onGPU[i],
                                               tensor->bytes.size());
        !status.ok())
      return failOnDevice(slot, status);
  }
  return outputs;
}

//===----------------------------------------------------------------------===//
// Model
//===----------------------------------------------------------------------===//

absl::StatusOr<Model> Model::create(const convseq_model &compiled) {
  Model model;
  model.modelName = compiled.name;
  model.modelDefinition = compiled.definition;
  absl::StatusOr<Settings> settings = Settings::parse(compiled.settings);
  if (!settings.ok())
    return settings.status();
  model.modelSettings = *std::move(settings);
  // Where the entry points run: the host (no `target`: older convseqc), or
  // an NVIDIA GPU (convseqc --target=cuda).
  bool onDevice = false;
  if (absl::StatusOr<std::string> target =
          model.modelSettings.getString("target");
      target.ok()) {
    if (*target != "cpu" && *target != "cuda")
      return absl::InternalError(absl::StrCat(
          "setting 'target' = '", *target,
          "' is neither cpu nor cuda; this runtime is older than the "
          "convseqc that compiled the model"));
    onDevice = *target == "cuda";
  }
  for (int i = 0; i < compiled.num_entries; ++i)
    model.entries.emplace_back(compiled.entries[i], onDevice);
  if (model.entries.empty())
    return absl::InternalError("the executable has no entry points");

  // A zero buffer for a slot of static shape.
  auto add = [](NamedTensors &group,
                const convseq_arg_info &slot) -> absl::Status {
    absl::StatusOr<Dtype> dtype = slotDtype(slot);
    if (!dtype.ok())
      return dtype.status();
    group.emplace_back(
        slot.name,
        Tensor::zeros(
            *dtype, std::vector<int64_t>(slot.shape, slot.shape + slot.rank)));
    return absl::OkStatus();
  };
  // Every entry point takes the same parameters first.
  for (const convseq_arg_info *slot :
       model.entries.front().slots(CONVSEQ_PARAM))
    if (absl::Status status = add(model.params, *slot); !status.ok())
      return status;
  // The optimizer state: train_step's, or train_apply's (the same names)
  // in an executable built for gradient accumulation alone.
  const EntryPoint *update = model.entry("train_step");
  if (!update)
    update = model.entry("train_apply");
  if (update)
    for (const convseq_arg_info *slot : update->slots(CONVSEQ_INPUT))
      if (slot->updated)
        if (absl::Status status = add(model.state, *slot); !status.ok())
          return status;
  return model;
}

const EntryPoint *Model::entry(std::string_view name) const {
  for (const EntryPoint &entryPoint : entries)
    if (entryPoint.name() == name)
      return &entryPoint;
  return nullptr;
}

absl::StatusOr<const EntryPoint *>
Model::requireEntry(std::string_view name) const {
  if (const EntryPoint *found = entry(name))
    return found;
  return absl::FailedPreconditionError(absl::StrCat(
      "this executable was compiled without the entry point '",
      std::string(name),
      "'; compile the model without --entry-points, or include it"));
}

std::vector<std::string> Model::entryNames() const {
  std::vector<std::string> names;
  for (const EntryPoint &entryPoint : entries)
    names.emplace_back(entryPoint.name());
  return names;
}

int64_t Model::numParameterElements() const {
  int64_t count = 0;
  for (const auto &[name, tensor] : params)
    count += tensor.numElements();
  return count;
}

void Model::initialize(uint64_t seed) {
  absl::StatusOr<std::string> variant = modelSettings.getString("conv.variant");
  bool softmaxConv =
      variant.ok() && (*variant == "lightweight" || *variant == "dilated");
  for (auto &[name, tensor] : params) {
    std::string_view key = name;
    double scale;
    if (tensor.shape.size() == 1)
      scale = 0; // RMSNorm gains start at 1.
    else if (key == "embedding")
      scale = 1;
    else if (softmaxConv && key.size() >= 6 &&
             key.substr(key.size() - 6) == "w_conv")
      scale = 1 / std::sqrt(double(tensor.shape[1]));
    else
      scale = 1 / std::sqrt(double(tensor.shape[0]));
    Random random(seed, name);
    for (int64_t i = 0, e = tensor.numElements(); i < e; ++i) {
      double value = scale == 0 ? 1.0 : scale * random.normal();
      if (tensor.dtype == Dtype::F32)
        tensor.data<float>()[i] = static_cast<float>(value);
      else
        tensor.data<double>()[i] = value;
    }
  }
  resetOptimizerState();
}

void Model::resetOptimizerState() {
  for (auto &[name, tensor] : state)
    std::fill(tensor.bytes.begin(), tensor.bytes.end(), 0);
}

void Model::bindParameters(CallArgs &args, bool withState) {
  for (auto &[name, tensor] : params)
    args.tensors[name] = &tensor;
  if (withState)
    for (auto &[name, tensor] : state)
      args.tensors[name] = &tensor;
}

} // namespace convseq::runtime
