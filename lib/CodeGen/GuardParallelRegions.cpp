//===- GuardParallelRegions.cpp - Fork threads only when it pays ----------===//
//
// Gives each OpenMP parallel region an `if` clause comparing an estimate of
// its work with a threshold. A region below it runs on the calling thread:
// the other threads are not woken and there is no barrier to wait at.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::convseq {
#define GEN_PASS_DEF_GUARDPARALLELREGIONSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The width of the vector registers the work is counted in.
constexpr int64_t kRegisterBits = 512;

/// Products and sums of operation counts (never negative), held at the
/// largest int64_t instead of wrapping around.
int64_t mulCounts(int64_t lhs, int64_t rhs) {
  return std::min<uint64_t>(llvm::SaturatingMultiply<uint64_t>(lhs, rhs),
                            std::numeric_limits<int64_t>::max());
}
int64_t addCounts(int64_t lhs, int64_t rhs) {
  return std::min<uint64_t>(llvm::SaturatingAdd<uint64_t>(lhs, rhs),
                            std::numeric_limits<int64_t>::max());
}

/// Builds, before a parallel region, the number of operations one thread
/// would execute to run all of it: each operation counts once per iteration
/// of the loops around it, a vector operation once per 512-bit register. Trip
/// counts known at compile time are folded; those set by values from before the
/// region are computed at run time; a loop bounded by the region's own loop
/// variables counts its largest trip count. Anything else (calls, loops of
/// unknown length, copies of unknown size) makes the work unknown.
class WorkEstimate {
public:
  WorkEstimate(omp::ParallelOp region) : region(region), builder(region) {
    builder.setListener(&created);
  }

  /// The work of `region`, or failure; on failure nothing built is left.
  FailureOr<OpFoldResult> build() {
    FailureOr<OpFoldResult> work = regionWork(region.getRegion());
    if (failed(work))
      for (Operation *op : llvm::reverse(created.ops))
        op->erase();
    return work;
  }

  /// The ops built in front of the region.
  OpBuilder &getBuilder() { return builder; }

private:
  struct Recorder : OpBuilder::Listener {
    void notifyOperationInserted(Operation *op,
                                 OpBuilder::InsertPoint) override {
      ops.push_back(op);
    }
    SmallVector<Operation *> ops;
  };

  Location loc() { return region.getLoc(); }

  OpFoldResult add(OpFoldResult lhs, OpFoldResult rhs) {
    std::optional<int64_t> l = getConstantIntValue(lhs);
    std::optional<int64_t> r = getConstantIntValue(rhs);
    if (l && r)
      return builder.getIndexAttr(addCounts(*l, *r));
    return builder.createOrFold<arith::AddIOp>(loc(), value(lhs), value(rhs));
  }

  OpFoldResult mul(OpFoldResult lhs, OpFoldResult rhs) {
    std::optional<int64_t> l = getConstantIntValue(lhs);
    std::optional<int64_t> r = getConstantIntValue(rhs);
    if (l && r)
      return builder.getIndexAttr(mulCounts(*l, *r));
    if ((l && *l == 1) || (r && *r == 1))
      return l ? rhs : lhs;
    return builder.createOrFold<arith::MulIOp>(loc(), value(lhs), value(rhs));
  }

  OpFoldResult max(OpFoldResult lhs, OpFoldResult rhs) {
    std::optional<int64_t> l = getConstantIntValue(lhs);
    std::optional<int64_t> r = getConstantIntValue(rhs);
    if (l && r)
      return builder.getIndexAttr(std::max(*l, *r));
    return builder.createOrFold<arith::MaxSIOp>(loc(), value(lhs), value(rhs));
  }

  Value value(OpFoldResult work) {
    return getValueOrCreateConstantIndexOp(builder, loc(), work);
  }

  /// Whether `value` is defined before the region, so that work depending
  /// on it can be computed there.
  bool isDefinedBefore(Value value) const {
    return !region->isAncestor(value.getParentRegion()->getParentOp());
  }

  /// The iterations of a loop from `lower` to `upper` by `step`.
  FailureOr<OpFoldResult> tripCount(OpFoldResult lower, OpFoldResult upper,
                                    OpFoldResult step) {
    std::optional<int64_t> constantStep = getConstantIntValue(step);
    if (!constantStep || *constantStep <= 0)
      return failure();
    std::optional<int64_t> constantLower = getConstantIntValue(lower);
    std::optional<int64_t> constantUpper = getConstantIntValue(upper);
    if (constantLower && constantUpper)
      return OpFoldResult(builder.getIndexAttr(
          std::max<int64_t>(0, llvm::divideCeil(*constantUpper - *constantLower,
                                                *constantStep))));
    auto isBefore = [&](OpFoldResult bound) {
      auto value = dyn_cast<Value>(bound);
      return !value || isDefinedBefore(value);
    };
    if (isBefore(lower) && isBefore(upper)) {
      Value length =
          arith::SubIOp::create(builder, loc(), value(upper), value(lower));
      Value trips = arith::CeilDivSIOp::create(
          builder, loc(), length,
          arith::ConstantIndexOp::create(builder, loc(), *constantStep));
      return OpFoldResult(arith::MaxSIOp::create(
          builder, loc(), trips,
          arith::ConstantIndexOp::create(builder, loc(), 0)));
    }
    // Bounded by the region's own loop variables (a partial last tile):
    // the largest trip count.
    FailureOr<int64_t> largest = ValueBoundsConstraintSet::computeConstantBound(
        presburger::BoundType::UB, ValueBoundsConstraintSet::Variable(upper),
        /*stopCondition=*/nullptr, /*closedUB=*/true);
    FailureOr<int64_t> smallest =
        ValueBoundsConstraintSet::computeConstantBound(
            presburger::BoundType::LB,
            ValueBoundsConstraintSet::Variable(lower));
    if (failed(largest) || failed(smallest))
      return failure();
    return OpFoldResult(builder.getIndexAttr(std::max<int64_t>(
        0, llvm::divideCeil(*largest - *smallest, *constantStep))));
  }

