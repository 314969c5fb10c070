//===- TileGPUConvolutions.cpp - Sequence tiles for depthwise convs -------===//
//
// A depthwise convolution on buffers (out[.., p, c] += seq[.., p + s j + o,
// c] * taps(.., p, c, j) over the taps j) becomes a kernel in the
// block-level form (BlockLoops.h), the strategy of fairseq's lightconv
// kernels: a block stages the input rows of its tile of positions and
// channels, with the halo the taps reach, in shared memory once; each
// thread then computes a few positions of one channel in registers, reading
// each tap's weight once for all of them. The accumulators start from the
// output's values and add the taps in order, with the op's own body: each
// output element is computed exactly as the op's loop nest computes it.
//
//===----------------------------------------------------------------------===//

#include "lib/CodeGen/GPU/BlockLoops.h"
#include "lib/CodeGen/GPU/Passes.h"

#include "mlir/Analysis/FlatLinearValueConstraints.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::convseq {
#define GEN_PASS_DEF_TILEGPUCONVOLUTIONSPASS
#include "lib/CodeGen/GPU/Passes.h.inc"
} // namespace mlir::convseq

using namespace mlir;
using namespace mlir::convseq;

namespace {

/// The shape of the kernel.
struct Tiles {
  int64_t positions, channels, threads;

  /// Rows of the thread grid: the threads sharing a channel.
  int64_t threadRows() const { return threads / channels; }
  /// The positions a thread computes.
  int64_t positionsPerThread() const { return positions / threadRows(); }
};

/// The loops and operands of a convolution, by role.
struct Convolution {
  linalg::LinalgOp op;
  /// The input read at position + stride * tap + offset, and which of its
  /// indices that is.
  unsigned sequence;
  unsigned positionIndex;
  /// The loops.
  unsigned position, channel, tap;
  SmallVector<unsigned> batch;
  /// The extent of the tap loop.
  int64_t taps;
  int64_t stride, offset;
  /// Whether the taps' weights depend on the position (a dynamic kernel).
  bool tapsFollowPosition;
  /// The fill of the output the accumulators start from instead, if any.
  linalg::FillOp fill;

  /// The input rows beyond a tile's positions that its taps read.
  int64_t haloRows() const { return std::abs(stride) * (taps - 1); }
  /// The lowest of stride * tap over the taps: the tile's first staged row
  /// is at its first position + offset + lowestShift().
  int64_t lowestShift() const {
    return std::min<int64_t>(0, stride * (taps - 1));
  }
};

/// Whether the ops of `body` can be cloned per output element: no
/// linalg.index (the kernel does not keep the loop indices the op would see)
/// and no memory effects.
bool isClonableBody(Block &body) {
  return llvm::all_of(body.without_terminator(), [](Operation &op) {
    return !isa<linalg::IndexOp>(op) && isPure(&op);
  });
}

/// Sets `conv`'s sequence fields if input `input` is read at
/// (.., position + stride * tap + offset, .., channel): every other index a
/// parallel loop, the channel last.
bool matchSequence(Convolution &conv, unsigned input) {
  linalg::LinalgOp op = conv.op;
  AffineMap map = op.getMatchingIndexingMap(op.getDpsInputOperand(input));
  if (map.getNumResults() == 0)
    return false;
  auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
  if (!last || last.getPosition() != conv.channel)
    return false;
  std::optional<unsigned> shifted;
  for (auto [index, expr] : llvm::enumerate(map.getResults())) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (dim.getPosition() == conv.tap)
        return false;
      continue;
    }
    if (shifted)
      return false;
    // position + stride * tap + offset, nothing else (no floordiv either).
    SmallVector<int64_t> flat;
    unsigned loops = map.getNumDims();
    if (failed(getFlattenedAffineExpr(expr, loops, 0, &flat)) ||
        flat.size() != loops + 1 || flat[conv.tap] == 0)
      return false;
    std::optional<unsigned> position;
    for (unsigned loop = 0; loop < loops; ++loop) {
      if (loop == conv.tap || flat[loop] == 0)
        continue;
      if (position || flat[loop] != 1 || loop == conv.channel ||
          op.getIteratorTypesArray()[loop] != utils::IteratorType::parallel)
        return false;
      position = loop;
    }
    if (!position)
      return false;
    shifted = index;
    conv.position = *position;
    conv.stride = flat[conv.tap];
    conv.offset = flat.back();
  }
  if (!shifted)
    return false;
  conv.sequence = input;
  conv.positionIndex = *shifted;
  return true;
}

