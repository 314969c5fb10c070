//===- YAMLReader.cpp - Typed YAML reading with diagnostics ---------------===//
//
// Scalars follow the YAML 1.2 core schema: integers are `[-+]?[0-9]+`,
// numbers also allow a fraction and an exponent; `.inf` and `.nan` are read
// as numbers and rejected as not finite. Quoting does not change how a
// scalar is read.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/YAMLReader.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::convseq;
namespace yaml = llvm::yaml;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {

llvm::SMLoc startOf(yaml::Node *node) {
  if (!node)
    return llvm::SMLoc();
  // An alias's range starts after it; its name points just past the `*`.
  if (auto *alias = dyn_cast<yaml::AliasNode>(node))
    return llvm::SMLoc::getFromPointer(alias->getName().data() - 1);
  return node->getSourceRange().Start;
}

/// `text` without a leading sign, and whether that sign was a minus.
std::pair<StringRef, bool> splitSign(StringRef text) {
  bool negative = text.starts_with("-");
  if (negative || text.starts_with("+"))
    text = text.drop_front();
  return {text, negative};
}

bool isDigits(StringRef text) {
  return !text.empty() && llvm::all_of(text, llvm::isDigit);
}

/// Whether `text` is a number of the YAML 1.2 core schema:
/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
bool isYAMLNumber(StringRef text) {
  text = splitSign(text).first;
  size_t mantissaEnd = text.find_first_of("eE");
  StringRef mantissa = text.take_front(mantissaEnd);
  if (mantissaEnd != StringRef::npos) {
    StringRef exponent = splitSign(text.drop_front(mantissaEnd + 1)).first;
    if (!isDigits(exponent))
      return false;
  }
  auto [whole, fraction] = mantissa.split('.');
  bool hasDot = mantissa.contains('.');
  if (whole.empty())
    return hasDot && isDigits(fraction);
  return isDigits(whole) && (fraction.empty() || isDigits(fraction));
}

/// Whether `text` is one of YAML's spellings of infinity or not-a-number.
bool isYAMLSpecialNumber(StringRef text) {
  StringRef magnitude = splitSign(text).first;
  return llvm::is_contained({".inf", ".Inf", ".INF"}, magnitude) ||
         llvm::is_contained({".nan", ".NaN", ".NAN"}, text);
}

std::string quoteForMessage(StringRef text) {
  constexpr size_t kMaxShown = 40;
  if (text.size() > kMaxShown)
    return ("'" + text.take_front(kMaxShown) + "...'").str();
  return ("'" + text + "'").str();
}

} // namespace

llvm::SMLoc YAMLField::valueLoc() const {
  if (!value || isa<yaml::NullNode>(value))
    return keyLoc;
  return startOf(value);
}

