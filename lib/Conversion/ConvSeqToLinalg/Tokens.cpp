//===- Tokens.cpp - embedding (and its gradient), positions, masks, shifts ===//

#include "lib/Conversion/ConvSeqToLinalg/PopulatePatterns.h"
#include "lib/Conversion/ConvSeqToLinalg/Utils.h"

#include "dialect/ConvSeqOps.h"
#include "lib/Support/FlattenPositions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace mlir::convseq;
using namespace mlir::convseq::lowering;

namespace {

using utils::IteratorType;

/// result[..., d] = table[ids[...], d], a zero row for ids outside [0, V).
struct EmbeddingLowering : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value ids = adaptor.getIds(), table = adaptor.getTable();
    unsigned idRank = cast<RankedTensorType>(ids.getType()).getRank();
    Type elementType = cast<RankedTensorType>(table.getType()).getElementType();
    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, ids);
    sizes.push_back(getSizes(rewriter, loc, table)[1]);
    Value vocab = tensor::DimOp::create(rewriter, loc, table, 0);

    SmallVector<AffineExpr> idExprs;
    for (unsigned d = 0; d < idRank; ++d)
      idExprs.push_back(getAffineDimExpr(d, ctx));
    AffineMap idMap = AffineMap::get(idRank + 1, 0, idExprs, ctx);
    AffineMap outMap = AffineMap::getMultiDimIdentityMap(idRank + 1, ctx);
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, loc, ids,
                createEmpty(rewriter, loc, sizes, elementType), {idMap, outMap},
                SmallVector<IteratorType>(idRank + 1, IteratorType::parallel),
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value id = arith::IndexCastOp::create(b, l, b.getIndexType(),
                                                        args[0]);
                  Value zero = arith::ConstantIndexOp::create(b, l, 0);
                  Value inRange = arith::AndIOp::create(
                      b, l,
                      arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, id,
                                            zero),
                      arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, id,
                                            vocab));
                  Value row = arith::SelectOp::create(b, l, inRange, id, zero);
                  Value column = linalg::IndexOp::create(b, l, idRank);
                  Value element = tensor::ExtractOp::create(
                      b, l, table, ValueRange{row, column});
                  return SmallVector<Value>{arith::SelectOp::create(
                      b, l, inRange, element,
                      floatConstant(b, l, elementType, 0.0))};
                }));
    return success();
  }
};

/// dE[v, :] = sum of dy[p, :] over the positions p with ids[p] == v: a
/// serial loop over the positions that adds each row of dy into its row of
/// dE in place (the rows of one id must not race); ids outside [0, V) are
/// skipped. It is B L D additions, negligible next to the matrix products.
struct EmbeddingGradLowering : OpConversionPattern<EmbeddingGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(EmbeddingGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value ids = adaptor.getIds(), dy = adaptor.getResultGrad();
    auto idType = cast<RankedTensorType>(ids.getType());
    auto tableType = cast<RankedTensorType>(op.getType());
    Type elementType = tableType.getElementType();
    unsigned idRank = idType.getRank();
    if (idRank == 0 || tableType.isDynamicDim(1))
      return rewriter.notifyMatchFailure(
          op, "needs at least one id dimension and a static width");

    flattenPositions(rewriter, loc, ids, dy);
    SmallVector<OpFoldResult> tableSizes = {
        rewriter.getIndexAttr(tableType.getDimSize(0)),
        getSizes(rewriter, loc, dy)[1]};
    Value zeros = createFilled(rewriter, loc, tableSizes, elementType, 0.0);
    Value vocab =
        arith::ConstantIndexOp::create(rewriter, loc, tableType.getDimSize(0));
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value count = tensor::DimOp::create(rewriter, loc, ids, 0);
    OpFoldResult width = tableSizes[1];
    auto rowType =
        RankedTensorType::get({tableType.getDimSize(1)}, elementType);

    auto loop = scf::ForOp::create(
        rewriter, loc, zero, count, one, ValueRange{zeros},
        [&](OpBuilder &b, Location l, Value position, ValueRange acc) {
          Value id = arith::IndexCastOp::create(
              b, l, b.getIndexType(),
              tensor::ExtractOp::create(b, l, ids, position));
          Value inRange = arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, id, zero),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, id,
                                    vocab));
          auto branch = scf::IfOp::create(
              b, l, inRange,
              [&](OpBuilder &tb, Location tl) {
                SmallVector<OpFoldResult> unit = {tb.getIndexAttr(1),
                                                  tb.getIndexAttr(1)};
                SmallVector<OpFoldResult> rowSizes = {tb.getIndexAttr(1),
                                                      width};
                Value source = tensor::ExtractSliceOp::create(
                    tb, tl, rowType, dy,
                    ArrayRef<OpFoldResult>{position, tb.getIndexAttr(0)},
                    rowSizes, unit);
                SmallVector<OpFoldResult> target = {id, tb.getIndexAttr(0)};
                Value row = tensor::ExtractSliceOp::create(
                    tb, tl, rowType, acc[0], target, rowSizes, unit);
                Value sum = buildElementwise(
                    tb, tl, {row, source}, row,
                    [](OpBuilder &nb, Location nl, ValueRange args) {
                      return SmallVector<Value>{
                          arith::AddFOp::create(nb, nl, args[0], args[1])};
                    });
                scf::YieldOp::create(
                    tb, tl,
                    tensor::InsertSliceOp::create(tb, tl, sum, acc[0], target,
                                                  rowSizes, unit)
                        .getResult());
              },
              [&](OpBuilder &eb, Location el) {
                scf::YieldOp::create(eb, el, acc[0]);
              });
          scf::YieldOp::create(b, l, branch.getResults());
        });
    rewriter.replaceOp(op, loop.getResults());
    return success();
  }
};