  /// The iterations of a loop nest with these bounds.
  FailureOr<OpFoldResult> nestTripCount(ValueRange lowers, ValueRange uppers,
                                        ValueRange steps) {
    OpFoldResult total = builder.getIndexAttr(1);
    for (auto [lower, upper, step] : llvm::zip_equal(lowers, uppers, steps)) {
      FailureOr<OpFoldResult> trips =
          tripCount(getAsOpFoldResult(lower), getAsOpFoldResult(upper),
                    getAsOpFoldResult(step));
      if (failed(trips))
        return failure();
      total = mul(total, *trips);
    }
    return total;
  }

  FailureOr<OpFoldResult> regionWork(Region &body) {
    OpFoldResult total = builder.getIndexAttr(0);
    for (Block &block : body) {
      for (Operation &op : block) {
        FailureOr<OpFoldResult> work = opWork(&op);
        if (failed(work))
          return failure();
        total = add(total, *work);
      }
    }
    return total;
  }

  /// `trips` executions of `body`.
  FailureOr<OpFoldResult> repeated(FailureOr<OpFoldResult> trips,
                                   Region &body) {
    if (failed(trips))
      return failure();
    FailureOr<OpFoldResult> work = regionWork(body);
    if (failed(work))
      return failure();
    return mul(*trips, *work);
  }

  FailureOr<OpFoldResult> opWork(Operation *op) {
    if (auto loop = dyn_cast<scf::ForOp>(op))
      return repeated(tripCount(getAsOpFoldResult(loop.getLowerBound()),
                                getAsOpFoldResult(loop.getUpperBound()),
                                getAsOpFoldResult(loop.getStep())),
                      loop.getRegion());
    if (auto loop = dyn_cast<scf::ParallelOp>(op))
      return repeated(nestTripCount(loop.getLowerBound(), loop.getUpperBound(),
                                    loop.getStep()),
                      loop.getRegion());
    if (auto nest = dyn_cast<omp::LoopNestOp>(op))
      return repeated(nestTripCount(nest.getLoopLowerBounds(),
                                    nest.getLoopUpperBounds(),
                                    nest.getLoopSteps()),
                      nest.getRegion());
    if (auto branch = dyn_cast<scf::IfOp>(op)) {
      FailureOr<OpFoldResult> thenWork = regionWork(branch.getThenRegion());
      FailureOr<OpFoldResult> elseWork = regionWork(branch.getElseRegion());
      if (failed(thenWork) || failed(elseWork))
        return failure();
      return max(*thenWork, *elseWork);
    }
    if (isa<omp::WsloopOp, memref::AllocaScopeOp, scf::ExecuteRegionOp>(op))
      return regionWork(op->getRegion(0));
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
      int64_t work = llvm::range_size(linalgOp.getBlock()->getOperations());
      for (int64_t range : linalgOp.getStaticLoopRanges()) {
        if (ShapedType::isDynamic(range))
          return failure();
        work = mulCounts(work, range);
      }
      return OpFoldResult(builder.getIndexAttr(work));
    }
    if (auto copy = dyn_cast<memref::CopyOp>(op)) {
      auto type = cast<MemRefType>(copy.getSource().getType());
      if (!type.hasStaticShape())
        return failure();
      return OpFoldResult(builder.getIndexAttr(type.getNumElements()));
    }
    if (op->getNumRegions() != 0 || isa<CallOpInterface>(op))
      return failure();
    // A vector op is as many operations as its widest vector fills 512-bit
    // registers: a 64-lane f32 FMA is four.
    int64_t registers = 1;
    auto count = [&](Type type) {
      auto vector = dyn_cast<VectorType>(type);
      if (!vector)
        return;
      Type element = vector.getElementType();
      int64_t bits = element.isIntOrFloat() ? element.getIntOrFloatBitWidth()
                                            : 64; // index
      registers = std::max<int64_t>(
          registers,
          llvm::divideCeil(vector.getNumElements() * bits, kRegisterBits));
    };
    llvm::for_each(op->getOperandTypes(), count);
    llvm::for_each(op->getResultTypes(), count);
    return OpFoldResult(builder.getIndexAttr(registers));
  }

  omp::ParallelOp region;
  OpBuilder builder;
  Recorder created;
};

struct GuardParallelRegionsPass
    : mlir::convseq::impl::GuardParallelRegionsPassBase<
          GuardParallelRegionsPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation().walk([&](omp::ParallelOp region) {
      if (region.getIfExpr())
        return;
      WorkEstimate estimate(region);
      FailureOr<OpFoldResult> work = estimate.build();
      if (failed(work))
        return;
      std::optional<int64_t> constantWork = getConstantIntValue(*work);
      if (constantWork && *constantWork >= minWork)
        return;
      OpBuilder &b = estimate.getBuilder();
      Location loc = region.getLoc();
      Value enough;
      if (constantWork) {
        enough = arith::ConstantIntOp::create(b, loc, /*value=*/0, /*width=*/1);
      } else {
        enough = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::sge, cast<Value>(*work),
            arith::ConstantIndexOp::create(b, loc, minWork));
      }
      region.getIfExprMutable().assign(enough);
    });
  }
};

} // namespace
