//===- MemRefCopyTest.cpp - The runtime's strided memref copy -------------===//

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

extern "C" void memrefCopy(int64_t elemSize, void *src, void *dst);

namespace {

/// A rank-2 f32 view for memrefCopy: { rank, descriptor }.
struct View {
  View(float *data, int64_t offset, std::vector<int64_t> sizes,
       std::vector<int64_t> strides) {
    words = {reinterpret_cast<int64_t>(data), reinterpret_cast<int64_t>(data),
             offset};
    words.insert(words.end(), sizes.begin(), sizes.end());
    words.insert(words.end(), strides.begin(), strides.end());
    unranked = {static_cast<int64_t>(sizes.size()),
                reinterpret_cast<int64_t>(words.data())};
  }
  std::vector<int64_t> words;
  struct {
    int64_t rank;
    int64_t descriptor;
  } unranked;
};

std::vector<float> iota(size_t n) {
  std::vector<float> values(n);
  std::iota(values.begin(), values.end(), 1.0f);
  return values;
}

TEST(MemRefCopy, Contiguous) {
  std::vector<float> src = iota(12), dst(12, 0);
  View s(src.data(), 0, {3, 4}, {4, 1}), d(dst.data(), 0, {3, 4}, {4, 1});
  memrefCopy(sizeof(float), &s.unranked, &d.unranked);
  EXPECT_EQ(dst, src);
}

TEST(MemRefCopy, SubviewIntoDenseRowsCopiesRowByRow) {
  // Columns 1..2 of a 3x4 buffer, at offset 1, into a dense 3x2 one.
  std::vector<float> src = iota(12), dst(6, 0);
  View s(src.data(), 1, {3, 2}, {4, 1}), d(dst.data(), 0, {3, 2}, {2, 1});
  memrefCopy(sizeof(float), &s.unranked, &d.unranked);
  EXPECT_EQ(dst, (std::vector<float>{2, 3, 6, 7, 10, 11}));
}

TEST(MemRefCopy, TransposedElementByElement) {
  std::vector<float> src = iota(6), dst(6, 0);
  // src viewed as its 3x2 transpose.
  View s(src.data(), 0, {3, 2}, {1, 3}), d(dst.data(), 0, {3, 2}, {2, 1});
  memrefCopy(sizeof(float), &s.unranked, &d.unranked);
  EXPECT_EQ(dst, (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(MemRefCopy, UnitDimensionsWithAnyStrideAndEmptyViews) {
  std::vector<float> src = iota(4), dst(4, 0);
  View s(src.data(), 0, {1, 4}, {99, 1}), d(dst.data(), 0, {1, 4}, {7, 1});
  memrefCopy(sizeof(float), &s.unranked, &d.unranked);
  EXPECT_EQ(dst, src);
  std::vector<float> untouched(4, -1);
  View e(src.data(), 0, {0, 4}, {4, 1}), f(untouched.data(), 0, {0, 4}, {4, 1});
  memrefCopy(sizeof(float), &e.unranked, &f.unranked);
  EXPECT_EQ(untouched, std::vector<float>(4, -1));
}

} // namespace
