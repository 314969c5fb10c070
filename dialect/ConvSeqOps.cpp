//===- ConvSeqOps.cpp - Verifiers and type inference of convseq ops -------===//
//
// Every op checks ranks, shapes and attributes with a diagnostic that names
// the operand and the expected shape in the paper's notation ([B, L, D], ...).
// Dynamic dimensions are accepted wherever a static one is expected; the
// check then happens at run time in the generated code.
//
//===----------------------------------------------------------------------===//

#include "dialect/ConvSeqOps.h"
#include "dialect/ShapeChecks.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::convseq;

#include "dialect/ConvSeqEnums.cpp.inc"
#include "dialect/ConvSeqInterfaces.cpp.inc"

using namespace mlir::convseq::detail;

//===----------------------------------------------------------------------===//
// Block ops
//===----------------------------------------------------------------------===//

LogicalResult ConvBlockOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "input", getInput(), 3, "[B, L, D]")))
    return failure();
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  int64_t batch = shape[0], length = shape[1], width = shape[2];
  int64_t kernel = getKernelSize(), heads = getHeads();

  if (failed(checkConvAttrs(op, kernel, getDilation())) ||
      failed(checkHeads(op, width, heads)))
    return failure();
  if (getVariant() != ConvVariant::dilated && getDilation() != 1)
    return emitOpError() << "dilation " << getDilation()
                         << " is only valid for the dilated variant";
  if (getVariant() == ConvVariant::dilated && heads != 1)
    return emitOpError() << "the dilated variant has one weight per channel; "
                            "'heads' must be 1, got "
                         << heads;

  if (failed(checkShape(op, "w_in", getWIn(), {width, width}, "[D, D]")) ||
      failed(checkShape(op, "w_gate", getWGate(), {width, width}, "[D, D]")) ||
      failed(checkShape(op, "w_out", getWOut(), {width, width}, "[D, D]")))
    return failure();

  LogicalResult convWeight = success();
  switch (getVariant()) {
  case ConvVariant::lightweight:
    convWeight = checkShape(op, "w_conv", getWConv(), {heads, kernel},
                            "[heads, kernel_size]");
    break;
  case ConvVariant::dynamic:
    convWeight = checkShape(op, "w_conv", getWConv(), {width, heads * kernel},
                            "[D, heads * kernel_size]");
    break;
  case ConvVariant::dilated:
    convWeight = checkShape(op, "w_conv", getWConv(), {width, kernel},
                            "[D, kernel_size]");
    break;
  }
  if (failed(convWeight))
    return failure();
  return checkMask(op, "mask", getMask(), batch, length);
}

LogicalResult AttentionOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "query", getQuery(), 3, "[B, T, D]")) ||
      failed(checkRank(op, "memory", getMemory(), 3, "[B, S, D]")))
    return failure();
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  ArrayRef<int64_t> m = getMemory().getType().getShape();
  int64_t batch = join(q[0], m[0]), width = join(q[2], m[2]);
  if (failed(checkShape(op, "memory", getMemory(), {q[0], m[1], q[2]},
                        "[B, S, D]")) ||
      failed(checkHeads(op, width, getHeads())))
    return failure();
  for (auto [name, weight] :
       {std::pair{"w_q", getWQ()}, std::pair{"w_k", getWK()},
        std::pair{"w_v", getWV()}, std::pair{"w_o", getWO()}})
    if (failed(checkShape(op, name, weight, {width, width}, "[D, D]")))
      return failure();
  if (failed(checkMask(op, "key_mask", getKeyMask(), batch, m[1], "[B, S]")))
    return failure();
  if (getCausal() && !isDyn(q[1]) && !isDyn(m[1]) && q[1] > m[1])
    return emitOpError() << "causal attention needs no more queries than keys, "
                            "got T = "
                         << q[1] << " > S = " << m[1];
  return checkDropout(op, "attention dropout", getDropout().convertToDouble(),
                      getSeed() != nullptr);
}