/// `op` as a convolution the kernel computes with `tiles`, or failure when
/// it is none or would not gain from them.
FailureOr<Convolution> matchConvolution(linalg::LinalgOp op, const Tiles &tiles,
                                        int64_t maxSharedBytes) {
  if (!isBinaryFloatBufferOp(op) || !isClonableBody(*op.getBlock()))
    return failure();
  Convolution conv;
  conv.op = op;
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  if (reductions.size() != 1)
    return failure();
  conv.tap = reductions.front();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ShapedType::isDynamic(ranges[conv.tap]))
    return failure();
  conv.taps = ranges[conv.tap];

  // The output: every parallel loop once, the channel innermost.
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation() ||
      outMap.getNumResults() != op.getNumParallelLoops() ||
      outMap.getNumResults() == 0 || outMap.isFunctionOfDim(conv.tap))
    return failure();
  conv.channel = cast<AffineDimExpr>(outMap.getResults().back()).getPosition();

  if (!matchSequence(conv, 0) && !matchSequence(conv, 1))
    return failure();
  for (unsigned loop = 0; loop < op.getNumLoops(); ++loop)
    if (loop != conv.tap && loop != conv.position && loop != conv.channel)
      conv.batch.push_back(loop);
  AffineMap tapsMap =
      op.getMatchingIndexingMap(op.getDpsInputOperand(1 - conv.sequence));
  conv.tapsFollowPosition = tapsMap.isFunctionOfDim(conv.position);

  // A few positions (a decoding step) would leave most threads idle.
  if (!ShapedType::isDynamic(ranges[conv.position]) &&
      ranges[conv.position] < tiles.positions)
    return failure();
  unsigned bytes = getElementTypeOrSelf(op.getDpsInits()[0].getType())
                       .getIntOrFloatBitWidth() /
                   8;
  if ((tiles.positions + conv.haloRows()) * tiles.channels * bytes >
      maxSharedBytes)
    return failure();
  conv.fill = findInitFill(op);
  return conv;
}

