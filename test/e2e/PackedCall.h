//===- PackedCall.h - Calling generated entry points in tests ---*- C++ -*-===//
//
// Shared by the end-to-end tests: calls a packed entry point
// `convseq_<entry>(void **args)` from the slot table of its generated header,
// with parameters and inputs by slot name.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_TEST_E2E_PACKEDCALL_H
#define CONVSEQ_TEST_E2E_PACKEDCALL_H

#include "runtime/MemRef.h"
#include "test/reference/Reference.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace convseq::test {

namespace ref = convseq::reference;

/// Inputs of one call, by slot name.
template <typename T> struct Inputs {
  ref::TensorMap<T> floats;
  std::map<std::string, ref::Ids> ids;
  std::map<std::string, int64_t> scalars;
};

/// Calls a packed entry point: builds one memref descriptor per tensor slot
/// over the given data, allocates the outputs with `outputShapes`, and
/// returns the outputs by name. Slots the header marks `updated` (the
/// parameters and optimizer state of train_step) are written in place, into
/// the tensors of `params` and `inputs`.
template <typename T> class PackedCall {
public:
  PackedCall(const convseq_arg_info *info, size_t count)
      : info(info), count(count) {}

  ref::TensorMap<T>
  run(void (*entry)(void **), const ref::TensorMap<T> &params,
      const Inputs<T> &inputs,
      const std::map<std::string, std::vector<int64_t>> &outputShapes) {
    ref::TensorMap<T> outputs;
    std::vector<std::vector<int32_t>> ids;
    std::vector<int64_t> scalars;
    ids.reserve(count);
    scalars.reserve(count);
    descriptors.clear();
    descriptors.reserve(count);
    std::vector<void *> args;
    for (size_t i = 0; i < count; ++i) {
      const convseq_arg_info &slot = info[i];
      std::string name = slot.name;
      if (slot.rank < 0) {
        scalars.push_back(inputs.scalars.at(name));
        args.push_back(&scalars.back());
        continue;
      }
      if (slot.role == CONVSEQ_OUTPUT) {
        auto shape = outputShapes.find(name);
        EXPECT_NE(shape, outputShapes.end()) << "no shape for output " << name;
        ref::Tensor<T> &out = outputs[name] = ref::Tensor<T>(shape->second);
        args.push_back(describe(slot, out.data.data(), out.shape));
        continue;
      }
      if (slot.dtype == CONVSEQ_I32) {
        const ref::Ids &source = inputs.ids.at(name);
        ids.emplace_back(source.data.begin(), source.data.end());
        args.push_back(describe(slot, ids.back().data(), source.shape));
        continue;
      }
      const ref::Tensor<T> &tensor =
          slot.role == CONVSEQ_PARAM ? params.at(name) : inputs.floats.at(name);
      args.push_back(
          describe(slot, const_cast<T *>(tensor.data.data()), tensor.shape));
    }
    entry(args.data());
    return outputs;
  }

private:
  /// The descriptor of `data` for `slot`, after checking the shape against
  /// the slot's static sizes.
  void *describe(const convseq_arg_info &slot, void *data,
                 const std::vector<int64_t> &shape) {
    EXPECT_EQ(static_cast<int64_t>(shape.size()), slot.rank) << slot.name;
    for (int d = 0; d < slot.rank; ++d)
      if (slot.shape[d] >= 0)
        EXPECT_EQ(shape[d], slot.shape[d]) << slot.name << " dim " << d;
    descriptors.push_back(convseq::runtime::denseDescriptor(data, shape));
    return descriptors.back().data();
  }

  const convseq_arg_info *info;
  size_t count;
  std::vector<std::vector<int64_t>> descriptors;
};

} // namespace convseq::test

#endif // CONVSEQ_TEST_E2E_PACKEDCALL_H
