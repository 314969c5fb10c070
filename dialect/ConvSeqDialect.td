//===- ConvSeqDialect.td - Dialect, enums and type constraints -*- tablegen -*-===//

#ifndef CONVSEQ_DIALECT_TD
#define CONVSEQ_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def ConvSeq_Dialect : Dialect {
  let name = "convseq";
  let cppNamespace = "::mlir::convseq";
  let summary = "Convolutional sequence-to-sequence models";
  let description = [{
    The `convseq` dialect describes the models of "Are Pre-trained Convolutions
    Better than Pre-trained Transformers?" (Tay et al. 2021) on value-semantic
    tensors, at two levels:

    * **block ops** that mirror the paper: a convolution block (GLU input
      projection, lightweight / dynamic / dilated convolution, output
      projection), multi-head attention and the feed-forward network;
    * the **primitives** they decompose into (`convseq-decompose-blocks`):
      linear layers, GLU, the three convolutions, RMSNorm, softmax, embedding
      lookup, dropout, head splitting, dot-product attention and the
      softmax cross-entropy loss.

    Layout conventions: activations are `[batch, length, channels]` (rows are
    positions), weights of linear layers are `[in, out]`, padding masks are
    `[batch, length]` of `i1` with `true` marking a real token. Floating-point
    operands of one op share one element type: `f32`, `f64` or `bf16`.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def ConvSeq_ConvVariantAttr : I32EnumAttr<"ConvVariant",
    "the convolution inside a conv block", [
      I32EnumAttrCase<"lightweight", 0>,
      I32EnumAttrCase<"dynamic", 1>,
      I32EnumAttrCase<"dilated", 2>
    ]> {
  let cppNamespace = "::mlir::convseq";
}

def ConvSeq_ActivationAttr : I32EnumAttr<"Activation",
    "the non-linearity of a feed-forward network", [
      I32EnumAttrCase<"relu", 0>,
      I32EnumAttrCase<"gelu", 1>
    ]> {
  let cppNamespace = "::mlir::convseq";
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def ConvSeq_Float : AnyTypeOf<[F32, F64, BF16], "f32, f64 or bf16">;
def ConvSeq_FloatTensor : RankedTensorOf<[F32, F64, BF16]>;
def ConvSeq_MaskTensor : RankedTensorOf<[I1]>;
def ConvSeq_IdTensor : RankedTensorOf<[I32, I64]>;


//===----------------------------------------------------------------------===//
// Base class
//===----------------------------------------------------------------------===//

class ConvSeq_Op<string mnemonic, list<Trait> traits = []>
    : Op<ConvSeq_Dialect, mnemonic, !listconcat(traits, [Pure])> {
  let hasVerifier = 1;
}

#endif // CONVSEQ_DIALECT_TD
