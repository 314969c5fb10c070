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

/// Copies dimensions `dim`.. of `sizes`; from `inner` on, each index of
/// dimension `inner - 1` addresses one contiguous block of `block` bytes in
/// both buffers.
void copyDim(int64_t elemSize, int64_t inner, int64_t block, int64_t dim,
             const int64_t *sizes, const int64_t *srcStrides,
             const int64_t *dstStrides, const char *src, char *dst) {
  if (dim == inner) {
    std::memcpy(dst, src, block);
    return;
  }
  for (int64_t i = 0; i < sizes[dim]; ++i)
    copyDim(elemSize, inner, block, dim + 1, sizes, srcStrides, dstStrides,
            src + i * srcStrides[dim] * elemSize,
            dst + i * dstStrides[dim] * elemSize);
}

} // namespace

extern "C" void memrefCopy(int64_t elemSize, Unranked *src, Unranked *dst) {
  int64_t rank = src->rank;
  const Descriptor *s = src->descriptor;
  Descriptor *d = dst->descriptor;
  const int64_t *sizes = s->dims;
  const int64_t *srcStrides = s->dims + rank, *dstStrides = d->dims + rank;
  for (int64_t dim = 0; dim < rank; ++dim)
    if (sizes[dim] == 0)
      return;
  // The trailing dimensions that are dense in both buffers are copied as
  // one block (a dimension of size 1 is dense whatever its stride).
  int64_t inner = rank, block = elemSize;
  while (inner > 0) {
    int64_t dim = inner - 1;
    if (sizes[dim] != 1 && (srcStrides[dim] * elemSize != block ||
                            dstStrides[dim] * elemSize != block))
      break;
    block *= sizes[dim];
    inner = dim;
  }
  copyDim(elemSize, inner, block, 0, sizes, srcStrides, dstStrides,
          s->aligned + s->offset * elemSize, d->aligned + d->offset * elemSize);
}
