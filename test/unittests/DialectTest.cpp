//===- DialectTest.cpp - Builders, type inference and verifiers -----------===//
//
// What lit tests cannot show: ops built from C++ (as the front end builds
// them) infer the right result types, and the verifiers report through the
// diagnostic engine.
//
//===----------------------------------------------------------------------===//

#include "dialect/ConvSeqOps.h"
#include "lib/InitAll.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace mlir::convseq;

namespace {

class DialectTest : public ::testing::Test {
protected:
  DialectTest() : builder(&context) {
    DialectRegistry registry;
    registerAllConvSeqDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// A function whose arguments have `types`; the builder is left inside it.
  func::FuncOp makeFunction(ArrayRef<Type> types) {
    auto func = func::FuncOp::create(builder, builder.getUnknownLoc(), "f",
                                     builder.getFunctionType(types, {}));
    builder.setInsertionPointToEnd(func.addEntryBlock());
    return func;
  }

  /// Ends the function under construction and verifies the module.
  LogicalResult verifyModule() {
    func::ReturnOp::create(builder, builder.getUnknownLoc());
    return verify(*module);
  }

  RankedTensorType tensor(ArrayRef<int64_t> shape, Type element = {}) {
    return RankedTensorType::get(shape, element ? element : builder.getF32Type());
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
};

TEST_F(DialectTest, RegistrationListLoadsOurDialects) {
  EXPECT_NE(context.getLoadedDialect<ConvSeqDialect>(), nullptr);
  EXPECT_NE(context.getLoadedDialect<func::FuncDialect>(), nullptr);
  EXPECT_NE(context.getLoadedDialect<arith::ArithDialect>(), nullptr);
  EXPECT_NE(context.getLoadedDialect<tensor::TensorDialect>(), nullptr);
}

TEST_F(DialectTest, LinearInfersOutputWidth) {
  func::FuncOp func = makeFunction(
      {tensor({2, 16, 64}), tensor({64, 256}), tensor({8000, 64})});
  Location loc = builder.getUnknownLoc();
  auto hidden = LinearOp::create(builder, loc, func.getArgument(0),
                                 func.getArgument(1));
  EXPECT_EQ(hidden.getType(), tensor({2, 16, 256}));
  auto logits = LinearOp::create(builder, loc, func.getArgument(0),
                                 func.getArgument(2),
                                 /*transposeWeight=*/true, /*scale=*/0.125);
  EXPECT_EQ(logits.getType(), tensor({2, 16, 8000}));
  EXPECT_DOUBLE_EQ(logits.getScale().convertToDouble(), 0.125);
  EXPECT_TRUE(succeeded(verifyModule()));
}

TEST_F(DialectTest, HeadsAndAttentionInferShapes) {
  int64_t dyn = ShapedType::kDynamic;
  func::FuncOp func = makeFunction({tensor({2, 8, 64}), tensor({dyn, dyn, dyn})});
  Location loc = builder.getUnknownLoc();
  auto split = SplitHeadsOp::create(builder, loc, func.getArgument(0), 4);
  EXPECT_EQ(split.getType(), tensor({2, 4, 8, 16}));
  auto splitDynamic = SplitHeadsOp::create(builder, loc, func.getArgument(1), 2);
  EXPECT_EQ(splitDynamic.getType(), tensor({dyn, 2, dyn, dyn}));

  auto attention = DotProductAttentionOp::create(
      builder, loc, split, split, split, /*key_mask=*/Value(), /*seed=*/Value(),
      /*step=*/Value(), /*scale=*/nullptr, /*causal=*/true,
      llvm::APFloat(0.0));
  EXPECT_EQ(attention.getType(), tensor({2, 4, 8, 16}));
  EXPECT_DOUBLE_EQ(attention.getEffectiveScale(), 0.25);

  auto merged = MergeHeadsOp::create(builder, loc, attention);
  EXPECT_EQ(merged.getType(), tensor({2, 8, 64}));
  EXPECT_TRUE(succeeded(verifyModule()));
}

TEST_F(DialectTest, TokenOpsInferTypes) {
  Type i32 = builder.getI32Type();
  func::FuncOp func = makeFunction(
      {tensor({2, 8}, i32), tensor({2, 8, 100}, builder.getF64Type()),
       tensor({100, 32}, builder.getBF16Type())});
  Location loc = builder.getUnknownLoc();
  auto mask = PaddingMaskOp::create(builder, loc, func.getArgument(0));
  EXPECT_EQ(mask.getType(), tensor({2, 8}, builder.getI1Type()));
  auto loss = CrossEntropyOp::create(builder, loc, func.getArgument(1),
                                     func.getArgument(0));
  EXPECT_EQ(loss.getType(), tensor({}, builder.getF64Type()));
  auto embedded = EmbeddingOp::create(builder, loc, func.getArgument(0),
                                      func.getArgument(2));
  EXPECT_EQ(embedded.getType(), tensor({2, 8, 32}, builder.getBF16Type()));
  EXPECT_TRUE(succeeded(verifyModule()));
}

TEST_F(DialectTest, VerifierReportsThroughDiagnostics) {
  func::FuncOp func = makeFunction({tensor({2, 16, 64}), tensor({64, 64}),
                                    tensor({5, 7})});
  Value x = func.getArgument(0), w = func.getArgument(1);
  ConvBlockOp::create(builder, builder.getUnknownLoc(), x.getType(),
                      ConvVariant::lightweight, x, w, w, func.getArgument(2), w,
                      /*mask=*/Value(), /*kernel_size=*/7, /*heads=*/5,
                      /*dilation=*/1, /*causal=*/false);

  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  EXPECT_TRUE(failed(verifyModule()));
  EXPECT_EQ(message,
            "'convseq.conv_block' op model width 64 is not divisible by 5 heads");
}

TEST(ConvPaddingTest, CausalAndCentred) {
  EXPECT_EQ(convPaddingTaps(7, /*causal=*/true), 6);
  EXPECT_EQ(convPaddingTaps(7, /*causal=*/false), 3);
  EXPECT_EQ(convPaddingTaps(4, /*causal=*/false), 2);
  EXPECT_EQ(convPaddingTaps(1, /*causal=*/true), 0);
}

} // namespace
