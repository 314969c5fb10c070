//===- ConvSeqOptimizerOps.td - Ops of the optimizer update --*- tablegen -*-===//
//
// The ops `convseq-generate-train-step` appends after the backward pass:
// the global gradient norm and the per-parameter updates of AdamW and
// Adafactor. An update takes the parameter, its gradient and its optimizer
// state and returns their new values; the lowering writes them into the
// buffers of the old ones (destination-passing style), so a training step
// updates parameters and state in place. The step's scalars (learning
// rate, clipping factor, step number) are operands: they change every step
// and are computed once, in f64, by the training step itself.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_OPTIMIZER_OPS_TD
#define CONVSEQ_OPTIMIZER_OPS_TD

include "dialect/ConvSeqDialect.td"

def ConvSeq_SumOfSquaresOp : ConvSeq_Op<"sum_of_squares"> {
  let summary = "sum of the squares of every element of every operand";
  let description = [{
    `sum_i sum_e x_i[e]^2`, accumulated in f64 whatever the element types,
    in a fixed order (operands in order, then elements). Its square root is
    the global gradient norm that gradient clipping divides by.

    ```mlir
    %s = convseq.sum_of_squares %g0, %g1 : tensor<8x4xf32>, tensor<4xf32>
    ```
  }];
  let arguments = (ins Variadic<ConvSeq_FloatTensor>:$inputs);
  let results = (outs F64:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
}

def ConvSeq_AdamWUpdateOp : ConvSeq_Op<"adamw_update",
    [AllTypesMatch<["param", "grad", "first_moment", "second_moment",
                    "new_param", "new_first_moment", "new_second_moment"]>]> {
  let summary = "one AdamW step of one parameter";
  let description = [{
    AdamW (Loshchilov and Hutter, "Decoupled weight decay regularization"),
    as PyTorch's `torch.optim.AdamW` computes it. With `t = step` (1 for
    the first update), `g = grad_scale * grad` and `lr = learning_rate`:

    ```
    m' = beta1 m + (1 - beta1) g
    v' = beta2 v + (1 - beta2) g^2
    p' = p (1 - lr weight_decay)
         - lr / (1 - beta1^t) * m' / (sqrt(v') / sqrt(1 - beta2^t) + epsilon)
    ```

    ```mlir
    %p1, %m1, %v1 = convseq.adamw_update %p, %g, %m, %v, %lr, %scale, %t
                      {weight_decay = 1.0e-02 : f64} : tensor<64x256xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$param,
    ConvSeq_FloatTensor:$grad,
    ConvSeq_FloatTensor:$first_moment,
    ConvSeq_FloatTensor:$second_moment,
    F64:$learning_rate,
    F64:$grad_scale,
    I64:$step,
    DefaultValuedAttr<F64Attr, "0.9">:$beta1,
    DefaultValuedAttr<F64Attr, "0.999">:$beta2,
    DefaultValuedAttr<F64Attr, "1e-8">:$epsilon,
    DefaultValuedAttr<F64Attr, "0.0">:$weight_decay
  );
  let results = (outs ConvSeq_FloatTensor:$new_param,
                      ConvSeq_FloatTensor:$new_first_moment,
                      ConvSeq_FloatTensor:$new_second_moment);
  let assemblyFormat = [{
    $param `,` $grad `,` $first_moment `,` $second_moment `,`
    $learning_rate `,` $grad_scale `,` $step attr-dict `:` type($param)
  }];
}

def ConvSeq_AdafactorUpdateOp : ConvSeq_Op<"adafactor_update",
    [AllTypesMatch<["param", "grad", "new_param"]>,
     InferTypeOpAdaptor]> {
  let summary = "one Adafactor step of one parameter";
  let description = [{
    Adafactor without momentum (Shazeer and Stern 2018, Algorithms 4 and 5,
    the setting T5 and the paper train with). With `t = step`,
    `g = grad_scale * grad`, `beta = 1 - t^-decay_rate` and
    `q = g^2 + epsilon1`:

    - a matrix `[n, m]` with two state operands keeps factored second
      moments, the row means `R: [n]` and the column means `C: [m]`:
      `R' = beta R + (1 - beta) mean_j q`, `C' = beta C + (1 - beta)
      mean_i q`, and `u = g / sqrt(R'_i C'_j / mean(R'))`;
    - any parameter with one state operand `V` of its own shape keeps the
      full second moment: `V' = beta V + (1 - beta) q`, `u = g / sqrt(V')`.

    Then the update is clipped to root-mean-square `clip_threshold`,
    `u = u / max(1, rms(u) / clip_threshold)`, the step size is
    `a = learning_rate`, times `max(epsilon2, rms(p))` with
    `relative_step`, and `p' = p (1 - a weight_decay) - a u`.

    ```mlir
    %p1, %r1, %c1 = convseq.adafactor_update %p, %g state(%r, %c), %lr, %scale, %t
        {relative_step} : tensor<64x256xf32>, tensor<64xf32>, tensor<256xf32>
    ```
  }];
  let arguments = (ins
    ConvSeq_FloatTensor:$param,
    ConvSeq_FloatTensor:$grad,
    Variadic<ConvSeq_FloatTensor>:$state,
    F64:$learning_rate,
    F64:$grad_scale,
    I64:$step,
    DefaultValuedAttr<F64Attr, "1e-30">:$epsilon1,
    DefaultValuedAttr<F64Attr, "1e-3">:$epsilon2,
    DefaultValuedAttr<F64Attr, "1.0">:$clip_threshold,
    DefaultValuedAttr<F64Attr, "0.8">:$decay_rate,
    DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
    UnitAttr:$relative_step
  );
  let results = (outs ConvSeq_FloatTensor:$new_param,
                      Variadic<ConvSeq_FloatTensor>:$new_state);
  let assemblyFormat = [{
    $param `,` $grad `state` `(` $state `)` `,` $learning_rate `,`
    $grad_scale `,` $step attr-dict `:` type($param) `,` type($state)
  }];
  let extraClassDeclaration = [{
    /// Two state operands: factored second moments of a matrix.
    bool isFactored() { return getState().size() == 2; }
  }];
}

#endif // CONVSEQ_OPTIMIZER_OPS_TD
