//===- Passes.td - convseq GPU code-generation passes ------*- tablegen -*-===//

#ifndef CONVSEQ_CODEGEN_GPU_PASSES_TD
#define CONVSEQ_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def PrepareGPULoopsPass
    : Pass<"convseq-prepare-gpu-loops", "::mlir::func::FuncOp"> {
  let summary = "Gives every computation on buffers a parallel loop the GPU "
                "mapping can launch";
  let description = [{
    Runs after bufferization, before `convert-linalg-to-parallel-loops`.
    On a GPU target the host only allocates and launches: every op that
    reads or writes a buffer must end up in a kernel, and a kernel is made
    from an outermost `scf.parallel`. This pass arranges that for the three
    kinds of host computation bufferization leaves besides linalg ops with a
    parallel iterator:

    - `memref.copy` becomes `linalg.copy` (its loops are parallel);
    - a linalg op with no parallel iterator (a 0-d op, a full reduction such
      as a loss or a gradient's sum of squares) moves into a one-iteration
      `scf.parallel`: one GPU thread runs it;
    - a host loop or branch whose control reads a buffer (the scatter-add
      of the embedding gradient, indexed by token ids) has its linalg ops
      lowered to sequential loops and moves, whole, into a one-iteration
      `scf.parallel`: reading the token ids on the host would need them
      copied back first.

    A region op that reads a buffer and also returns values cannot move
    into a loop and is an error naming it.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect"];
}

def GPUEmbeddingGradPass
    : Pass<"convseq-gpu-embedding-grad", "::mlir::func::FuncOp"> {
  let summary = "Lowers convseq.embedding_grad for GPU threads";
  let description = [{
    Runs before `convert-convseq-to-linalg` in the GPU pipelines. The
    common lowering of the embedding gradient adds each position's row of
    dy into the row of the table its id names, in a serial loop over the
    positions (rows of one id must not race): on a GPU, one thread. Here it
    becomes an `scf.forall` over (block of `rows-per-thread` table rows,
    column): each thread walks every position in order and adds dy[p, c]
    to its element when the id falls in its rows. Each element of the
    gradient is written by one thread in position order, so the result is
    the serial loop's exactly (no atomics, deterministic), with
    ceil(V / rows-per-thread) x D threads; each reads all N ids, which
    neighbouring threads share through the cache.
  }];
  let options = [
    Option<"rowsPerThread", "rows-per-thread", "int64_t", /*default=*/"256",
           "Table rows of a thread's column">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CloneSharedFillsPass
    : Pass<"convseq-clone-shared-fills", "::mlir::func::FuncOp"> {
  let summary = "Gives each op initialized by a linalg.fill its own fill";
  let description = [{
    Runs on tensors, before bufferization. CSE leaves one `linalg.fill`
    (zeros, most often) whose result initializes several ops: every
    contraction and convolution of a layer starts from the same zero tensor.
    Bufferization then fills one buffer and copies it into each op's
    output, a kernel that reads and writes the whole output. This pass
    clones the fill (and its `tensor.empty`) right before each op that takes
    it as an init, so each output is filled in place, and the tiled kernels
    (`convseq-tile-gpu-contractions`, `convseq-tile-gpu-convolutions`) can
    start their accumulators from the fill's value instead, leaving no
    separate kernel at all.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SplitGPUReductionsPass
    : Pass<"convseq-split-gpu-reductions", "::mlir::func::FuncOp"> {
  let summary = "Splits full reductions over many GPU threads";
  let description = [{
    Runs after bufferization, before `convseq-prepare-gpu-loops`, which
    would put a linalg op without a parallel loop (a loss, a gradient's sum
    of squares for clipping) on one thread, and an op with few outputs and
    long reductions (a bias gradient's column sums, a small weight
    gradient) on few. Such an op, when its outputs are indexed by parallel
    loops only, each updated by one combiner op with a neutral element (an
    add, a max, ...), and it has at most `partials` / 2 output elements,
    becomes:

    - an `scf.parallel` over (partial q, output element j) with
      `partials` threads in all, thread (q, j) combining the elements q,
      q + Q, ... of j's reduction (row-major, so neighbouring threads read
      neighbouring elements) from the neutral element into a buffer of
      partials [Q, output shape] per output;
    - a linalg op folding those buffers into the outputs with the same
      combiners, split again while its reductions are longer than
      `serial-limit`; a reduction of at most `final-partials` times
      `serial-limit` elements takes at most `final-partials` per output.

    An op whose reductions have at most `serial-limit` elements stays as it
    is, as does one the split does not match. The result is deterministic:
    each thread's order and the fold's are fixed. Sums are associated
    differently from the one-thread loop, as a tree is: the rounding
    differs, not the precision.
  }];
  let options = [
    Option<"serialLimit", "serial-limit", "int64_t", /*default=*/"256",
           "The most elements one thread folds">,
    Option<"partials", "partials", "int64_t", /*default=*/"65536",
           "Threads of the first stage of a long or dynamic reduction">,
    Option<"finalPartials", "final-partials", "int64_t", /*default=*/"256",
           "Threads of the stage whose partials one thread folds">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def TileParallelLoopsForGPUPass
    : Pass<"convseq-tile-parallel-loops-for-gpu", "::mlir::func::FuncOp"> {
  let summary = "Collapses each outermost scf.parallel to one dimension and "
                "tiles it into blocks of threads";
  let description = [{
    Runs on the `scf.parallel` loops of `convert-linalg-to-parallel-loops`.
    Each outermost loop is collapsed into one dimension, row-major, so that
    consecutive threads take consecutive elements of the innermost (unit
    stride) dimension and their loads coalesce; the grid then has a single
    dimension, which the hardware allows up to 2^31 - 1 blocks (the y and z
    dimensions stop at 65535, below B * S at long lengths). The collapsed
    loop is tiled by `block-size` without min/max bounds: the inner loop
    (the threads of a block) has a constant trip count and its body is
    guarded, which `convert-parallel-loops-to-gpu` requires to read the
    block size. `gpu-map-parallel-loops` then maps the outer loop to blocks
    and the inner one to threads.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def TileGPUContractionsPass
    : Pass<"convseq-tile-gpu-contractions", "::mlir::func::FuncOp"> {
  let summary = "Computes contractions with shared-memory and register "
                "tiles in the block-level form of GPU kernels";
  let description = [{
    Runs after bufferization and `convseq-prepare-gpu-loops`, before
    `convert-linalg-to-parallel-loops`, on the host's contractions (a
    linalg op with two inputs and an output of one float type whose loops
    are each a batch, m, n or k loop: linear layers, logits, attention
    scores and weighted values, and their gradients). Each becomes a kernel
    in the block-level form (`lib/CodeGen/GPU/BlockLoops.h`):

    - a block per batch index and `tile-m` x `tile-n` output tile, with
      (`tile-m` / `thread-tile-m`) x (`tile-n` / `thread-tile-n`) threads,
      each holding a `thread-tile-m` x `thread-tile-n` tile of
      accumulators (rows and columns strided by the thread grid, so that
      neighbouring threads take neighbouring columns);
    - the accumulators start from the output's elements, or from the value
      of a `linalg.fill` of the whole output (a fresh buffer) that nothing
      else touches before the contraction, which is then erased;
    - for each `tile-k` slice of the k loops, the threads stage the slice
      of the block's A and B tiles in shared memory (`[tile-k][tile-m + 1]`
      and `[tile-k][tile-n + 1]`, zero outside the operands; consecutive
      threads read consecutive elements of the operand's innermost
      dimension), then each accumulates its register tile over the slice,
      with the op's own body, in k order;
    - the accumulators go back into the output, or, with `epilogues`,
      through the element-wise op that is the output's only reader into
      that op's output (below).

    Each output element is thus computed as the op's loop nest computes
    it: from its initial value, adding the products in k order. Groups of
    several m, n, k or batch loops are linearized row-major.

    An epilogue is a `linalg.generic` on buffers, all of whose loops are
    parallel, that reads the contraction's output (a fresh buffer started
    from a fill) at the identity and writes its one output at the
    identity, with a body free of memory effects, when the ops between
    the two touch none of its buffers (those without memory effects, and
    allocations, move before the kernel) and its output is not a view of
    the contraction's inputs nor of an input it reads elsewhere than at
    the identity: a residual add, a ReLU, the GLU gate of the second of
    its two projections. Each thread applies it to its
    accumulators, loading its other inputs at their maps, and stores its
    result; the contraction's output buffer is then never written and is
    erased, with the op.
  }];
  let options = [
    Option<"tileM", "tile-m", "int64_t", /*default=*/"64",
           "Rows (m) of a block's output tile">,
    Option<"tileN", "tile-n", "int64_t", /*default=*/"64",
           "Columns (n) of a block's output tile">,
    Option<"tileK", "tile-k", "int64_t", /*default=*/"16",
           "Reduction (k) steps staged in shared memory at a time">,
    Option<"threadTileM", "thread-tile-m", "int64_t", /*default=*/"4",
           "Rows of a thread's register tile">,
    Option<"threadTileN", "thread-tile-n", "int64_t", /*default=*/"4",
           "Columns of a thread's register tile">,
    Option<"epilogues", "epilogues", "bool", /*default=*/"true",
           "Compute the element-wise op that reads a contraction's output "
           "in the contraction's kernel">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def TileGPUConvolutionsPass
    : Pass<"convseq-tile-gpu-convolutions", "::mlir::func::FuncOp"> {
  let summary = "Computes depthwise convolutions from a sequence tile and "
                "its halo in shared memory, in the block-level form of GPU "
                "kernels";
  let description = [{
    Runs after bufferization and `convseq-prepare-gpu-loops`, before
    `convert-linalg-to-parallel-loops`, on the host's convolutions: a
    linalg op on buffers with two inputs and an output of one float type,
    one reduction loop (the taps, of static extent k), an output indexed by
    all the parallel loops with a channel loop innermost, and a *sequence*
    input indexed by the same loops except that one index is
    `position + s * tap + offset` (constant s and offset) and none is the
    tap loop elsewhere. The other input holds the taps; its indexing is
    free. This is the lightweight, dynamic and dilated convolution and
    their input gradients (`convert-convseq-to-linalg`'s Conv.cpp).

    Each becomes a kernel in the block-level form
    (`lib/CodeGen/GPU/BlockLoops.h`), the strategy of fairseq's lightconv
    kernels:

    - a block per index of the other parallel loops (the batch) and
      `tile-positions` x `tile-channels` output tile, with `threads`
      threads;
    - the threads stage the tile's sequence rows and their halo,
      `tile-positions + |s| (k - 1)` rows of `tile-channels` channels, in
      shared memory once (zero outside the operand), consecutive threads
      reading consecutive channels;
    - thread (y, x) computes channel x of the positions y, y + Y, ...
      (Y = `threads` / `tile-channels`) in registers: the accumulators start
      from the output (or its fill, as for the contractions), then for each
      tap in order it reads the tap's weight
      once (once per position when the taps depend on it, as a dynamic
      convolution's do) and adds its product with each position's staged
      input, with the op's own body.

    Each output element is computed as the op's loop nest computes it: from
    its initial value, adding the taps in order. A convolution whose
    position extent is static and below `tile-positions` (a decoding
    step's few positions), or whose staged rows would take more than
    `max-shared-bytes`, keeps the simple kernel (a thread per output
    element).
  }];
  let options = [
    Option<"tilePositions", "tile-positions", "int64_t", /*default=*/"64",
           "Positions of a block's output tile">,
    Option<"tileChannels", "tile-channels", "int64_t", /*default=*/"32",
           "Channels of a block's output tile">,
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "Threads per block">,
    Option<"maxSharedBytes", "max-shared-bytes", "int64_t",
           /*default=*/"49152",
           "The most shared memory a block's staged rows may take">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def TileGPURowReductionsPass
    : Pass<"convseq-tile-gpu-row-reductions", "::mlir::func::FuncOp"> {
  let summary = "Spreads each row of a reduction over the lanes of a warp, "
                "in the block-level form of GPU kernels";
  let description = [{
    Runs after `convseq-tile-gpu-convolutions`, before
    `convert-linalg-to-parallel-loops`, on the host's row reductions: a
    linalg op on buffers whose loops are parallel and then one reduction
    loop, the last, whose outputs (of float type) each have a combiner
    with a neutral element (`addf`, `maximumf`, ...: what
    `convseq-split-gpu-reductions` accepts), and whose inputs read the
    reduction loop only as their innermost index, of unit stride. These
    are the max and the sum of every softmax (attention, the loss over the
    vocabulary), a norm's sum of squares, and their gradients' row sums.

    The simple mapping gives such an op one thread per row, which walks the
    row alone while the threads of a warp read 32 different rows. Each
    becomes a kernel in the block-level form
    (`lib/CodeGen/GPU/BlockLoops.h`):

    - a block per `threads` / `lanes` rows (all parallel loops linearized),
      `lanes` threads per row;
    - lane l folds the row's elements l, l + `lanes`, ... into a partial
      per output, starting from the combiner's neutral element, with the
      op's own body (consecutive lanes read consecutive elements), and
      stores it in shared memory (`[threads / lanes][lanes + 1]` per
      output);
    - thread r of the block folds row r's partials, in lane order, into the
      output's value with the combiner (from the value of the output's
      fill, when the output is a fresh buffer only that fill touched
      before, which is then erased), and stores it.

    The elements are combined in another order than the op's loop nest:
    a sum rounds differently (max and min do not). A reduction whose
    static length is below `min-length` (a conv kernel's softmax over its
    few taps) keeps the simple kernel.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "Threads per block">,
    Option<"lanes", "lanes", "int64_t", /*default=*/"32",
           "Threads per row">,
    Option<"minLength", "min-length", "int64_t", /*default=*/"32",
           "The shortest static reduction given a kernel of its own">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def TileGPUAttentionPass
    : Pass<"convseq-tile-gpu-attention", "::mlir::func::FuncOp"> {
  let summary = "Lowers dot_product_attention to one GPU kernel with an "
                "online softmax, without the score matrix";
  let description = [{
    Runs on tensors, before `convert-convseq-to-linalg`, in the GPU's
    lowering to linalg (as `convseq-tile-attention` does for the CPU). The
    reference lowering of `convseq.dot_product_attention` writes the
    `[B, H, T, S]` scores, then their softmax, then reads them again for
    `P V`: three passes over a matrix S times larger than the result. Each
    op this pass takes becomes one kernel in the block-level form
    (`lib/CodeGen/GPU/BlockLoops.h`) that never stores a score:

    - a block per (batch, head, `rows` query rows), a thread per row, which
      holds its query row, its F weighted values, and its running maximum
      and sum in registers (private buffers indexed by constants);
    - for each tile of `keys` keys, the threads stage the keys, their
      values and each key's bias (0, or -inf for a masked key or one past
      the end) in shared memory, then each thread computes its row's
      `keys` scores (scaled, biased, causally masked), and folds them in
      with the online softmax of FlashAttention: a new maximum rescales the
      sum and the weighted values before the tile's probabilities are
      added;
    - with dropout, the block draws the reference lowering's mask for the
      staged keys as it stages them (one Philox-4x32-10 evaluation per four
      rows and key, the same counter and word, `lib/Support/Philox.h`) into
      shared memory: the sum takes every probability, the weighted values
      only the kept ones, scaled by 1 / (1 - rate) at the end;
    - a causal block stops after the last key its last row sees;
    - each thread divides its weighted values by its sum (a row with no
      visible key gives zeros, as the reference lowering does).

    The kernel reads the operands with `tensor.extract` (loads once
    bufferized) and writes a fresh `memref.alloc`, whose
    `bufferization.to_tensor restrict writable` is the result, so one-shot
    bufferization sees exactly what the kernel reads and writes. Its shared
    and private buffers get no `memref.dealloc`: the deallocation pipeline
    after bufferization, which accepts none in its input, frees them at the
    end of the block loop's body.

    Each `convseq.dot_product_attention_grad` of the same shapes becomes
    two kernels that recompute `P = exp(s - L)` tile by tile instead of
    the reference lowering's `[B, H, T, S]` P, dP and dS:

    - a row kernel (the forward's grid and staging) walks the keys once as
      the forward does, for each row's log-sum-exp L and D = dO . O, then
      again, adding dS K to the row's dQ (in its own shared row), dS =
      P (dPd - D) scale; it writes dQ, L and D (two `[B, H, T]` buffers);
    - a key kernel, a block per `rows` keys (halved, down to 32, while its
      shared memory exceeds 48 KiB; if it still does, the op keeps the
      reference lowering), a thread per key holding its key and value,
      walks the query rows that see its keys, `keys` rows (rounded up to a
      multiple of 4) a tile staged with their dO, L and D, and adds Pd dO
      to dV and dS q to dK (its own shared rows).

    A static query count below `min-rows` keeps the reference lowering (a
    decoder step's one query per head: its score contraction spreads the
    keys over threads), and so does a head size (E or F) that is dynamic or
    above `max-head-size` (the row must fit in registers).
  }];
  let options = [
    Option<"rows", "rows", "int64_t", /*default=*/"64",
           "Query rows, and threads, per block (a multiple of 32)">,
    Option<"keys", "keys", "int64_t", /*default=*/"8",
           "Keys staged in shared memory at a time">,
    Option<"minRows", "min-rows", "int64_t", /*default=*/"16",
           "The smallest static query count given the kernel">,
    Option<"maxHeadSize", "max-head-size", "int64_t", /*default=*/"128",
           "The longest head (E or F) given the kernel">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def MapGPUBlockLoopsPass
    : Pass<"convseq-map-gpu-block-loops", "::mlir::func::FuncOp"> {
  let summary = "Maps kernels in the block-level form onto gpu.launch with "
                "shared memory and barriers";
  let description = [{
    Runs before `gpu-map-parallel-loops`. Each `scf.parallel` over blocks
    (`lib/CodeGen/GPU/BlockLoops.h`) becomes a `gpu.launch` with a block
    per iteration (grid x) and as many threads as its thread loops have
    iterations (they must all have the same constant count):

    - its "workgroup" buffers become workgroup attributions (shared
      memory), its "private" buffers private attributions without their
      leading thread dimension, which every access must index with the
      enclosing thread loop's index;
    - each thread loop becomes its body, run by every thread with the
      loop's index set to the thread's, followed by a `gpu.barrier` when
      it touches shared memory, except after the block's last thread loop
      outside any loop (the kernel ends there);
    - the ops between thread loops (index arithmetic, the loops over
      steps) run in every thread; one that writes memory is an error.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect"];
}

def GPUHostBuffersPass
    : Pass<"convseq-gpu-host-buffers", "::mlir::ModuleOp"> {
  let summary = "Puts the buffers the host allocates in device memory and "
                "checks that the host never touches them";
  let description = [{
    Runs after `convert-parallel-loops-to-gpu`, on the host code of every
    function (outside `gpu.launch`):

    - `memref.alloc` and `memref.dealloc` become `gpu.alloc` and
      `gpu.dealloc` (stream-ordered once `gpu-async-region` has run);
    - `memref.get_global` of a constant becomes a device buffer filled by a
      `gpu.memcpy` from the host global, freed before each return.

    Any other host op that reads or writes a buffer (a load, a store, a
    copy, a linalg op) would dereference a device pointer on the CPU; it is
    reported as an error, so a gap in the mapping is a compile-time message
    and not a crash on the GPU machine.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def MergeGPUModulesPass
    : Pass<"convseq-merge-gpu-modules", "::mlir::ModuleOp"> {
  let summary = "Moves every outlined kernel into one gpu.module";
  let description = [{
    Runs after `gpu-kernel-outlining`, which makes a `gpu.module` per
    kernel. A training step has thousands of kernels; one module each
    means one LLVM NVPTX compilation, one `ptxas` process and one
    `cuModuleLoadData` at start-up per kernel. Merged, the module is
    compiled, assembled and loaded once. Each kernel takes the name of the
    module it came from (`<func>_kernel_<n>`, unique; outlining names the
    kernels themselves after their function only). Kernels that differ
    only in name are then kept once: the same op in every layer and the
    same optimizer update for every parameter of a shape make a training
    step's thousands of launches a couple of hundred distinct kernels.
  }];
  let options = [
    Option<"moduleName", "module-name", "std::string",
           /*default=*/"\"kernels\"", "Name of the merged gpu.module">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // CONVSEQ_CODEGEN_GPU_PASSES_TD
