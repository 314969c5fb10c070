//===- Autodiff.h - Reverse-mode differentiation of convseq IR --*- C++ -*-===//
//
// The core of training-graph generation: given the values a function
// computes and the gradients of some scalar objective with respect to them,
// build the gradients with respect to chosen inputs. Every op on a path from
// an input to an output must implement DifferentiableOpInterface.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_AUTODIFF_AUTODIFF_H
#define CONVSEQ_LIB_AUTODIFF_AUTODIFF_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::convseq {

/// Whether reverse mode carries a gradient for `value`: ranked tensors of
/// floats. Ids, masks and RNG keys have none.
bool isDifferentiable(Value value);

/// Builds, at `builder`'s insertion point in `block` (after the forward ops,
/// typically before the terminator), the gradients of `inputs` given the
/// gradients `outputGradients` of `outputs`. `inputs` are values defined in
/// or before `block` (usually its arguments) and must be differentiable.
///
/// Only ops both reachable from an input and reaching an output are
/// differentiated (activity analysis), and an op's rule is asked only for
/// the operands on such a path, so no gradient math is built for values the
/// inputs do not influence, such as frozen weights. A value used several
/// times (the tied embedding) sums the gradients of its uses.
///
/// Returns one gradient per input, zero where an input does not reach an
/// output; fails, with a diagnostic at the op, when an op on a path has no
/// gradient rule.
FailureOr<SmallVector<Value>> buildGradients(OpBuilder &builder, Block &block,
                                             ValueRange outputs,
                                             ValueRange outputGradients,
                                             ValueRange inputs);

/// The name a value has at the entry-point boundary, from its
/// `convseq.param` or `convseq.io` attribute in `attrs`, or `fallback`.
std::string boundaryName(DictionaryAttr attrs, const Twine &fallback);

/// `{convseq.io = name}`.
DictionaryAttr ioNameAttr(MLIRContext *ctx, const Twine &name);

/// Clones `forward` as `@name` right after it, for a pass that appends to
/// its body (its VJP, its training step). Fails with a diagnostic if
/// `forward` has more than one block or `@name` exists (`what` says what
/// could not be built, as in "cannot be differentiated").
FailureOr<func::FuncOp> cloneAsNewFunction(func::FuncOp forward,
                                           StringRef name,
                                           SymbolTable &symbols,
                                           StringRef what);

/// Replaces the return of `func` (one block) with one returning `results`
/// and sets its type and argument and result attributes accordingly.
void setReturnedValues(func::FuncOp func, ValueRange results,
                       ArrayRef<DictionaryAttr> argAttrs,
                       ArrayRef<DictionaryAttr> resultAttrs);

/// Registers the gradient rules of the upstream ops model graphs use:
/// tensor `arith.addf` (residual connections), `tensor.expand_shape` and
/// `tensor.collapse_shape`.
void registerUpstreamVJPs(DialectRegistry &registry);

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_AUTODIFF_AUTODIFF_H
