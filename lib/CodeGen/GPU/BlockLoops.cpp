//===- BlockLoops.cpp - Builders of the block-level form of GPU kernels ---===//

#include "lib/CodeGen/GPU/BlockLoops.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::convseq;

SmallVector<Value> convseq::loopSizes(OpBuilder &b, linalg::LinalgOp op) {
  SmallVector<Value> sizes;
  for (Range range : op.createLoopRanges(b, op.getLoc()))
    sizes.push_back(
        getValueOrCreateConstantIndexOp(b, op.getLoc(), range.size));
  return sizes;
}

Value convseq::tileCount(OpBuilder &b, Location loc, Value size, int64_t tile) {
  return b.createOrFold<arith::CeilDivUIOp>(loc, size,
                                            indexConstant(b, loc, tile));
}

scf::ParallelOp
convseq::buildBlockLoop(OpBuilder &b, Location loc, Value blocks,
                        function_ref<void(OpBuilder &, Location, Value)> body) {
  auto loop = scf::ParallelOp::create(
      b, loc, ValueRange{indexConstant(b, loc, 0)}, ValueRange{blocks},
      ValueRange{indexConstant(b, loc, 1)},
      [&](OpBuilder &nested, Location l, ValueRange ivs) {
        body(nested, l, ivs.front());
      });
  loop->setAttr(kBlockLoop, b.getUnitAttr());
  return loop;
}

void convseq::buildThreadLoop(
    OpBuilder &b, Location loc, int64_t threads,
    function_ref<void(OpBuilder &, Location, Value)> body) {
  auto loop = scf::ParallelOp::create(
      b, loc, ValueRange{indexConstant(b, loc, 0)},
      ValueRange{indexConstant(b, loc, threads)},
      ValueRange{indexConstant(b, loc, 1)},
      [&](OpBuilder &nested, Location l, ValueRange ivs) {
        body(nested, l, ivs.front());
      });
  loop->setAttr(kThreadLoop, b.getUnitAttr());
}

Value convseq::allocBlockBuffer(OpBuilder &b, Location loc,
                                ArrayRef<int64_t> shape, Type element,
                                StringRef space) {
  auto buffer =
      memref::AllocOp::create(b, loc, MemRefType::get(shape, element));
  buffer->setAttr(kMemorySpace, b.getStringAttr(space));
  return buffer;
}

Value convseq::loadOrZero(OpBuilder &b, Location loc, Value buffer,
                          ValueRange indices, Value inBounds) {
  Type element = getElementTypeOrSelf(buffer.getType());
  auto select = scf::IfOp::create(
      b, loc, inBounds,
      [&](OpBuilder &then, Location l) {
        Value element =
            isa<RankedTensorType>(buffer.getType())
                ? tensor::ExtractOp::create(then, l, buffer, indices)
                      .getResult()
                : memref::LoadOp::create(then, l, buffer, indices).getResult();
        scf::YieldOp::create(then, l, ValueRange{element});
      },
      [&](OpBuilder &otherwise, Location l) {
        scf::YieldOp::create(
            otherwise, l,
            ValueRange{arith::ConstantOp::create(
                otherwise, l, otherwise.getZeroAttr(element))});
      });
  return select.getResult(0);
}

Value convseq::rootBuffer(Value view) {
  while (auto viewLike = view.getDefiningOp<ViewLikeOpInterface>())
    view = viewLike.getViewSource();
  return view;
}

Value convseq::isBelow(OpBuilder &b, Location loc, Value index, Value bound) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index, bound);
}

Value convseq::applyBody(OpBuilder &b, Block &body, ValueRange args) {
  IRMapping mapping;
  mapping.map(body.getArguments(), args);
  for (Operation &nested : body.without_terminator())
    b.clone(nested, mapping);
  return mapping.lookupOrDefault(body.getTerminator()->getOperand(0));
}

SmallVector<Value> convseq::applyIndexingMap(OpBuilder &b, Location loc,
                                             AffineMap map,
                                             ArrayRef<Value> indices) {
  SmallVector<Value> result;
  for (unsigned i = 0, e = map.getNumResults(); i < e; ++i) {
    if (auto dim = dyn_cast<AffineDimExpr>(map.getResult(i)))
      result.push_back(indices[dim.getPosition()]);
    else
      result.push_back(affine::makeComposedAffineApply(
          b, loc, map.getSubMap({i}), getAsOpFoldResult(indices)));
  }
  return result;
}

