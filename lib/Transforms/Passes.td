//===- Passes.td - convseq dialect-level passes ------------*- tablegen -*-===//

#ifndef CONVSEQ_TRANSFORMS_PASSES_TD
#define CONVSEQ_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def DecomposeBlocksPass : Pass<"convseq-decompose-blocks"> {
  let summary = "Rewrites conv blocks, attention and FFNs into convseq primitives";
  let description = [{
    Expands every block op into the primitives it is defined by, so later
    passes (conversion to linalg, autodiff) only handle primitives:

    * `convseq.conv_block` becomes two `linear`s and a `glu`, the variant's
      convolution (`lightweight_conv` after a `softmax` of its weight,
      `dynamic_conv` after a `linear`, a reshape and a `softmax` that compute
      the per-position kernels, or `dilated_conv`), with the block's padding
      mask passed to the convolution, and the output `linear`;
    * `convseq.attention` becomes the four projections, `split_heads`,
      `dot_product_attention` (scale `1/sqrt(D/H)`, the key mask, causality
      and dropout carried over) and `merge_heads`;
    * `convseq.ffn` becomes `linear`, `relu` or `gelu`, an optional
      `dropout` of the hidden layer and the second `linear`.

    The result computes exactly what the block op's definition says.
  }];
  let dependentDialects = [
    "::mlir::convseq::ConvSeqDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // CONVSEQ_TRANSFORMS_PASSES_TD
