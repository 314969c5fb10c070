//===- ConvSeqPrimitiveOps.td - The primitives blocks decompose into -*- tablegen -*-===//
//
// Each primitive has one job and an exact definition (spec sections 1-5); the
// conversion to linalg and the autodiff rules are written against these.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_PRIMITIVE_OPS_TD
#define CONVSEQ_PRIMITIVE_OPS_TD

include "dialect/ConvSeqDialect.td"
include "dialect/ConvSeqInterfaces.td"

// The primitives that carry gradients implement their rule in
// dialect/ConvSeqVJPs.cpp.
defvar ConvSeq_Differentiable =
    DeclareOpInterfaceMethods<ConvSeq_DifferentiableOpInterface>;

//===----------------------------------------------------------------------===//
// Dense layers and element-wise ops
//===----------------------------------------------------------------------===//

def ConvSeq_LinearOp : ConvSeq_Op<"linear",
    [ConvSeq_Differentiable, InferTypeOpAdaptor,
     AllElementTypesMatch<["input", "weight", "result"]>]> {
  let summary = "matrix product with a weight, no bias";
  let description = [{
    `result[..., o] = scale * sum_i input[..., i] * W[i, o]` where `W` is
    `weight` (`[in, out]`) or, with `transpose_weight`, the transpose of
    `weight` (`[out, in]`; the tied output embedding uses this). `input` has
    rank >= 1; the leading dimensions are kept.

    ```mlir
    %y = convseq.linear %x, %w : (tensor<2x16x64xf32>, tensor<64x256xf32>)
           -> tensor<2x16x256xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$weight,
    UnitAttr:$transpose_weight,
    DefaultValuedAttr<F64Attr, "1.0">:$scale
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                   CArg<"bool", "false">:$transposeWeight,
                   CArg<"double", "1.0">:$scale), [{
      build($_builder, $_state, input, weight, transposeWeight,
            ::llvm::APFloat(scale));
    }]>
  ];
}

def ConvSeq_GLUOp : ConvSeq_Op<"glu",
    [ConvSeq_Differentiable, SameOperandsAndResultType]> {
  let summary = "gated linear unit: value * sigmoid(gate)";
  let description = [{
    Element-wise `value * sigmoid(gate)`; the two projections that feed it
    are separate `convseq.linear` ops.

    ```mlir
    %a = convseq.glu %v, %g : tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins ConvSeq_FloatTensor:$value, ConvSeq_FloatTensor:$gate);
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = "$value `,` $gate attr-dict `:` type($result)";
  let hasVerifier = 0;
}

class ConvSeq_UnaryOp<string mnemonic, string summaryText,
                      string descriptionText>
    : ConvSeq_Op<mnemonic, [ConvSeq_Differentiable,
                                SameOperandsAndResultType]> {
  let summary = summaryText;
  let description = descriptionText;
  let arguments = (ins ConvSeq_FloatTensor:$input);
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def ConvSeq_ReluOp : ConvSeq_UnaryOp<"relu", "max(x, 0)", [{
    Element-wise `max(x, 0)`.

    ```mlir
    %y = convseq.relu %x : tensor<2x16x256xf32>
    ```
  }]> {
  let hasVerifier = 0;
}

def ConvSeq_GeluOp : ConvSeq_UnaryOp<"gelu", "x * Phi(x), exact (erf) form", [{
    Element-wise `0.5 * x * (1 + erf(x / sqrt(2)))`, the exact GELU used by
    BERT and ConvBERT.

    ```mlir
    %y = convseq.gelu %x : tensor<2x16x256xf32>
    ```
  }]> {
  let hasVerifier = 0;
}

def ConvSeq_SoftmaxOp : ConvSeq_UnaryOp<"softmax", "softmax over the last dimension", [{
    `exp(x - max) / sum(exp(x - max))` along the innermost dimension; used to
    normalize convolution kernels. Attention uses
    `convseq.dot_product_attention`, which fuses its softmax.

    ```mlir
    %w = convseq.softmax %raw : tensor<4x7xf32>
    ```
  }]> {
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

class ConvSeq_ConvOp<string mnemonic, list<Trait> traits = []>
    : ConvSeq_Op<mnemonic,
                 !listconcat(traits, [ConvSeq_Differentiable,
                                     AllTypesMatch<["input", "result"]>])>;

def ConvSeq_LightweightConvOp : ConvSeq_ConvOp<"lightweight_conv",
    [AllElementTypesMatch<["input", "weight"]>]> {
  let summary = "depthwise convolution with weights shared across head channels";
  let description = [{
    Wu et al. (2019): `input` is `[B, L, D]`, `weight` is `[heads,
    kernel_size]` and already normalized (the conv block applies
    `convseq.softmax` to it). Channel `c` uses head `h(c) = c * heads / D`:

    ```
    out[b, i, c] = sum_{j < k} weight[h(c), j] * input[b, i + j - p, c]
    ```

    with `p = k - 1` when `causal` (decoder) and `p = k / 2` otherwise
    (encoder); positions outside `[0, L)` and, with `mask`, padded positions
    read as zero.

    ```mlir
    %y = convseq.lightweight_conv %a, %w mask %m
           {heads = 4 : i64, kernel_size = 7 : i64}
           : (tensor<2x16x64xf32>, tensor<4x7xf32>, tensor<2x16xi1>)
           -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$weight,
    Optional<ConvSeq_MaskTensor>:$mask,
    I64Attr:$kernel_size,
    I64Attr:$heads,
    UnitAttr:$causal
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`mask` $mask^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def ConvSeq_DynamicConvOp : ConvSeq_ConvOp<"dynamic_conv",
    [AllElementTypesMatch<["input", "kernel"]>]> {
  let summary = "depthwise convolution with a kernel per position";
  let description = [{
    Wu et al. (2019): `input` is `[B, L, D]` and `kernel` is `[B, L, heads,
    kernel_size]`, one normalized kernel per position and head (the conv
    block computes it as `softmax(reshape(a W_K))`):

    ```
    out[b, i, c] = sum_{j < k} kernel[b, i, h(c), j] * input[b, i + j - p, c]
    ```

    with `h(c)` and `p` as for `convseq.lightweight_conv`.

    ```mlir
    %y = convseq.dynamic_conv %a, %kern {heads = 4 : i64, kernel_size = 3 : i64, causal}
           : (tensor<2x16x64xf32>, tensor<2x16x4x3xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$kernel,
    Optional<ConvSeq_MaskTensor>:$mask,
    I64Attr:$kernel_size,
    I64Attr:$heads,
    UnitAttr:$causal
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $kernel (`mask` $mask^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def ConvSeq_DilatedConvOp : ConvSeq_ConvOp<"dilated_conv",
    [AllElementTypesMatch<["input", "weight"]>]> {
  let summary = "depthwise dilated convolution, one weight per channel and tap";
  let description = [{
    `input` is `[B, L, D]`, `weight` is `[D, kernel_size]` (not normalized):

    ```
    out[b, i, c] = sum_{j < k} weight[c, j] * input[b, i + r * (j - p), c]
    ```

    with dilation `r`, `p = k - 1` when `causal` and `p = k / 2` otherwise;
    positions outside `[0, L)` and, with `mask`, padded positions read as
    zero.

    ```mlir
    %y = convseq.dilated_conv %a, %w {dilation = 4 : i64, kernel_size = 7 : i64}
           : (tensor<2x16x64xf32>, tensor<64x7xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$weight,
    Optional<ConvSeq_MaskTensor>:$mask,
    I64Attr:$kernel_size,
    DefaultValuedAttr<I64Attr, "1">:$dilation,
    UnitAttr:$causal
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`mask` $mask^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def ConvSeq_ApplyMaskOp : ConvSeq_Op<"apply_mask",
    [ConvSeq_Differentiable, AllTypesMatch<["input", "result"]>]> {
  let summary = "zeroes the padded positions of a sequence";
  let description = [{
    `result[b, i, c] = mask[b, i] ? input[b, i, c] : 0` for `input :
    [B, L, D]` and `mask : [B, L]`. The dynamic convolution block uses it
    so that both its per-position kernels and its taps read the masked GLU
    output.

    ```mlir
    %a = convseq.apply_mask %glu, %m
           : (tensor<2x16x64xf32>, tensor<2x16xi1>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins ConvSeq_FloatTensor:$input, ConvSeq_MaskTensor:$mask);
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Normalization, embedding, positions, dropout
//===----------------------------------------------------------------------===//

def ConvSeq_RMSNormOp : ConvSeq_Op<"rms_norm",
    [ConvSeq_Differentiable, AllTypesMatch<["input", "result"]>,
     AllElementTypesMatch<["input", "scale"]>]> {
  let summary = "T5 layer norm: x / sqrt(mean(x^2) + eps) * g";
  let description = [{
    Normalizes over the innermost dimension `D` with no mean subtraction and
    no bias; `scale` is the gain `g` of shape `[D]`.

    ```mlir
    %y = convseq.rms_norm %x, %g {epsilon = 1.0e-06 : f64}
           : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$scale,
    DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale attr-dict `:` functional-type(operands, results)
  }];
}

def ConvSeq_EmbeddingOp : ConvSeq_Op<"embedding",
    [ConvSeq_Differentiable, InferTypeOpAdaptor]> {
  let summary = "row lookup in an embedding table";
  let description = [{
    `result[..., :] = table[ids[...], :]` for `table : [V, D]`. An id outside
    `[0, V)` reads a zero row.

    ```mlir
    %h = convseq.embedding %ids, %table
           : (tensor<2x16xi32>, tensor<8000x64xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins ConvSeq_IdTensor:$ids, ConvSeq_FloatTensor:$table);
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $ids `,` $table attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 0;
}

def ConvSeq_AddPositionsOp : ConvSeq_Op<"add_positions",
    [ConvSeq_Differentiable, AllTypesMatch<["input", "result"]>]> {
  let summary = "adds sinusoidal absolute positions (Transformer baseline)";
  let description = [{
    For `input : [B, L, D]` adds, at position `t = offset + i` and channel
    `c < D/2`, `sin(t / 10000^(c / (D/2 - 1)))`, and at channel `D/2 + c` the
    matching `cos` (the tensor2tensor / fairseq layout). `offset` (an
    `index`, default 0) is the position of the first row, for incremental
    decoding. `D` must be even and at least 4.

    ```mlir
    %y = convseq.add_positions %x offset %t : (tensor<2x1x64xf32>, index)
           -> tensor<2x1x64xf32>
    ```
  }];
  let arguments = (ins ConvSeq_FloatTensor:$input, Optional<Index>:$offset);
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`offset` $offset^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def ConvSeq_DropoutOp : ConvSeq_Op<"dropout",
    [ConvSeq_Differentiable, AllTypesMatch<["input", "result"]>]> {
  let summary = "inverted dropout from a counter-based RNG";
  let description = [{
    Zeroes each element with probability `rate` and scales the others by
    `1 / (1 - rate)`. The decision for element `(lead..., i, j)` is a pure
    function of `(seed, step, stream, lead, i, j)` computed with
    Philox-4x32-10 (one evaluation for four rows; docs/dialect.md), so a
    training run is bit-reproducible and the backward pass recomputes the
    same mask. `stream` distinguishes dropout sites within a step.

    ```mlir
    %y = convseq.dropout %x rng(%seed, %step) {rate = 1.0e-01 : f64, stream = 3 : i64}
           : (tensor<2x16x64xf32>, i64, i64) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    I64:$seed,
    I64:$step,
    F64Attr:$rate,
    DefaultValuedAttr<I64Attr, "0">:$stream
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input `rng` `(` $seed `,` $step `)` attr-dict `:`
    functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Attention pieces
//===----------------------------------------------------------------------===//

def ConvSeq_SplitHeadsOp : ConvSeq_Op<"split_heads",
    [ConvSeq_Differentiable, InferTypeOpAdaptor]> {
  let summary = "[B, L, D] -> [B, heads, L, D / heads]";
  let description = [{
    Channel `h * (D / heads) + e` of position `l` becomes element
    `[b, h, l, e]`.

    ```mlir
    %q4 = convseq.split_heads %q {heads = 4 : i64}
            : (tensor<2x16x64xf32>) -> tensor<2x4x16x16xf32>
    ```
  }];
  let arguments = (ins ConvSeq_FloatTensor:$input, I64Attr:$heads);
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input attr-dict `:` functional-type(operands, results)
  }];
}

def ConvSeq_MergeHeadsOp : ConvSeq_Op<"merge_heads",
    [ConvSeq_Differentiable, InferTypeOpAdaptor]> {
  let summary = "[B, H, L, E] -> [B, L, H * E], the inverse of split_heads";
  let description = [{
    ```mlir
    %o = convseq.merge_heads %o4 : (tensor<2x4x16x16xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins ConvSeq_FloatTensor:$input);
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 0;
}

def ConvSeq_DotProductAttentionOp : ConvSeq_Op<"dot_product_attention",
    [ConvSeq_Differentiable, InferTypeOpAdaptor, AttrSizedOperandSegments,
     AllElementTypesMatch<["query", "key", "value", "result"]>]> {
  let summary = "softmax(Q K^T * scale + mask) V per batch and head";
  let description = [{
    `query : [B, H, T, E]`, `key : [B, H, S, E]`, `value : [B, H, S, F]`,
    result `[B, H, T, F]`. `scale` defaults to `1 / sqrt(E)`. `key_mask`
    (`[B, S]`, `true` for real keys) adds -inf for padded keys. With `causal`,
    query `i` attends to keys `j <= i + S - T`: the queries are the last `T`
    of the `S` positions, which covers both teacher forcing (`T == S`) and
    incremental decoding against a cache. A query row with no admissible key
    yields zeros. `dropout` is applied to the probabilities with the RNG key
    `rng(seed, step)` and `stream`.

    This op is the unit that code generation tiles as matmul, online softmax
    and matmul, so the `[T, S]` score matrix is never materialized whole.

    ```mlir
    %o = convseq.dot_product_attention %q, %k, %v key_mask %m
           : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>,
              tensor<2x4x32x16xf32>, tensor<2x32xi1>) -> tensor<2x4x8x16xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$query,
    ConvSeq_FloatTensor:$key,
    ConvSeq_FloatTensor:$value,
    Optional<ConvSeq_MaskTensor>:$key_mask,
    Optional<I64>:$seed,
    Optional<I64>:$step,
    OptionalAttr<F64Attr>:$scale,
    UnitAttr:$causal,
    DefaultValuedAttr<F64Attr, "0.0">:$dropout,
    DefaultValuedAttr<I64Attr, "0">:$stream
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`key_mask` $key_mask^)?
    (`rng` `(` $seed^ `,` $step `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The scale applied to the scores: the attribute, or 1/sqrt(E).
    double getEffectiveScale();
    /// Whether the row-at-a-time kernels of code generation take this op:
    /// float elements, static head sizes (E and F) of at most
    /// `maxHeadSize`, and a dynamic query count or a static one of at least
    /// `minRows` (a decoder step's one query per head is better served by
    /// the reference lowering).
    bool fitsRowKernels(int64_t minRows, int64_t maxHeadSize);
  }];
}

//===----------------------------------------------------------------------===//
// Token-level ops
//===----------------------------------------------------------------------===//

def ConvSeq_PaddingMaskOp : ConvSeq_Op<"padding_mask", [InferTypeOpAdaptor]> {
  let summary = "true where a token id is not the padding id";
  let description = [{
    ```mlir
    %m = convseq.padding_mask %ids {pad_id = 0 : i64}
           : (tensor<2x16xi32>) -> tensor<2x16xi1>
    ```
  }];
  let arguments = (ins
    ConvSeq_IdTensor:$ids,
    DefaultValuedAttr<I64Attr, "0">:$pad_id
  );
  let results = (outs ConvSeq_MaskTensor:$result);
  let assemblyFormat = [{
    $ids attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 0;
}

def ConvSeq_ShiftRightOp : ConvSeq_Op<"shift_right",
    [SameOperandsAndResultType]> {
  let summary = "decoder inputs from targets: shift right, start token first";
  let description = [{
    `result[b, 0] = start_id`, `result[b, t] = ids[b, t - 1]` for `t > 0`
    (teacher forcing; T5 uses the pad id as the start token).

    ```mlir
    %dec = convseq.shift_right %tgt {start_id = 0 : i64} : tensor<2x8xi32>
    ```
  }];
  let arguments = (ins
    ConvSeq_IdTensor:$ids,
    DefaultValuedAttr<I64Attr, "0">:$start_id
  );
  let results = (outs ConvSeq_IdTensor:$result);
  let assemblyFormat = "$ids attr-dict `:` type($result)";
}

def ConvSeq_CrossEntropyOp : ConvSeq_Op<"cross_entropy",
    [ConvSeq_Differentiable, InferTypeOpAdaptor]> {
  let summary = "token softmax cross-entropy, averaged over non-pad targets";
  let description = [{
    `logits : [..., V]`, `targets : [...]` of integer ids. Returns the 0-d
    mean over positions whose target is not `pad_id` of
    `-(1 - eps) * log p[target] - eps / V * sum_v log p[v]` with `p =
    softmax(logits)` and `eps = label_smoothing` (0 by default). With no
    non-pad target the loss is 0.

    ```mlir
    %loss = convseq.cross_entropy %logits, %tgt {pad_id = 0 : i64}
              : (tensor<2x8x8000xf32>, tensor<2x8xi32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$logits,
    ConvSeq_IdTensor:$targets,
    DefaultValuedAttr<I64Attr, "0">:$pad_id,
    DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $logits `,` $targets attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$logits, "::mlir::Value":$targets,
                   CArg<"int64_t", "0">:$padId,
                   CArg<"double", "0.0">:$labelSmoothing), [{
      build($_builder, $_state, logits, targets, padId,
            ::llvm::APFloat(labelSmoothing));
    }]>
  ];
}

#endif // CONVSEQ_PRIMITIVE_OPS_TD
