//===- ModelBuilderTest.cpp - Entry points and parameters of models -------===//
//
// Builds the reference configurations (spec section 9) from C++, checks the
// parameter counts against closed forms derived from the spec, and checks
// that every entry point verifies and decomposes.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/ModelBuilder.h"
#include "lib/InitAll.h"
#include "lib/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/StringSet.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::convseq;

namespace {

struct Size {
  int64_t dModel, heads, dFF, layers, vocab, kernel;
};
constexpr Size kSmall = {256, 4, 1024, 4, 8000, 7};
constexpr Size kBase = {768, 12, 3072, 12, 32128, 7};

ModelConfig makeConfig(Size size, ModelFamily family, ConvVariant variant) {
  ModelConfig config;
  config.name = "test";
  config.family = family;
  config.dModel = size.dModel;
  config.heads = size.heads;
  config.dFF = size.dFF;
  config.encoderLayers = config.decoderLayers = size.layers;
  config.vocabSize = size.vocab;
  config.conv.variant = variant;
  for (int64_t l = 0; l < size.layers; ++l) {
    int64_t dilation = variant == ConvVariant::dilated ? int64_t(1) << (l % 4) : 1;
    config.conv.encoderKernelSizes.push_back(size.kernel);
    config.conv.decoderKernelSizes.push_back(size.kernel);
    config.conv.encoderDilations.push_back(dilation);
    config.conv.decoderDilations.push_back(dilation);
  }
  return config;
}

/// The parameter count from the spec: tied embedding V*D; per encoder layer
/// a mixing sublayer and an FFN (2DF), each with an RMSNorm gain (D); per
/// decoder layer also cross-attention (4D^2 + D); two final norms.
int64_t specParameterCount(Size s, ModelFamily family, ConvVariant variant) {
  int64_t d = s.dModel, k = s.kernel;
  int64_t attention = 4 * d * d + d;
  int64_t convWeight = variant == ConvVariant::lightweight ? s.heads * k
                       : variant == ConvVariant::dynamic   ? d * s.heads * k
                                                           : d * k;
  int64_t mixing =
      family == ModelFamily::Transformer ? attention : 3 * d * d + convWeight + d;
  int64_t ffn = 2 * d * s.dFF + d;
  return s.vocab * d + s.layers * (mixing + ffn) +
         s.layers * (mixing + attention + ffn) + 2 * d;
}

int64_t countParameters(const ModelConfig &config) {
  int64_t total = 0;
  for (const ParameterInfo &param : collectParameters(config))
    total += param.numElements();
  return total;
}

struct Variant {
  ModelFamily family;
  ConvVariant conv;
  const char *name;
};
constexpr Variant kVariants[] = {
    {ModelFamily::ConvSeq2Seq, ConvVariant::lightweight, "light"},
    {ModelFamily::ConvSeq2Seq, ConvVariant::dynamic, "dynamic"},
    {ModelFamily::ConvSeq2Seq, ConvVariant::dilated, "dilated"},
    {ModelFamily::Transformer, ConvVariant::lightweight, "transformer"},
};

TEST(ParameterCountTest, MatchesTheSpec) {
  for (const Variant &v : kVariants) {
    for (Size size : {kSmall, kBase}) {
      ModelConfig config = makeConfig(size, v.family, v.conv);
      EXPECT_EQ(countParameters(config), specParameterCount(size, v.family, v.conv))
          << v.name << " D=" << size.dModel;
    }
  }
  // Spelled out once for light-small: 8000*256 + 4*(196636+256 + 524288+256)
  // + 4*(196636+256 + 262144+256 + 524288+256) + 2*256.
  EXPECT_EQ(countParameters(makeConfig(kSmall, ModelFamily::ConvSeq2Seq,
                                       ConvVariant::lightweight)),
            8869600);
}

TEST(ParameterNamesTest, HierarchicalAndUnique) {
  std::vector<ParameterInfo> params = collectParameters(
      makeConfig(kSmall, ModelFamily::ConvSeq2Seq, ConvVariant::dynamic));
  llvm::StringSet<> names;
  for (const ParameterInfo &param : params)
    EXPECT_TRUE(names.insert(param.name).second) << param.name;
  EXPECT_EQ(params.front().name, "embedding");
  EXPECT_TRUE(names.contains("encoder.layers.3.conv.w_in"));
  EXPECT_TRUE(names.contains("decoder.layers.0.cross_attention.w_k"));
  EXPECT_TRUE(names.contains("decoder.layers.2.ffn.norm.scale"));
  EXPECT_EQ(params.back().name, "decoder.final_norm.scale");
}

class ModelBuilderTest : public ::testing::TestWithParam<Variant> {
protected:
  ModelBuilderTest() {
    DialectRegistry registry;
    registerAllConvSeqDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }
  MLIRContext context;
};

TEST_P(ModelBuilderTest, EntryPointsVerifyAndDecompose) {
  Variant v = GetParam();
  ModelConfig config = makeConfig(kSmall, v.family, v.conv);
  config.dropout = 0.1;
  OwningOpRef<ModuleOp> module = buildModel(&context, config);
  ASSERT_TRUE(module);

  size_t numParams = collectParameters(config).size();
  llvm::StringMap<size_t> extraArgs = {{"encoder", 1},
                                       {"decoder_init", 1},
                                       {"forward", 2},
                                       {"forward_train", 4}};
  int entries = 0;
  for (auto func : module->getOps<func::FuncOp>()) {
    ++entries;
    auto name = func.getSymName();
    EXPECT_EQ(func.getArgAttrOfType<StringAttr>(0, kParamAttrName).getValue(),
              "embedding");
    if (extraArgs.count(name))
      EXPECT_EQ(func.getNumArguments(), numParams + extraArgs.lookup(name))
          << name.str();
  }
  EXPECT_EQ(entries, 5);

  PassManager pm(&context);
  buildPrimitivesPipeline(pm, PrimitivesPipelineOptions());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  module->walk([&](Operation *op) {
    EXPECT_FALSE((isa<ConvBlockOp, AttentionOp, FFNOp>(op)))
        << "left over: " << op->getName().getStringRef().str();
  });
}

INSTANTIATE_TEST_SUITE_P(AllFamilies, ModelBuilderTest,
                         ::testing::ValuesIn(kVariants),
                         [](const auto &info) { return info.param.name; });

} // namespace