/// Replaces `conv` with its kernel in the block-level form.
void tileConvolution(RewriterBase &rewriter, const Convolution &conv,
                     const Tiles &tiles) {
  linalg::LinalgOp op = conv.op;
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> sizes = loopSizes(rewriter, op);
  Value batch = linearizedSize(rewriter, loc, sizes, conv.batch);
  Value positions = sizes[conv.position], channels = sizes[conv.channel];
  Value positionTiles = tileCount(rewriter, loc, positions, tiles.positions);
  Value channelTiles = tileCount(rewriter, loc, channels, tiles.channels);
  Value blocks = rewriter.createOrFold<arith::MulIOp>(
      loc, batch,
      rewriter.createOrFold<arith::MulIOp>(loc, positionTiles, channelTiles));

  Value sequence = op.getDpsInputs()[conv.sequence];
  Value taps = op.getDpsInputs()[1 - conv.sequence];
  Value out = op.getDpsInits()[0];
  AffineMap sequenceMap =
      op.getMatchingIndexingMap(op.getDpsInputOperand(conv.sequence));
  AffineMap tapsMap =
      op.getMatchingIndexingMap(op.getDpsInputOperand(1 - conv.sequence));
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  Type element = getElementTypeOrSelf(out.getType());
  Value sequenceRows =
      memref::DimOp::create(rewriter, loc, sequence, conv.positionIndex);
  Block &body = *op.getBlock();
  Value initValue =
      conv.fill ? linalg::FillOp(conv.fill).getInputs()[0] : Value();
  int64_t rows = tiles.positions + conv.haloRows();
  int64_t staged = rows * tiles.channels;
  int64_t perThread = tiles.positionsPerThread();

  buildBlockLoop(
      rewriter, loc, blocks, [&](OpBuilder &b, Location l, Value block) {
        auto blockTile = affine::AffineDelinearizeIndexOp::create(
            b, l, block,
            ArrayRef<OpFoldResult>{batch, positionTiles, channelTiles});
        Value positionBase = arith::MulIOp::create(
            b, l, blockTile.getResult(1), indexConstant(b, l, tiles.positions));
        Value channelBase = arith::MulIOp::create(
            b, l, blockTile.getResult(2), indexConstant(b, l, tiles.channels));
        // The sequence index of the tile's first staged row.
        Value rowBase = arith::AddIOp::create(
            b, l, positionBase,
            indexConstant(b, l, conv.offset + conv.lowestShift()));
        // The loop indices the threads share; each sets its own position,
        // channel and tap in a copy.
        SmallVector<Value> blockIndices(op.getNumLoops(),
                                        indexConstant(b, l, 0));
        if (!conv.batch.empty())
          delinearizeInto(b, l, blockTile.getResult(0), sizes, conv.batch,
                          blockIndices);

        Value tile = allocBlockBuffer(b, l, {rows, tiles.channels}, element,
                                      kWorkgroupMemory);
        Value acc = allocBlockBuffer(b, l, {tiles.threads, perThread}, element,
                                     kPrivateMemory);

        // Thread t computes channel x of the positions y + threadRows * i.
        struct ThreadTile {
          Value row, column, channel, exists;
        };
        auto threadTile = [&](OpBuilder &tb, Location tl, Value t) {
          auto split = affine::AffineDelinearizeIndexOp::create(
              tb, tl, t, ArrayRef<int64_t>{tiles.threadRows(), tiles.channels});
          Value channel =
              arith::AddIOp::create(tb, tl, channelBase, split.getResult(1));
          return ThreadTile{split.getResult(0), split.getResult(1), channel,
                            isBelow(tb, tl, channel, channels)};
        };
        // The tile row of the thread's position i, and that position.
        auto tileRow = [&](OpBuilder &tb, Location tl, const ThreadTile &thread,
                           int64_t i) -> Value {
          return arith::AddIOp::create(
              tb, tl, thread.row,
              indexConstant(tb, tl, tiles.threadRows() * i));
        };

        // Stage the rows [rowBase, rowBase + rows) of the tile's channels, zero
        // outside the operand, consecutive threads on consecutive channels; and
        // start the accumulators from the output.
        buildThreadLoop(
            b, l, tiles.threads, [&](OpBuilder &tb, Location tl, Value t) {
              for (int64_t e = 0; e * tiles.threads < staged; ++e) {
                Value linear = arith::AddIOp::create(
                    tb, tl, t, indexConstant(tb, tl, e * tiles.threads));
                auto stage = [&](OpBuilder &sb, Location sl) {
                  auto split = affine::AffineDelinearizeIndexOp::create(
                      sb, sl, linear, ArrayRef<int64_t>{rows, tiles.channels});
                  Value row = arith::AddIOp::create(sb, sl, rowBase,
                                                    split.getResult(0));
                  Value channel = arith::AddIOp::create(sb, sl, channelBase,
                                                        split.getResult(1));
                  SmallVector<Value> indices = blockIndices;
                  indices[conv.channel] = channel;
                  SmallVector<Value> at;
                  for (auto [index, expr] :
                       llvm::enumerate(sequenceMap.getResults()))
                    at.push_back(
                        index == conv.positionIndex
                            ? row
                            : indices[cast<AffineDimExpr>(expr).getPosition()]);
                  Value exists = arith::AndIOp::create(
                      sb, sl, isBelow(sb, sl, row, sequenceRows),
                      isBelow(sb, sl, channel, channels));
                  Value value = loadOrZero(sb, sl, sequence, at, exists);
                  memref::StoreOp::create(
                      sb, sl, value, tile,
                      ValueRange{split.getResult(0), split.getResult(1)});
                };
                if ((e + 1) * tiles.threads <= staged) {
                  stage(tb, tl);
                  continue;
                }
                scf::IfOp::create(
                    tb, tl,
                    isBelow(tb, tl, linear, indexConstant(tb, tl, staged)),
                    [&](OpBuilder &sb, Location sl) {
                      stage(sb, sl);
                      scf::YieldOp::create(sb, sl);
                    });
              }

              ThreadTile thread = threadTile(tb, tl, t);
              SmallVector<Value> indices = blockIndices;
              indices[conv.channel] = thread.channel;
              for (int64_t i = 0; i < perThread; ++i) {
                Value position = arith::AddIOp::create(
                    tb, tl, positionBase, tileRow(tb, tl, thread, i));
                indices[conv.position] = position;
                Value init = initValue;
                if (!init) {
                  Value exists = arith::AndIOp::create(
                      tb, tl, isBelow(tb, tl, position, positions),
                      thread.exists);
                  init = loadOrZero(tb, tl, out,
                                    applyIndexingMap(tb, tl, outMap, indices),
                                    exists);
                }
                memref::StoreOp::create(
                    tb, tl, init, acc, ValueRange{t, indexConstant(tb, tl, i)});
              }
            });

        // Add the taps in order, each tap's weight read once for all the
        // thread's positions unless it depends on them; then store.
        buildThreadLoop(
            b, l, tiles.threads, [&](OpBuilder &tb, Location tl, Value t) {
              ThreadTile thread = threadTile(tb, tl, t);
              scf::IfOp::create(
                  tb, tl, thread.exists, [&](OpBuilder &cb, Location cl) {
                    SmallVector<Value> indices = blockIndices;
                    indices[conv.channel] = thread.channel;
                    indices[conv.position] = positionBase;
                    SmallVector<Value> positionsOf;
                    for (int64_t i = 0; i < perThread; ++i)
                      positionsOf.push_back(arith::AddIOp::create(
                          cb, cl, positionBase, tileRow(cb, cl, thread, i)));
                    scf::ForOp::create(
                        cb, cl, indexConstant(cb, cl, 0),
                        indexConstant(cb, cl, conv.taps),
                        indexConstant(cb, cl, 1), ValueRange(),
                        [&](OpBuilder &fb, Location fl, Value j, ValueRange) {
                          SmallVector<Value> at = indices;
                          at[conv.tap] = j;
                          Value weight;
                          if (!conv.tapsFollowPosition)
                            weight = memref::LoadOp::create(
                                fb, fl, taps,
                                applyIndexingMap(fb, fl, tapsMap, at));
                          // Tile row of position i at tap j: its row in the
                          // tile plus stride * j - lowestShift().
                          Value shift = arith::AddIOp::create(
                              fb, fl,
                              arith::MulIOp::create(
                                  fb, fl, j,
                                  indexConstant(fb, fl, conv.stride)),
                              indexConstant(fb, fl, -conv.lowestShift()));
                          for (int64_t i = 0; i < perThread; ++i) {
                            Value row = arith::AddIOp::create(
                                fb, fl, tileRow(fb, fl, thread, i), shift);
                            Value input = memref::LoadOp::create(
                                fb, fl, tile, ValueRange{row, thread.column});
                            Value w = weight;
                            if (conv.tapsFollowPosition) {
                              at[conv.position] = positionsOf[i];
                              w = loadOrZero(
                                  fb, fl, taps,
                                  applyIndexingMap(fb, fl, tapsMap, at),
                                  isBelow(fb, fl, positionsOf[i], positions));
                            }
                            SmallVector<Value> slot = {
                                t, indexConstant(fb, fl, i)};
                            Value sum =
                                memref::LoadOp::create(fb, fl, acc, slot);
                            SmallVector<Value> args = {input, w, sum};
                            if (conv.sequence == 1)
                              std::swap(args[0], args[1]);
                            memref::StoreOp::create(
                                fb, fl, applyBody(fb, body, args), acc, slot);
                          }
                          scf::YieldOp::create(fb, fl);
                        });

                    for (int64_t i = 0; i < perThread; ++i) {
                      indices[conv.position] = positionsOf[i];
                      scf::IfOp::create(
                          cb, cl, isBelow(cb, cl, positionsOf[i], positions),
                          [&](OpBuilder &sb, Location sl) {
                            Value value = memref::LoadOp::create(
                                sb, sl, acc,
                                ValueRange{t, indexConstant(sb, sl, i)});
                            memref::StoreOp::create(
                                sb, sl, value, out,
                                applyIndexingMap(sb, sl, outMap, indices));
                            scf::YieldOp::create(sb, sl);
                          });
                    }
                    scf::YieldOp::create(cb, cl);
                  });
            });
        for (Value buffer : {tile, acc})
          memref::DeallocOp::create(b, l, buffer);
      });
  rewriter.eraseOp(op);
  if (conv.fill)
    rewriter.eraseOp(conv.fill);
}

