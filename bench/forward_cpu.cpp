//===- forward_cpu.cpp - Time the generated forward pass ------------------===//
//
// Built once per model (CONVSEQ_MODEL_HEADER / CONVSEQ_MODEL_YAML, as the
// end-to-end tests are): runs the compiled `forward` entry point (or
// `encoder`, or `train`: train_step, forward, backward and the optimizer
// update in place) on random parameters and tokens at the given B, S, T
// and prints one JSON line with the median time, the model GFLOP/s and the
// peak resident memory of the process. GFLOP count matmul-like work only
// (linear layers, logits, attention scores and values, conv taps), as the
// performance targets of issue 4 do; a training step counts three times
// the forward pass (issue 5).
//
// `decode` times greedy decoding as `predict` runs it (runtime/Decode.h):
// the encoder, decoder_init and T decoder steps at batch B, with EOS never
// chosen so that every row decodes T tokens; it reports the whole decode,
// the encoder, decoder_init and the mean decoder step.
//
//   forward_cpu.<model> [B S T [repeats [forward|encoder|train|decode]]]
//
//===----------------------------------------------------------------------===//

#include CONVSEQ_MODEL_HEADER

#include "lib/Frontend/ModelConfig.h"
#include "runtime/Allocator.h"
#include "runtime/Decode.h"
#include "runtime/MemRef.h"

#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sys/resource.h>
#include <string>
#include <vector>

using mlir::convseq::ConvVariant;
using mlir::convseq::ModelConfig;
using mlir::convseq::ModelFamily;

