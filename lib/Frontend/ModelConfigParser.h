//===- ModelConfigParser.h - The model-definition parser --------*- C++ -*-===//
//
// Private to lib/Frontend: the parser of ModelConfig.cpp, whose checks
// across fields and sections live in ModelConfigChecks.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_FRONTEND_MODELCONFIGPARSER_H
#define CONVSEQ_LIB_FRONTEND_MODELCONFIGPARSER_H

#include "lib/Frontend/ModelConfig.h"
#include "lib/Frontend/YAMLReader.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <limits>

namespace mlir::convseq::detail {

/// The largest size, length, kernel width or dilation: token ids and tensor
/// dimensions are 32-bit in the generated code.
constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();
/// pad, eos and unk (spec section 5).
constexpr int64_t kNumSpecialIds = 3;
constexpr int64_t kDefaultKernelSize = 7;

/// The per-layer conv settings as written, before defaults and expansion.
struct ConvInput {
  std::optional<Located<int64_t>> kernelSize;
  std::optional<SmallVector<Located<int64_t>>> encoderKernelSizes;
  std::optional<SmallVector<Located<int64_t>>> decoderKernelSizes;
  std::optional<SmallVector<Located<int64_t>>> encoderDilations;
  std::optional<SmallVector<Located<int64_t>>> decoderDilations;
};

class ModelConfigParser {
public:
  ModelConfigParser(llvm::SourceMgr &sourceMgr, llvm::yaml::Stream &stream)
      : reader(sourceMgr, stream), stream(stream) {}

  FailureOr<ModelConfig> parse(llvm::SMLoc bufferStart);

private:
  //===--- Sections, read as they come ------------------------------------===//

  void readDocument(llvm::yaml::Node *root, llvm::SMLoc bufferStart);
  void readTopLevelField(const YAMLField &field);
  void readModel(const YAMLField &field);
  void readConv(const YAMLField &field);
  void readTokenizer(const YAMLField &field);
  void readTask(const YAMLField &field);
  void readLabels(const YAMLField &field);
  void readLabelEntries(const YAMLField &field);
  void addLabel(const std::string &labelClass, const Located<std::string> &word,
                llvm::StringMap<llvm::SMLoc> &seenWords);
  void readTraining(const YAMLField &field);
  void readTrainingField(const YAMLField &field);
  void readFrozen(const YAMLField &field);

  /// Reads the mapping of section `section` (empty: the top level), keeping
  /// where each key was written; reports missing `required` keys.
  void readSection(const YAMLField &field, StringRef section,
                   ArrayRef<StringRef> keys, ArrayRef<StringRef> required,
                   function_ref<void(const YAMLField &)> handle);

  //===--- Values with a range --------------------------------------------===//

  /// An integer in [1, kMaxSize]; `what` names it in messages.
  void readSize(const YAMLField &field, int64_t &out, StringRef what = {});
  /// An integer in [0, max].
  void readCount(const YAMLField &field, int64_t &out,
                 int64_t max = std::numeric_limits<int64_t>::max());
  /// A number for which `inRange` holds; `requirement` completes the
  /// message otherwise ("must be positive").
  void readNumber(const YAMLField &field, double &out,
                  function_ref<bool(double)> inRange, StringRef requirement);
  template <typename EnumT>
  void readEnum(const YAMLField &field, StringRef what,
                ArrayRef<StringRef> names, ArrayRef<EnumT> values, EnumT &out,
                ArrayRef<StringRef> reserved = {}) {
    if (std::optional<size_t> index =
            reader.readChoice(field, what, names, reserved))
      out = values[*index];
    else
      markInvalid(field);
  }

  //===--- Checks across fields, once everything is read ------------------===//

  void checkModel();
  void finishConv();
  void
  expandStack(StringRef stack, int64_t layers,
              const std::optional<SmallVector<Located<int64_t>>> &kernels,
              const std::optional<SmallVector<Located<int64_t>>> &dilations,
              std::vector<int64_t> &kernelsOut,
              std::vector<int64_t> &dilationsOut);
  void checkTokenizer();
  void checkTask();
  void checkSpanBudget();
  void checkTraining();

  //===--- Bookkeeping ----------------------------------------------------===//

  std::string pathOf(StringRef key) const {
    return currentSection.empty() ? key.str()
                                  : (currentSection + "." + key).str();
  }
  void markInvalid(const YAMLField &field) {
    invalid.insert(pathOf(field.key));
  }
  /// Whether `path` ("model.heads") was written.
  bool given(StringRef path) const { return locations.contains(path); }
  /// Whether `path` holds a usable value: read without error, or defaulted.
  bool usable(StringRef path) const {
    return !invalid.contains(path) && !invalid.contains(path.split('.').first);
  }
  llvm::SMLoc keyLoc(StringRef path) const {
    return locations.lookup(path).key;
  }
  llvm::SMLoc valueLoc(StringRef path) const {
    return locations.lookup(path).value;
  }
  /// The value of `path` if written, else the key of its section, else the
  /// start of the document: where to point when a default causes a problem.
  llvm::SMLoc locOrSection(StringRef path) const;

  YAMLReader reader;
  llvm::yaml::Stream &stream;
  ModelConfig config;
  ConvInput convInput;
  std::string currentSection;
  /// Where each key and its value were written, by path ("model.heads";
  /// sections by name).
  llvm::StringMap<FieldLocation> locations;
  /// Paths whose value could not be read, or sections that are not mappings.
  llvm::StringSet<> invalid;
  llvm::SMLoc documentLoc;
};

} // namespace mlir::convseq::detail

#endif // CONVSEQ_LIB_FRONTEND_MODELCONFIGPARSER_H
