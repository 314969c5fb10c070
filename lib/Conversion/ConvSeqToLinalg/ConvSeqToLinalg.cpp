//===- ConvSeqToLinalg.cpp - The convert-convseq-to-linalg pass -----------===//

#include "lib/Conversion/Passes.h"

#include "lib/Conversion/ConvSeqToLinalg/PopulatePatterns.h"

#include "dialect/ConvSeqDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_CONVERTCONVSEQTOLINALGPASS
#include "lib/Conversion/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

void mlir::convseq::populateConvSeqToLinalgPatterns(
    RewritePatternSet &patterns) {
  lowering::populateLinearPatterns(patterns);
  lowering::populateElementwisePatterns(patterns);
  lowering::populateConvPatterns(patterns);
  lowering::populateNormPatterns(patterns);
  lowering::populateAttentionPatterns(patterns);
  lowering::populateTokenPatterns(patterns);
  lowering::populateDropoutPatterns(patterns);
  lowering::populateOptimizerPatterns(patterns);
}

namespace {
struct ConvertConvSeqToLinalgPass
    : mlir::convseq::impl::ConvertConvSeqToLinalgPassBase<
          ConvertConvSeqToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    ConversionTarget target(*context);
    target.addIllegalDialect<ConvSeqDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, scf::SCFDialect,
                           tensor::TensorDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });

    RewritePatternSet patterns(context);
    populateConvSeqToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
