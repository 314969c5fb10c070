//===- Safetensors.cpp - Checkpoint files in the safetensors format -------===//
//
// The header is read with a small schema-directed JSON reader: only objects,
// arrays, strings and non-negative integers occur in a valid header, so
// anything else is an error, and memory stays proportional to the header.
//
//===----------------------------------------------------------------------===//

#include "runtime/Safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

using namespace convseq::runtime;

// Tensor data is copied between memory and the (little-endian) file as is.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian");

namespace {

/// The reference implementation's limit on the header length.
constexpr uint64_t kMaxHeaderSize = 100'000'000;
constexpr int64_t kMaxInteger = std::numeric_limits<int64_t>::max();

//===----------------------------------------------------------------------===//
// Text helpers
//===----------------------------------------------------------------------===//

/// The offset of the first byte of `text` that is not part of a valid UTF-8
/// sequence, or npos.
size_t findInvalidUtf8(absl::string_view text) {
  size_t i = 0, n = text.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    unsigned char low = 0x80, high = 0xBF; // Range of the second byte.
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0)
        low = 0xA0; // Overlong.
      else if (c == 0xED)
        high = 0x9F; // Surrogates.
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0)
        low = 0x90; // Overlong.
      else if (c == 0xF4)
        high = 0x8F; // Above U+10FFFF.
    } else {
      return i;
    }
    if (n - i < length)
      return i;
    auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < low || second > high)
      return i;
    for (size_t k = 2; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
        return i;
    i += length;
  }
  return absl::string_view::npos;
}

/// Appends `text` as a JSON string: quotes, backslashes and control
/// characters are escaped.
void appendJsonString(std::string &out, absl::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
    } else {
      out += c;
    }
  }
  out += '"';
}

/// `text` in single quotes for a message, control characters escaped and
/// cut short if long.
std::string quote(absl::string_view text) {
  constexpr size_t kMaxLength = 200;
  std::string out = "'";
  for (char c :
       absl::string_view(text.data(), std::min(text.size(), kMaxLength))) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", c));
    else
      out += c;
  }
  if (text.size() > kMaxLength)
    out += "...";
  return out + "'";
}

std::string formatShape(const std::vector<int64_t> &shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

/// The byte size of a tensor, or false if it is negative or overflows.
bool byteSize(Dtype dtype, const std::vector<int64_t> &shape, uint64_t &bytes) {
  bytes = dtypeSize(dtype);
  for (int64_t dim : shape)
    if (dim < 0 ||
        __builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes))
      return false;
  return true;
}

bool parseDtype(absl::string_view name, Dtype &dtype) {
  for (Dtype candidate : {Dtype::F32, Dtype::F64, Dtype::I32, Dtype::I64}) {
    if (name == dtypeName(candidate)) {
      dtype = candidate;
      return true;
    }
  }
  return false;
}

//===----------------------------------------------------------------------===//
// JSON reader
//===----------------------------------------------------------------------===//

/// Reads JSON values at a position in the header text; each method returns
/// false after recording the first error.
class JsonReader {
public:
  explicit JsonReader(absl::string_view text) : text(text) {}

  const std::string &error() const { return message; }

  /// Records an error at byte `at`; returns false.
  bool fail(size_t at, absl::string_view what) {
    if (message.empty())
      message = absl::StrCat("invalid JSON header at byte ", at, ": ", what);
    return false;
  }

  /// Fails with "<context>expected <what>, found <the next character>".
  bool failExpected(absl::string_view what, absl::string_view context = "") {
    std::string found;
    if (pos >= text.size())
      found = "the end of the header";
    else if (auto c = static_cast<unsigned char>(text[pos]);
             c < 0x20 || c >= 0x7F)
      found = absl::StrFormat("byte 0x%02x", c);
    else
      found = absl::StrCat("'", absl::string_view(&text[pos], 1), "'");
    return fail(pos,
                absl::StrCat(context, "expected ", what, ", found ", found));
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  /// The next character after whitespace, or 0 at the end.
  char peek() {
    skipSpace();
    return pos < text.size() ? text[pos] : '\0';
  }

  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }

