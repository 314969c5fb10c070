//===- MergeGPUModules.cpp - One gpu.module for every kernel --------------===//

#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_MERGEGPUMODULESPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

struct MergeGPUModulesPass
    : mlir::convseq::impl::MergeGPUModulesPassBase<MergeGPUModulesPass> {
  using MergeGPUModulesPassBase::MergeGPUModulesPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> sources(module.getOps<gpu::GPUModuleOp>());
    if (sources.empty())
      return;
    if (SymbolTable::lookupSymbolIn(module, moduleName)) {
      module.emitError("a symbol named '") << moduleName << "' exists already";
      return signalPassFailure();
    }
    OpBuilder builder(sources.front());
    auto merged =
        gpu::GPUModuleOp::create(builder, sources.front().getLoc(), moduleName);
    Block &body = merged.getBodyRegion().front();
    // Each outlined module holds one kernel, named after its function, so
    // several share a name; the merged kernel takes its module's (unique)
    // name.
    DenseMap<SymbolRefAttr, SymbolRefAttr> renamed;
    for (gpu::GPUModuleOp source : sources) {
      if (source.getTargetsAttr() || source.getOffloadingHandlerAttr()) {
        source.emitError("cannot merge a gpu.module with targets or an "
                         "offloading handler; merge before attaching them");
        return signalPassFailure();
      }
      Block &sourceBody = source.getBodyRegion().front();
      if (!llvm::hasSingleElement(sourceBody) ||
          !isa<gpu::GPUFuncOp>(sourceBody.front())) {
        source.emitError("cannot merge a gpu.module that is not one "
                         "outlined kernel");
        return signalPassFailure();
      }
      auto kernel = cast<gpu::GPUFuncOp>(sourceBody.front());
      renamed[SymbolRefAttr::get(
          source.getSymNameAttr(),
          {FlatSymbolRefAttr::get(kernel.getNameAttr())})] =
          SymbolRefAttr::get(merged.getSymNameAttr(),
                             {FlatSymbolRefAttr::get(source.getSymNameAttr())});
      kernel.setName(source.getSymName());
      kernel->moveBefore(&body, body.end());
    }
    // Kernels that differ only in name (the same op in every layer, the
    // same optimizer update for every parameter of a shape) become one: a
    // training step has about twenty times fewer distinct kernels than
    // launches, and ptxas takes some 20 ms a kernel.
    llvm::StringMap<StringAttr> distinct;
    DenseMap<StringAttr, StringAttr> duplicateOf;
    for (auto kernel :
         llvm::make_early_inc_range(body.getOps<gpu::GPUFuncOp>())) {
      StringAttr name = kernel.getNameAttr();
      kernel.setName("kernel");
      std::string text;
      llvm::raw_string_ostream os(text);
      kernel->print(os, OpPrintingFlags().useLocalScope());
      kernel.setName(name);
      auto [it, inserted] = distinct.try_emplace(text, name);
      if (!inserted) {
        duplicateOf[name] = it->second;
        kernel.erase();
      }
    }
    for (auto &[from, to] : renamed)
      if (StringAttr canonical = duplicateOf.lookup(to.getLeafReference()))
        to = SymbolRefAttr::get(merged.getSymNameAttr(),
                                {FlatSymbolRefAttr::get(canonical)});

    WalkResult result = module.walk([&](gpu::LaunchFuncOp launch) {
      auto found = renamed.find(launch.getKernel());
      if (found == renamed.end()) {
        launch.emitError("launches a kernel that is not an outlined one");
        return WalkResult::interrupt();
      }
      launch.setKernelAttr(found->second);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    for (gpu::GPUModuleOp source : sources)
      source.erase();
  }
};

} // namespace
