//===- ModelTest.h - The model a test binary is built for -------*- C++ -*-===//
//
// Shared by the end-to-end tests built once per model: CONVSEQ_MODEL_YAML
// names its definition (test/e2e/CMakeLists.txt).
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_TEST_E2E_MODELTEST_H
#define CONVSEQ_TEST_E2E_MODELTEST_H

#include "lib/Frontend/ModelConfig.h"

#include "llvm/Support/SourceMgr.h"

#include <gtest/gtest.h>

namespace convseq::test {

/// The parsed CONVSEQ_MODEL_YAML; a test failure (and a default config) if
/// it does not parse.
inline mlir::convseq::ModelConfig loadModelConfig() {
  llvm::SourceMgr sourceMgr;
  mlir::FailureOr<mlir::convseq::ModelConfig> config =
      mlir::convseq::parseModelConfigFile(CONVSEQ_MODEL_YAML, sourceMgr);
  if (mlir::failed(config)) {
    ADD_FAILURE() << "cannot load " << CONVSEQ_MODEL_YAML;
    return {};
  }
  return *config;
}

} // namespace convseq::test

#endif // CONVSEQ_TEST_E2E_MODELTEST_H
