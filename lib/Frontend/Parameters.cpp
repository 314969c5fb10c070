//===- Parameters.cpp - The parameter list of a model ---------------------===//
//
// The canonical list of parameters (names, shapes, order) that every entry
// point, checkpoint and --print-params shares (docs/entry-points.md).
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/ModelBuilder.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/GlobPattern.h"

using namespace mlir;
using namespace mlir::convseq;

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

int64_t ParameterInfo::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

namespace {

std::vector<int64_t> convWeightShape(const ModelConfig &config,
                                     int64_t kernelSize) {
  int64_t width = config.dModel, heads = config.heads;
  switch (config.conv.variant) {
  case ConvVariant::lightweight:
    return {heads, kernelSize};
  case ConvVariant::dynamic:
    return {width, heads * kernelSize};
  case ConvVariant::dilated:
    return {width, kernelSize};
  }
  llvm_unreachable("unknown conv variant");
}

} // namespace

std::string mlir::convseq::layerPrefix(StringRef stack, int64_t index) {
  return (stack + ".layers." + std::to_string(index) + ".").str();
}

std::vector<ParameterInfo>
mlir::convseq::collectParameters(const ModelConfig &config) {
  std::vector<ParameterInfo> params;
  int64_t width = config.dModel, hidden = config.dFF;
  auto add = [&](std::string name, std::vector<int64_t> shape) {
    params.push_back({std::move(name), std::move(shape)});
  };
  auto addAttention = [&](const std::string &prefix) {
    add(prefix + "norm.scale", {width});
    for (const char *weight : {"w_q", "w_k", "w_v", "w_o"})
      add(prefix + weight, {width, width});
  };
  auto addMixing = [&](const std::string &prefix, int64_t kernelSize) {
    if (!isConvModel(config))
      return addAttention(prefix + "self_attention.");
    add(prefix + "conv.norm.scale", {width});
    add(prefix + "conv.w_in", {width, width});
    add(prefix + "conv.w_gate", {width, width});
    add(prefix + "conv.w_conv", convWeightShape(config, kernelSize));
    add(prefix + "conv.w_out", {width, width});
  };
  auto addFFN = [&](const std::string &prefix) {
    add(prefix + "ffn.norm.scale", {width});
    add(prefix + "ffn.w_1", {width, hidden});
    add(prefix + "ffn.w_2", {hidden, width});
  };

  add("embedding", {config.vocabSize, width});
  for (int64_t l = 0; l < config.encoderLayers; ++l) {
    std::string prefix = layerPrefix("encoder", l);
    addMixing(prefix, isConvModel(config) ? config.conv.encoderKernelSizes[l] : 0);
    addFFN(prefix);
  }
  add("encoder.final_norm.scale", {width});
  for (int64_t l = 0; l < config.decoderLayers; ++l) {
    std::string prefix = layerPrefix("decoder", l);
    addMixing(prefix, isConvModel(config) ? config.conv.decoderKernelSizes[l] : 0);
    addAttention(prefix + "cross_attention.");
    addFFN(prefix);
  }
  add("decoder.final_norm.scale", {width});
  // Frozen-parameter patterns; invalid ones are reported by
  // checkFrozenPatterns and freeze nothing.
  for (const std::string &text : config.training.frozen) {
    llvm::Expected<llvm::GlobPattern> pattern = llvm::GlobPattern::create(text);
    if (!pattern) {
      llvm::consumeError(pattern.takeError());
      continue;
    }
    for (ParameterInfo &param : params)
      param.frozen |= pattern->match(param.name);
  }
  return params;
}

Type mlir::convseq::getElementType(MLIRContext *context,
                                   const ModelConfig &config) {
  Builder builder(context);
  switch (config.dtype) {
  case ElementKind::F32:
    return builder.getF32Type();
  case ElementKind::F64:
    return builder.getF64Type();
  case ElementKind::BF16:
    return builder.getBF16Type();
  }
  llvm_unreachable("unknown element kind");
}

LogicalResult mlir::convseq::checkFrozenPatterns(const ModelConfig &config,
                                                 llvm::SourceMgr &sourceMgr) {
  std::vector<ParameterInfo> params = collectParameters(config);
  bool ok = true;
  for (auto [index, text] : llvm::enumerate(config.training.frozen)) {
    llvm::SMLoc loc = index < config.training.frozenLocations.size()
                          ? config.training.frozenLocations[index]
                          : llvm::SMLoc();
    llvm::Expected<llvm::GlobPattern> pattern = llvm::GlobPattern::create(text);
    if (!pattern) {
      sourceMgr.PrintMessage(loc, llvm::SourceMgr::DK_Error,
                             "invalid frozen-parameter pattern '" + text +
                                 "': " + llvm::toString(pattern.takeError()));
      ok = false;
      continue;
    }
    if (llvm::none_of(params, [&](const ParameterInfo &param) {
          return pattern->match(param.name);
        })) {
      sourceMgr.PrintMessage(loc, llvm::SourceMgr::DK_Error,
                             "frozen-parameter pattern '" + text +
                                 "' matches no parameter of the model "
                                 "(see convseqc --print-params)");
      ok = false;
    }
  }
  return success(ok);
}
