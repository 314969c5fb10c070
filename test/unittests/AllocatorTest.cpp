//===- AllocatorTest.cpp - Heap settings for generated code ---------------===//

#include "runtime/Allocator.h"

#include <cstdlib>
#include <cstring>
#include <malloc.h>

#include "gtest/gtest.h"

namespace {

// An activation-sized temporary (80 MiB, more than glibc's largest mmap
// threshold, as the logits of a batch are) comes from the heap, not from a
// fresh mmap, and a second one reuses the first one's pages.
TEST(Allocator, KeepsActivationSizedBlocksInTheHeap) {
  ASSERT_TRUE(convseq::runtime::keepFreedMemory());
  constexpr size_t kBytes = 80 << 20;
  size_t mappedBefore = mallinfo2().hblkhd;
  void *first = std::malloc(kBytes);
  ASSERT_NE(first, nullptr);
  std::memset(first, 1, kBytes);
  EXPECT_EQ(mallinfo2().hblkhd, mappedBefore);
  std::free(first);
  void *second = std::malloc(kBytes);
  EXPECT_EQ(second, first);
  std::free(second);
}

} // namespace
