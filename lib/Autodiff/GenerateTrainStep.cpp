//===- GenerateTrainStep.cpp - The convseq-generate-train-step pass -------===//
//
// From a loss function carrying `convseq.training` settings, builds one
// function that runs the forward pass, the backward pass (buildGradients),
// global-norm clipping, the learning-rate schedule and the optimizer update
// of every trainable parameter. New parameters and optimizer state are
// results marked `convseq.in_place`: the optimizer ops lower to
// destination-passing updates of the old tensors, so bufferization writes
// them into the argument buffers, and convseq-drop-in-place-results removes
// them from the compiled signature (or reports the one it could not).
//
//===----------------------------------------------------------------------===//

#include "lib/Autodiff/Autodiff.h"
#include "lib/Autodiff/Passes.h"
#include "lib/Support/ScalarBuilder.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_GENERATETRAINSTEPPASS
#include "lib/Autodiff/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

enum class Optimizer { AdamW, Adafactor };
enum class Schedule { Constant, LinearWarmupDecay, InverseSqrt };

/// The settings of `convseq.training`, with the defaults of the model
/// format (docs/model-format.md) for absent keys.
struct TrainingSettings {
  Optimizer optimizer = Optimizer::Adafactor;
  std::optional<double> learningRate;
  Schedule schedule = Schedule::InverseSqrt;
  int64_t warmupSteps = 1000;
  int64_t steps = 1000;
  double weightDecay = 0.0;
  double clipNorm = 1.0;
};

/// Adafactor's step size without a learning rate (its relative step size,
/// Shazeer and Stern 2018, section 8): rho = min(1e-2, ...).
constexpr double kRelativeStepCap = 1e-2;
/// Added to the gradient norm before dividing by it, as
/// torch.nn.utils.clip_grad_norm_ does.
constexpr double kClipEpsilon = 1e-6;

FailureOr<TrainingSettings> parseSettings(func::FuncOp func,
                                          DictionaryAttr dict) {
  TrainingSettings settings;
  auto fail = [&](const Twine &message) {
    return func.emitOpError() << "has invalid '" << kTrainingAttrName
                              << "': " << message;
  };
  for (NamedAttribute entry : dict) {
    StringRef key = entry.getName().getValue();
    Attribute value = entry.getValue();
    auto text = dyn_cast<StringAttr>(value);
    auto number = dyn_cast<FloatAttr>(value);
    auto integer = dyn_cast<IntegerAttr>(value);
    if (key == "optimizer") {
      if (text && text.getValue() == "adamw")
        settings.optimizer = Optimizer::AdamW;
      else if (text && text.getValue() == "adafactor")
        settings.optimizer = Optimizer::Adafactor;
      else
        return fail("'optimizer' must be \"adamw\" or \"adafactor\"");
    } else if (key == "schedule") {
      if (text && text.getValue() == "constant")
        settings.schedule = Schedule::Constant;
      else if (text && text.getValue() == "linear_warmup_decay")
        settings.schedule = Schedule::LinearWarmupDecay;
      else if (text && text.getValue() == "inverse_sqrt")
        settings.schedule = Schedule::InverseSqrt;
      else
        return fail("'schedule' must be \"constant\", "
                    "\"linear_warmup_decay\" or \"inverse_sqrt\"");
    } else if (key == "learning_rate" || key == "weight_decay" ||
               key == "clip_norm") {
      if (!number)
        return fail("'" + key + "' must be a float");
      double v = number.getValueAsDouble();
      if (key == "learning_rate" ? !(v > 0.0) : !(v >= 0.0))
        return fail("'" + key + "' must be " +
                    (key == "learning_rate" ? "positive" : "at least 0"));
      if (key == "learning_rate")
        settings.learningRate = v;
      else if (key == "weight_decay")
        settings.weightDecay = v;
      else
        settings.clipNorm = v;
    } else if (key == "warmup_steps" || key == "steps") {
      if (!integer)
        return fail("'" + key + "' must be an integer");
      int64_t v = integer.getInt();
      if (key == "steps" ? v < 1 : v < 0)
        return fail("'" + key + "' must be at least " +
                    (key == "steps" ? "1" : "0"));
      (key == "steps" ? settings.steps : settings.warmupSteps) = v;
    } else {
      return fail("unknown key '" + key + "'");
    }
  }
  if (settings.optimizer == Optimizer::AdamW && !settings.learningRate)
    return fail("AdamW needs a 'learning_rate'");
  return settings;
}

