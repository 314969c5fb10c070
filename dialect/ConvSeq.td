//===- ConvSeq.td - The convseq dialect, umbrella file -----*- tablegen -*-===//
//
// Includes the dialect definition and its op groups; nothing is defined here.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_TD
#define CONVSEQ_TD

include "dialect/ConvSeqDialect.td"
include "dialect/ConvSeqBlockOps.td"
include "dialect/ConvSeqPrimitiveOps.td"
include "dialect/ConvSeqGradientOps.td"
include "dialect/ConvSeqOptimizerOps.td"

#endif // CONVSEQ_TD
