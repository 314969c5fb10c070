//===- Autodiff.cpp - Reverse-mode differentiation of convseq IR ----------===//
//
// The classic two-sweep algorithm over one block of value-semantic ops:
//
//  1. activity: forward from the inputs, the values they vary; backward from
//     the outputs, the values that are useful;
//  2. reverse sweep: for each op in reverse order that has a gradient for a
//     result, ask its DifferentiableOpInterface rule for the gradients of its
//     active operands, and add them to what earlier uses contributed.
//
// The forward ops stay in place and the backward ops are appended after
// them, so a forward value lives until the last backward op that reads it;
// bufferization then frees it there.
//
//===----------------------------------------------------------------------===//

#include "lib/Autodiff/Autodiff.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::convseq;

bool mlir::convseq::isDifferentiable(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && isa<FloatType>(type.getElementType());
}

std::string mlir::convseq::boundaryName(DictionaryAttr attrs,
                                       const Twine &fallback) {
  if (attrs)
    for (StringLiteral key : {kParamAttrName, kIOAttrName})
      if (auto name = attrs.getAs<StringAttr>(key))
        return name.str();
  return fallback.str();
}

DictionaryAttr mlir::convseq::ioNameAttr(MLIRContext *ctx, const Twine &name) {
  return DictionaryAttr::get(
      ctx, {NamedAttribute(StringAttr::get(ctx, kIOAttrName),
                           StringAttr::get(ctx, name))});
}

FailureOr<func::FuncOp> mlir::convseq::cloneAsNewFunction(
    func::FuncOp forward, StringRef name, SymbolTable &symbols,
    StringRef what) {
  if (!forward.getBody().hasOneBlock())
    return forward.emitOpError("must have one block to be differentiated");
  if (symbols.lookup(name))
    return forward.emitOpError()
           << what << ": '@" << name << "' exists already";
  OpBuilder builder(forward->getContext());
  builder.setInsertionPointAfter(forward);
  auto clone = cast<func::FuncOp>(builder.clone(*forward));
  clone.setSymName(name);
  symbols.insert(clone);
  return clone;
}

void mlir::convseq::setReturnedValues(func::FuncOp func, ValueRange results,
                                      ArrayRef<DictionaryAttr> argAttrs,
                                      ArrayRef<DictionaryAttr> resultAttrs) {
  Block &block = func.getBody().front();
  Operation *ret = block.getTerminator();
  OpBuilder builder(ret);
  func::ReturnOp::create(builder, ret->getLoc(), results);
  ret->erase();
  func.setFunctionType(FunctionType::get(
      func.getContext(), block.getArgumentTypes(), results.getTypes()));
  func.setAllArgAttrs(argAttrs);
  func.setAllResultAttrs(resultAttrs);
}

namespace {

/// A zero tensor shaped like `like`.
Value buildZeros(OpBuilder &b, Location loc, Value like) {
  auto type = cast<RankedTensorType>(like.getType());
  Value empty = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, like), type.getElementType());
  Value zero = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(type.getElementType(), 0.0));
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

/// The ops of `block` the inputs influence and the outputs depend on.
struct Activity {
  llvm::DenseSet<Value> varied, useful;

  bool isActive(Value value) const {
    return varied.contains(value) && useful.contains(value) &&
           isDifferentiable(value);
  }
};

Activity analyze(ArrayRef<Operation *> ops, ValueRange outputs,
                 ValueRange inputs) {
  Activity activity;
  activity.varied.insert(inputs.begin(), inputs.end());
  for (Operation *op : ops) {
    bool readsVaried = false;
    // A value captured by a region varies its op's results as well.
    op->walk([&](Operation *nested) {
      readsVaried |= llvm::any_of(nested->getOperands(), [&](Value v) {
        return activity.varied.contains(v);
      });
    });
    if (readsVaried)
      for (Value result : op->getResults())
        if (isDifferentiable(result))
          activity.varied.insert(result);
  }
  activity.useful.insert(outputs.begin(), outputs.end());
  for (Operation *op : llvm::reverse(ops))
    if (llvm::any_of(op->getResults(), [&](Value result) {
          return activity.useful.contains(result);
        }))
      activity.useful.insert(op->operand_begin(), op->operand_end());
  return activity;
}

} // namespace

FailureOr<SmallVector<Value>>
mlir::convseq::buildGradients(OpBuilder &builder, Block &block,
                              ValueRange outputs, ValueRange outputGradients,
                              ValueRange inputs) {
  assert(outputs.size() == outputGradients.size() && "one gradient per output");
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    ops.push_back(&op);
  Activity activity = analyze(ops, outputs, inputs);

  // The gradient of each value so far, summed over the uses seen.
  DenseMap<Value, Value> gradients;
  auto accumulate = [&](Value value, Value gradient, Location loc) {
    Value &slot = gradients[value];
    slot = slot
               ? arith::AddFOp::create(builder, loc, slot, gradient).getResult()
               : gradient;
  };
  for (auto [output, gradient] : llvm::zip(outputs, outputGradients))
    accumulate(output, gradient, gradient.getLoc());

  for (Operation *op : llvm::reverse(ops)) {
    // Only results the inputs vary carry gradients worth propagating.
    if (llvm::none_of(op->getResults(), [&](Value result) {
          return gradients.count(result) && activity.varied.contains(result);
        }))
      continue;
    // Ops with regions (loops, ...) would need rules for their bodies;
    // model graphs have none between parameters and loss.
    auto rule = dyn_cast<DifferentiableOpInterface>(op);
    if (!rule || op->getNumRegions() != 0)
      return op->emitOpError()
             << "has no gradient rule, but lies on a path from a "
                "differentiated input to the loss";
    SmallVector<bool> wanted;
    for (Value operand : op->getOperands())
      wanted.push_back(activity.isActive(operand));
    if (llvm::none_of(wanted, [](bool w) { return w; }))
      continue;
    SmallVector<Value> resultGradients;
    for (Value result : op->getResults()) {
      Value gradient = gradients.lookup(result);
      resultGradients.push_back(
          gradient ? gradient : buildZeros(builder, op->getLoc(), result));
    }
    SmallVector<Value> operandGradients =
        rule.buildVJP(builder, resultGradients, wanted);
    if (operandGradients.size() != op->getNumOperands())
      return failure();
    for (auto [operand, gradient, want] :
         llvm::zip(op->getOperands(), operandGradients, wanted))
      if (want && gradient)
        accumulate(operand, gradient, op->getLoc());
  }

  SmallVector<Value> result;
  for (Value input : inputs) {
    Value gradient = gradients.lookup(input);
    result.push_back(gradient ? gradient
                              : buildZeros(builder, input.getLoc(), input));
  }
  return result;
}