/// The learning rate of step `t` (an f64, 1 for the first update):
/// `learning_rate` times the schedule's factor, or Adafactor's relative
/// step size when no learning rate is given (docs/training.md).
Value buildLearningRate(ScalarBuilder &s, const TrainingSettings &settings,
                        Value t) {
  double warmup = static_cast<double>(settings.warmupSteps);
  double total = static_cast<double>(settings.steps);
  switch (settings.schedule) {
  case Schedule::Constant:
    return s.c(settings.learningRate.value_or(kRelativeStepCap));
  case Schedule::LinearWarmupDecay: {
    // min(t / w, (T - t) / (T - w)), within [0, 1].
    Value factor = s.c(1.0);
    if (warmup > 0)
      factor = s.min(factor, s.div(t, s.c(warmup)));
    if (total > warmup)
      factor = s.min(factor, s.div(s.sub(s.c(total), t), s.c(total - warmup)));
    factor = s.max(s.c(0.0), factor);
    return s.mul(s.c(settings.learningRate.value_or(kRelativeStepCap)),
                 factor);
  }
  case Schedule::InverseSqrt: {
    // 1 / sqrt(max(t, w)) (spec section 5), scaled so that a given learning
    // rate is the rate of the first max(w, 1) steps.
    Value inverseRoot =
        s.div(s.c(1.0), s.sqrt(s.max(t, s.c(std::max(warmup, 1.0)))));
    if (!settings.learningRate)
      return inverseRoot;
    return s.mul(s.c(*settings.learningRate * std::sqrt(std::max(warmup, 1.0))),
                 inverseRoot);
  }
  }
  llvm_unreachable("unknown schedule");
}

/// The stem of the functions built from `@forward`: `train` for
/// `@forward_train` (`@train_step`, `@train_grad`, `@train_apply`), `f`
/// for any other `@f`.
std::string stepStem(StringRef forward) {
  if (forward == "forward_train")
    return "train";
  return forward.str();
}

DictionaryAttr withAttrs(MLIRContext *ctx, DictionaryAttr base,
                         ArrayRef<NamedAttribute> extra) {
  NamedAttrList attrs(base);
  for (const NamedAttribute &attr : extra)
    attrs.set(attr.getName(), attr.getValue());
  return attrs.getDictionary(ctx);
}

/// What every function built from one loss function shares: its settings,
/// its trainable parameters and its step argument.
struct LossFunction {
  func::FuncOp forward;
  TrainingSettings settings;
  /// Argument indices of the trainable parameters, in order.
  SmallVector<unsigned> trainable;
  unsigned stepArg;
  RankedTensorType lossType;
  /// What the built functions' names start with (stepStem).
  std::string stem;
};

FailureOr<LossFunction> analyzeLossFunction(func::FuncOp forward,
                                            DictionaryAttr dict) {
  LossFunction loss;
  loss.forward = forward;
  loss.stem = stepStem(forward.getSymName());
  FailureOr<TrainingSettings> settings = parseSettings(forward, dict);
  if (failed(settings))
    return failure();
  loss.settings = *settings;
  loss.lossType = forward.getNumResults() == 1
                      ? dyn_cast<RankedTensorType>(forward.getResultTypes()[0])
                      : RankedTensorType();
  if (!loss.lossType || loss.lossType.getRank() != 0 ||
      !isa<FloatType>(loss.lossType.getElementType()))
    return forward.emitOpError(
        "must return one scalar loss (a 0-d float tensor) to be trained");

  std::optional<unsigned> stepArg;
  for (BlockArgument arg : forward.getArguments()) {
    DictionaryAttr attrs = forward.getArgAttrDict(arg.getArgNumber());
    if (!attrs)
      continue;
    if (attrs.get(kParamAttrName) && !attrs.get(kFrozenAttrName) &&
        isDifferentiable(arg))
      loss.trainable.push_back(arg.getArgNumber());
    auto io = attrs.getAs<StringAttr>(kIOAttrName);
    if (io && io.getValue() == "step" && arg.getType().isInteger(64))
      stepArg = arg.getArgNumber();
  }
  if (!stepArg)
    return forward.emitOpError()
           << "needs an i64 argument {" << kIOAttrName
           << " = \"step\"}: the step number the schedule reads";
  if (loss.trainable.empty())
    return forward.emitOpError()
           << "has no trainable parameter: every float argument with '"
           << kParamAttrName << "' is frozen or there is none";
  loss.stepArg = *stepArg;
  return loss;
}