bool convseq::isBinaryFloatBufferOp(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return false;
  Type element = getElementTypeOrSelf(op.getDpsInits()[0].getType());
  return isa<FloatType>(element) &&
         llvm::all_of(op->getOperands(), [&](Value operand) {
           return isa<MemRefType>(operand.getType()) &&
                  getElementTypeOrSelf(operand.getType()) == element;
         });
}

Value convseq::linearizedSize(OpBuilder &b, Location loc, ArrayRef<Value> sizes,
                              ArrayRef<unsigned> dims) {
  Value size = indexConstant(b, loc, 1);
  for (unsigned dim : dims)
    size = b.createOrFold<arith::MulIOp>(loc, size, sizes[dim]);
  return size;
}

void convseq::delinearizeInto(OpBuilder &b, Location loc, Value linear,
                              ArrayRef<Value> sizes, ArrayRef<unsigned> dims,
                              MutableArrayRef<Value> indices) {
  if (dims.size() == 1) {
    indices[dims.front()] = linear;
    return;
  }
  SmallVector<OpFoldResult> basis;
  for (unsigned dim : dims)
    basis.push_back(sizes[dim]);
  auto split = affine::AffineDelinearizeIndexOp::create(b, loc, linear, basis);
  for (auto [dim, index] : llvm::zip(dims, split.getResults()))
    indices[dim] = index;
}

linalg::FillOp convseq::findInitFill(linalg::LinalgOp op, unsigned init) {
  Value out = op.getDpsInits()[init];
  if (!out.getDefiningOp<memref::AllocOp>())
    return {};
  linalg::FillOp fill;
  for (Operation *user : out.getUsers()) {
    if (user == op.getOperation())
      continue;
    Operation *ancestor = op->getBlock()->findAncestorOpInBlock(*user);
    if (!ancestor)
      return {};
    if (op->isBeforeInBlock(ancestor))
      continue;
    auto candidate = dyn_cast<linalg::FillOp>(user);
    if (!candidate || user != ancestor || fill ||
        candidate.getDpsInits()[0] != out ||
        candidate.getInputs()[0].getType() !=
            getElementTypeOrSelf(out.getType()))
      return {};
    fill = candidate;
  }
  return fill;
}

FailureOr<SmallVector<Operation *>>
convseq::matchReductionCombiners(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumReductionLoops() == 0)
    return failure();
  Block *body = op.getBlock();
  WalkResult writes = body->walk([](Operation *nested) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(nested);
    if (effects ? effects.hasEffect<MemoryEffects::Write>()
                : !nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (writes.wasInterrupted())
    return failure();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<Operation *> combiners;
  for (auto [index, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    for (auto [dim, iterator] : llvm::enumerate(iterators))
      if (iterator == utils::IteratorType::reduction &&
          map.isFunctionOfDim(dim))
        return failure();
    SmallVector<Operation *> ops;
    BlockArgument output = op.getMatchingBlockArgument(&init);
    if (!mlir::matchReduction(op.getRegionOutputArgs(), index, ops) ||
        ops.size() != 1 || !output.hasOneUse() ||
        !arith::getNeutralElement(ops.front()))
      return failure();
    combiners.push_back(ops.front());
  }
  return combiners;
}

Value convseq::applyCombiner(OpBuilder &b, Operation *combiner, Value output,
                             Value acc, Value value) {
  IRMapping mapping;
  for (Value operand : combiner->getOperands())
    mapping.map(operand, operand == output ? acc : value);
  return b.clone(*combiner, mapping)->getResult(0);
}

SmallVector<Value> convseq::applyBodyAt(OpBuilder &b, Location loc,
                                        linalg::LinalgOp op,
                                        ArrayRef<Value> indices,
                                        ValueRange outputs,
                                        ArrayRef<Value> known) {
  IRMapping mapping;
  for (auto [i, input] : llvm::enumerate(op.getDpsInputOperands())) {
    Value value = input->get();
    if (i < known.size() && known[i])
      value = known[i];
    else if (isa<MemRefType>(value.getType()))
      value = memref::LoadOp::create(
          b, loc, value,
          applyIndexingMap(b, loc, op.getMatchingIndexingMap(input), indices));
    mapping.map(op.getMatchingBlockArgument(input), value);
  }
  mapping.map(op.getRegionOutputArgs(), outputs);
  Block *body = op.getBlock();
  for (Operation &nested : body->without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(nested))
      mapping.map(index.getResult(), indices[index.getDim()]);
    else
      b.clone(nested, mapping);
  }
  SmallVector<Value> results;
  for (Value value : body->getTerminator()->getOperands())
    results.push_back(mapping.lookupOrDefault(value));
  return results;
}
