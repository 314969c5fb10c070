//===- ShapeChecks.h - Verifier helpers of convseq ops ----------*- C++ -*-===//
//
// Internal to the dialect: the shape and attribute checks the verifiers of
// ConvSeqOps.cpp and ConvSeqGradientOps.cpp share, with diagnostics that
// name the operand and the expected shape in the paper's notation.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_DIALECT_SHAPECHECKS_H
#define CONVSEQ_DIALECT_SHAPECHECKS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <optional>
#include <string>

namespace mlir::convseq::detail {

constexpr int64_t kDyn = ShapedType::kDynamic;

inline bool isDyn(int64_t dim) { return ShapedType::isDynamic(dim); }

/// Two dimensions can be equal at run time.
inline bool compatible(int64_t a, int64_t b) {
  return isDyn(a) || isDyn(b) || a == b;
}

/// The more precise of two compatible dimensions.
inline int64_t join(int64_t a, int64_t b) { return isDyn(a) ? b : a; }

inline RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Prints a shape as `[64, ?]`.
inline std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os, [&](int64_t dim) {
    if (isDyn(dim))
      os << "?";
    else
      os << dim;
  });
  os << "]";
  return text;
}

/// Prints a number the way users write it ("0.5", "1e-06"), not as
/// "5.000000e-01".
inline std::string formatNumber(double value) {
  return llvm::formatv("{0}", llvm::format("%g", value)).str();
}

/// Checks that `value` has the rank of `expected` and that every dimension is
/// compatible with it. `meaning` is the shape in the paper's notation, e.g.
/// "[D, D]".
inline LogicalResult checkShape(Operation *op, StringRef name, Value value,
                                ArrayRef<int64_t> expected, StringRef meaning) {
  RankedTensorType type = tensorType(value);
  bool ok = type.getRank() == static_cast<int64_t>(expected.size()) &&
            llvm::all_of(llvm::zip(type.getShape(), expected), [](auto dims) {
              return compatible(std::get<0>(dims), std::get<1>(dims));
            });
  if (ok)
    return success();
  return op->emitOpError() << "expects '" << name << "' of shape " << meaning
                           << " = " << formatShape(expected) << ", got "
                           << type;
}

inline LogicalResult checkRank(Operation *op, StringRef name, Value value,
                               int64_t rank, StringRef meaning) {
  RankedTensorType type = tensorType(value);
  if (type.getRank() == rank)
    return success();
  return op->emitOpError() << "expects '" << name << "' of rank " << rank << " "
                           << meaning << ", got " << type;
}

inline LogicalResult checkMinRank(Operation *op, StringRef name, Value value,
                                  int64_t rank) {
  RankedTensorType type = tensorType(value);
  if (type.getRank() >= rank)
    return success();
  return op->emitOpError() << "expects '" << name << "' of rank at least "
                           << rank << ", got " << type;
}

inline LogicalResult checkPositive(Operation *op, StringRef what,
                                   int64_t value) {
  if (value > 0)
    return success();
  return op->emitOpError() << what << " must be positive, got " << value;
}

/// Heads must be positive and divide the width (when it is static).
inline LogicalResult checkHeads(Operation *op, int64_t width, int64_t heads) {
  if (failed(checkPositive(op, "number of heads", heads)))
    return failure();
  if (!isDyn(width) && width % heads != 0)
    return op->emitOpError() << "model width " << width
                             << " is not divisible by " << heads << " heads";
  return success();
}

/// The optional padding mask of a sequence tensor `[B, L, ...]` is `[B, L]`.
inline LogicalResult checkMask(Operation *op, StringRef name, Value mask,
                               int64_t batch, int64_t length,
                               StringRef meaning = "[B, L]") {
  if (!mask)
    return success();
  return checkShape(op, name, mask, {batch, length}, meaning);
}

/// Dropout rates are probabilities below 1, and a non-zero rate needs the
/// RNG key operands.
inline LogicalResult checkDropout(Operation *op, StringRef what, double rate,
                                  bool hasRng) {
  if (!(rate >= 0.0 && rate < 1.0))
    return op->emitOpError()
           << what << " must be in [0, 1), got " << formatNumber(rate);
  if (rate > 0.0 && !hasRng)
    return op->emitOpError()
           << "non-zero " << what << " needs the RNG key 'rng(seed, step)'";
  return success();
}