  bool expect(char c) {
    return consume(c) ||
           failExpected(absl::StrCat("'", std::string(1, c), "'"));
  }

  bool atEnd() { return peek() == '\0' && pos == text.size(); }

  size_t position() const { return pos; }

  bool parseString(std::string &out) {
    if (!expect('"'))
      return false;
    out.clear();
    while (true) {
      if (pos >= text.size())
        return fail(pos, "unterminated string");
      char c = text[pos];
      if (c == '"') {
        ++pos;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return fail(pos, "unescaped control character in string");
      if (c != '\\') {
        out += c;
        ++pos;
        continue;
      }
      size_t escape = pos++;
      if (pos >= text.size())
        return fail(pos, "unterminated string");
      switch (text[pos++]) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u':
        if (!parseUnicodeEscape(escape, out))
          return false;
        break;
      default:
        return fail(escape, "invalid escape sequence in string");
      }
    }
  }

  /// Reads a non-negative integer that fits in int64_t.
  bool parseInteger(int64_t &out) {
    char c = peek();
    if (c < '0' || c > '9')
      return failExpected("a non-negative integer");
    size_t start = pos;
    uint64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      uint64_t digit = text[pos] - '0';
      if (value > (static_cast<uint64_t>(kMaxInteger) - digit) / 10)
        return fail(start, "integer too large");
      value = value * 10 + digit;
      ++pos;
    }
    if (text[start] == '0' && pos - start > 1)
      return fail(start, "integer with a leading zero");
    if (pos < text.size() &&
        (text[pos] == '.' || text[pos] == 'e' || text[pos] == 'E'))
      return fail(start, "expected an integer, found a fraction or exponent");
    out = static_cast<int64_t>(value);
    return true;
  }

  /// Reads an object, calling `member(key)` with the position at each value;
  /// the callback must read the value. Duplicate keys are errors.
  template <typename Fn> bool parseObject(Fn &&member) {
    if (!expect('{'))
      return false;
    if (consume('}'))
      return true;
    std::set<std::string> seen;
    while (true) {
      if (peek() != '"')
        return failExpected("a string key");
      size_t keyPos = pos;
      std::string key;
      if (!parseString(key))
        return false;
      if (!seen.insert(key).second)
        return fail(keyPos, absl::StrCat("duplicate key ", quote(key)));
      if (!expect(':'))
        return false;
      skipSpace();
      if (!member(key))
        return false;
      if (consume(','))
        continue;
      return consume('}') || failExpected("',' or '}'");
    }
  }

  /// Reads an array, calling `element()` with the position at each element.
  template <typename Fn> bool parseArray(Fn &&element) {
    if (!expect('['))
      return false;
    if (consume(']'))
      return true;
    while (true) {
      skipSpace();
      if (!element())
        return false;
      if (consume(','))
        continue;
      return consume(']') || failExpected("',' or ']'");
    }
  }

  /// Reads an array of non-negative integers.
  bool parseIntegers(std::vector<int64_t> &out) {
    out.clear();
    return parseArray([&] {
      int64_t value;
      if (!parseInteger(value))
        return false;
      out.push_back(value);
      return true;
    });
  }

private:
  bool parseHex4(unsigned &value) {
    if (text.size() - pos < 4)
      return fail(pos, "truncated \\u escape");
    value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text[pos + i];
      unsigned digit;
      if (c >= '0' && c <= '9')
        digit = c - '0';
      else if (c >= 'a' && c <= 'f')
        digit = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        digit = c - 'A' + 10;
      else
        return fail(pos + i, "invalid hex digit in \\u escape");
      value = value * 16 + digit;
    }
    pos += 4;
    return true;
  }

  /// Reads the XXXX of \uXXXX (and a following low surrogate) as UTF-8.
  bool parseUnicodeEscape(size_t escape, std::string &out) {
    unsigned code;
    if (!parseHex4(code))
      return false;
    if (code >= 0xDC00 && code <= 0xDFFF)
      return fail(escape, "unpaired surrogate in \\u escape");
    if (code >= 0xD800 && code <= 0xDBFF) {
      unsigned low;
      if (text.size() - pos < 2 || text[pos] != '\\' || text[pos + 1] != 'u')
        return fail(escape, "unpaired surrogate in \\u escape");
      pos += 2;
      if (!parseHex4(low))
        return false;
      if (low < 0xDC00 || low > 0xDFFF)
        return fail(escape, "unpaired surrogate in \\u escape");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
    return true;
  }

  absl::string_view text;
  size_t pos = 0;
  std::string message;
};