/// x + PE(offset + i, c): sin(t / 10000^(c / (D/2 - 1))) for c < D/2, the
/// matching cos for channel D/2 + c.
struct AddPositionsLowering : OpConversionPattern<AddPositionsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AddPositionsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    int64_t width = type.getDimSize(2);
    if (ShapedType::isDynamic(width))
      return rewriter.notifyMatchFailure(op, "model width must be static");
    Type elementType = type.getElementType();
    int64_t half = width / 2;
    Value offset = adaptor.getOffset();
    Value init =
        createEmpty(rewriter, loc, getSizes(rewriter, loc, input), elementType);
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, loc, input, init,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value position = linalg::IndexOp::create(b, l, 1);
                  if (offset)
                    position = arith::AddIOp::create(b, l, position, offset);
                  Value channel = linalg::IndexOp::create(b, l, 2);
                  Value halfIndex = arith::ConstantIndexOp::create(b, l, half);
                  Value isSin = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::slt, channel, halfIndex);
                  Value local = arith::SelectOp::create(
                      b, l, isSin, channel,
                      arith::SubIOp::create(b, l, channel, halfIndex));
                  // t * exp(-ln(10000) * c / (D/2 - 1))
                  Value exponent = arith::MulFOp::create(
                      b, l, indexToFloat(b, l, local, elementType),
                      floatConstant(b, l, elementType,
                                    -std::log(10000.0) / double(half - 1)));
                  Value angle = arith::MulFOp::create(
                      b, l, indexToFloat(b, l, position, elementType),
                      math::ExpOp::create(b, l, exponent));
                  Value encoding = arith::SelectOp::create(
                      b, l, isSin, math::SinOp::create(b, l, angle),
                      math::CosOp::create(b, l, angle));
                  return SmallVector<Value>{
                      arith::AddFOp::create(b, l, args[0], encoding)};
                }));
    return success();
  }
};

struct PaddingMaskLowering : OpConversionPattern<PaddingMaskOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PaddingMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value ids = adaptor.getIds();
    Value init = createEmpty(rewriter, loc, getSizes(rewriter, loc, ids),
                             rewriter.getI1Type());
    int64_t padId = op.getPadId();
    rewriter.replaceOp(
        op,
        buildElementwise(rewriter, loc, ids, init,
                         [&](OpBuilder &b, Location l, ValueRange args) {
                           Value pad =
                               intConstant(b, l, args[0].getType(), padId);
                           return SmallVector<Value>{arith::CmpIOp::create(
                               b, l, arith::CmpIPredicate::ne, args[0], pad)};
                         }));
    return success();
  }
};

/// result[..., 0] = start, result[..., t] = ids[..., t - 1]: the start id
/// filled in, and ids[..., :T-1] inserted at offset 1. Data movement only:
/// an element-wise op reading ids[..., t - 1] with tensor.extract fuses into
/// its consumer's tiles as a gather, which upstream's vectorizer cannot
/// emit for a single element.
struct ShiftRightLowering : OpConversionPattern<ShiftRightOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ShiftRightOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value ids = adaptor.getIds();
    auto type = cast<RankedTensorType>(ids.getType());
    unsigned rank = type.getRank();
    SmallVector<OpFoldResult> sizes = getSizes(rewriter, loc, ids);
    Value filled =
        linalg::FillOp::create(
            rewriter, loc,
            intConstant(rewriter, loc, type.getElementType(), op.getStartId()),
            createEmpty(rewriter, loc, sizes, type.getElementType()))
            .getResult(0);

    // All but the last position, max(T - 1, 0) of them.
    Value length = getValueOrCreateConstantIndexOp(rewriter, loc, sizes.back());
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value kept = arith::MaxSIOp::create(
        rewriter, loc, arith::SubIOp::create(rewriter, loc, length, one),
        arith::ConstantIndexOp::create(rewriter, loc, 0));
    SmallVector<OpFoldResult> keptSizes(sizes);
    keptSizes.back() = kept;
    SmallVector<OpFoldResult> zeros(rank, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> ones(rank, rewriter.getIndexAttr(1));
    Value previous = tensor::ExtractSliceOp::create(rewriter, loc, ids, zeros,
                                                    keptSizes, ones);
    SmallVector<OpFoldResult> offsets(zeros);
    offsets.back() = rewriter.getIndexAttr(1);
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        op, previous, filled, offsets, keptSizes, ones);
    return success();
  }
};

} // namespace

void lowering::populateTokenPatterns(RewritePatternSet &patterns) {
  patterns.add<EmbeddingLowering, EmbeddingGradLowering, AddPositionsLowering,
               PaddingMaskLowering, ShiftRightLowering>(patterns.getContext());
}