std::string mlir::convseq::joinAlternatives(ArrayRef<StringRef> names) {
  std::string result;
  for (auto [index, name] : llvm::enumerate(names)) {
    if (index > 0)
      result += index + 1 == names.size() ? " or " : ", ";
    result += name;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

void YAMLReader::emitError(llvm::SMLoc loc, const Twine &message) {
  ++numErrors;
  if (!stream.failed())
    sourceMgr.PrintMessage(loc, llvm::SourceMgr::DK_Error, message);
}

void YAMLReader::emitNote(llvm::SMLoc loc, const Twine &message) {
  if (!stream.failed())
    sourceMgr.PrintMessage(loc, llvm::SourceMgr::DK_Note, message);
}

std::string YAMLReader::describe(yaml::Node *node) {
  if (!node)
    return "nothing";
  if (auto *scalar = dyn_cast<yaml::ScalarNode>(node)) {
    SmallString<32> storage;
    return quoteForMessage(scalar->getValue(storage));
  }
  if (isa<yaml::NullNode>(node))
    return "an empty value";
  if (isa<yaml::MappingNode>(node))
    return "a mapping";
  if (isa<yaml::SequenceNode>(node))
    return "a sequence";
  if (isa<yaml::BlockScalarNode>(node))
    return "a block scalar";
  if (isa<yaml::AliasNode>(node))
    return "an alias (aliases are not supported)";
  return "an unexpected node";
}

std::string YAMLReader::scalarText(const YAMLField &field) {
  SmallString<32> storage;
  if (auto *scalar = dyn_cast_or_null<yaml::ScalarNode>(field.value))
    return scalar->getValue(storage).str();
  return "";
}

//===----------------------------------------------------------------------===//
// Collections
//===----------------------------------------------------------------------===//

std::optional<llvm::StringMap<FieldLocation>>
YAMLReader::readMapping(const YAMLField &field, StringRef context,
                        ArrayRef<StringRef> keys,
                        function_ref<void(const YAMLField &)> handle) {
  auto *mapping = dyn_cast_or_null<yaml::MappingNode>(field.value);
  if (!mapping) {
    if (field.key.empty())
      emitError(field.valueLoc(), "expected a mapping of model settings at "
                                  "the top level, got " +
                                      describe(field.value));
    else
      emitError(field.valueLoc(), "expected a mapping for '" + field.key +
                                      "', got " + describe(field.value));
    return std::nullopt;
  }

  llvm::StringMap<FieldLocation> seen;
  for (yaml::KeyValueNode &entry : *mapping) {
    yaml::Node *keyNode = entry.getKey();
    if (!keyNode)
      break;
    llvm::SMLoc keyLoc = startOf(keyNode);
    auto *keyScalar = dyn_cast<yaml::ScalarNode>(keyNode);
    if (!keyScalar) {
      emitError(keyLoc, "expected a key name " + context + ", got " +
                            describe(keyNode));
      continue;
    }
    SmallString<32> storage;
    StringRef key = keyScalar->getValue(storage);
    yaml::Node *value = entry.getValue();
    if (!value)
      break;
    if (!keys.empty() && !llvm::is_contained(keys, key)) {
      emitError(keyLoc, "unknown key '" + key + "' " + context +
                            "; expected one of: " + llvm::join(keys, ", "));
      continue;
    }
    YAMLField entryField{key, keyLoc, value};
    auto [it, inserted] =
        seen.try_emplace(key, FieldLocation{keyLoc, entryField.valueLoc()});
    if (!inserted) {
      emitError(keyLoc, "duplicate key '" + key + "' " + context);
      emitNote(it->second.key, "'" + key + "' was first given here");
      continue;
    }
    entryField.key = it->getKey();
    handle(entryField);
  }
  return seen;
}

void YAMLReader::checkRequired(const llvm::StringMap<FieldLocation> &seen,
                               ArrayRef<StringRef> required, StringRef context,
                               llvm::SMLoc loc) {
  for (StringRef key : required)
    if (!seen.contains(key))
      emitError(loc, "missing required key '" + key + "' " + context);
}

bool YAMLReader::readSequence(const YAMLField &field,
                              function_ref<void(const YAMLField &)> handle) {
  auto *sequence = dyn_cast_or_null<yaml::SequenceNode>(field.value);
  if (!sequence) {
    emitError(field.valueLoc(), "expected a sequence for '" + field.key +
                                    "', got " + describe(field.value));
    return false;
  }
  for (yaml::Node &element : *sequence) {
    llvm::SMLoc loc = startOf(&element);
    handle(YAMLField{field.key, loc, &element});
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

std::optional<StringRef>
YAMLReader::readScalar(const YAMLField &field, StringRef expected,
                       SmallVectorImpl<char> &storage) {
  if (auto *scalar = dyn_cast_or_null<yaml::ScalarNode>(field.value))
    return scalar->getValue(storage);
  emitError(field.valueLoc(), "expected " + expected + " for '" + field.key +
                                  "', got " + describe(field.value));
  return std::nullopt;
}

std::optional<YAMLReader::IntegerText>
YAMLReader::readIntegerText(const YAMLField &field,
                            SmallVectorImpl<char> &storage) {
  std::optional<StringRef> text = readScalar(field, "an integer", storage);
  if (!text)
    return std::nullopt;
  auto [digits, negative] = splitSign(*text);
  if (!isDigits(digits)) {
    emitError(field.valueLoc(), "expected an integer for '" + field.key +
                                    "', got " + quoteForMessage(*text));
    return std::nullopt;
  }
  return IntegerText{*text, digits, negative};
}

std::optional<int64_t> YAMLReader::readInteger(const YAMLField &field) {
  SmallString<32> storage;
  std::optional<IntegerText> integer = readIntegerText(field, storage);
  if (!integer)
    return std::nullopt;
  // getAsInteger takes a minus sign but not a plus sign.
  int64_t value;
  StringRef signedText = integer->negative ? integer->text : integer->digits;
  if (signedText.getAsInteger(10, value)) {
    emitError(field.valueLoc(), "integer " + integer->text + " for '" +
                                    field.key + "' is out of range");
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> YAMLReader::readUnsigned(const YAMLField &field) {
  SmallString<32> storage;
  std::optional<IntegerText> integer = readIntegerText(field, storage);
  if (!integer)
    return std::nullopt;
  uint64_t value;
  if (integer->digits.getAsInteger(10, value)) {
    emitError(field.valueLoc(), "integer " + integer->text + " for '" +
                                    field.key + "' is out of range");
    return std::nullopt;
  }
  if (integer->negative && value != 0) {
    emitError(field.valueLoc(),
              field.key + " must not be negative, got " + integer->text);
    return std::nullopt;
  }
  return value;
}

std::optional<double> YAMLReader::readNumber(const YAMLField &field) {
  SmallString<32> storage;
  std::optional<StringRef> text = readScalar(field, "a number", storage);
  if (!text)
    return std::nullopt;
  if (isYAMLSpecialNumber(*text)) {
    emitError(field.valueLoc(), "expected a finite number for '" + field.key +
                                    "', got " + quoteForMessage(*text));
    return std::nullopt;
  }
  double value;
  if (!isYAMLNumber(*text) || text->getAsDouble(value)) {
    emitError(field.valueLoc(), "expected a number for '" + field.key +
                                    "', got " + quoteForMessage(*text));
    return std::nullopt;
  }
  if (!std::isfinite(value)) {
    emitError(field.valueLoc(),
              "number " + *text + " for '" + field.key + "' is out of range");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> YAMLReader::readString(const YAMLField &field) {
  SmallString<32> storage;
  std::optional<StringRef> text = readScalar(field, "a string", storage);
  if (!text)
    return std::nullopt;
  return text->str();
}

std::optional<size_t> YAMLReader::readChoice(const YAMLField &field,
                                             StringRef what,
                                             ArrayRef<StringRef> names,
                                             ArrayRef<StringRef> reserved) {
  SmallString<32> storage;
  std::string expected = "one of " + joinAlternatives(names);
  std::optional<StringRef> text = readScalar(field, expected, storage);
  if (!text)
    return std::nullopt;
  if (llvm::is_contained(reserved, *text)) {
    emitError(field.valueLoc(), what + " " + quoteForMessage(*text) +
                                    " is not supported yet; expected " +
                                    joinAlternatives(names));
    return std::nullopt;
  }
  const StringRef *found = llvm::find(names, *text);
  if (found == names.end()) {
    emitError(field.valueLoc(), "unknown " + what + " " +
                                    quoteForMessage(*text) + "; expected " +
                                    joinAlternatives(names));
    return std::nullopt;
  }
  return found - names.begin();
}

std::optional<SmallVector<Located<int64_t>>>
YAMLReader::readIntegerList(const YAMLField &field) {
  SmallVector<Located<int64_t>> result;
  bool allRead = true;
  bool isSequence = readSequence(field, [&](const YAMLField &element) {
    if (std::optional<int64_t> value = readInteger(element))
      result.push_back({*value, element.valueLoc()});
    else
      allRead = false;
  });
  if (!isSequence || !allRead)
    return std::nullopt;
  return result;
}

std::optional<SmallVector<Located<std::string>>>
YAMLReader::readStringList(const YAMLField &field) {
  SmallVector<Located<std::string>> result;
  bool allRead = true;
  bool isSequence = readSequence(field, [&](const YAMLField &element) {
    if (std::optional<std::string> value = readString(element))
      result.push_back({*value, element.valueLoc()});
    else
      allRead = false;
  });
  if (!isSequence || !allRead)
    return std::nullopt;
  return result;
}
