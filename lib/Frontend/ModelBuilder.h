//===- ModelBuilder.h - Model definition to convseq IR ----------*- C++ -*-===//
//
// Builds the entry points of a model (docs/entry-points.md) as functions of
// one module:
//
//   encoder       (params, src_ids)                    -> enc_out
//   decoder_init  (params, enc_out)                    -> cross K/V per layer
//   decoder_step  (params, src_ids, cross K/V, state, token, position)
//                                                      -> logits, new state
//   forward       (params, src_ids, tgt_ids)           -> loss, logits
//   forward_train (params, src_ids, tgt_ids, seed, step) -> loss
//
// Every entry point takes the whole parameter list first, in the order of
// collectParameters(), each argument tagged with its hierarchical name.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_FRONTEND_MODELBUILDER_H
#define CONVSEQ_LIB_FRONTEND_MODELBUILDER_H

#include "lib/Frontend/ModelConfig.h"

#include "dialect/ConvSeqDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace mlir::convseq {

struct ParameterInfo {
  /// Hierarchical name, e.g. "encoder.layers.3.conv.w_in".
  std::string name;
  std::vector<int64_t> shape;
  /// Matched by a frozen-parameter pattern of the training settings.
  bool frozen = false;

  int64_t numElements() const;
};

/// Whether the model mixes positions with convolutions (else attention).
inline bool isConvModel(const ModelConfig &config) {
  return config.family == ModelFamily::ConvSeq2Seq;
}

/// The name prefix of layer `index` of a stack: "encoder.layers.3.".
std::string layerPrefix(StringRef stack, int64_t index);

/// Every parameter of the model in the canonical (ABI and checkpoint) order,
/// marked frozen where a valid frozen-parameter pattern matches its name.
std::vector<ParameterInfo> collectParameters(const ModelConfig &config);

/// The element type of the model's parameters and activations.
Type getElementType(MLIRContext *context, const ModelConfig &config);

/// Builds every entry point of `config` into a new module. The module
/// verifies; a failure here is a bug, reported through `context`.
OwningOpRef<ModuleOp> buildModel(MLIRContext *context,
                                 const ModelConfig &config);

/// Reports every frozen-parameter pattern of `config` that matches no
/// parameter, at its location in `sourceMgr`. Returns failure if any.
LogicalResult checkFrozenPatterns(const ModelConfig &config,
                                  llvm::SourceMgr &sourceMgr);

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_FRONTEND_MODELBUILDER_H