LogicalResult FFNOp::verify() {
  Operation *op = getOperation();
  if (failed(checkMinRank(op, "input", getInput(), 1)) ||
      failed(checkRank(op, "w_1", getW_1(), 2, "[D, F]")))
    return failure();
  int64_t width = getInput().getType().getShape().back();
  int64_t hidden = getW_1().getType().getShape()[1];
  if (failed(checkShape(op, "w_1", getW_1(), {width, hidden}, "[D, F]")) ||
      failed(checkShape(op, "w_2", getW_2(), {hidden, width}, "[F, D]")))
    return failure();
  return checkDropout(op, "hidden dropout", getDropout().convertToDouble(),
                      getSeed() != nullptr);
}

//===----------------------------------------------------------------------===//
// Dense layers and element-wise ops
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto weight = cast<RankedTensorType>(adaptor.getWeight().getType());
  if (input.getRank() < 1 || weight.getRank() != 2)
    return emitOptionalError(location,
                             "'convseq.linear' expects an input of rank >= 1 "
                             "and a weight of rank 2, got ",
                             input, " and ", weight);
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(adaptor.getTransposeWeight() ? 0 : 1);
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult LinearOp::verify() {
  int64_t inputWidth = getInput().getType().getShape().back();
  ArrayRef<int64_t> w = getWeight().getType().getShape();
  int64_t contracted = getTransposeWeight() ? w[1] : w[0];
  if (!compatible(inputWidth, contracted))
    return emitOpError() << "input width " << inputWidth
                         << " does not match the weight's input dimension "
                         << contracted
                         << (getTransposeWeight() ? " (weight is [out, in])"
                                                  : " (weight is [in, out])");
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return checkMinRank(getOperation(), "input", getInput(), 1);
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

namespace {
/// The checks every depthwise convolution primitive shares: input `[B, L, D]`,
/// kernel width, dilation, heads (when the op has them) and the mask.
LogicalResult verifyConvPrimitive(Operation *op, Value input, Value mask,
                                  int64_t kernelSize, int64_t dilation,
                                  std::optional<int64_t> heads) {
  if (failed(checkRank(op, "input", input, 3, "[B, L, D]")) ||
      failed(checkConvAttrs(op, kernelSize, dilation)))
    return failure();
  ArrayRef<int64_t> shape = tensorType(input).getShape();
  if (heads && failed(checkHeads(op, shape[2], *heads)))
    return failure();
  return checkMask(op, "mask", mask, shape[0], shape[1]);
}
} // namespace

LogicalResult LightweightConvOp::verify() {
  int64_t kernelSize = getKernelSize(), heads = getHeads();
  if (failed(verifyConvPrimitive(getOperation(), getInput(), getMask(),
                                 kernelSize, /*dilation=*/1, heads)))
    return failure();
  return checkShape(getOperation(), "weight", getWeight(), {heads, kernelSize},
                    "[heads, kernel_size]");
}

LogicalResult DynamicConvOp::verify() {
  int64_t kernelSize = getKernelSize(), heads = getHeads();
  if (failed(verifyConvPrimitive(getOperation(), getInput(), getMask(),
                                 kernelSize, /*dilation=*/1, heads)))
    return failure();
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  return checkShape(getOperation(), "kernel", getKernel(),
                    {shape[0], shape[1], heads, kernelSize},
                    "[B, L, heads, kernel_size]");
}

LogicalResult ApplyMaskOp::verify() {
  Operation *op = getOperation();
  if (failed(checkRank(op, "input", getInput(), 3, "[B, L, D]")))
    return failure();
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  return checkMask(op, "mask", getMask(), shape[0], shape[1]);
}

LogicalResult DilatedConvOp::verify() {
  if (failed(verifyConvPrimitive(getOperation(), getInput(), getMask(),
                                 getKernelSize(), getDilation(),
                                 /*heads=*/std::nullopt)))
    return failure();
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  return checkShape(getOperation(), "weight", getWeight(),
                    {shape[2], static_cast<int64_t>(getKernelSize())},
                    "[D, kernel_size]");
}

//===----------------------------------------------------------------------===//
// Normalization, embedding, positions, dropout
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() {
  return verifyRMSNorm(getOperation(), getInput(), "scale", getScale(),
                       getEpsilon().convertToDouble());
}

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto ids = cast<RankedTensorType>(adaptor.getIds().getType());
  auto table = cast<RankedTensorType>(adaptor.getTable().getType());
  if (table.getRank() != 2)
    return emitOptionalError(location,
                             "'convseq.embedding' expects a table of shape "
                             "[V, D], got ",
                             table);
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  types.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}

