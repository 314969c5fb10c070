//===- DistributeWorksharingLoops.cpp - Static schedules without a call ---===//
//
// Each thread of a parallel region computes its own contiguous share of a
// worksharing loop's iterations and runs them as a plain loop: no call to
// the OpenMP runtime's loop scheduler and no barrier before the region's.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_DISTRIBUTEWORKSHARINGLOOPSPASS
#include "lib/CodeGen/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The OpenMP runtime functions that tell a thread who it is.
constexpr llvm::StringLiteral kThreadNum = "omp_get_thread_num";
constexpr llvm::StringLiteral kNumThreads = "omp_get_num_threads";

/// The loop nest of `loop` if `loop` is a worksharing loop this pass can
/// distribute: a static schedule (the default) with no other clause, the
/// last op of its parallel region (whose closing barrier then also ends
/// the loop), around an exclusive, untiled loop nest of one block.
omp::LoopNestOp distributableNest(omp::WsloopOp loop) {
  if (loop->getNumOperands() != 0 || loop.getScheduleKind() ||
      loop.getOrder() || loop.getOrdered() || loop.getReductionSyms() ||
      loop.getPrivateSyms() || loop.getLinearVarTypes())
    return nullptr;
  if (!isa_and_present<omp::ParallelOp>(loop->getParentOp()) ||
      !isa<omp::TerminatorOp>(loop->getNextNode()))
    return nullptr;
  auto nest = dyn_cast<omp::LoopNestOp>(loop.getWrappedLoop());
  if (!nest || nest.getLoopInclusive() || nest.getTileSizes() ||
      !nest.getRegion().hasOneBlock())
    return nullptr;
  return nest;
}

/// `func.func private @name() -> i32`, declared in `module` once.
func::FuncOp getOrDeclare(ModuleOp module, StringRef name) {
  if (auto func = module.lookupSymbol<func::FuncOp>(name))
    return func;
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  auto func =
      func::FuncOp::create(builder, module.getLoc(), name,
                           builder.getFunctionType({}, {builder.getI32Type()}));
  func.setPrivate();
  return func;
}

/// The index value of a call to the runtime's `func`.
Value callIndex(RewriterBase &rewriter, Location loc, func::FuncOp func) {
  Value result = func::CallOp::create(rewriter, loc, func).getResult(0);
  return arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                    result);
}

/// Replaces `loop` by the share of its iterations that the calling thread
/// runs under the static schedule: with q = n / threads and r = n mod
/// threads, thread t runs iterations t q + min(t, r) up to the next
/// thread's first, of the nest's iterations numbered row-major.
void distribute(RewriterBase &rewriter, omp::WsloopOp loop,
                omp::LoopNestOp nest, func::FuncOp threadNum,
                func::FuncOp numThreads) {
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  Value thread = callIndex(rewriter, loc, threadNum);
  Value threads = callIndex(rewriter, loc, numThreads);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);

  SmallVector<Value> trips;
  Value total = one;
  for (auto [lower, upper, step] :
       llvm::zip_equal(nest.getLoopLowerBounds(), nest.getLoopUpperBounds(),
                       nest.getLoopSteps())) {
    Value length = arith::SubIOp::create(rewriter, loc, upper, lower);
    Value count = arith::CeilDivSIOp::create(rewriter, loc, length, step);
    count = arith::MaxSIOp::create(rewriter, loc, count, zero);
    trips.push_back(count);
    total = arith::MulIOp::create(rewriter, loc, total, count);
  }
  Value share = arith::DivUIOp::create(rewriter, loc, total, threads);
  Value extra = arith::RemUIOp::create(rewriter, loc, total, threads);
  Value begin = arith::AddIOp::create(
      rewriter, loc, arith::MulIOp::create(rewriter, loc, thread, share),
      arith::MinUIOp::create(rewriter, loc, thread, extra));
  Value hasExtra = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::ult, thread, extra);
  Value end = arith::AddIOp::create(
      rewriter, loc, arith::AddIOp::create(rewriter, loc, begin, share),
      arith::SelectOp::create(rewriter, loc, hasExtra, one, zero));

  auto serial = scf::ForOp::create(rewriter, loc, begin, end, one);
  rewriter.setInsertionPointToStart(serial.getBody());
  // The iteration number back to the nest's induction variables, the last
  // one varying fastest.
  SmallVector<Value> ivs(trips.size());
  Value rest = serial.getInductionVar();
  for (int64_t d = trips.size() - 1; d >= 0; --d) {
    Value index =
        d == 0
            ? rest
            : arith::RemUIOp::create(rewriter, loc, rest, trips[d]).getResult();
    if (d != 0)
      rest = arith::DivUIOp::create(rewriter, loc, rest, trips[d]);
    Value offset =
        arith::MulIOp::create(rewriter, loc, index, nest.getLoopSteps()[d]);
    ivs[d] = arith::AddIOp::create(rewriter, loc, nest.getLoopLowerBounds()[d],
                                   offset);
  }
  Block &body = nest.getRegion().front();
  auto yield = cast<omp::YieldOp>(body.getTerminator());
  rewriter.eraseOp(yield);
  rewriter.eraseOp(serial.getBody()->getTerminator());
  rewriter.inlineBlockBefore(&body, serial.getBody(), serial.getBody()->end(),
                             ivs);
  rewriter.setInsertionPointToEnd(serial.getBody());
  scf::YieldOp::create(rewriter, loc);
  rewriter.eraseOp(loop);
}

struct DistributeWorksharingLoopsPass
    : mlir::convseq::impl::DistributeWorksharingLoopsPassBase<
          DistributeWorksharingLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<omp::WsloopOp, omp::LoopNestOp>> loops;
    module.walk([&](omp::WsloopOp loop) {
      if (omp::LoopNestOp nest = distributableNest(loop))
        loops.push_back({loop, nest});
    });
    if (loops.empty())
      return;
    func::FuncOp threadNum = getOrDeclare(module, kThreadNum);
    func::FuncOp numThreads = getOrDeclare(module, kNumThreads);
    IRRewriter rewriter(&getContext());
    for (auto [loop, nest] : loops)
      distribute(rewriter, loop, nest, threadNum, numThreads);
  }
};

} // namespace