//===----------------------------------------------------------------------===//
// Header
//===----------------------------------------------------------------------===//

/// A tensor as the header describes it.
struct HeaderEntry {
  std::string name;
  std::string dtypeName;
  Dtype dtype = Dtype::F32;
  std::vector<int64_t> shape;
  std::vector<int64_t> offsets;
  size_t index = 0; // In the header.
};

/// Parses the header into `entries` (in header order) and `metadata`;
/// returns an error message (without the path) or "".
std::string parseHeader(absl::string_view text,
                        std::vector<HeaderEntry> &entries,
                        std::map<std::string, std::string> &metadata) {
  JsonReader reader(text);
  auto parseMetadata = [&] {
    if (reader.peek() != '{')
      return reader.failExpected("an object of strings", "\"__metadata__\": ");
    return reader.parseObject([&](const std::string &key) {
      std::string value;
      if (reader.peek() != '"')
        return reader.failExpected(
            "a string", absl::StrCat("__metadata__ key ", quote(key), ": "));
      if (!reader.parseString(value))
        return false;
      metadata.emplace(key, std::move(value));
      return true;
    });
  };
  auto parseTensor = [&](const std::string &name) {
    HeaderEntry entry;
    entry.name = name;
    std::string context = absl::StrCat("tensor ", quote(name), ": ");
    if (reader.peek() != '{')
      return reader.failExpected("an object", context);
    size_t start = reader.position();
    bool hasDtype = false, hasShape = false, hasOffsets = false;
    bool ok = reader.parseObject([&](const std::string &field) {
      if (field == "dtype") {
        hasDtype = true;
        if (reader.peek() != '"')
          return reader.failExpected("a string for \"dtype\"", context);
        return reader.parseString(entry.dtypeName);
      }
      if (field == "shape") {
        hasShape = true;
        return reader.parseIntegers(entry.shape);
      }
      if (field == "data_offsets") {
        hasOffsets = true;
        size_t at = reader.position();
        if (!reader.parseIntegers(entry.offsets))
          return false;
        if (entry.offsets.size() != 2)
          return reader.fail(at, absl::StrCat(context,
                                              "\"data_offsets\" must have 2 "
                                              "integers, not ",
                                              entry.offsets.size()));
        return true;
      }
      return reader.fail(reader.position(),
                         absl::StrCat(context, "unknown field ", quote(field)));
    });
    if (!ok)
      return false;
    for (auto [present, field] :
         {std::pair(hasDtype, "dtype"), std::pair(hasShape, "shape"),
          std::pair(hasOffsets, "data_offsets")})
      if (!present)
        return reader.fail(start,
                           absl::StrCat(context, "missing \"", field, "\""));
    entry.index = entries.size();
    entries.push_back(std::move(entry));
    return true;
  };

  bool ok = reader.parseObject([&](const std::string &key) {
    return key == "__metadata__" ? parseMetadata() : parseTensor(key);
  });
  if (ok && !reader.atEnd())
    reader.failExpected("the end of the header");
  return reader.error();
}

