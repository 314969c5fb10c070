//===- matmul_cpu.cpp - Generated matmul against OpenBLAS sgemm -----------===//
//
// Times the matmuls convseqc generates from bench/matmul.mlir and OpenBLAS's
// cblas_sgemm on the same inputs in the same run, checks that they agree,
// and prints one JSON line per shape (best of several alternating runs): the
// squares 512..4096 and the model's own linear-layer shapes (tokens x d_model
// by d_model x d_ff, ...).
//
//   matmul_cpu [M N K ...]      (default: the shapes above; N must be one
//                                of the widths bench/matmul.mlir compiles)
//
//===----------------------------------------------------------------------===//

#include "matmul.h"

#include "runtime/MemRef.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

template <typename F> double seconds(F &&run) {
  auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

using Entry = void (*)(void **);

/// The generated function for output width `n`, or null.
Entry entryFor(int64_t n) {
  switch (n) {
  case 256:
    return convseq_matmul_n256;
  case 512:
    return convseq_matmul_n512;
  case 1024:
    return convseq_matmul_n1024;
  case 2048:
    return convseq_matmul_n2048;
  case 4096:
    return convseq_matmul_n4096;
  case 8000:
    return convseq_matmul_n8000;
  default:
    return nullptr;
  }
}

void benchShape(Entry entry, int64_t m, int64_t n, int64_t k) {
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> a(m * k), b(k * n), c(m * n), reference(m * n);
  for (float &x : a)
    x = uniform(rng);
  for (float &x : b)
    x = uniform(rng);
  std::vector<int64_t> aDesc =
      convseq::runtime::denseDescriptor(a.data(), {m, k});
  std::vector<int64_t> bDesc =
      convseq::runtime::denseDescriptor(b.data(), {k, n});
  std::vector<int64_t> cDesc =
      convseq::runtime::denseDescriptor(c.data(), {m, n});
  void *args[] = {aDesc.data(), bDesc.data(), cDesc.data()};

  double flops = 2.0 * m * n * k;
  int repeats = std::clamp(int(2e10 / flops), 3, 20);
  // This machine is a VM whose neighbours take cycles now and then: the
  // two run alternately, after one warm-up each, and each keeps its best.
  auto runGenerated = [&] { entry(args); };
  auto runBlas = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
                a.data(), k, b.data(), n, 0.0f, reference.data(), n);
  };
  runGenerated();
  runBlas();
  double generated = 1e30, blas = 1e30;
  for (int r = 0; r < repeats; ++r) {
    generated = std::min(generated, seconds(runGenerated));
    blas = std::min(blas, seconds(runBlas));
  }
  double maxError = 0;
  for (int64_t i = 0; i < m * n; ++i)
    maxError = std::max(maxError, double(std::fabs(c[i] - reference[i])));
  std::printf("{\"M\": %lld, \"N\": %lld, \"K\": %lld, "
              "\"generated_gflops\": %.1f, \"openblas_gflops\": %.1f, "
              "\"ratio\": %.3f, \"max_abs_diff\": %.2e}\n",
              (long long)m, (long long)n, (long long)k, flops / generated / 1e9,
              flops / blas / 1e9, blas / generated, maxError);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int64_t> shapes;
  for (int i = 1; i < argc; ++i)
    shapes.push_back(std::atoll(argv[i]));
  if (shapes.empty())
    shapes = {512,  512,  512,  1024, 1024, 1024, 2048, 2048, 2048,
              4096, 4096, 4096, 8192, 256,  256,  8192, 512,  256,
              8192, 1024, 256,  8192, 256,  1024, 2048, 8000, 256};
  if (shapes.size() % 3 != 0) {
    std::fprintf(stderr, "matmul_cpu: give sizes as M N K triples\n");
    return 1;
  }
  for (size_t i = 0; i < shapes.size(); i += 3) {
    Entry entry = entryFor(shapes[i + 1]);
    if (!entry) {
      std::fprintf(stderr, "matmul_cpu: no generated matmul for N = %lld\n",
                   (long long)shapes[i + 1]);
      return 1;
    }
    benchShape(entry, shapes[i], shapes[i + 1], shapes[i + 2]);
  }
  return 0;
}