/// The signature of a function being built: the attributes of its block's
/// arguments and its results.
struct Signature {
  SmallVector<DictionaryAttr> argAttrs;
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
};

NamedAttribute updatedAttr(MLIRContext *ctx) {
  return NamedAttribute(StringAttr::get(ctx, kUpdatedAttrName),
                        UnitAttr::get(ctx));
}

NamedAttribute inPlaceAttr(OpBuilder &builder, unsigned argIndex) {
  return NamedAttribute(StringAttr::get(builder.getContext(), kInPlaceAttrName),
                        builder.getI64IntegerAttr(argIndex));
}

Value scalarTensor(OpBuilder &builder, Location loc, Value scalar) {
  return tensor::FromElementsOp::create(
      builder, loc, RankedTensorType::get({}, scalar.getType()),
      ValueRange{scalar});
}

/// The factor every gradient is multiplied by before the update: the
/// global-norm clipping factor for `norm`, the norm of the gradients as
/// applied, times `mean` (1/k, for the mean of k accumulated gradients) if
/// given.
Value buildGradScale(ScalarBuilder &s, const TrainingSettings &settings,
                     Value norm, Value mean = {}) {
  Value scale = s.c(1.0);
  if (settings.clipNorm > 0)
    scale = s.min(
        scale, s.div(s.c(settings.clipNorm), s.add(norm, s.c(kClipEpsilon))));
  return mean ? s.mul(mean, scale) : scale;
}

/// The step as the optimizer counts it, from the i64 `step`: steps count
/// from 1; a step of 0 or less would divide by zero in the bias corrections
/// and Adafactor's decay, so it counts as 1 there (the dropout key keeps the
/// step as given).
Value buildOptimizerStep(OpBuilder &builder, Location loc, Value step) {
  return arith::MaxSIOp::create(
      builder, loc, step,
      arith::ConstantOp::create(builder, loc, builder.getI64IntegerAttr(1)));
}

/// Appends to `block` the optimizer state of every trainable parameter
/// (`paramArgs`, argument indices of `block`, with their gradients `grads`)
/// as new arguments, and the updates of the parameters and that state as
/// results written in place, to `signature`.
void appendUpdates(OpBuilder &builder, Location loc,
                   const TrainingSettings &settings, Block &block,
                   ArrayRef<unsigned> paramArgs, ValueRange grads, Value lr,
                   Value gradScale, Value t, Signature &signature) {
  MLIRContext *ctx = builder.getContext();
  SmallVector<Value> newState;
  SmallVector<DictionaryAttr> newStateAttrs;
  for (auto [index, grad] : llvm::zip(paramArgs, grads)) {
    Value param = block.getArgument(index);
    std::string paramName =
        boundaryName(signature.argAttrs[index], "arg" + Twine(index));
    signature.argAttrs[index] =
        withAttrs(ctx, signature.argAttrs[index], updatedAttr(ctx));
    auto type = cast<RankedTensorType>(param.getType());
    SmallVector<std::pair<std::string, Type>> stateTypes;
    if (settings.optimizer == Optimizer::AdamW) {
      stateTypes = {{"opt.m.", type}, {"opt.v.", type}};
    } else if (type.getRank() == 2) {
      Type element = type.getElementType();
      stateTypes = {{"opt.v_row.", RankedTensorType::get({type.getDimSize(0)},
                                                          element)},
                    {"opt.v_col.", RankedTensorType::get({type.getDimSize(1)},
                                                          element)}};
    } else {
      stateTypes = {{"opt.v.", type}};
    }
    SmallVector<Value> state;
    for (auto &[prefix, stateType] : stateTypes) {
      state.push_back(block.addArgument(stateType, param.getLoc()));
      signature.argAttrs.push_back(withAttrs(
          ctx, ioNameAttr(ctx, prefix + paramName), updatedAttr(ctx)));
    }
    // Hyperparameters other than the weight decay keep the ops' defaults.
    FloatAttr weightDecay = builder.getF64FloatAttr(settings.weightDecay);
    Operation *update;
    if (settings.optimizer == Optimizer::AdamW) {
      Type type = param.getType();
      update = AdamWUpdateOp::create(builder, loc, type, type, type, param,
                                     grad, state[0], state[1], lr, gradScale,
                                     t, FloatAttr(), FloatAttr(), FloatAttr(),
                                     weightDecay);
    } else {
      UnitAttr relativeStep =
          settings.learningRate ? UnitAttr() : builder.getUnitAttr();
      update = AdafactorUpdateOp::create(
          builder, loc, param, grad, state, lr, gradScale, t, FloatAttr(),
          FloatAttr(), FloatAttr(), FloatAttr(), weightDecay, relativeStep);
    }
    signature.results.push_back(update->getResult(0));
    signature.resultAttrs.push_back(
        withAttrs(ctx,
                  DictionaryAttr::get(
                      ctx, {NamedAttribute(StringAttr::get(ctx, kParamAttrName),
                                           StringAttr::get(ctx, paramName))}),
                  inPlaceAttr(builder, index)));
    for (auto [i, value] : llvm::enumerate(update->getResults().drop_front())) {
      unsigned argIndex = block.getNumArguments() - state.size() + i;
      newState.push_back(value);
      newStateAttrs.push_back(
          withAttrs(ctx, ioNameAttr(ctx, stateTypes[i].first + paramName),
                    inPlaceAttr(builder, argIndex)));
    }
  }
  llvm::append_range(signature.results, newState);
  llvm::append_range(signature.resultAttrs, newStateAttrs);
}