LogicalResult AddPositionsOp::verify() {
  if (failed(checkRank(getOperation(), "input", getInput(), 3, "[B, L, D]")))
    return failure();
  int64_t width = getInput().getType().getDimSize(2);
  if (!isDyn(width) && (width % 2 != 0 || width < 4))
    return emitOpError() << "sinusoidal positions need an even width of at "
                            "least 4, got "
                         << width;
  return success();
}

LogicalResult DropoutOp::verify() {
  return checkDropout(getOperation(), "dropout rate",
                      getRate().convertToDouble(), /*hasRng=*/true);
}

//===----------------------------------------------------------------------===//
// Attention pieces
//===----------------------------------------------------------------------===//

LogicalResult SplitHeadsOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> location,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t heads = adaptor.getHeads();
  if (input.getRank() != 3 || heads <= 0)
    return emitOptionalError(location,
                             "'convseq.split_heads' expects an input of shape "
                             "[B, L, D] and a positive number of heads, got ",
                             input, " and ", heads);
  ArrayRef<int64_t> s = input.getShape();
  int64_t headWidth = isDyn(s[2]) ? kDyn : s[2] / heads;
  types.push_back(RankedTensorType::get({s[0], heads, s[1], headWidth},
                                        input.getElementType()));
  return success();
}

LogicalResult SplitHeadsOp::verify() {
  return checkHeads(getOperation(), getInput().getType().getDimSize(2),
                    getHeads());
}

LogicalResult MergeHeadsOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> location,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getRank() != 4)
    return emitOptionalError(location,
                             "'convseq.merge_heads' expects an input of shape "
                             "[B, H, L, E], got ",
                             input);
  ArrayRef<int64_t> s = input.getShape();
  int64_t width = isDyn(s[1]) || isDyn(s[3]) ? kDyn : s[1] * s[3];
  types.push_back(
      RankedTensorType::get({s[0], s[2], width}, input.getElementType()));
  return success();
}

LogicalResult DotProductAttentionOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto query = cast<RankedTensorType>(adaptor.getQuery().getType());
  auto value = cast<RankedTensorType>(adaptor.getValue().getType());
  if (query.getRank() != 4 || value.getRank() != 4)
    return emitOptionalError(location,
                             "'convseq.dot_product_attention' expects query "
                             "[B, H, T, E] and value [B, H, S, F], got ",
                             query, " and ", value);
  ArrayRef<int64_t> q = query.getShape();
  types.push_back(RankedTensorType::get({q[0], q[1], q[2], value.getDimSize(3)},
                                        query.getElementType()));
  return success();
}

double DotProductAttentionOp::getEffectiveScale() {
  return attentionScale(getScale(), getQuery());
}

