//===- PopulatePatterns.h - convseq-to-linalg patterns by family -*- C++ -*-===//
//
// Internal to the conversion: one populate function per op family, each in
// the file of that name.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_CONVERSION_CONVSEQTOLINALG_POPULATEPATTERNS_H
#define CONVSEQ_LIB_CONVERSION_CONVSEQTOLINALG_POPULATEPATTERNS_H

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace mlir::convseq::lowering {

/// linear, split_heads, merge_heads.
void populateLinearPatterns(RewritePatternSet &patterns);
/// glu, relu, gelu, softmax.
void populateElementwisePatterns(RewritePatternSet &patterns);
/// apply_mask, lightweight_conv, dynamic_conv, dilated_conv.
void populateConvPatterns(RewritePatternSet &patterns);
/// rms_norm, cross_entropy.
void populateNormPatterns(RewritePatternSet &patterns);
/// dot_product_attention.
void populateAttentionPatterns(RewritePatternSet &patterns);
/// embedding, add_positions, padding_mask, shift_right.
void populateTokenPatterns(RewritePatternSet &patterns);
/// dropout.
void populateDropoutPatterns(RewritePatternSet &patterns);
/// sum_of_squares, adamw_update, adafactor_update.
void populateOptimizerPatterns(RewritePatternSet &patterns);

} // namespace mlir::convseq::lowering

#endif // CONVSEQ_LIB_CONVERSION_CONVSEQTOLINALG_POPULATEPATTERNS_H