/// Clones the loss function as `@name` and builds the gradients of its
/// trainable parameters at its return; `signature` starts with the clone's
/// argument attributes and the loss as the first result.
FailureOr<func::FuncOp> cloneWithGradients(const LossFunction &loss,
                                           StringRef name, SymbolTable &symbols,
                                           SmallVector<Value> &grads,
                                           Signature &signature) {
  FailureOr<func::FuncOp> cloned = cloneAsNewFunction(
      loss.forward, name, symbols, "cannot get a training step");
  if (failed(cloned))
    return failure();
  func::FuncOp func = *cloned;
  func.setPublic();
  func->removeAttr(kTrainingAttrName);
  Block &block = func.getBody().front();
  auto ret = cast<func::ReturnOp>(block.getTerminator());
  OpBuilder builder(ret);
  Value lossValue = ret.getOperand(0);
  Value lossGrad = arith::ConstantOp::create(
      builder, ret.getLoc(),
      DenseElementsAttr::get(
          loss.lossType,
          builder.getFloatAttr(loss.lossType.getElementType(), 1.0)));
  SmallVector<Value> params;
  for (unsigned index : loss.trainable)
    params.push_back(block.getArgument(index));
  FailureOr<SmallVector<Value>> built =
      buildGradients(builder, block, lossValue, lossGrad, params);
  if (failed(built))
    return failure();
  grads = *built;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    signature.argAttrs.push_back(func.getArgAttrDict(i));
  signature.results.push_back(lossValue);
  signature.resultAttrs.push_back(func.getResultAttrDict(0));
  return func;
}

/// `@train_step`: forward, backward, clipping, schedule and update in one.
LogicalResult buildTrainStep(const LossFunction &loss, SymbolTable &symbols) {
  SmallVector<Value> grads;
  Signature signature;
  FailureOr<func::FuncOp> step =
      cloneWithGradients(loss, loss.stem + "_step", symbols, grads, signature);
  if (failed(step))
    return failure();
  Block &block = step->getBody().front();
  Operation *ret = block.getTerminator();
  Location loc = ret->getLoc();
  OpBuilder builder(ret);
  ScalarBuilder s{builder, loc};
  Value norm = s.sqrt(SumOfSquaresOp::create(builder, loc, grads));
  Value gradScale = buildGradScale(s, loss.settings, norm);
  Value t = buildOptimizerStep(builder, loc, block.getArgument(loss.stepArg));
  Value lr = buildLearningRate(s, loss.settings, s.fromInt(t));
  MLIRContext *ctx = builder.getContext();
  signature.results.append(
      {scalarTensor(builder, loc, norm), scalarTensor(builder, loc, lr)});
  signature.resultAttrs.append(
      {ioNameAttr(ctx, "grad_norm"), ioNameAttr(ctx, "learning_rate")});
  appendUpdates(builder, loc, loss.settings, block, loss.trainable, grads, lr,
                gradScale, t, signature);
  setReturnedValues(*step, signature.results, signature.argAttrs,
                    signature.resultAttrs);
  return success();
}

