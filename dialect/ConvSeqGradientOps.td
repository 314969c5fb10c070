//===- ConvSeqGradientOps.td - Ops of the backward pass ------*- tablegen -*-===//
//
// The vector-jacobian products of the primitives that are not themselves
// primitives (dialect/ConvSeqVJPs.cpp says which op's rule builds which).
// Each takes the forward values it needs and the gradient of the forward
// result (`result_grad`), and returns the gradient of one operand, so a rule
// builds only the gradients that are wanted: a frozen weight gets no
// `*_weight_grad` op at all. They are not differentiable themselves.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_GRADIENT_OPS_TD
#define CONVSEQ_GRADIENT_OPS_TD

include "dialect/ConvSeqDialect.td"

def ConvSeq_LinearWeightGradOp : ConvSeq_Op<"linear_weight_grad",
    [AllElementTypesMatch<["input", "result_grad", "result"]>]> {
  let summary = "gradient of convseq.linear with respect to its weight";
  let description = [{
    For `y = scale * x W`: `dW[i, o] = scale * sum_rows x[..., i] dy[..., o]`,
    summed over every leading dimension; with `transpose_weight` the result
    is the `[out, in]` transpose, matching the forward weight.

    ```mlir
    %dw = convseq.linear_weight_grad %x, %dy
            : (tensor<2x16x64xf32>, tensor<2x16x256xf32>) -> tensor<64x256xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$result_grad,
    UnitAttr:$transpose_weight,
    DefaultValuedAttr<F64Attr, "1.0">:$scale
  );
  let results = (outs ConvSeq_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $result_grad attr-dict `:` functional-type(operands, results)
  }];
}

def ConvSeq_GLUGradOp : ConvSeq_Op<"glu_grad",
    [AllTypesMatch<["value", "gate", "result_grad", "value_grad",
                    "gate_grad"]>]> {
  let summary = "gradients of convseq.glu";
  let description = [{
    For `y = v * sigmoid(g)`: `dv = dy * sigmoid(g)` and
    `dg = dy * v * sigmoid(g) * (1 - sigmoid(g))`.

    ```mlir
    %dv, %dg = convseq.glu_grad %v, %g, %dy : tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins ConvSeq_FloatTensor:$value, ConvSeq_FloatTensor:$gate,
                       ConvSeq_FloatTensor:$result_grad);
  let results = (outs ConvSeq_FloatTensor:$value_grad,
                      ConvSeq_FloatTensor:$gate_grad);
  let assemblyFormat = [{
    $value `,` $gate `,` $result_grad attr-dict `:` type($value_grad)
  }];
  let hasVerifier = 0;
}

class ConvSeq_UnaryGradOp<string mnemonic, string summaryText,
                          string descriptionText>
    : ConvSeq_Op<mnemonic, [SameOperandsAndResultType]> {
  let summary = summaryText;
  let description = descriptionText;
  let arguments = (ins ConvSeq_FloatTensor:$input,
                       ConvSeq_FloatTensor:$result_grad);
  let results = (outs ConvSeq_FloatTensor:$input_grad);
  let assemblyFormat = "$input `,` $result_grad attr-dict `:` type($input_grad)";
  let hasVerifier = 0;
}

def ConvSeq_ReluGradOp : ConvSeq_UnaryGradOp<"relu_grad",
    "gradient of convseq.relu", [{
    `dx = x > 0 ? dy : 0` (the subgradient 0 at 0, as PyTorch). The VJP of
    `convseq.relu` passes the relu's result as `x` (positive exactly where
    the relu's input is), or the result of a dropout of it when `dy` is the
    same dropout's gradient: either is kept for the backward pass anyway,
    and the relu's input need not be.

    ```mlir
    %dx = convseq.relu_grad %x, %dy : tensor<2x16x256xf32>
    ```
  }]>;

def ConvSeq_GeluGradOp : ConvSeq_UnaryGradOp<"gelu_grad",
    "gradient of convseq.gelu", [{
    `dx = dy * (Phi(x) + x * phi(x))` with the standard normal distribution
    `Phi` and density `phi`.

    ```mlir
    %dx = convseq.gelu_grad %x, %dy : tensor<2x16x256xf32>
    ```
  }]>;

def ConvSeq_SoftmaxGradOp : ConvSeq_UnaryGradOp<"softmax_grad",
    "gradient of convseq.softmax from its result", [{
    `input` is the softmax's **result** `y`:
    `dx = y * (dy - sum_last(dy * y))` along the innermost dimension.

    ```mlir
    %dx = convseq.softmax_grad %y, %dy : tensor<4x7xf32>
    ```
  }]>;

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

class ConvSeq_ConvGradOp<string mnemonic, list<Trait> traits = []>
    : ConvSeq_Op<mnemonic, traits> {
  let extraClassDeclaration = [{
    /// The number of channels per head, `D / heads` (1 for dilated).
    int64_t getHeadWidth() {
      return getVariant() == ::mlir::convseq::ConvVariant::dilated
                 ? 1
                 : getResultGrad().getType().getDimSize(2) / getHeads();
    }
  }];
}

def ConvSeq_ConvInputGradOp : ConvSeq_ConvGradOp<"conv_input_grad",
    [AllTypesMatch<["result_grad", "input_grad"]>]> {
  let summary = "gradient of a depthwise convolution with respect to its input";
  let description = [{
    The transposed convolution of `result_grad` (`[B, L, D]`) with the
    taps of the forward op named by `variant`: `weight` is the
    lightweight `[heads, k]` weight, the dynamic `[B, L, heads, k]`
    kernel or the dilated `[D, k]` weight. With `p` the forward padding,

    ```
    dx[b, t, c] = sum_j w(b, t + r (p - j), c, j) * dy[b, t + r (p - j), c]
    ```

    over the `j` whose position is inside `[0, L)`, zero where `mask` is
    false (the forward op reads padded positions as zero).

    ```mlir
    %dx = convseq.conv_input_grad %w, %dy
            {variant = lightweight, heads = 4 : i64, kernel_size = 7 : i64}
            : (tensor<4x7xf32>, tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$weight,
    ConvSeq_FloatTensor:$result_grad,
    Optional<ConvSeq_MaskTensor>:$mask,
    ConvSeq_ConvVariantAttr:$variant,
    I64Attr:$kernel_size,
    DefaultValuedAttr<I64Attr, "1">:$heads,
    DefaultValuedAttr<I64Attr, "1">:$dilation,
    UnitAttr:$causal
  );
  let results = (outs ConvSeq_FloatTensor:$input_grad);
  let assemblyFormat = [{
    $weight `,` $result_grad (`mask` $mask^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def ConvSeq_ConvWeightGradOp : ConvSeq_ConvGradOp<"conv_weight_grad",
    [AllTypesMatch<["input", "result_grad"]>]> {
  let summary = "gradient of a depthwise convolution with respect to its taps";
  let description = [{
    The correlation of the forward `input` (masked as the forward op masks
    it) with `result_grad`, shaped like the forward op's taps:

    ```
    lightweight  dw[h, j]       = sum_{b, i, c in h} dy[b, i, c] x[b, i + r (j - p), c]
    dynamic      dk[b, i, h, j] = sum_{c in h}       dy[b, i, c] x[b, i + (j - p), c]
    dilated      dw[c, j]       = sum_{b, i}         dy[b, i, c] x[b, i + r (j - p), c]
    ```

    ```mlir
    %dw = convseq.conv_weight_grad %x, %dy
            {variant = dilated, kernel_size = 3 : i64, dilation = 2 : i64}
            : (tensor<2x16x64xf32>, tensor<2x16x64xf32>) -> tensor<64x3xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$result_grad,
    Optional<ConvSeq_MaskTensor>:$mask,
    ConvSeq_ConvVariantAttr:$variant,
    I64Attr:$kernel_size,
    DefaultValuedAttr<I64Attr, "1">:$heads,
    DefaultValuedAttr<I64Attr, "1">:$dilation,
    UnitAttr:$causal
  );
  let results = (outs ConvSeq_FloatTensor:$weight_grad);
  let assemblyFormat = [{
    $input `,` $result_grad (`mask` $mask^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Normalization, embedding, attention, loss
//===----------------------------------------------------------------------===//

def ConvSeq_RMSNormGradOp : ConvSeq_Op<"rms_norm_grad",
    [AllTypesMatch<["input", "result_grad", "input_grad"]>,
     AllElementTypesMatch<["input", "scale"]>]> {
  let summary = "gradient of convseq.rms_norm with respect to its input";
  let description = [{
    With `r = 1 / sqrt(mean_c(x^2) + eps)` and `u = dy * g`:
    `dx = r * u - x * r^3 * mean_c(u * x)`.

    ```mlir
    %dx = convseq.rms_norm_grad %x, %g, %dy {epsilon = 1.0e-06 : f64}
            : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<2x16x64xf32>)
            -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$scale,
    ConvSeq_FloatTensor:$result_grad,
    DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon
  );
  let results = (outs ConvSeq_FloatTensor:$input_grad);
  let assemblyFormat = [{
    $input `,` $scale `,` $result_grad attr-dict `:`
    functional-type(operands, results)
  }];
}

def ConvSeq_RMSNormScaleGradOp : ConvSeq_Op<"rms_norm_scale_grad",
    [AllTypesMatch<["input", "result_grad"]>,
     AllElementTypesMatch<["input", "scale_grad"]>]> {
  let summary = "gradient of convseq.rms_norm with respect to its gain";
  let description = [{
    `dg[c] = sum_rows dy[..., c] * x[..., c] / sqrt(mean_c(x^2) + eps)`.

    ```mlir
    %dg = convseq.rms_norm_scale_grad %x, %dy {epsilon = 1.0e-06 : f64}
            : (tensor<2x16x64xf32>, tensor<2x16x64xf32>) -> tensor<64xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$input,
    ConvSeq_FloatTensor:$result_grad,
    DefaultValuedAttr<F64Attr, "1.0e-6">:$epsilon
  );
  let results = (outs ConvSeq_FloatTensor:$scale_grad);
  let assemblyFormat = [{
    $input `,` $result_grad attr-dict `:` functional-type(operands, results)
  }];
}

def ConvSeq_EmbeddingGradOp : ConvSeq_Op<"embedding_grad",
    [AllElementTypesMatch<["result_grad", "table_grad"]>]> {
  let summary = "gradient of convseq.embedding with respect to its table";
  let description = [{
    Scatter-add: `dE[v, :] = sum over positions p with ids[p] == v of
    dy[p, :]`. Ids outside `[0, V)` (which embed as a zero row) contribute
    nothing. The result type gives `V`.

    ```mlir
    %de = convseq.embedding_grad %ids, %dy
            : (tensor<2x16xi32>, tensor<2x16x64xf32>) -> tensor<8000x64xf32>
    ```
  }];
  let arguments = (ins ConvSeq_IdTensor:$ids, ConvSeq_FloatTensor:$result_grad);
  let results = (outs ConvSeq_FloatTensor:$table_grad);
  let assemblyFormat = [{
    $ids `,` $result_grad attr-dict `:` functional-type(operands, results)
  }];
}

def ConvSeq_DotProductAttentionGradOp : ConvSeq_Op<"dot_product_attention_grad",
    [AttrSizedOperandSegments,
     AllTypesMatch<["query", "query_grad"]>,
     AllTypesMatch<["key", "key_grad"]>,
     AllTypesMatch<["value", "value_grad"]>]> {
  let summary = "gradients of convseq.dot_product_attention";
  let description = [{
    Takes the forward op's operands and attributes and the gradient of its
    result. It recomputes the probabilities `P` (and the dropout mask from
    the same RNG key) instead of keeping the `[B, H, T, S]` matrix alive
    between the passes, then, with `Pd` the probabilities after dropout:

    ```
    dV = Pd^T dO    dP = dropout(dO V^T)    dS = P * (dP - rowsum(dP * P))
    dQ = scale dS K                        dK = scale dS^T Q
    ```

    `output`, optional, is the forward op's result O ([B, H, T, F]): then
    rowsum(dP * P) = rowsum(dO * O) needs no second pass over the values
    (the VJP passes it; kernels may use it or not).

    ```mlir
    %dq, %dk, %dv = convseq.dot_product_attention_grad %q, %k, %v, %do
        key_mask %m : (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>,
                       tensor<2x4x32x16xf32>, tensor<2x4x8x16xf32>,
                       tensor<2x32xi1>)
        -> (tensor<2x4x8x16xf32>, tensor<2x4x32x16xf32>, tensor<2x4x32x16xf32>)
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$query,
    ConvSeq_FloatTensor:$key,
    ConvSeq_FloatTensor:$value,
    ConvSeq_FloatTensor:$result_grad,
    Optional<ConvSeq_FloatTensor>:$output,
    Optional<ConvSeq_MaskTensor>:$key_mask,
    Optional<I64>:$seed,
    Optional<I64>:$step,
    OptionalAttr<F64Attr>:$scale,
    UnitAttr:$causal,
    DefaultValuedAttr<F64Attr, "0.0">:$dropout,
    DefaultValuedAttr<I64Attr, "0">:$stream
  );
  let results = (outs ConvSeq_FloatTensor:$query_grad,
                      ConvSeq_FloatTensor:$key_grad,
                      ConvSeq_FloatTensor:$value_grad);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $result_grad (`output` $output^)?
    (`key_mask` $key_mask^)? (`rng` `(` $seed^ `,` $step `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The scale applied to the scores: the attribute, or 1/sqrt(E).
    double getEffectiveScale();
    /// Whether the kernels that keep a query row (and a key row) per thread
    /// take this op: the forward op's rule
    /// (DotProductAttentionOp::fitsRowKernels).
    bool fitsRowKernels(int64_t minRows, int64_t maxHeadSize);
  }];
}

def ConvSeq_CrossEntropyGradOp : ConvSeq_Op<"cross_entropy_grad",
    [AllTypesMatch<["logits", "logits_grad"]>,
     AllElementTypesMatch<["logits", "result_grad"]>]> {
  let summary = "gradient of convseq.cross_entropy with respect to the logits";
  let description = [{
    `dlogits[p, v] = dloss / N * (softmax(logits[p])[v] - (1 - eps) [v ==
    target[p]] - eps / V)` at positions whose target is not `pad_id`, 0
    elsewhere; `N` is the number of such positions (no position: all 0).
    `result_grad` is the 0-d gradient of the loss.

    ```mlir
    %dl = convseq.cross_entropy_grad %logits, %tgt, %dloss {pad_id = 0 : i64}
            : (tensor<2x8x8000xf32>, tensor<2x8xi32>, tensor<f32>)
            -> tensor<2x8x8000xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$logits,
    ConvSeq_IdTensor:$targets,
    ConvSeq_FloatTensor:$result_grad,
    DefaultValuedAttr<I64Attr, "0">:$pad_id,
    DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing
  );
  let results = (outs ConvSeq_FloatTensor:$logits_grad);
  let assemblyFormat = [{
    $logits `,` $targets `,` $result_grad attr-dict `:`
    functional-type(operands, results)
  }];
}

#endif // CONVSEQ_GRADIENT_OPS_TD
