//===- Passes.td - convseq code-generation passes ----------*- tablegen -*-===//

#ifndef CONVSEQ_CODEGEN_PASSES_TD
#define CONVSEQ_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def PackEntryPointsPass : Pass<"convseq-pack-entry-points", "::mlir::ModuleOp"> {
  let summary = "Adds a `convseq_<name>(void **args)` wrapper per entry point";
  let description = [{
    Runs on the LLVM dialect after `llvm.emit_c_interface` wrappers exist.
    For every `_mlir_ciface_<name>` it adds `convseq_<name>`, which takes one
    pointer to an array of pointers, one per argument in order: a pointer to
    the memref descriptor for each buffer argument (parameters, inputs, then
    the outputs that `buffer-results-to-out-params` made arguments), a
    pointer to the value for each scalar argument. The runtime and the tests
    call every entry point of every model through this one signature; the
    generated C header lists what each slot holds.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def DropInPlaceResultsPass
    : Pass<"convseq-drop-in-place-results", "::mlir::ModuleOp"> {
  let summary = "Removes the results bufferization wrote into an argument";
  let description = [{
    Runs after one-shot bufferization. A result marked
    `convseq.in_place = <i>` (the new parameters and optimizer state of a
    training step) must be returned as the buffer of argument `i`, possibly
    through `memref.cast` or loops that carry it unchanged: bufferization
    then updated that buffer in place
    and the result is removed, so the compiled entry point has no output
    for it. A result bufferization had to copy is an error naming it: the
    caller would otherwise read stale values from the argument.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def FuseElementwiseOpsPass : Pass<"convseq-fuse-elementwise-ops"> {
  let summary = "Fuses element-wise producers into consumers that compute "
                "each of their elements once";
  let description = [{
    Upstream's `linalg-fuse-elementwise-ops` (the same patterns: element-wise
    fusion, reshape propagation by expansion, constant folding) with a
    stricter condition for fusing a producer into its consumer: besides the
    producer having no other use, the consumer must read it through a
    permutation of its loops.

    Upstream also fuses into a consumer with loops the operand does not
    index, such as a contraction reading `P[b, h, i, j]` in a loop nest
    (b, h, i, j, f). The fused op then recomputes each element of the
    producer once per iteration of the missing loops, inside the
    contraction's innermost loop, where it does not vectorize: attention's
    dropout fused into `P V` computed its Philox mask 64 times per element,
    and made a light-small training step 30% slower. Here such a producer
    stays a separate op and its result is stored once.

    ```mlir
    %d = linalg.generic ... ins(%p) ...          // element-wise: kept
    %o = linalg.generic {indexing_maps = [(b, h, i, j, f) -> (b, h, i, j),
                                          ...]} ins(%d, %v) ...
    ```
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def ShrinkBufferLifetimesPass
    : Pass<"convseq-shrink-buffer-lifetimes", "::mlir::func::FuncOp"> {
  let summary = "Allocates each buffer at its first use and frees it after its last";
  let description = [{
    Runs after the buffer deallocation pipeline, which frees every buffer
    at the end of the block that allocated it: in a straight-line entry
    point, at the very end. A training step then holds every temporary of
    the forward and backward passes at once, and its peak memory is the sum
    of all its buffers. Bufferization also allocates where the tensor was
    created, and CSE merges equal `tensor.empty` ops: a backward-pass
    temporary can be allocated in the forward pass.

    For each `memref.alloc` and each unconditional `memref.dealloc` of a
    `memref.alloc` of the same block, this pass moves the allocation down
    to just before the first operation of the block that uses the buffer or
    any view of it, and the dealloc up to just after the last one. Views are
    those of `BufferViewFlowAnalysis`: subviews, casts, reshapes, loop and
    branch results, and, conservatively, the memref results of any other
    operation taking the buffer. A use nested in a loop or a branch is a use
    by that op. A dealloc whose buffer may flow out of its block is left
    where it is. Sizes read from views (`memref.dim` of an `expand_shape`)
    are first resolved to the sizes the views were made with, so that they
    do not count as uses.

    ```mlir
    %a = memref.alloc() : memref<16xf32>        // moved down
    ... no use of %a ...
    // to here,
    linalg.fill ins(%c0 : f32) outs(%a : memref<16xf32>)
    linalg.copy ins(%a : memref<16xf32>) outs(%out : memref<16xf32>)
    // memref.dealloc %a is moved here,
    ... no use of %a ...
    memref.dealloc %a : memref<16xf32>          // from here.
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def OutlineParallelLoopsPass
    : Pass<"convseq-outline-parallel-loops", "::mlir::ModuleOp"> {
  let summary = "Moves each outermost scf.parallel into a function of its own";
  let description = [{
    Runs on buffers, before `convert-scf-to-openmp`. Each outermost
    `scf.parallel` becomes a private function `<func>_parallel_<n>`, called
    where the loop was, with the values it uses as arguments. The
    translation to LLVM IR outlines every OpenMP parallel region with a
    scan of the function that holds it: a training step with hundreds of
    regions in one function spent a third of its compile time there
    (light-small's train_step: 52 s of 150; 5 s once outlined). The extra
    call per parallel loop is negligible next to the loop's work, and
    LLVM's inliner leaves these functions alone (they are not small).
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect"];
}

def DistributeWorksharingLoopsPass
    : Pass<"convseq-distribute-worksharing-loops", "::mlir::ModuleOp"> {
  let summary = "Runs each thread's static share of a worksharing loop as "
                "a plain loop";
  let description = [{
    Runs after `convert-scf-to-openmp` (and convseq-guard-parallel-regions).
    An `omp.wsloop` asks the OpenMP runtime for the thread's iterations
    (`__kmpc_for_static_init`, which Debian's libomp, built with its debug
    checks, also formats a trace message in) and waits at a barrier at its
    end, right before the region's own closing barrier. Together that is
    about half of what a small region costs: 0.6 us per region against
    0.33 us with the share computed in place (2 threads, this machine).

    For a worksharing loop with no clause (the static schedule) that is the
    last op of its `omp.parallel`, around an exclusive loop nest of one
    block, each thread now calls `omp_get_thread_num` and
    `omp_get_num_threads` and runs the iterations the static schedule
    gives it, as one `scf.for` over the nest's iterations numbered
    row-major: with n iterations, q = n / threads and r = n mod threads,
    thread t runs q + (t < r ? 1 : 0) of them, from t q + min(t, r). That
    is the partition libomp's static schedule makes. The region's closing
    barrier is the only one left.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect"];
}

def GuardParallelRegionsPass
    : Pass<"convseq-guard-parallel-regions", "::mlir::func::FuncOp"> {
  let summary = "Runs an OpenMP parallel region on the calling thread when "
                "its work is too small to share";
  let description = [{
    Runs after `convert-scf-to-openmp`. Waking the other threads for a
    parallel region and waiting for them at its end costs a few
    microseconds; a region with less work than that runs slower on all
    cores than on one. At batch 1 most of a decoder step's regions are
    like that: an element-wise op over 256 numbers.

    For each `omp.parallel` this pass estimates the work: the operations
    one thread would execute for the whole region, counting each op once
    per iteration of the loops around it (a vector op as one). Trip counts
    known at compile time are folded; those set by values defined before
    the region (a batch size, a sequence length) are computed at run time
    in front of it; a loop bounded by the region's own loop variables (a
    partial tile) counts its largest trip count. The region gets the `if`
    clause `work >= min-work`, or none when its work is known to be at
    least that. A region with calls, loops whose length cannot be bounded,
    or copies of unknown size keeps running in parallel.

    Example: the element-wise region

    ```mlir
    omp.parallel {
      omp.wsloop {
        omp.loop_nest (%i) : index = (%c0) to (%rows) step (%c1) {
          scf.for %j = %c0 to %c256 step %c16 { 3 ops on vector<16xf32> }
          omp.yield
        }
      }
      omp.terminator
    }
    ```

    counts `rows * 65 + 1` operations (16 iterations of the three ops and
    the loop's yield, the nest's yield, the terminator) and runs in
    parallel only when that reaches `min-work`
    (test/CodeGen/convseq-guard-parallel-regions.mlir).
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"4096",
           "Estimated operations (512-bit vector ops count once per "
           "register) below which a region runs on one thread">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::omp::OpenMPDialect"];
}

def HoistScratchBuffersPass
    : Pass<"convseq-hoist-scratch-buffers", "::mlir::func::FuncOp"> {
  let summary = "Gives each thread one stack buffer for a scratch buffer "
                "that a loop allocates and frees in every iteration";
  let description = [{
    Runs on buffers after `convert-scf-to-openmp`. Bufferization allocates
    a tile's temporaries (a dot product's partial sums, a reduction's
    accumulator) where the tile is computed: with `malloc` and `free` in
    every iteration. The dot products of a decoder step's logits made 8000
    such pairs per token, a fifth of the step.

    A `memref.alloc` of static shape, at most `max-bytes`, inside a loop,
    whose buffer is freed by `memref.dealloc`s in its own block and used
    otherwise only by ops with known memory effects (no call keeps it),
    becomes a `memref.alloca` at the start of the nearest automatic
    allocation scope: the `omp.parallel` region, which each thread runs
    once, or the function. Between the two there may only be sequential
    loops and branches (`scf.for`, `scf.while`, `scf.if`, and an OpenMP
    worksharing loop, whose iterations a thread runs one after the other);
    below an `scf.parallel` or `scf.forall` a buffer stays per iteration.
    The deallocations are erased. At most `max-scope-bytes` move to one
    scope.
  }];
  let options = [
    Option<"maxBytes", "max-bytes", "int64_t", /*default=*/"16384",
           "Largest buffer moved to the stack">,
    Option<"maxScopeBytes", "max-scope-bytes", "int64_t",
           /*default=*/"131072",
           "Most bytes moved to the stack of one scope">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def TileAttentionPass : Pass<"convseq-tile-attention", "::mlir::func::FuncOp"> {
  let summary = "Lowers dot_product_attention and its gradient to loop "
                "nests with an online softmax that never store the scores";
  let description = [{
    Runs on convseq primitives, before `convert-convseq-to-linalg`, which
    gives the ops left here its reference lowering (scores, softmax and
    `P V` as separate ops over the whole `[B, H, T, S]` score tensor).

    `scf.forall` over (batch, head, block of `rows` queries), then the
    `T mod rows` last queries one per block. Each block walks the keys in
    blocks of 32 (`scf.for`), carrying per query row its running maximum,
    running sum and its F output values as vectors of 16. For a block of
    keys and each row: the scores are two vectors of 16, each E vector FMAs
    of a broadcast query element and 16 keys (K is padded to S', a multiple
    of 32, and each block of 32 keys transposed once, `[B, H, S' / 32, E,
    32]`); the scale and the
    key mask as an additive bias (-inf for masked and padding keys); the
    causal limit as a select; then the online softmax (FlashAttention): a
    new maximum rescales the sum and the values so far, and each of the 32
    probabilities adds a row of V times a broadcast into the values. V is
    read as it is (padding keys read the last key's row, with probability
    0). Causal rows skip the blocks after their last visible key. A row
    with no visible key is zeros, like the reference. Attention dropout
    draws the keep decisions of lib/Support/Philox.h, the same mask as the
    reference lowering and the gradient's recomputation, one evaluation
    per vector of keys for four query rows (one per row in blocks whose
    `rows` is not a multiple of 4): the sum is of all probabilities, the
    values are weighted by the kept ones, and the output is scaled by
    `1 / (1 - rate)`.

    `dot_product_attention_grad` (FlashAttention-2's backward, one thread
    per head so dQ needs no atomics; with `gradients`): Q and dO padded to
    T', a multiple of 4, V blocked like K. `scf.forall` over (batch, head,
    four rows) runs the walk above for each row's L = max + log(sum) (+inf
    without a visible key) and D = dO . O, two `[B, H, T']` tensors (with
    the op's `output`, the forward's O, the walk forms L alone and D reads
    O). Then
    `scf.forall` over (batch, head) walks the head's blocks of 32 keys
    and, for each, the groups of four rows that see it: the 4 x 32 scores
    and dO . v as above, P = exp(s - L), the same dropout mask, dS = P (dP
    - D) scale; dV^T and dK^T of the block summed in the head's blocked
    `[S' / 32, F or E, 32]` (rows read as broadcasts), dQ's four rows in
    registers. dK and dV are transposed back at the end.

    Tiled are ops whose head sizes E and F are
    static and at most 256, and whose query count is dynamic or at least
    `min-rows`: a decoder step (one query) keeps the reference, whose
    contractions read the cached keys as they are.
  }];
  let options = [
    Option<"rows", "rows", "int64_t", /*default=*/"4",
           "Query rows of one parallel block, computed together so each "
           "block of keys and values is read once for all of them">,
    Option<"minRows", "min-rows", "int64_t", /*default=*/"32",
           "A static query count below this keeps the reference lowering">,
    Option<"gradients", "gradients", "bool", /*default=*/"true",
           "Also take dot_product_attention_grad">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def TileContractionsPass
    : Pass<"convseq-tile-contractions", "::mlir::func::FuncOp"> {
  let summary = "Tiles linalg contractions for cache and registers and "
                "vectorizes the register tiles";
  let description = [{
    Every linalg contraction on tensors whose innermost `n` dimension is
    contiguous in the right-hand side and the output (every linear layer of
    the models, attention's batched products, matmuls) is tiled three times:

    1. `scf.forall` over blocks of `m-block` rows (batch dims and outer `m`
       dims by one): the unit of parallel work, small enough that the block
       of the left-hand side stays in L2. A static number of blocks that
       is not a multiple of `threads` gets smaller blocks (a multiple of
       `register-m` rows) that make it one;
    2. `scf.for` over the reduction in steps of `k-block`, so a panel of the
       right-hand side (`k-block` x `register-n`) stays in L1. Each panel
       reads a compact copy of its rows of a left-hand side contiguous
       along the reduction, whose own rows may be a multiple of 4 KiB apart
       and fall into one L1 set. With this loop, an output wider than
       `n-block` columns is first split into column blocks, so a row
       block's output stays in L2 across the panels, and a zero-filled
       output has its first panel split off, to start from zero
       accumulators;
    3. `scf.for` over register tiles, `n` outer, `m` inner, `k` innermost with
       step 1: a `register-m` x `register-n` accumulator lives in vector
       registers for the whole reduction.

    A 2-D right-hand side (a weight) whose `n` is static and a multiple of
    `register-n` is first packed into `[n / register-n][k][register-n]`
    panels, contiguous along `k`, and the output viewed as
    `[..., n / register-n, register-n]`. Packing reads and writes the
    weight once more, which only the reuse of many rows pays back: a
    weight already contiguous in `n` is read directly when there are
    fewer than `pack-min-rows` rows, and a right-hand side contiguous
    along the reduction is split into 16-lane dot products. Such few rows
    are tiled differently: every row and every `few-rows-n` columns is a
    parallel block (columns outermost, so each thread reads its part of
    the weight once for all rows), computed as one 1 x `few-rows-n`
    register tile over the whole reduction. A row count
    with one dynamic factor (the batch of a decoder step) gets an `scf.if`
    choosing between the versions at run time; one with two (batch x
    positions) is taken to be large. The register loops are peeled so
    full tiles have static shapes; those are vectorized to `vector.contract`
    in a `k` loop of step 1 and their accumulators hoisted out of it.
    Partial tiles at the edges are split into single rows, also vectorized.
    A `linalg.fill` of the output is fused into the tiles (of the first
    panel, with a loop over the reduction). An element-wise op that is the
    product's only reader, reads it element for element and writes a new
    tensor is fused into the row blocks after the product (an epilogue,
    marked `convseq.epilogue` for convseq-tile-generic-ops), unless it
    applies a dropout mask; the product then gets a block-sized tensor. The default
    6 x 16 tile is the largest that holds 12 AVX2 accumulators, two
    right-hand side vectors and a broadcast in 16 registers.
  }];
  let options = [
    Option<"registerM", "register-m", "int64_t", /*default=*/"6",
           "Rows of the register tile">,
    Option<"registerN", "register-n", "int64_t", /*default=*/"16",
           "Columns of the register tile (a multiple of the vector width)">,
    Option<"blockM", "m-block", "int64_t", /*default=*/"96",
           "Rows per parallel block (a multiple of register-m)">,
    Option<"threads", "threads", "int64_t", /*default=*/"1",
           "Threads the parallel row blocks are balanced for: a static "
           "number of blocks is made a multiple of it (with fewer rows "
           "per block)">,
    Option<"blockK", "k-block", "int64_t", /*default=*/"256",
           "Reduction step of the L1 panel">,
    Option<"blockN", "n-block", "int64_t", /*default=*/"512",
           "Columns per block when the reduction has more than one panel "
           "(so a row block's output stays in L2 between panels)">,
    Option<"fewRowsN", "few-rows-n", "int64_t", /*default=*/"64",
           "Columns of the parallel blocks, one register tile each, of a "
           "contraction with fewer than pack-min-rows rows (a multiple of "
           "register-n)">,
    Option<"packMinRows", "pack-min-rows", "int64_t", /*default=*/"32",
           "Fewest rows for which a right-hand side contiguous in n is "
           "packed (a dynamic row count gets both versions)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def TileGenericOpsPass
    : Pass<"convseq-tile-generic-ops", "::mlir::func::FuncOp"> {
  let summary = "Tiles the linalg ops that are not contractions into "
                "parallel rows and vectors";
  let description = [{
    Runs after `convseq-tile-contractions`, on tensors, on every linalg op
    still at the top of the function: element-wise ops, reductions (norms,
    softmax, the loss), the convolutions, transposes, gathers and the
    packing copies. Each is tiled twice:

    1. rows: `scf.forall` with tiles of one over every parallel dimension
       but the last loop (an `scf.for` when the op is static and has fewer
       than `min-parallel-work` iterations, where forking costs more than
       the work). Every `linalg.fill` the op reads (also as the init of a
       fused producer) and the producers only this op reads, through a
       window-free indexing map that uses every row dimension (a norm's
       reduction), are fused into the rows;
    2. vectors: `scf.for` loops of one over the remaining dimensions and of
       `vector-size` over the last, with the reductions before the last
       innermost so the vector accumulator is loop-invariant there.

    The last loop is peeled when its tiles are not all full; the full tiles
    are vectorized (`linalg::vectorize`, gathers included) and their
    accumulators hoisted. A partial tile stays a scalar loop.

    An op whose body divides one parallel loop's index by 4 to pick a
    dropout mask's Philox evaluation (lib/Support/Philox.h) has row tiles
    of four along that loop, starting at multiples of 4; the group and word
    in each tile become the tile's offset / 4 (computed before it) and its
    own row, and a full group's rows are unrolled, so they share one
    vector evaluation. The full group and the partial last one each run
    under an `scf.if`.

    A copy that moves the innermost dimension (`linalg.transpose`, the
    packing of a right-hand side stored as `B[n, k]`) is tiled instead
    into rows over its other dimensions and `transpose-block` squares of
    the two it exchanges, each a transposed vector read and a vector
    write. Ops in the branches of an `scf.if` (a contraction versioned on
    its row count) are tiled like those at the top of the function, and
    the epilogues convseq-tile-contractions fused into row blocks are
    tiled inside their blocks, rows in `scf.for`.
  }];
  let options = [
    Option<"vectorSize", "vector-size", "int64_t", /*default=*/"16",
           "Elements of the last dimension per vector tile">,
    Option<"minParallelWork", "min-parallel-work", "int64_t",
           /*default=*/"16384",
           "Static ops with fewer iterations run without threads">,
    Option<"transposeBlock", "transpose-block", "int64_t", /*default=*/"8",
           "Rows and columns of the square blocks a transposing copy moves "
           "through registers">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def LowerVectorsPass : Pass<"convseq-lower-vectors", "::mlir::func::FuncOp"> {
  let summary = "Lowers n-D vector ops to the 1-D ops LLVM selects well";
  let description = [{
    Runs on buffers after `convert-vector-to-scf` unrolled the n-D
    transfers. Contractions become outer products and then one `vector.fma`
    per register row (a broadcast of the left-hand element times a row of
    the right-hand side), multi-reductions become element-wise ops over the
    outer dimension, and masks, broadcasts, shape casts and transposes are
    reduced to 1-D, so `convert-to-llvm` only sees 1-D vector ops. Float
    sums and products across a vector may be reassociated (a pairwise tree
    instead of one dependent add per element), and f32 `exp`, `expm1`,
    `log`, `log1p`, `log2`, `tanh` and `erf` become polynomial
    approximations, vectorized, instead of a libm call per element. An
    `arith.mului_extended` of i32 vectors (the Philox rounds of dropout)
    becomes one 64-bit multiply of the even lanes and one of the odd, each
    a single `vpmuludq` on x86, instead of widening and shuffling.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // CONVSEQ_CODEGEN_PASSES_TD
