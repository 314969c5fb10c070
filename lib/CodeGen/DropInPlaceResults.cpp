//===- DropInPlaceResults.cpp - Results written into their arguments ------===//

#include "lib/CodeGen/Passes.h"

#include "dialect/ConvSeqDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_DROPINPLACERESULTSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The buffer `value` is, looking through memref.cast and through loops
/// that carry a buffer unchanged (tiled loops that wrote into it).
Value traceBuffer(Value value) {
  while (true) {
    if (auto cast = value.getDefiningOp<memref::CastOp>()) {
      value = cast.getSource();
      continue;
    }
    if (auto loop = value.getDefiningOp<scf::ForOp>()) {
      unsigned index = cast<OpResult>(value).getResultNumber();
      if (traceBuffer(loop.getYieldedValues()[index]) !=
          loop.getRegionIterArgs()[index])
        return value;
      value = loop.getInitArgs()[index];
      continue;
    }
    return value;
  }
}

LogicalResult dropInPlaceResults(func::FuncOp func) {
  llvm::BitVector dropped(func.getNumResults());
  for (unsigned index = 0; index < func.getNumResults(); ++index) {
    auto target = func.getResultAttrOfType<IntegerAttr>(index, kInPlaceAttrName);
    if (!target)
      continue;
    int64_t argIndex = target.getInt();
    if (argIndex < 0 || argIndex >= func.getNumArguments())
      return func.emitOpError()
             << "result #" << index << " is in place in argument #"
             << argIndex << ", which does not exist";
    for (Block &block : func.getBody()) {
      auto ret = dyn_cast<func::ReturnOp>(block.getTerminator());
      if (!ret)
        continue;
      Value returned = traceBuffer(ret.getOperand(index));
      if (returned != func.getArgument(argIndex)) {
        auto name = func.getResultAttrOfType<StringAttr>(index, kParamAttrName);
        if (!name)
          name = func.getResultAttrOfType<StringAttr>(index, kIOAttrName);
        return ret.emitOpError()
               << "returns result #" << index
               << (name ? " ('" + name.getValue() + "')" : Twine(""))
               << " in a new buffer: bufferization could not update argument #"
               << argIndex << " in place";
      }
    }
    dropped.set(index);
  }
  if (dropped.none())
    return success();
  for (Block &block : func.getBody())
    if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator()))
      ret->eraseOperands(dropped);
  return func.eraseResults(dropped);
}

struct DropInPlaceResultsPass
    : mlir::convseq::impl::DropInPlaceResultsPassBase<DropInPlaceResultsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(dropInPlaceResults(func)))
        return signalPassFailure();
  }
};

} // namespace