namespace {

/// Matmul-like FLOPs of one teacher-forced forward pass (or, with
/// `encoderOnly`, of the encoder alone).
double forwardFlops(const ModelConfig &c, double b, double s, double t,
                    bool encoderOnly) {
  double d = c.dModel, f = c.dFF, h = c.heads;
  auto mixing = [&](double tokens, double kernel) {
    if (c.family == ModelFamily::Transformer)
      return 2 * tokens * 4 * d * d + 2 * 2 * tokens * (tokens / b) * d;
    double flops = 2 * tokens * 3 * d * d + 2 * tokens * d * kernel;
    if (c.conv.variant == ConvVariant::dynamic)
      flops += 2 * tokens * d * h * kernel;
    return flops;
  };
  double total = 0;
  for (int64_t l = 0; l < c.encoderLayers; ++l) {
    double k =
        c.family == ModelFamily::Transformer ? 0 : c.conv.encoderKernelSizes[l];
    total += mixing(b * s, k) + 2 * b * s * 2 * d * f;
  }
  if (encoderOnly)
    return total;
  for (int64_t l = 0; l < c.decoderLayers; ++l) {
    double k =
        c.family == ModelFamily::Transformer ? 0 : c.conv.decoderKernelSizes[l];
    double cross =
        2 * b * t * 2 * d * d + 2 * b * s * 2 * d * d + 2 * 2 * b * t * s * d;
    total += mixing(b * t, k) + cross + 2 * b * t * 2 * d * f;
  }
  return total + 2 * b * t * d * c.vocabSize;
}

ModelConfig loadConfig() {
  llvm::SourceMgr sourceMgr;
  mlir::FailureOr<ModelConfig> config =
      mlir::convseq::parseModelConfigFile(CONVSEQ_MODEL_YAML, sourceMgr);
  if (mlir::failed(config))
    std::exit(1);
  return *config;
}

/// One buffer and its memref descriptor words.
struct Slot {
  std::vector<char> data;
  std::vector<int64_t> descriptor;
};

template <typename F> double medianSeconds(int repeats, F &&run) {
  std::vector<double> seconds;
  for (int r = 0; r < repeats + 1; ++r) {
    auto start = std::chrono::steady_clock::now();
    run();
    std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - start;
    if (r > 0) // the first call warms up caches and page mappings
      seconds.push_back(elapsed.count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

void check(const absl::Status &status) {
  if (!status.ok()) {
    std::fprintf(stderr, "forward_cpu: %s\n",
                 std::string(status.message()).c_str());
    std::exit(1);
  }
}

/// Greedy decoding through the runtime, as `predict` runs it.
int decode(const ModelConfig &config, int64_t batch, int64_t source,
           int64_t steps, int repeats) {
  namespace rt = convseq::runtime;
  const convseq_entry_point entries[] = {
      CONVSEQ_ENTRY_POINT(encoder),
      CONVSEQ_ENTRY_POINT(decoder_init),
      CONVSEQ_ENTRY_POINT(decoder_step),
  };
  convseq_model compiled = {config.name.c_str(), entries,
                            int(std::size(entries)), "", ""};
  absl::StatusOr<rt::Model> model = rt::Model::create(compiled);
  check(model.status());
  model->initialize(0);
  std::mt19937_64 rng(0);
  std::uniform_int_distribution<int32_t> token(3, config.vocabSize - 1);
  rt::Tensor ids = rt::Tensor::zeros(rt::Dtype::I32, {batch, source});
  for (int64_t i = 0; i < batch * source; ++i)
    ids.data<int32_t>()[i] = token(rng);

  rt::CallArgs encoderArgs;
  model->bindParameters(encoderArgs, false);
  encoderArgs.tensors["src_ids"] = &ids;
  encoderArgs.outputShapes["enc_out"] = {batch, source, config.dModel};
  rt::Tensor encoded;
  double encoder = medianSeconds(repeats, [&] {
    auto out = model->entry("encoder")->call(encoderArgs);
    check(out.status());
    encoded = std::move((*out)["enc_out"]);
  });
  rt::CallArgs initArgs;
  model->bindParameters(initArgs, false);
  initArgs.tensors["enc_out"] = &encoded;
  initArgs.tensors["src_ids"] = &ids;
  int64_t headDim = config.dModel / config.heads;
  for (int64_t l = 0; l < config.decoderLayers; ++l)
    for (const char *kv : {"k", "v"})
      initArgs.outputShapes["cross_kv." + std::to_string(l) + "." + kv] = {
          batch, config.heads, source, headDim};
  double init = medianSeconds(repeats, [&] {
    check(model->entry("decoder_init")->call(initArgs).status());
  });
  rt::DecodeOptions options;
  options.maxLength = steps;
  options.eosId = -1; // never chosen: every row decodes `steps` tokens
  options.vocabLimit = config.vocabSize;
  double total = medianSeconds(repeats, [&] {
    auto out = rt::beamDecode(*model, ids, options, 1);
    check(out.status());
    if (static_cast<int64_t>(out->front().size()) != steps) {
      std::fprintf(stderr, "forward_cpu: decoded %zu tokens, not %lld\n",
                   out->front().size(), (long long)steps);
      std::exit(1);
    }
  });
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"model\": \"%s\", \"entry\": \"decode\", \"B\": %lld, "
              "\"S\": %lld, \"T\": %lld, \"seconds\": %.5f, "
              "\"ms_per_sequence\": %.3f, \"encoder_ms\": %.3f, "
              "\"decoder_init_ms\": %.3f, \"decoder_step_ms\": %.4f, "
              "\"peak_rss_mb\": %ld}\n",
              config.name.c_str(), (long long)batch, (long long)source,
              (long long)steps, total, total * 1e3 / batch, encoder * 1e3,
              init * 1e3, (total - encoder - init) * 1e3 / steps,
              usage.ru_maxrss / 1024);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  int64_t batch = argc > 1 ? std::atoll(argv[1]) : 16;
  int64_t source = argc > 2 ? std::atoll(argv[2]) : 512;
  int64_t target = argc > 3 ? std::atoll(argv[3]) : 128;
  int repeats = argc > 4 ? std::atoi(argv[4]) : 5;
  std::string entry = argc > 5 ? argv[5] : "forward";
  if (entry != "forward" && entry != "encoder" && entry != "train" &&
      entry != "decode") {
    std::fprintf(stderr,
                 "forward_cpu: unknown entry '%s' (expected "
                 "forward, encoder, train or decode)\n",
                 entry.c_str());
    return 2;
  }
  if (!convseq::runtime::keepFreedMemory())
    std::fprintf(stderr, "forward_cpu: mallopt refused a setting\n");
  if (entry == "decode")
    return decode(loadConfig(), batch, source, target, repeats);
  bool encoderOnly = entry == "encoder";
  const convseq_arg_info *entryArgs = convseq_forward_args;
  size_t count = std::size(convseq_forward_args);
  void (*run)(void **) = convseq_forward;
  if (encoderOnly) {
    entryArgs = convseq_encoder_args;
    count = std::size(convseq_encoder_args);
    run = convseq_encoder;
  } else if (entry == "train") {
    entryArgs = convseq_train_step_args;
    count = std::size(convseq_train_step_args);
    run = convseq_train_step;
  }
  ModelConfig config = loadConfig();
  if (config.dtype != mlir::convseq::ElementKind::F32) {
    std::fprintf(stderr, "forward_cpu: only f32 models are benchmarked\n");
    return 1;
  }

  std::mt19937_64 rng(0);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::uniform_int_distribution<int32_t> token(3, config.vocabSize - 1);
  std::vector<Slot> slots(count);
  std::vector<void *> args(count);
  for (size_t i = 0; i < count; ++i) {
    const convseq_arg_info &info = entryArgs[i];
    std::vector<int64_t> shape;
    for (int d = 0; d < info.rank; ++d) {
      int64_t dim = info.shape[d];
      if (dim < 0)
        dim = d == 0 ? batch
              : std::string(info.name) == "tgt_ids" ||
                      std::string(info.name) == "logits"
                  ? target
                  : source;
      shape.push_back(dim);
    }
    int64_t elements = 1;
    for (int64_t dim : shape)
      elements *= dim;
    Slot &slot = slots[i];
    if (info.rank < 0) { // the RNG key (seed, step)
      slot.data.resize(sizeof(int64_t));
      *reinterpret_cast<int64_t *>(slot.data.data()) = 1;
      args[i] = slot.data.data();
      continue;
    }
    if (info.dtype == CONVSEQ_I32) {
      slot.data.resize(elements * sizeof(int32_t));
      auto *ids = reinterpret_cast<int32_t *>(slot.data.data());
      for (int64_t e = 0; e < elements; ++e)
        ids[e] = token(rng);
    } else {
      slot.data.resize(elements * sizeof(float));
      auto *values = reinterpret_cast<float *>(slot.data.data());
      for (int64_t e = 0; e < elements; ++e)
        values[e] = info.role == CONVSEQ_PARAM ? normal(rng) : 0.0f;
    }
    slot.descriptor =
        convseq::runtime::denseDescriptor(slot.data.data(), shape);
    args[i] = slot.descriptor.data();
  }

  double median = medianSeconds(repeats, [&] { run(args.data()); });
  double flops = forwardFlops(config, batch, source, target, encoderOnly) *
                 (entry == "train" ? 3 : 1);
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"model\": \"%s\", \"entry\": \"%s\", \"B\": %lld, "
              "\"S\": %lld, \"T\": %lld, \"seconds\": %.4f, "
              "\"model_gflop\": %.2f, \"gflops\": %.2f, "
              "\"peak_rss_mb\": %ld}\n",
              config.name.c_str(), entry.c_str(), (long long)batch,
              (long long)source, (long long)target, median, flops / 1e9,
              flops / median / 1e9, usage.ru_maxrss / 1024);
  return 0;
}