/// Checks that the entries' dtypes are known and their data_offsets match
/// their shapes and tile [0, dataSize) exactly; sorts them by offset.
/// Returns an error message (without the path) or "".
std::string validateEntries(std::vector<HeaderEntry> &entries,
                            uint64_t dataSize) {
  for (HeaderEntry &entry : entries) {
    std::string context = absl::StrCat("tensor ", quote(entry.name), ": ");
    if (!parseDtype(entry.dtypeName, entry.dtype))
      return absl::StrCat(context, "unknown dtype ", quote(entry.dtypeName),
                          " (supported: F32, F64, I32, I64)");
    auto begin = static_cast<uint64_t>(entry.offsets[0]);
    auto end = static_cast<uint64_t>(entry.offsets[1]);
    std::string offsets = formatShape(entry.offsets);
    if (begin > end)
      return absl::StrCat(context, "data_offsets ", offsets,
                          " end before they begin");
    uint64_t bytes;
    bool fits = byteSize(entry.dtype, entry.shape, bytes);
    if (!fits || bytes != end - begin)
      return absl::StrCat(context, "data_offsets ", offsets,
                          " do not match dtype ", entry.dtypeName,
                          " and shape ", formatShape(entry.shape), " (",
                          fits ? absl::StrCat(bytes) : "over 2^64", " bytes)");
    if (end > dataSize)
      return absl::StrCat(context, "data_offsets ", offsets,
                          " lie outside the data (size ", dataSize, ")");
  }

  // By offset; ties (empty tensors) stay in header order.
  std::sort(entries.begin(), entries.end(),
            [](const HeaderEntry &a, const HeaderEntry &b) {
              return std::tie(a.offsets, a.index) <
                     std::tie(b.offsets, b.index);
            });
  uint64_t covered = 0;
  const HeaderEntry *previous = nullptr;
  for (const HeaderEntry &entry : entries) {
    auto begin = static_cast<uint64_t>(entry.offsets[0]);
    if (begin < covered)
      return absl::StrCat("tensor ", quote(entry.name), ": data_offsets ",
                          formatShape(entry.offsets), " overlap tensor ",
                          quote(previous->name), " ",
                          formatShape(previous->offsets));
    if (begin > covered)
      return absl::StrCat("bytes [", covered, ", ", begin,
                          ") of the data belong to no tensor (a gap before "
                          "tensor ",
                          quote(entry.name), ")");
    covered = static_cast<uint64_t>(entry.offsets[1]);
    previous = &entry;
  }
  if (covered != dataSize)
    return absl::StrCat("bytes [", covered, ", ", dataSize,
                        ") of the data belong to no tensor (trailing bytes)");
  return "";
}

//===----------------------------------------------------------------------===//
// File I/O
//===----------------------------------------------------------------------===//

/// Closes a file descriptor when it goes out of scope, unless closed before.
class FileCloser {
public:
  explicit FileCloser(int fd) : fd(fd) {}
  FileCloser(const FileCloser &) = delete;
  FileCloser &operator=(const FileCloser &) = delete;
  ~FileCloser() {
    if (fd >= 0)
      ::close(fd);
  }
  /// Closes the file now; returns close's result.
  int close() {
    int result = ::close(fd);
    fd = -1;
    return result;
  }

private:
  int fd;
};

/// A status for the errno value `error`: the concatenation of `parts`, ": "
/// and the error's description. Take errno before building any message.
template <typename... Parts>
absl::Status systemError(int error, const Parts &...parts) {
  return absl::ErrnoToStatus(error, absl::StrCat(parts...));
}

