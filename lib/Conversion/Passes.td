//===- Passes.td - Conversions out of the convseq dialect --*- tablegen -*-===//

#ifndef CONVSEQ_CONVERSION_PASSES_TD
#define CONVSEQ_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertConvSeqToLinalgPass : Pass<"convert-convseq-to-linalg"> {
  let summary = "Lowers convseq primitives to linalg, tensor, arith and math";
  let description = [{
    Rewrites every convseq primitive into upstream ops on tensors in
    destination-passing style, so upstream tiling, fusion, vectorization and
    bufferization apply:

    * `linear` becomes `linalg.matmul` on the input collapsed to a matrix
      (transposed weights through the matmul's indexing maps), with the
      scale as an element-wise epilogue;
    * the convolutions become `linalg.generic` reductions over the kernel
      taps reading a zero-padded (`tensor.pad`) and masked input, the head
      of a channel computed in the indexing map (`c floordiv (D/H)`);
    * `softmax`, `rms_norm`, `cross_entropy` and `dot_product_attention`
      become reductions and element-wise `linalg.generic`s with
      max-subtracted exponentials (masked rows give zeros, not NaN);
    * `embedding`, `shift_right` and `add_positions` become generics that
      gather with `tensor.extract` or compute from `linalg.index`;
    * `split_heads` / `merge_heads` become `tensor.expand_shape` /
      `collapse_shape` and `linalg.transpose`;
    * `dropout` becomes a generic computing Philox-4x32-10 from the seed,
      step, stream and linear element index.

    Block ops must be decomposed first (`convseq-decompose-blocks`); any
    convseq op left after this pass is an error.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // CONVSEQ_CONVERSION_PASSES_TD