/// `accumulator + grad`, computed into `accumulator`: a destination-passing
/// update that bufferization writes in place.
Value buildAccumulate(OpBuilder &builder, Value grad, Value accumulator) {
  auto type = cast<RankedTensorType>(grad.getType());
  AffineMap identity = builder.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      builder, grad.getLoc(), type, grad, accumulator, {identity, identity},
      iterators, [](OpBuilder &b, Location loc, ValueRange args) {
        Value sum = arith::AddFOp::create(b, loc, args[1], args[0]);
        linalg::YieldOp::create(b, loc, sum);
      });
  return generic.getResult(0);
}

/// `@train_grad`: forward and backward, adding each trainable parameter's
/// gradient to its accumulator `grad.<p>` in place.
LogicalResult buildGradStep(const LossFunction &loss, SymbolTable &symbols) {
  SmallVector<Value> grads;
  Signature signature;
  FailureOr<func::FuncOp> func =
      cloneWithGradients(loss, loss.stem + "_grad", symbols, grads, signature);
  if (failed(func))
    return failure();
  Block &block = func->getBody().front();
  Operation *ret = block.getTerminator();
  OpBuilder builder(ret);
  MLIRContext *ctx = builder.getContext();
  for (auto [index, grad] : llvm::zip(loss.trainable, grads)) {
    std::string paramName =
        boundaryName(signature.argAttrs[index], "arg" + Twine(index));
    Value accumulator = block.addArgument(grad.getType(), grad.getLoc());
    signature.argAttrs.push_back(
        withAttrs(ctx, ioNameAttr(ctx, "grad." + paramName), updatedAttr(ctx)));
    signature.results.push_back(buildAccumulate(builder, grad, accumulator));
    signature.resultAttrs.push_back(
        withAttrs(ctx, ioNameAttr(ctx, "grad." + paramName),
                  inPlaceAttr(builder, block.getNumArguments() - 1)));
  }
  setReturnedValues(*func, signature.results, signature.argAttrs,
                    signature.resultAttrs);
  return success();
}

