//===- ConvSeqDialect.h - The convseq dialect -------------------*- C++ -*-===//

#ifndef CONVSEQ_DIALECT_CONVSEQDIALECT_H
#define CONVSEQ_DIALECT_CONVSEQDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialect/ConvSeqDialect.h.inc"

#endif // CONVSEQ_DIALECT_CONVSEQDIALECT_H
