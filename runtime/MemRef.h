//===- MemRef.h - Memref descriptors for calling generated code -*- C++ -*-===//
//
// Every tensor slot of a packed entry point `convseq_<entry>(void **args)`
// points to a memref descriptor: { T *allocated, T *aligned, int64_t offset,
// int64_t sizes[R], int64_t strides[R] } (see the generated C header).
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_MEMREF_H
#define CONVSEQ_RUNTIME_MEMREF_H

#include <cstdint>
#include <vector>

namespace convseq::runtime {

/// The words of the descriptor of a dense row-major buffer at `data` with
/// `shape`; a slot of `args` points to the first word.
inline std::vector<int64_t> denseDescriptor(const void *data,
                                            const std::vector<int64_t> &shape) {
  auto pointer = reinterpret_cast<int64_t>(data);
  std::vector<int64_t> words = {pointer, pointer, 0};
  words.insert(words.end(), shape.begin(), shape.end());
  std::vector<int64_t> strides(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  words.insert(words.end(), strides.begin(), strides.end());
  return words;
}

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_MEMREF_H
