//===- InitAll.cpp - The one registration list of convseq -----------------===//

#include "lib/InitAll.h"

#include "dialect/ConvSeqDialect.h"
#include "lib/Pipelines/Pipelines.h"
#include "lib/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::convseq::registerAllConvSeqDialects(DialectRegistry &registry) {
  registry.insert<ConvSeqDialect, arith::ArithDialect, func::FuncDialect,
                  tensor::TensorDialect>();
}

void mlir::convseq::registerAllConvSeqPasses() {
  registerConvSeqTransformsPasses();
  registerConvSeqPipelines();
  // Generic cleanups every pipeline uses.
  registerCanonicalizerPass();
  registerCSEPass();
  registerSymbolDCEPass();
}