/// Reads `size` bytes at `offset`. Returns 0 on success, -1 with errno set on
/// an error, or 1 at a premature end of file.
int readAt(int fd, void *buffer, size_t size, uint64_t offset) {
  auto *bytes = static_cast<char *>(buffer);
  while (size > 0) {
    ssize_t n = ::pread(fd, bytes, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      return 1;
    bytes += n;
    size -= n;
    offset += n;
  }
  return 0;
}

/// Writes `size` bytes; returns false with errno set on an error.
bool writeAll(int fd, const void *buffer, size_t size) {
  const auto *bytes = static_cast<const char *>(buffer);
  while (size > 0) {
    ssize_t n = ::write(fd, bytes, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return false;
    bytes += n;
    size -= n;
  }
  return true;
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::StatusOr<SafetensorsFile> readFile(const std::string &path) {
  auto failure = [&](auto &&...parts) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parts...));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return systemError(errno, path, ": cannot open");
  FileCloser closer(fd);
  struct stat info;
  if (::fstat(fd, &info) != 0)
    return systemError(errno, path, ": cannot stat");
  if (!S_ISREG(info.st_mode))
    return failure("not a regular file");
  auto fileSize = static_cast<uint64_t>(info.st_size);

  unsigned char lengthBytes[8];
  if (fileSize < sizeof(lengthBytes))
    return failure("truncated: the file has ", fileSize,
                   " bytes, fewer than the 8-byte header length");
  if (int r = readAt(fd, lengthBytes, sizeof(lengthBytes), 0); r != 0)
    return r < 0 ? systemError(errno, path, ": cannot read")
                 : failure("truncated: unexpected end of file");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = headerSize << 8 | lengthBytes[i];
  if (headerSize > kMaxHeaderSize)
    return failure("header length ", headerSize,
                   headerSize > static_cast<uint64_t>(kMaxInteger)
                       ? " (negative as a signed integer)"
                       : "",
                   " is over the limit of ", kMaxHeaderSize, " bytes");
  if (headerSize > fileSize - 8)
    return failure("truncated: header says ", headerSize,
                   " bytes but the file has ", fileSize - 8,
                   " after the 8-byte length");

  std::string header(headerSize, '\0');
  if (int r = readAt(fd, header.data(), header.size(), 8); r != 0)
    return r < 0 ? systemError(errno, path, ": cannot read")
                 : failure("truncated: unexpected end of file in the header");
  if (size_t bad = findInvalidUtf8(header); bad != std::string::npos)
    return failure("header is not valid UTF-8 at byte ", bad);

  SafetensorsFile file;
  std::vector<HeaderEntry> entries;
  if (std::string error = parseHeader(header, entries, file.metadata);
      !error.empty())
    return failure(error);
  uint64_t dataStart = 8 + headerSize;
  if (std::string error = validateEntries(entries, fileSize - dataStart);
      !error.empty())
    return failure(error);

  file.tensors.reserve(entries.size());
  for (HeaderEntry &entry : entries) {
    StoredTensor &tensor = file.tensors.emplace_back();
    tensor.name = std::move(entry.name);
    tensor.dtype = entry.dtype;
    tensor.shape = std::move(entry.shape);
    tensor.bytes.resize(entry.offsets[1] - entry.offsets[0]);
    int r = readAt(fd, tensor.bytes.data(), tensor.bytes.size(),
                   dataStart + entry.offsets[0]);
    if (r != 0)
      return r < 0 ? systemError(errno, path, ": cannot read")
                   : failure("truncated: unexpected end of file in tensor ",
                             quote(tensor.name));
  }
  return file;
}

/// Builds the header (including its length and padding) for `tensors`.
absl::StatusOr<std::string>
buildHeader(const std::string &path, const std::vector<TensorView> &tensors,
            const std::map<std::string, std::string> &metadata) {
  auto invalid = [&](auto &&...parts) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parts...));
  };
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    bool first = true;
    for (const auto &[key, value] : metadata) {
      if (findInvalidUtf8(key) != std::string::npos ||
          findInvalidUtf8(value) != std::string::npos)
        return invalid("__metadata__ key ", quote(key),
                       " or its value is not valid UTF-8");
      if (!first)
        json += ',';
      first = false;
      appendJsonString(json, key);
      json += ':';
      appendJsonString(json, value);
    }
    json += "},";
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorView &tensor : tensors) {
    std::string context = absl::StrCat("tensor ", quote(tensor.name), ": ");
    if (tensor.name == "__metadata__")
      return invalid("a tensor cannot be called '__metadata__'");
    if (findInvalidUtf8(tensor.name) != std::string::npos)
      return invalid(context, "name is not valid UTF-8");
    if (!names.insert(tensor.name).second)
      return invalid(context, "duplicate name");
    Dtype dtype;
    if (!parseDtype(dtypeName(tensor.dtype), dtype))
      return invalid(context, "invalid dtype ", static_cast<int>(tensor.dtype));
    uint64_t bytes;
    if (!byteSize(tensor.dtype, tensor.shape, bytes) ||
        bytes > static_cast<uint64_t>(kMaxInteger) - offset)
      return invalid(context, "invalid shape ", formatShape(tensor.shape));
    if (bytes > 0 && !tensor.data)
      return invalid(context, "no data");
    appendJsonString(json, tensor.name);
    absl::StrAppend(&json, ":{\"dtype\":\"", dtypeName(tensor.dtype),
                    "\",\"shape\":[", absl::StrJoin(tensor.shape, ","),
                    "],\"data_offsets\":[", offset, ",", offset + bytes, "]},");
    offset += bytes;
  }
  if (json.back() == ',')
    json.back() = '}';
  else
    json += '}';
  json.append((8 - json.size() % 8) % 8, ' ');

  std::string header(8, '\0');
  for (int i = 0; i < 8; ++i)
    header[i] =
        static_cast<char>(static_cast<uint64_t>(json.size()) >> (8 * i));
  return header + json;
}