/// The row kernels' rule: float elements, static heads (E and F) of at most
/// `maxHeadSize`, and a dynamic query count or one of at least `minRows`.
static bool fitsAttentionRowKernels(Value queryTensor, Value valueTensor,
                                    int64_t minRows, int64_t maxHeadSize) {
  auto query = cast<RankedTensorType>(queryTensor.getType());
  auto value = cast<RankedTensorType>(valueTensor.getType());
  if (!isa<FloatType>(query.getElementType()))
    return false;
  for (int64_t size : {query.getDimSize(3), value.getDimSize(3)})
    if (ShapedType::isDynamic(size) || size > maxHeadSize)
      return false;
  int64_t numQueries = query.getDimSize(2);
  return ShapedType::isDynamic(numQueries) || numQueries >= minRows;
}

bool DotProductAttentionOp::fitsRowKernels(int64_t minRows,
                                           int64_t maxHeadSize) {
  return fitsAttentionRowKernels(getQuery(), getValue(), minRows, maxHeadSize);
}

bool DotProductAttentionGradOp::fitsRowKernels(int64_t minRows,
                                               int64_t maxHeadSize) {
  return fitsAttentionRowKernels(getQuery(), getValue(), minRows, maxHeadSize);
}

LogicalResult DotProductAttentionOp::verify() {
  return verifyAttentionOperands(getOperation(), getQuery(), getKey(),
                                 getValue(), getKeyMask(), getScale(),
                                 getCausal(), getDropout().convertToDouble(),
                                 getSeed() != nullptr);
}

//===----------------------------------------------------------------------===//
// Token-level ops
//===----------------------------------------------------------------------===//

LogicalResult PaddingMaskOp::inferReturnTypes(MLIRContext *context,
                                              std::optional<Location>,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  auto ids = cast<RankedTensorType>(adaptor.getIds().getType());
  types.push_back(ids.clone(IntegerType::get(context, 1)));
  return success();
}

LogicalResult ShiftRightOp::verify() {
  return checkMinRank(getOperation(), "ids", getIds(), 1);
}

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location>,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  auto logits = cast<RankedTensorType>(adaptor.getLogits().getType());
  types.push_back(RankedTensorType::get({}, logits.getElementType()));
  return success();
}

LogicalResult CrossEntropyOp::verify() {
  return verifyCrossEntropy(getOperation(), getLogits(), getTargets(),
                            getLabelSmoothing().convertToDouble());
}

//===----------------------------------------------------------------------===//
// Builders shared by passes and the front end
//===----------------------------------------------------------------------===//

Value mlir::convseq::buildConvolution(OpBuilder &builder, Location loc,
                                      ConvVariant variant, Value glu,
                                      Value weight, Value mask,
                                      int64_t kernelSize, int64_t heads,
                                      int64_t dilation, bool causal) {
  switch (variant) {
  case ConvVariant::lightweight: {
    Value taps = SoftmaxOp::create(builder, loc, weight);
    return LightweightConvOp::create(builder, loc, glu, taps, mask, kernelSize,
                                     heads, causal);
  }
  case ConvVariant::dynamic: {
    // softmax_k(reshape(a W_K, [B, L, heads, k])) of the masked GLU output,
    // which the convolution then reads.
    if (mask)
      glu = ApplyMaskOp::create(builder, loc, glu, mask);
    auto gluType = cast<RankedTensorType>(glu.getType());
    Value logits = LinearOp::create(builder, loc, glu, weight);
    auto kernelType = RankedTensorType::get(
        {gluType.getDimSize(0), gluType.getDimSize(1), heads, kernelSize},
        gluType.getElementType());
    Value kernels = tensor::ExpandShapeOp::create(
        builder, loc, kernelType, logits,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    Value normalized = SoftmaxOp::create(builder, loc, kernels);
    return DynamicConvOp::create(builder, loc, glu, normalized, mask,
                                 kernelSize, heads, causal);
  }
  case ConvVariant::dilated:
    return DilatedConvOp::create(builder, loc, glu, weight, mask, kernelSize,
                                 dilation, causal);
  }
  llvm_unreachable("unknown conv variant");
}

#define GET_OP_CLASSES
#include "dialect/ConvSeqOps.cpp.inc"
