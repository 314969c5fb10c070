//===- PackEntryPoints.cpp - void **args wrappers for entry points --------===//

#include "lib/CodeGen/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_PACKENTRYPOINTSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

constexpr llvm::StringLiteral kCInterfacePrefix = "_mlir_ciface_";

/// Builds `void convseq_<name>(ptr args)` calling `cInterface` with
/// args[i] (buffers) or *args[i] (scalars).
void buildPackedWrapper(OpBuilder &builder, LLVM::LLVMFuncOp cInterface) {
  Location loc = cInterface.getLoc();
  MLIRContext *ctx = builder.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  auto voidType = LLVM::LLVMVoidType::get(ctx);
  std::string name =
      (kPackedEntryPrefix + cInterface.getName().drop_front(
                                kCInterfacePrefix.size()))
          .str();
  auto wrapper = LLVM::LLVMFuncOp::create(
      builder, loc, name, LLVM::LLVMFunctionType::get(voidType, {ptrType}));
  Block *entry = wrapper.addEntryBlock(builder);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entry);

  Value args = entry->getArgument(0);
  SmallVector<Value> callArgs;
  for (auto [index, type] :
       llvm::enumerate(cInterface.getFunctionType().getParams())) {
    Value slot = LLVM::GEPOp::create(builder, loc, ptrType, ptrType, args,
                                     ArrayRef<LLVM::GEPArg>{int32_t(index)});
    Value pointer = LLVM::LoadOp::create(builder, loc, ptrType, slot);
    callArgs.push_back(isa<LLVM::LLVMPointerType>(type)
                           ? pointer
                           : LLVM::LoadOp::create(builder, loc, type, pointer)
                                 .getResult());
  }
  LLVM::CallOp::create(builder, loc, cInterface, callArgs);
  LLVM::ReturnOp::create(builder, loc, ValueRange());
}

struct PackEntryPointsPass
    : mlir::convseq::impl::PackEntryPointsPassBase<PackEntryPointsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> interfaces;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      if (func.getName().starts_with(kCInterfacePrefix) && !func.isExternal())
        interfaces.push_back(func);
    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    for (LLVM::LLVMFuncOp func : interfaces) {
      // A C interface returns results through a leading pointer, so check the
      // function it wraps: it must have no results at all.
      auto wrapped = module.lookupSymbol<LLVM::LLVMFuncOp>(
          func.getName().drop_front(kCInterfacePrefix.size()));
      if ((wrapped &&
           !isa<LLVM::LLVMVoidType>(wrapped.getFunctionType().getReturnType())) ||
          !isa<LLVM::LLVMVoidType>(func.getFunctionType().getReturnType())) {
        func.emitError("entry point still returns a value; expected every "
                       "result to be an out-parameter");
        return signalPassFailure();
      }
      buildPackedWrapper(builder, func);
    }
    // The convseq.* argument names went into the C header; LLVM has no use
    // for them (and would warn about each).
    for (FunctionOpInterface func : module.getOps<FunctionOpInterface>())
      for (unsigned index = 0, e = func.getNumArguments(); index < e; ++index)
        for (NamedAttribute attr : func.getArgAttrs(index))
          if (attr.getName().strref().starts_with("convseq."))
            func.removeArgAttr(index, attr.getName());
  }
};

} // namespace
