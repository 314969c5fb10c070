//===- RuntimeSettings.h - What a generated executable reads ----*- C++ -*-===//
//
// A compiled executable needs what the model definition says beyond the
// math: the tokenizer, the task (label words, length limits) and the
// training loop's settings. convseqc writes them into the executable as
// `key=value` lines that the runtime (runtime/Settings.h) reads without a
// YAML parser.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_FRONTEND_RUNTIMESETTINGS_H
#define CONVSEQ_LIB_FRONTEND_RUNTIMESETTINGS_H

#include "lib/Frontend/ModelConfig.h"

#include <string>

namespace mlir::convseq {

/// The runtime settings of `config`, one `key=value` per line. A relative
/// tokenizer path is resolved against `definitionDir`, the directory of the
/// model file.
std::string writeRuntimeSettings(const ModelConfig &config,
                                 StringRef definitionDir);

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_FRONTEND_RUNTIMESETTINGS_H
