//===- Random.h - Reproducible random numbers for the runtime ---*- C++ -*-===//
//
// Parameter initialization and data order must be reproducible from the
// seed on any machine and C++ library, so the runtime does not use the
// standard distributions (their algorithms are unspecified): a splitmix64
// stream per purpose, uniform doubles from its top 53 bits, normals by
// Box-Muller.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_RANDOM_H
#define CONVSEQ_RUNTIME_RANDOM_H

#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace convseq::runtime {

class Random {
public:
  /// The stream for `purpose` (a parameter name, "data", ...) under `seed`.
  Random(uint64_t seed, std::string_view purpose) : state(seed) {
    uint64_t hash = 0xcbf29ce484222325ull; // FNV-1a
    for (char c : purpose)
      hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
    state ^= hash;
    next();
  }

  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  /// Uniform in [0, 1).
  double uniform() { return (next() >> 11) * 0x1.0p-53; }

  /// Uniform in [0, n).
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }

  /// Standard normal (Box-Muller; one value per call).
  double normal() {
    double u = 1.0 - uniform(); // (0, 1]
    double v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
  }

  /// Fisher-Yates.
  template <typename T> void shuffle(std::vector<T> &items) {
    for (size_t i = items.size(); i > 1; --i)
      std::swap(items[i - 1], items[below(i)]);
  }

private:
  uint64_t state;
};

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_RANDOM_H
