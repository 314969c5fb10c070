//===- ConvSeqBlockOps.td - Ops that mirror the paper's blocks -*- tablegen -*-===//
//
// Block ops carry a whole sublayer of the model (without the pre-norm and the
// residual, which the model stacks add around them). The
// `convseq-decompose-blocks` pass rewrites each into the primitives of
// ConvSeqPrimitiveOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_BLOCK_OPS_TD
#define CONVSEQ_BLOCK_OPS_TD

include "dialect/ConvSeqDialect.td"

def ConvSeq_ConvBlockOp : ConvSeq_Op<"conv_block", [
    AllTypesMatch<["input", "result"]>,
    AllElementTypesMatch<["input", "w_in", "w_gate", "w_conv", "w_out"]>]> {
  let summary = "GLU projection, convolution and output projection";
  let description = [{
    The convolution block of Tay et al. (2021), section 3, which replaces
    self-attention:

    ```
    a   = (x W_in) * sigmoid(x W_gate)      (gated linear unit)
    a   = where(mask, a, 0)                  (padding reads as zero)
    c   = Conv(a)                            (the chosen variant)
    out = c W_out
    ```

    `input` is `[B, L, D]`; `w_in`, `w_gate` and `w_out` are `[D, D]`. The
    convolution weight `w_conv` depends on the variant:

    * `lightweight`: `[heads, kernel_size]`, softmax-normalized over the
      kernel; channel `c` uses head `c * heads / D`;
    * `dynamic`: `[D, heads * kernel_size]`, projecting each position of `a`
      to its own softmax-normalized kernel;
    * `dilated`: `[D, kernel_size]`, one raw weight per channel and tap,
      with taps `dilation` positions apart; `heads` must be 1.

    With `causal` the output at position `i` reads inputs at positions `<= i`
    only (the decoder); otherwise the kernel is centred (the encoder). The
    optional `mask` (`[B, L]`, `true` for real tokens) zeroes padded positions
    of `a` before the convolution, so nothing leaks across padding.

    Example:

    ```mlir
    %y = convseq.conv_block lightweight %x, %wi, %wg, %wc, %wo mask %m
           {heads = 4 : i64, kernel_size = 7 : i64}
           : (tensor<2x16x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
              tensor<4x7xf32>, tensor<64x64xf32>, tensor<2x16xi1>)
           -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_ConvVariantAttr:$variant,
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$w_in,
    ConvSeq_FloatTensor:$w_gate,
    ConvSeq_FloatTensor:$w_conv,
    ConvSeq_FloatTensor:$w_out,
    Optional<ConvSeq_MaskTensor>:$mask,
    I64Attr:$kernel_size,
    DefaultValuedAttr<I64Attr, "1">:$heads,
    DefaultValuedAttr<I64Attr, "1">:$dilation,
    UnitAttr:$causal
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $variant $input `,` $w_in `,` $w_gate `,` $w_conv `,` $w_out
    (`mask` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
}

def ConvSeq_AttentionOp : ConvSeq_Op<"attention", [
    AttrSizedOperandSegments, AllTypesMatch<["query", "result"]>,
    AllElementTypesMatch<["query", "memory", "w_q", "w_k", "w_v", "w_o"]>]> {
  let summary = "multi-head attention (self or encoder-decoder)";
  let description = [{
    Multi-head scaled dot-product attention with `heads` heads of `D / heads`
    channels and no biases:

    ```
    Q = query W_q,  K = memory W_k,  V = memory W_v       (split into heads)
    P = softmax(Q K^T / sqrt(D / heads) + mask)           (per head)
    out = concat_heads(dropout(P) V) W_o
    ```

    `query` is `[B, T, D]` and `memory` is `[B, S, D]`: self-attention passes
    the same value twice, encoder-decoder attention passes the encoder output
    as `memory`. `key_mask` (`[B, S]`, `true` for real tokens) masks padded
    keys with -inf; `causal` lets query `i` attend to keys `j <= i + S - T`
    (the queries are the last `T` positions, so `T == S` in teacher forcing
    and `T == 1` against a growing cache). `dropout` is the dropout rate on the attention
    probabilities; when it is non-zero the counter-based RNG key `rng(seed,
    step)` must be given and `stream` names this dropout site.

    Example:

    ```mlir
    %y = convseq.attention %q, %enc, %wq, %wk, %wv, %wo key_mask %m
           {heads = 4 : i64}
           : (tensor<2x8x64xf32>, tensor<2x16x64xf32>, tensor<64x64xf32>,
              tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>,
              tensor<2x16xi1>) -> tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$query,
    ConvSeq_FloatTensor:$memory,
    ConvSeq_FloatTensor:$w_q,
    ConvSeq_FloatTensor:$w_k,
    ConvSeq_FloatTensor:$w_v,
    ConvSeq_FloatTensor:$w_o,
    Optional<ConvSeq_MaskTensor>:$key_mask,
    Optional<I64>:$seed,
    Optional<I64>:$step,
    I64Attr:$heads,
    UnitAttr:$causal,
    DefaultValuedAttr<F64Attr, "0.0">:$dropout,
    DefaultValuedAttr<I64Attr, "0">:$stream
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $memory `,` $w_q `,` $w_k `,` $w_v `,` $w_o
    (`key_mask` $key_mask^)? (`rng` `(` $seed^ `,` $step `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def ConvSeq_FFNOp : ConvSeq_Op<"ffn", [
    AttrSizedOperandSegments, AllTypesMatch<["input", "result"]>,
    AllElementTypesMatch<["input", "w_1", "w_2"]>]> {
  let summary = "position-wise feed-forward network";
  let description = [{
    `act(input W_1) W_2` with `W_1 : [D, F]`, `W_2 : [F, D]`, no biases;
    `activation` is `relu` (T5, the default) or `gelu` (ConvBERT). `dropout`
    is the rate of dropout on the hidden layer; when non-zero the RNG key
    `rng(seed, step)` must be given and `stream` names this dropout site.

    Example:

    ```mlir
    %y = convseq.ffn %x, %w1, %w2
           : (tensor<2x16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>)
           -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$w_1,
    ConvSeq_FloatTensor:$w_2,
    Optional<I64>:$seed,
    Optional<I64>:$step,
    DefaultValuedAttr<ConvSeq_ActivationAttr, "Activation::relu">:$activation,
    DefaultValuedAttr<F64Attr, "0.0">:$dropout,
    DefaultValuedAttr<I64Attr, "0">:$stream
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $w_1 `,` $w_2 (`rng` `(` $seed^ `,` $step `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
}

#endif // CONVSEQ_BLOCK_OPS_TD
