//===- Checkpoint.cpp - Saving and restoring training state ---------------===//

#include "runtime/Checkpoint.h"

#include "runtime/Safetensors.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cstring>
#include <dirent.h>
#include <unistd.h>

namespace convseq::runtime {

namespace {

constexpr const char *kFormat = "convseq-checkpoint-1";

/// Checks `stored` against `expected` and copies it in, or says why not.
absl::Status checkTensor(const std::string &path, const StoredTensor &stored,
                         const std::string &name, const Tensor &expected) {
  if (stored.dtype != expected.dtype || stored.shape != expected.shape)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": tensor '", name, "' is ", dtypeName(stored.dtype), " ",
        shapeString(stored.shape), " in the checkpoint but the model expects ",
        dtypeName(expected.dtype), " ", shapeString(expected.shape)));
  return absl::OkStatus();
}

} // namespace

absl::Status saveCheckpoint(const std::string &path, const Model &model,
                            const CheckpointInfo &info) {
  std::vector<TensorView> views;
  for (const NamedTensors *group :
       {&model.parameters(), &model.optimizerState()})
    for (const auto &[name, tensor] : *group)
      views.push_back({name, tensor.dtype, tensor.shape, tensor.bytes.data()});
  std::map<std::string, std::string> metadata = info.metadata;
  metadata["format"] = kFormat;
  metadata["model"] = model.name();
  metadata["step"] = absl::StrCat(info.step);
  metadata["tokenizer"] = info.tokenizer;
  metadata["settings"] = model.settings().text();
  metadata["definition"] = model.definition();
  return writeSafetensors(path, views, metadata);
}

absl::StatusOr<CheckpointInfo> loadCheckpoint(const std::string &path,
                                              Model &model, LoadMode mode) {
  absl::StatusOr<SafetensorsFile> file = readSafetensors(path);
  if (!file.ok())
    return file.status();
  auto meta = [&](const std::string &key) -> std::string {
    auto found = file->metadata.find(key);
    return found == file->metadata.end() ? "" : found->second;
  };
  if (meta("format") != kFormat)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a convseq checkpoint (its metadata has no format '",
        kFormat, "')"));
  CheckpointInfo info;
  if (!absl::SimpleAtoi(meta("step"), &info.step) || info.step < 0)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": invalid step '", meta("step"), "'"));
  info.tokenizer = meta("tokenizer");
  info.metadata = file->metadata;

  // Check everything before changing the model.
  std::vector<std::pair<Tensor *, const StoredTensor *>> copies;
  size_t expected = 0;
  auto collect = [&](NamedTensors &group) -> absl::Status {
    for (auto &[name, tensor] : group) {
      const StoredTensor *stored = file->find(name);
      if (!stored)
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": no tensor '", name,
                         "', which the model needs (is this a checkpoint of "
                         "another model? it was written for '",
                         meta("model"), "')"));
      if (absl::Status status = checkTensor(path, *stored, name, tensor);
          !status.ok())
        return status;
      copies.push_back({&tensor, stored});
      ++expected;
    }
    return absl::OkStatus();
  };
  if (absl::Status status = collect(model.parameters()); !status.ok())
    return status;
  if (mode == LoadMode::Resume) {
    if (absl::Status status = collect(model.optimizerState()); !status.ok())
      return status;
    if (file->tensors.size() != expected) {
      for (const StoredTensor &stored : file->tensors) {
        bool known = false;
        for (const NamedTensors *group :
             {&model.parameters(), &model.optimizerState()})
          for (const auto &entry : *group)
            known |= entry.first == stored.name;
        if (!known)
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": tensor '", stored.name,
              "' is not a parameter or optimizer state of this model"));
      }
    }
  }
  for (auto [tensor, stored] : copies)
    tensor->bytes = stored->bytes;
  if (mode == LoadMode::Parameters) {
    model.resetOptimizerState();
    info.step = 0;
  }
  return info;
}

std::string checkpointPath(const std::string &dir, int64_t step) {
  return absl::StrFormat("%s/ckpt-%08d.safetensors", dir, step);
}

std::vector<std::pair<int64_t, std::string>>
listCheckpoints(const std::string &dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  DIR *handle = opendir(dir.c_str());
  if (!handle)
    return found;
  while (dirent *entry = readdir(handle)) {
    std::string_view name = entry->d_name;
    constexpr std::string_view prefix = "ckpt-", suffix = ".safetensors";
    if (name.size() <= prefix.size() + suffix.size() ||
        name.substr(0, prefix.size()) != prefix ||
        name.substr(name.size() - suffix.size()) != suffix)
      continue;
    int64_t step;
    std::string digits(name.substr(prefix.size(), name.size() - prefix.size() -
                                                      suffix.size()));
    if (absl::SimpleAtoi(digits, &step))
      found.emplace_back(step, absl::StrCat(dir, "/", std::string(name)));
  }
  closedir(handle);
  std::sort(found.begin(), found.end());
  return found;
}

absl::Status pruneCheckpoints(const std::string &dir, int keep) {
  std::vector<std::pair<int64_t, std::string>> found = listCheckpoints(dir);
  for (size_t i = 0; i + keep < found.size(); ++i)
    if (unlink(found[i].second.c_str()) != 0)
      return absl::InternalError(absl::StrCat(
          found[i].second, ": cannot remove: ", std::strerror(errno)));
  return absl::OkStatus();
}

} // namespace convseq::runtime