absl::Status writeFile(const std::string &path,
                       const std::vector<TensorView> &tensors,
                       const std::map<std::string, std::string> &metadata) {
  absl::StatusOr<std::string> header = buildHeader(path, tensors, metadata);
  if (!header.ok())
    return header.status();

  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return systemError(errno, path, ": cannot create ", temp);
  FileCloser closer(fd);
  auto abandon = [&](absl::string_view what) {
    int error = errno;
    closer.close();
    ::unlink(temp.c_str());
    return systemError(error, path, ": ", what, " ", temp);
  };
  if (!writeAll(fd, header->data(), header->size()))
    return abandon("cannot write");
  for (const TensorView &tensor : tensors) {
    uint64_t bytes;
    byteSize(tensor.dtype, tensor.shape, bytes);
    if (!writeAll(fd, tensor.data, bytes))
      return abandon("cannot write");
  }
  if (::fsync(fd) != 0)
    return abandon("cannot sync");
  if (closer.close() != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    return systemError(error, path, ": cannot close ", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    return systemError(error, path, ": cannot rename ", temp, " to it");
  }

  // The new file is in place; make the rename itself durable.
  std::string directory = directoryOf(path);
  int dirFd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0)
    return systemError(errno, path, ": written, but cannot open directory ",
                       directory, " to sync it");
  FileCloser dirCloser(dirFd);
  if (::fsync(dirFd) != 0)
    return systemError(errno, path, ": written, but cannot sync directory ",
                       directory);
  return absl::OkStatus();
}

} // namespace

size_t convseq::runtime::dtypeSize(Dtype dtype) {
  switch (dtype) {
  case Dtype::F32:
  case Dtype::I32:
    return 4;
  case Dtype::F64:
  case Dtype::I64:
    return 8;
  }
  return 0;
}

const char *convseq::runtime::dtypeName(Dtype dtype) {
  switch (dtype) {
  case Dtype::F32:
    return "F32";
  case Dtype::F64:
    return "F64";
  case Dtype::I32:
    return "I32";
  case Dtype::I64:
    return "I64";
  }
  return "?";
}

int64_t StoredTensor::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

const StoredTensor *SafetensorsFile::find(std::string_view name) const {
  for (const StoredTensor &tensor : tensors)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

absl::Status convseq::runtime::writeSafetensors(
    const std::string &path, const std::vector<TensorView> &tensors,
    const std::map<std::string, std::string> &metadata) {
  try {
    return writeFile(path, tensors, metadata);
  } catch (const std::exception &e) {
    ::unlink((path + ".tmp").c_str());
    return absl::ResourceExhaustedError(absl::StrCat(path, ": ", e.what()));
  }
}

absl::StatusOr<SafetensorsFile>
convseq::runtime::readSafetensors(const std::string &path) {
  try {
    return readFile(path);
  } catch (const std::exception &e) {
    return absl::ResourceExhaustedError(absl::StrCat(path, ": ", e.what()));
  }
}
