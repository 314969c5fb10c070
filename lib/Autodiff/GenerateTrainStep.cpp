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

/// `@forward_train` steps as `@train_step`, any other `@f` as `@f_step`.
std::string stepName(StringRef forward) {
  if (forward == "forward_train")
    return "train_step";
  return (forward + "_step").str();
}

DictionaryAttr withAttrs(MLIRContext *ctx, DictionaryAttr base,
                         ArrayRef<NamedAttribute> extra) {
  NamedAttrList attrs(base);
  for (const NamedAttribute &attr : extra)
    attrs.set(attr.getName(), attr.getValue());
  return attrs.getDictionary(ctx);
}

LogicalResult generateTrainStep(func::FuncOp forward, SymbolTable &symbols) {
  MLIRContext *ctx = forward.getContext();
  auto dict = forward->getAttrOfType<DictionaryAttr>(kTrainingAttrName);
  FailureOr<TrainingSettings> settings = parseSettings(forward, dict);
  if (failed(settings))
    return failure();
  auto lossType = forward.getNumResults() == 1
                      ? dyn_cast<RankedTensorType>(forward.getResultTypes()[0])
                      : RankedTensorType();
  if (!lossType || lossType.getRank() != 0 ||
      !isa<FloatType>(lossType.getElementType()))
    return forward.emitOpError(
        "must return one scalar loss (a 0-d float tensor) to be trained");

  // The trainable parameters and the step number.
  SmallVector<unsigned> trainable;
  std::optional<unsigned> stepArg;
  for (BlockArgument arg : forward.getArguments()) {
    DictionaryAttr attrs = forward.getArgAttrDict(arg.getArgNumber());
    if (!attrs)
      continue;
    if (attrs.get(kParamAttrName) && !attrs.get(kFrozenAttrName) &&
        isDifferentiable(arg))
      trainable.push_back(arg.getArgNumber());
    auto io = attrs.getAs<StringAttr>(kIOAttrName);
    if (io && io.getValue() == "step" && arg.getType().isInteger(64))
      stepArg = arg.getArgNumber();
  }
  if (!stepArg)
    return forward.emitOpError()
           << "needs an i64 argument {" << kIOAttrName
           << " = \"step\"}: the step number the schedule reads";
  if (trainable.empty())
    return forward.emitOpError()
           << "has no trainable parameter: every float argument with '"
           << kParamAttrName << "' is frozen or there is none";

  FailureOr<func::FuncOp> cloned =
      cloneAsNewFunction(forward, stepName(forward.getSymName()), symbols,
                         "cannot get a training step");
  if (failed(cloned))
    return failure();
  func::FuncOp step = *cloned;
  step.setPublic();
  // The settings are consumed: running the pass again adds nothing.
  step->removeAttr(kTrainingAttrName);
  forward->removeAttr(kTrainingAttrName);
  Block &block = step.getBody().front();
  auto ret = cast<func::ReturnOp>(block.getTerminator());
  Location loc = ret.getLoc();
  OpBuilder builder(ret);

  // Backward pass.
  Value loss = ret.getOperand(0);
  Value lossGrad = arith::ConstantOp::create(
      builder, loc,
      DenseElementsAttr::get(lossType,
                             builder.getFloatAttr(lossType.getElementType(),
                                                  1.0)));
  SmallVector<Value> params;
  for (unsigned index : trainable)
    params.push_back(block.getArgument(index));
  FailureOr<SmallVector<Value>> grads =
      buildGradients(builder, block, loss, lossGrad, params);
  if (failed(grads))
    return failure();

  // Clipping and the schedule.
  ScalarBuilder s{builder, loc};
  Value norm = s.sqrt(SumOfSquaresOp::create(builder, loc, *grads));
  Value gradScale = s.c(1.0);
  if (settings->clipNorm > 0)
    gradScale = s.min(gradScale, s.div(s.c(settings->clipNorm),
                                       s.add(norm, s.c(kClipEpsilon))));
  // Steps count from 1; a step of 0 or less would divide by zero in the
  // bias corrections and Adafactor's decay, so it counts as 1 there (the
  // dropout key keeps the step as given).
  Value t = arith::MaxSIOp::create(
      builder, loc, block.getArgument(*stepArg),
      arith::ConstantOp::create(builder, loc, builder.getI64IntegerAttr(1)));
  Value lr = buildLearningRate(s, *settings, s.fromInt(t));

  // Updates, with the optimizer state as new arguments.
  SmallVector<DictionaryAttr> argAttrs;
  for (unsigned i = 0; i < step.getNumArguments(); ++i)
    argAttrs.push_back(step.getArgAttrDict(i));
  auto updated = NamedAttribute(StringAttr::get(ctx, kUpdatedAttrName),
                                UnitAttr::get(ctx));
  auto inPlace = [&](unsigned index) {
    return NamedAttribute(StringAttr::get(ctx, kInPlaceAttrName),
                          builder.getI64IntegerAttr(index));
  };
  auto scalarResult = [&](Value scalar) -> Value {
    return tensor::FromElementsOp::create(
        builder, loc, RankedTensorType::get({}, scalar.getType()),
        ValueRange{scalar});
  };
  SmallVector<Value> results{loss, scalarResult(norm), scalarResult(lr)};
  SmallVector<DictionaryAttr> resultAttrs{step.getResultAttrDict(0),
                                          ioNameAttr(ctx, "grad_norm"),
                                          ioNameAttr(ctx, "learning_rate")};
  SmallVector<Value> newState;
  SmallVector<DictionaryAttr> newStateAttrs;
  for (auto [index, param, grad] : llvm::zip(trainable, params, *grads)) {
    std::string paramName = boundaryName(argAttrs[index], "arg" + Twine(index));
    argAttrs[index] = withAttrs(ctx, argAttrs[index], updated);
    auto type = cast<RankedTensorType>(param.getType());
    SmallVector<std::pair<std::string, Type>> stateTypes;
    if (settings->optimizer == Optimizer::AdamW) {
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
      argAttrs.push_back(withAttrs(ctx, ioNameAttr(ctx, prefix + paramName),
                                   updated));
    }
    // Hyperparameters other than the weight decay keep the ops' defaults.
    FloatAttr weightDecay = builder.getF64FloatAttr(settings->weightDecay);
    Operation *update;
    if (settings->optimizer == Optimizer::AdamW) {
      Type type = param.getType();
      update = AdamWUpdateOp::create(builder, loc, type, type, type, param,
                                     grad, state[0], state[1], lr, gradScale,
                                     t, FloatAttr(), FloatAttr(), FloatAttr(),
                                     weightDecay);
    } else {
      UnitAttr relativeStep =
          settings->learningRate ? UnitAttr() : builder.getUnitAttr();
      update = AdafactorUpdateOp::create(
          builder, loc, param, grad, state, lr, gradScale, t, FloatAttr(),
          FloatAttr(), FloatAttr(), FloatAttr(), weightDecay, relativeStep);
    }
    results.push_back(update->getResult(0));
    resultAttrs.push_back(withAttrs(
        ctx,
        DictionaryAttr::get(ctx, {NamedAttribute(
                                     StringAttr::get(ctx, kParamAttrName),
                                     StringAttr::get(ctx, paramName))}),
        inPlace(index)));
    for (auto [i, value] : llvm::enumerate(update->getResults().drop_front())) {
      unsigned argIndex = block.getNumArguments() - state.size() + i;
      newState.push_back(value);
      newStateAttrs.push_back(withAttrs(
          ctx, ioNameAttr(ctx, stateTypes[i].first + paramName),
          inPlace(argIndex)));
    }
  }
  llvm::append_range(results, newState);
  llvm::append_range(resultAttrs, newStateAttrs);
  setReturnedValues(step, results, argAttrs, resultAttrs);
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
      if (failed(generateTrainStep(func, symbols)))
        return signalPassFailure();
    }
  }
};

} // namespace
