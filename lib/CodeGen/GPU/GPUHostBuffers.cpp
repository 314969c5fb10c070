//===- GPUHostBuffers.cpp - Device buffers for the host's allocations -----===//

#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_GPUHOSTBUFFERSPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// Whether `op`, on the host, would read or write the contents of a buffer.
bool touchesBufferContents(Operation *op) {
  if (isa<gpu::GPUDialect>(op->getDialect()))
    return false;
  if (isa<linalg::LinalgOp, memref::LoadOp, memref::StoreOp, memref::CopyOp,
          memref::AllocaOp>(op))
    return true;
  // Other side effects on a memref value: vector transfers, atomics, ...
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return false;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::any_of(instances, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Read, MemoryEffects::Write>(e.getEffect()) &&
           e.getValue() && isa<BaseMemRefType>(e.getValue().getType());
  });
}

struct GPUHostBuffersPass
    : mlir::convseq::impl::GPUHostBuffersPassBase<GPUHostBuffersPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    for (func::FuncOp func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      SmallVector<Operation *> host;
      func.walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (isa<gpu::LaunchOp>(op))
          return WalkResult::skip();
        host.push_back(op);
        return WalkResult::advance();
      });
      SmallVector<Value> constants;
      for (Operation *op : host) {
        Location loc = op->getLoc();
        rewriter.setInsertionPoint(op);
        if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
          if (!alloc.getSymbolOperands().empty()) {
            alloc.emitError("cannot allocate a buffer with symbol operands "
                            "on the GPU");
            return signalPassFailure();
          }
          auto device = gpu::AllocOp::create(
              rewriter, loc, alloc.getType(), /*asyncToken=*/Type(),
              /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
              /*symbolOperands=*/ValueRange(), /*hostShared=*/UnitAttr());
          rewriter.replaceOp(alloc, device.getMemref());
          continue;
        }
        if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
          rewriter.replaceOpWithNewOp<gpu::DeallocOp>(
              dealloc, /*asyncToken=*/Type(), ValueRange(),
              dealloc.getMemref());
          continue;
        }
        if (auto global = dyn_cast<memref::GetGlobalOp>(op)) {
          auto type = cast<MemRefType>(global.getType());
          auto definition =
              SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
                  global, global.getNameAttr());
          if (!definition || !definition.getConstant()) {
            global.emitError("cannot copy the non-constant global @")
                << global.getName() << " to the device";
            return signalPassFailure();
          }
          if (!type.getLayout().isIdentity()) {
            global.emitError("cannot copy a global of type ")
                << type << " to the device";
            return signalPassFailure();
          }
          rewriter.setInsertionPointAfter(global);
          auto device = gpu::AllocOp::create(
              rewriter, loc, type, Type(), ValueRange(), ValueRange(),
              ValueRange(), /*hostShared=*/UnitAttr());
          rewriter.replaceAllUsesWith(global.getResult(), device.getMemref());
          gpu::MemcpyOp::create(rewriter, loc, /*asyncToken=*/Type(),
                                ValueRange(), device.getMemref(),
                                global.getResult());
          constants.push_back(device.getMemref());
          continue;
        }
        if (touchesBufferContents(op)) {
          op->emitError("the host of a GPU program cannot run '")
              << op->getName()
              << "': it reads or writes a buffer in device memory";
          return signalPassFailure();
        }
      }
      if (constants.empty())
        continue;
      func.walk([&](func::ReturnOp ret) {
        rewriter.setInsertionPoint(ret);
        for (Value constant : constants)
          gpu::DeallocOp::create(rewriter, ret.getLoc(), Type(), ValueRange(),
                                 constant);
      });
    }
  }
};

} // namespace