inline LogicalResult checkConvAttrs(Operation *op, int64_t kernelSize,
                                    int64_t dilation) {
  if (failed(checkPositive(op, "kernel width", kernelSize)))
    return failure();
  return checkPositive(op, "dilation", dilation);
}

/// Norm epsilons are positive.
inline LogicalResult checkEpsilon(Operation *op, double epsilon) {
  if (epsilon > 0.0)
    return success();
  return op->emitOpError() << "epsilon must be positive, got "
                           << formatNumber(epsilon);
}

/// The checks of cross_entropy and its gradient: logits of rank >= 1,
/// targets of the logits' shape without V, label smoothing in [0, 1).
inline LogicalResult verifyCrossEntropy(Operation *op, Value logits,
                                        Value targets, double smoothing) {
  if (failed(checkMinRank(op, "logits", logits, 1)) ||
      failed(checkShape(op, "targets", targets,
                        tensorType(logits).getShape().drop_back(),
                        "the logits' shape without V")))
    return failure();
  if (!(smoothing >= 0.0 && smoothing < 1.0))
    return op->emitOpError() << "label smoothing must be in [0, 1), got "
                             << formatNumber(smoothing);
  return success();
}

/// The checks of rms_norm and its gradients: an input of rank >= 1, a
/// positive epsilon, and `scale` (called `name`: the gain or its
/// gradient) of shape [D].
inline LogicalResult verifyRMSNorm(Operation *op, Value input, StringRef name,
                                   Value scale, double epsilon) {
  if (failed(checkMinRank(op, "input", input, 1)) ||
      failed(checkEpsilon(op, epsilon)))
    return failure();
  return checkShape(op, name, scale, {tensorType(input).getShape().back()},
                    "[D]");
}

/// The scale of attention scores: `scale` when given, else 1/sqrt(E) of
/// `query` ([B, H, T, E]).
inline double attentionScale(std::optional<APFloat> scale, Value query) {
  if (scale)
    return scale->convertToDouble();
  return 1.0 / std::sqrt(static_cast<double>(tensorType(query).getDimSize(3)));
}

/// The checks dot_product_attention and its gradient share: key
/// `[B, H, S, E]` and value `[B, H, S, F]` against the `[B, H, T, E]`
/// query, the key mask, the scale, causality and dropout.
inline LogicalResult
verifyAttentionOperands(Operation *op, Value query, Value key, Value value,
                        Value keyMask, std::optional<APFloat> scale,
                        bool causal, double dropout, bool hasRng) {
  ArrayRef<int64_t> q = tensorType(query).getShape();
  if (failed(checkRank(op, "key", key, 4, "[B, H, S, E]")))
    return failure();
  int64_t keys = tensorType(key).getDimSize(2);
  if (failed(checkShape(op, "key", key, {q[0], q[1], keys, q[3]},
                        "[B, H, S, E]")) ||
      failed(checkShape(op, "value", value,
                        {q[0], q[1], keys, tensorType(value).getDimSize(3)},
                        "[B, H, S, F]")) ||
      failed(checkMask(op, "key_mask", keyMask, q[0], keys, "[B, S]")))
    return failure();
  if (isDyn(q[3]) && !scale)
    return op->emitOpError("needs an explicit 'scale' when the head width is "
                           "dynamic");
  if (scale && !(scale->convertToDouble() > 0.0))
    return op->emitOpError() << "scale must be positive, got "
                             << formatNumber(scale->convertToDouble());
  if (causal && !isDyn(q[2]) && !isDyn(keys) && q[2] > keys)
    return op->emitOpError()
           << "causal attention needs no more queries than keys, got T = "
           << q[2] << " > S = " << keys;
  return checkDropout(op, "attention dropout", dropout, hasRng);
}

} // namespace mlir::convseq::detail

#endif // CONVSEQ_DIALECT_SHAPECHECKS_H
