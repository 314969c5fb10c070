//===- convseq-opt.cpp - The lit-test driver of convseq -------------------===//
//
// mlir-opt with convseq's dialects and passes, registered from the one list
// in lib/InitAll.h.
//
//===----------------------------------------------------------------------===//

#include "lib/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::convseq::registerAllConvSeqDialects(registry);
  mlir::convseq::registerAllConvSeqPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "convseq optimizer and lowering driver\n", registry));
}
