//===- Allocator.cpp - Heap settings for generated code -------------------===//

#include "runtime/Allocator.h"

#include <malloc.h>

bool convseq::runtime::keepFreedMemory() {
  // No block is mmap'd (M_MMAP_MAX 0; the threshold alone stops at 32 MiB),
  // and -1 turns trimming off: freed pages stay for the next call.
  bool ok = mallopt(M_MMAP_MAX, 0) == 1;
  ok &= mallopt(M_TRIM_THRESHOLD, -1) == 1;
  ok &= mallopt(M_TOP_PAD, 256 << 20) == 1;
  return ok;
}
