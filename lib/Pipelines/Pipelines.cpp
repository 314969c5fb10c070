//===- Pipelines.cpp - Named pass pipelines of convseq --------------------===//

#include "lib/Pipelines/Pipelines.h"

#include "lib/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::convseq::buildPrimitivesPipeline(
    OpPassManager &pm, const PrimitivesPipelineOptions &options) {
  pm.addPass(createDecomposeBlocksPass());
  if (options.cleanup) {
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
}

void mlir::convseq::registerConvSeqPipelines() {
  PassPipelineRegistration<PrimitivesPipelineOptions>(
      "convseq-to-primitives",
      "Decompose convseq block ops into primitives and clean up",
      buildPrimitivesPipeline);
}
