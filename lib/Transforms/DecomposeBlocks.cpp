//===- DecomposeBlocks.cpp - Block ops to convseq primitives --------------===//
//
// Rewrites convseq.conv_block, convseq.attention and convseq.ffn into the
// primitives that define them (spec sections 1-3).
//
//===----------------------------------------------------------------------===//

#include "lib/Transforms/Passes.h"

#include "dialect/ConvSeqOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_DECOMPOSEBLOCKSPASS
#include "lib/Transforms/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

//===----------------------------------------------------------------------===//
// Conversion patterns
//===----------------------------------------------------------------------===//

namespace {

Value linear(PatternRewriter &rewriter, Location loc, Value input,
             Value weight) {
  return LinearOp::create(rewriter, loc, input, weight).getResult();
}

struct DecomposeConvBlock : OpRewritePattern<ConvBlockOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvBlockOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value value = linear(rewriter, loc, op.getInput(), op.getWIn());
    Value gate = linear(rewriter, loc, op.getInput(), op.getWGate());
    Value glu = GLUOp::create(rewriter, loc, value, gate);

    Value conv = buildConvolution(
        rewriter, loc, op.getVariant(), glu, op.getWConv(), op.getMask(),
        op.getKernelSize(), op.getHeads(), op.getDilation(), op.getCausal());
    rewriter.replaceOp(op, linear(rewriter, loc, conv, op.getWOut()));
    return success();
  }
};

struct DecomposeAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (ShapedType::isDynamic(op.getQuery().getType().getDimSize(2)))
      return rewriter.notifyMatchFailure(
          op, "the head width, and so the score scale, must be static");
    Location loc = op.getLoc();
    int64_t heads = op.getHeads();
    auto project = [&](Value input, Value weight) -> Value {
      return SplitHeadsOp::create(rewriter, loc,
                                  linear(rewriter, loc, input, weight), heads);
    };
    Value query = project(op.getQuery(), op.getWQ());
    Value key = project(op.getMemory(), op.getWK());
    Value value = project(op.getMemory(), op.getWV());
    // The default scale of dot_product_attention is 1/sqrt(D/H).
    Value attended = DotProductAttentionOp::create(
        rewriter, loc, query, key, value, op.getKeyMask(), op.getSeed(),
        op.getStep(), /*scale=*/nullptr, op.getCausalAttr(),
        op.getDropoutAttr(), op.getStreamAttr());
    Value merged = MergeHeadsOp::create(rewriter, loc, attended);
    rewriter.replaceOp(op, linear(rewriter, loc, merged, op.getWO()));
    return success();
  }
};

struct DecomposeFFN : OpRewritePattern<FFNOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FFNOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value hidden = linear(rewriter, loc, op.getInput(), op.getW_1());
    switch (op.getActivation()) {
    case Activation::relu:
      hidden = ReluOp::create(rewriter, loc, hidden);
      break;
    case Activation::gelu:
      hidden = GeluOp::create(rewriter, loc, hidden);
      break;
    }
    if (!op.getDropout().isZero())
      hidden = DropoutOp::create(rewriter, loc, hidden, op.getSeed(),
                                 op.getStep(), op.getDropoutAttr(),
                                 op.getStreamAttr());
    rewriter.replaceOp(op, linear(rewriter, loc, hidden, op.getW_2()));
    return success();
  }
};

} // namespace

void mlir::convseq::populateDecomposeBlocksPatterns(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeConvBlock, DecomposeAttention, DecomposeFFN>(
      patterns.getContext());
}

//===----------------------------------------------------------------------===//
// Pass implementation
//===----------------------------------------------------------------------===//

namespace {
struct DecomposeBlocksPass
    : mlir::convseq::impl::DecomposeBlocksPassBase<DecomposeBlocksPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateDecomposeBlocksPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // A block op left over could not be decomposed; later passes only know
    // primitives, so that is an error here rather than there.
    WalkResult result = getOperation()->walk([](Operation *op) {
      if (!isa<ConvBlockOp, AttentionOp, FFNOp>(op))
        return WalkResult::advance();
      op->emitError("could not be decomposed into convseq primitives");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