struct TileGPUConvolutionsPass
    : mlir::convseq::impl::TileGPUConvolutionsPassBase<
          TileGPUConvolutionsPass> {
  using TileGPUConvolutionsPassBase::TileGPUConvolutionsPassBase;

  void runOnOperation() override {
    Tiles tiles{tilePositions, tileChannels, threads};
    if (tiles.positions <= 0 || tiles.channels <= 0 || tiles.threads <= 0 ||
        tiles.threads > 1024 || tiles.threads % 32 != 0 ||
        tiles.threads % tiles.channels != 0 ||
        tiles.positions % tiles.threadRows() != 0) {
      getOperation().emitError()
          << "threads must be a multiple of 32 up to 1024 and of "
             "tile-channels, and tile-positions a multiple of threads / "
             "tile-channels; got threads="
          << tiles.threads << ", tile-positions=" << tiles.positions
          << ", tile-channels=" << tiles.channels;
      return signalPassFailure();
    }

    SmallVector<Convolution> convolutions =
        matchHostOps<Convolution>(getOperation(), [&](linalg::LinalgOp op) {
          return matchConvolution(op, tiles, maxSharedBytes);
        });
    IRRewriter rewriter(&getContext());
    for (const Convolution &conv : convolutions)
      tileConvolution(rewriter, conv, tiles);
  }
};

} // namespace
