//===- Allocator.cpp - Heap settings for generated code -------------------===//

#include "runtime/Allocator.h"

#include <malloc.h>

bool convseq::runtime::keepFreedMemory() {
  constexpr int kMaxMmapThreshold = 32 << 20; // glibc's upper bound, 64-bit
  bool ok = mallopt(M_MMAP_THRESHOLD, kMaxMmapThreshold) == 1;
  ok &= mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  ok &= mallopt(M_TOP_PAD, 256 << 20) == 1;
  return ok;
}
