//===- MemRefCopy.cpp - The strided copy generated code calls -------------===//
//
// Lowered `memref.copy` between buffers whose layouts are not both known to
// be contiguous calls `memrefCopy`. MLIR's own implementation lives in
// libmlir_c_runner_utils; generated binaries must not depend on an LLVM
// shared library, so the runtime provides this plain strided copy.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstring>

namespace {

/// The ranked descriptor behind an unranked one:
/// { T *allocated, T *aligned, int64_t offset, int64_t sizes[R],
///   int64_t strides[R] }.
struct Descriptor {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t dims[]; // sizes[rank] then strides[rank]
};

struct Unranked {
  int64_t rank;
  Descriptor *descriptor;
};

void copyDim(int64_t elemSize, int64_t rank, int64_t dim, const int64_t *sizes,
             const int64_t *srcStrides, const int64_t *dstStrides,
             const char *src, char *dst) {
  if (dim == rank) {
    std::memcpy(dst, src, elemSize);
    return;
  }
  for (int64_t i = 0; i < sizes[dim]; ++i)
    copyDim(elemSize, rank, dim + 1, sizes, srcStrides, dstStrides,
            src + i * srcStrides[dim] * elemSize,
            dst + i * dstStrides[dim] * elemSize);
}

} // namespace

extern "C" void memrefCopy(int64_t elemSize, Unranked *src, Unranked *dst) {
  int64_t rank = src->rank;
  const Descriptor *s = src->descriptor;
  Descriptor *d = dst->descriptor;
  const int64_t *sizes = s->dims;
  copyDim(elemSize, rank, 0, sizes, s->dims + rank, d->dims + rank,
          s->aligned + s->offset * elemSize, d->aligned + d->offset * elemSize);
}
