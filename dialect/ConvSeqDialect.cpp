//===- ConvSeqDialect.cpp - The convseq dialect ---------------------------===//

#include "dialect/ConvSeqDialect.h"
#include "dialect/ConvSeqOps.h"

using namespace mlir;
using namespace mlir::convseq;

#include "dialect/ConvSeqDialect.cpp.inc"

void ConvSeqDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/ConvSeqOps.cpp.inc"
      >();
}
