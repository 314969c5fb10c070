//===- YAMLReader.h - Typed YAML reading with diagnostics -------*- C++ -*-===//
//
// The small vocabulary the model-definition parser is written in: walk a
// mapping key by key (reporting unknown, duplicate and missing keys), read a
// scalar as an integer, a number, a string or one of a fixed set of names,
// and read a sequence element by element. Every problem is reported through
// the SourceMgr at the offending key or value, saying what was expected.
//
// The YAML parser of llvm/Support/YAMLParser.h is a streaming one: a mapping
// or sequence must be walked when it is reached, and completely, so readers
// hand each entry to a callback instead of returning nodes.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_LIB_FRONTEND_YAMLREADER_H
#define CONVSEQ_LIB_FRONTEND_YAMLREADER_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir::convseq {

/// A value together with where it was written.
template <typename T> struct Located {
  T value;
  llvm::SMLoc loc;
};

/// One `key: value` entry being read. Elements of a sequence are fields too:
/// their key is the sequence's key, so messages name what is being read.
struct YAMLField {
  StringRef key;
  llvm::SMLoc keyLoc;
  llvm::yaml::Node *value;

  /// Where to point at the value: the value itself, or the key when the
  /// value is empty (an empty value has no text of its own to point at).
  llvm::SMLoc valueLoc() const;
};

/// Where a key of a mapping and its value were written.
struct FieldLocation {
  llvm::SMLoc key;
  llvm::SMLoc value;
};

class YAMLReader {
public:
  YAMLReader(llvm::SourceMgr &sourceMgr, llvm::yaml::Stream &stream)
      : sourceMgr(sourceMgr), stream(stream) {}

  /// Reports an error at `loc`. Once the YAML stream has failed, further
  /// errors are only counted, not printed: they would be consequences of
  /// the syntax error rather than problems of their own.
  void emitError(llvm::SMLoc loc, const Twine &message);
  void emitNote(llvm::SMLoc loc, const Twine &message);

  /// Whether anything went wrong, including YAML syntax errors.
  bool failed() const { return numErrors > 0 || stream.failed(); }
  /// How many errors were reported so far.
  unsigned getNumErrors() const { return numErrors; }

  /// Walks the entries of `field`'s value, which must be a mapping, and
  /// calls `handle` on each whose key is in `keys`. Unknown keys, keys that
  /// are not plain names and repeated keys are reported and skipped; an
  /// empty `keys` accepts any key. An empty `field.key` stands for the whole
  /// document. `context` completes
  /// messages ("in 'model'", "at the top level"). Returns where each key was
  /// seen, or nullopt if the value was not a mapping.
  std::optional<llvm::StringMap<FieldLocation>>
  readMapping(const YAMLField &field, StringRef context,
              ArrayRef<StringRef> keys,
              function_ref<void(const YAMLField &)> handle);

  /// Reports each key of `required` that `seen` lacks, at `loc`.
  void checkRequired(const llvm::StringMap<FieldLocation> &seen,
                     ArrayRef<StringRef> required, StringRef context,
                     llvm::SMLoc loc);

  /// Walks the elements of `field`'s value, which must be a sequence, and
  /// calls `handle` on each. Returns false if the value was not a sequence.
  bool readSequence(const YAMLField &field,
                    function_ref<void(const YAMLField &)> handle);

  /// Scalar readers: each reports a value of the wrong kind (or out of the
  /// range of the C++ type) and returns nullopt.
  std::optional<int64_t> readInteger(const YAMLField &field);
  std::optional<uint64_t> readUnsigned(const YAMLField &field);
  /// A finite number; integers are numbers too.
  std::optional<double> readNumber(const YAMLField &field);
  std::optional<std::string> readString(const YAMLField &field);
  /// One of `names`, returned as its index; `what` names the choice in
  /// messages ("conv variant"). A name of `reserved` is reported as not
  /// supported yet.
  std::optional<size_t> readChoice(const YAMLField &field, StringRef what,
                                   ArrayRef<StringRef> names,
                                   ArrayRef<StringRef> reserved = {});

  /// A sequence of integers, each with its location; nullopt if the value
  /// is not a sequence or any element is not an integer.
  std::optional<SmallVector<Located<int64_t>>>
  readIntegerList(const YAMLField &field);
  /// A sequence of strings, each with its location.
  std::optional<SmallVector<Located<std::string>>>
  readStringList(const YAMLField &field);

  /// Describes a node for "got ..." in messages: `'abc'`, `a mapping`, ...
  static std::string describe(llvm::yaml::Node *node);
  /// The text of `field`'s value if it is a scalar, else empty.
  static std::string scalarText(const YAMLField &field);

private:
  /// A scalar written as an optionally signed run of decimal digits.
  struct IntegerText {
    StringRef text, digits;
    bool negative;
  };
  /// The integer text of `field`, or nullopt after reporting what is wrong.
  std::optional<IntegerText> readIntegerText(const YAMLField &field,
                                             SmallVectorImpl<char> &storage);

  /// The text of a scalar value, or nullopt after reporting that `field`'s
  /// value is not a scalar (`expected` says what was wanted).
  std::optional<StringRef> readScalar(const YAMLField &field,
                                      StringRef expected,
                                      SmallVectorImpl<char> &storage);

  llvm::SourceMgr &sourceMgr;
  llvm::yaml::Stream &stream;
  unsigned numErrors = 0;
};

/// "a, b or c".
std::string joinAlternatives(ArrayRef<StringRef> names);

} // namespace mlir::convseq

#endif // CONVSEQ_LIB_FRONTEND_YAMLREADER_H