/// `@train_apply`: the update of `@train_step` from the sum of
/// `micro_batches` gradients in the accumulators `grad.<p>`, whose mean it
/// clips and applies. Takes every parameter of the loss function (the
/// frozen ones unused), so it has the parameters of every entry point.
LogicalResult buildApplyStep(const LossFunction &loss, SymbolTable &symbols) {
  func::FuncOp forward = loss.forward;
  MLIRContext *ctx = forward.getContext();
  std::string name = loss.stem + "_apply";
  if (symbols.lookup(name))
    return forward.emitOpError()
           << "cannot get a training step: @" << name << " exists";
  OpBuilder builder(ctx);
  builder.setInsertionPointAfter(forward);
  Location loc = forward.getLoc();
  auto func =
      func::FuncOp::create(builder, loc, name, builder.getFunctionType({}, {}));
  symbols.insert(func);
  Block *block = func.addEntryBlock();
  builder.setInsertionPointToStart(block);
  Signature signature;
  SmallVector<unsigned> paramArgs;
  for (BlockArgument arg : forward.getArguments()) {
    DictionaryAttr attrs = forward.getArgAttrDict(arg.getArgNumber());
    if (!attrs || !attrs.get(kParamAttrName))
      continue;
    if (llvm::is_contained(loss.trainable, arg.getArgNumber()))
      paramArgs.push_back(block->getNumArguments());
    block->addArgument(arg.getType(), arg.getLoc());
    signature.argAttrs.push_back(attrs);
  }
  Value step = block->addArgument(builder.getI64Type(), loc);
  signature.argAttrs.push_back(ioNameAttr(ctx, "step"));
  Value microBatches = block->addArgument(builder.getI64Type(), loc);
  signature.argAttrs.push_back(ioNameAttr(ctx, "micro_batches"));
  SmallVector<Value> accumulators;
  for (unsigned index : paramArgs) {
    Value param = block->getArgument(index);
    accumulators.push_back(block->addArgument(param.getType(), loc));
    signature.argAttrs.push_back(
        ioNameAttr(ctx, "grad." + boundaryName(signature.argAttrs[index],
                                               "arg" + Twine(index))));
  }

  ScalarBuilder s{builder, loc};
  // The mean of k gradients: the sum scaled by 1/k, with max(k, 1).
  Value k = s.fromInt(arith::MaxSIOp::create(
      builder, loc, microBatches,
      arith::ConstantOp::create(builder, loc, builder.getI64IntegerAttr(1))));
  Value meanScale = s.div(s.c(1.0), k);
  Value norm = s.mul(
      meanScale, s.sqrt(SumOfSquaresOp::create(builder, loc, accumulators)));
  Value gradScale = buildGradScale(s, loss.settings, norm, meanScale);
  Value t = buildOptimizerStep(builder, loc, step);
  Value lr = buildLearningRate(s, loss.settings, s.fromInt(t));
  signature.results.append(
      {scalarTensor(builder, loc, norm), scalarTensor(builder, loc, lr)});
  signature.resultAttrs.append(
      {ioNameAttr(ctx, "grad_norm"), ioNameAttr(ctx, "learning_rate")});
  func::ReturnOp::create(builder, loc, ValueRange{});
  builder.setInsertionPoint(block->getTerminator());
  appendUpdates(builder, loc, loss.settings, *block, paramArgs, accumulators,
                lr, gradScale, t, signature);
  setReturnedValues(func, signature.results, signature.argAttrs,
                    signature.resultAttrs);
  return success();
}

LogicalResult generateTrainingFunctions(func::FuncOp forward,
                                        SymbolTable &symbols) {
  auto dict = forward->getAttrOfType<DictionaryAttr>(kTrainingAttrName);
  // Which functions to build; not a setting of the optimizer.
  SmallVector<StringRef> kinds{"step"};
  NamedAttrList optimizerSettings;
  for (NamedAttribute entry : dict) {
    if (entry.getName() != "entry_points") {
      optimizerSettings.push_back(entry);
      continue;
    }
    auto list = dyn_cast<ArrayAttr>(entry.getValue());
    bool valid = list && !list.empty();
    kinds.clear();
    for (Attribute item : list ? list.getValue() : ArrayRef<Attribute>()) {
      auto kind = dyn_cast<StringAttr>(item);
      valid = valid && kind &&
              llvm::is_contained(ArrayRef<StringRef>{"step", "grad", "apply"},
                                 kind.getValue());
      if (valid)
        kinds.push_back(kind.getValue());
    }
    if (!valid)
      return forward.emitOpError()
             << "has invalid '" << kTrainingAttrName
             << "': 'entry_points' must list some of \"step\", \"grad\" "
                "and \"apply\"";
  }
  FailureOr<LossFunction> loss = analyzeLossFunction(
      forward, optimizerSettings.getDictionary(forward.getContext()));
  if (failed(loss))
    return failure();
  // The settings are consumed: running the pass again adds nothing.
  forward->removeAttr(kTrainingAttrName);
  for (StringRef kind : kinds) {
    LogicalResult built = kind == "step"   ? buildTrainStep(*loss, symbols)
                          : kind == "grad" ? buildGradStep(*loss, symbols)
                                           : buildApplyStep(*loss, symbols);
    if (failed(built))
      return failure();
  }
  return success();
}

struct GenerateTrainStepPass
    : public mlir::convseq::impl::GenerateTrainStepPassBase<
          GenerateTrainStepPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> losses;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && func->hasAttr(kTrainingAttrName))
        losses.push_back(func);
    for (func::FuncOp func : losses) {
      if (!func->getAttrOfType<DictionaryAttr>(kTrainingAttrName)) {
        func.emitOpError() << "expects '" << kTrainingAttrName
                           << "' to be a dictionary";
        return signalPassFailure();
      }
      if (failed(generateTrainingFunctions(func, symbols)))
        return signalPassFailure();
    }
  }
};

} // namespace
