//===- GenerateVJP.cpp - The convseq-generate-vjp pass --------------------===//

#include "lib/Autodiff/Autodiff.h"
#include "lib/Autodiff/Passes.h"

#include "dialect/ConvSeqDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_GENERATEVJPPASS
#include "lib/Autodiff/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// Adds `@<name>_vjp` next to `forward`.
LogicalResult generateVJP(func::FuncOp forward, SymbolTable &symbols) {
  FailureOr<func::FuncOp> cloned =
      cloneAsNewFunction(forward, (forward.getSymName() + "_vjp").str(),
                         symbols, "cannot be differentiated");
  if (failed(cloned))
    return failure();
  func::FuncOp vjp = *cloned;
  OpBuilder builder(forward->getContext());
  Block &block = vjp.getBody().front();
  auto ret = cast<func::ReturnOp>(block.getTerminator());
  MLIRContext *ctx = forward.getContext();
  auto named = [&](const Twine &text) { return ioNameAttr(ctx, text); };

  // A cotangent argument per differentiable result.
  SmallVector<Value> outputs, cotangents;
  SmallVector<DictionaryAttr> argAttrs;
  for (unsigned i = 0; i < vjp.getNumArguments(); ++i)
    argAttrs.push_back(vjp.getArgAttrDict(i));
  for (auto [index, output] : llvm::enumerate(ret.getOperands())) {
    if (!isDifferentiable(output))
      continue;
    outputs.push_back(output);
    cotangents.push_back(block.addArgument(output.getType(), output.getLoc()));
    argAttrs.push_back(
        named("grad." + boundaryName(vjp.getResultAttrDict(index),
                                     "result" + Twine(index))));
  }

  // The arguments to differentiate.
  SmallVector<Value> inputs;
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i = 0; i < ret.getNumOperands(); ++i)
    resultAttrs.push_back(vjp.getResultAttrDict(i));
  for (BlockArgument arg : forward.getArguments()) {
    DictionaryAttr attrs = forward.getArgAttrDict(arg.getArgNumber());
    if (!isDifferentiable(arg) || (attrs && attrs.get(kFrozenAttrName)))
      continue;
    inputs.push_back(block.getArgument(arg.getArgNumber()));
    resultAttrs.push_back(named(
        "grad." + boundaryName(attrs, "arg" + Twine(arg.getArgNumber()))));
  }

  builder.setInsertionPoint(ret);
  FailureOr<SmallVector<Value>> gradients =
      buildGradients(builder, block, outputs, cotangents, inputs);
  if (failed(gradients))
    return failure();
  SmallVector<Value> results(ret.getOperands());
  llvm::append_range(results, *gradients);
  setReturnedValues(vjp, results, argAttrs, resultAttrs);
  return success();
}

struct GenerateVJPPass
    : public mlir::convseq::impl::GenerateVJPPassBase<GenerateVJPPass> {
  using GenerateVJPPassBase::GenerateVJPPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> selected;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() &&
          (functions.empty() ||
           llvm::is_contained(functions, func.getSymName())))
        selected.push_back(func);
    for (const std::string &name : functions)
      if (!symbols.lookup<func::FuncOp>(name)) {
        module.emitError() << "no function '@" << name << "' to differentiate";
        return signalPassFailure();
      }
    for (func::FuncOp func : selected)
      if (failed(generateVJP(func, symbols)))
        return signalPassFailure();
  }
};

} // namespace
