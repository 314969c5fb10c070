//===- Data.cpp - Reading training data: TSV examples and raw text --------===//
//
// Lines are read with POSIX getline into one growing buffer (LineReader),
// so a file of any size is streamed and a line of any length is read whole.
//
//===----------------------------------------------------------------------===//

#include "runtime/Data.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <system_error>

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace convseq::runtime {
namespace {

/// Debian's Abseil has its own absl::string_view, which std::string_view
/// does not convert to.
absl::string_view asAbsl(std::string_view s) { return {s.data(), s.size()}; }

/// The status for the failure `err` (an errno value) of `what` on `where`.
absl::Status ioError(int err, std::string_view where, std::string_view what) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrCat(asAbsl(where), ": ", asAbsl(what), ": ",
                                   std::generic_category().message(err)));
}

/// The length of the well-formed UTF-8 sequence that starts at s[i], or 0
/// if the bytes there are not one (Unicode 15, table 3-7).
size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned lead = byte(i);
  if (lead < 0x80)
    return 1;
  size_t length;
  // The range of the second byte; the others are all 0x80..0xBF.
  unsigned low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0)
      low = 0xA0; // Overlong below U+0800.
    else if (lead == 0xED)
      high = 0x9F; // Surrogates U+D800..U+DFFF.
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0)
      low = 0x90; // Overlong below U+10000.
    else if (lead == 0xF4)
      high = 0x8F; // Above U+10FFFF.
  } else {
    return 0; // Continuation byte, overlong C0/C1, or F5..FF.
  }
  if (s.size() - i < length)
    return 0;
  if (byte(i + 1) < low || byte(i + 1) > high)
    return 0;
  for (size_t k = 2; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
  return length;
}

/// Splits `line` at every tab into `columns`.
void splitTabs(std::string_view line, std::vector<std::string_view> &columns) {
  columns.clear();
  size_t start = 0;
  while (true) {
    size_t tab = line.find('\t', start);
    columns.push_back(line.substr(start, tab - start));
    if (tab == std::string_view::npos)
      return;
    start = tab + 1;
  }
}

/// One step of splitmix64: advances `state` and returns 64 random bits.
uint64_t nextRandom(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Uniform in [0, bound), without modulo bias (Lemire 2019).
uint64_t nextRandomBelow(uint64_t &state, uint64_t bound) {
  if (bound == 0)
    return 0;
  unsigned __int128 product =
      static_cast<unsigned __int128>(nextRandom(state)) * bound;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < bound) {
    uint64_t threshold = -bound % bound;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(nextRandom(state)) * bound;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

/// Splits `numItems` items into `numSegments` non-empty runs of random
/// lengths: like T5's `_random_segmentation`, shuffles numSegments-1 cut
/// markers among the numItems-1 places between items (Fisher-Yates).
/// Requires 1 <= numSegments <= numItems.
std::vector<int64_t> randomSegmentation(int64_t numItems, int64_t numSegments,
                                        uint64_t &state) {
  // cuts[i]: whether a new segment starts at item i+1.
  std::vector<uint8_t> cuts(numItems - 1, 0);
  std::fill_n(cuts.begin(), numSegments - 1, 1);
  for (size_t i = cuts.size(); i > 1; --i)
    std::swap(cuts[i - 1], cuts[nextRandomBelow(state, i)]);
  std::vector<int64_t> lengths(1, 1);
  for (uint8_t cut : cuts) {
    if (cut)
      lengths.push_back(1);
    else
      ++lengths.back();
  }
  return lengths;
}

} // namespace

bool isValidUtf8(std::string_view s, size_t *errorOffset) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t length = utf8SequenceLength(s, i);
    if (length == 0) {
      if (errorOffset)
        *errorOffset = i;
      return false;
    }
    i += length;
  }
  return true;
}

bool isBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return absl::ascii_isspace(c); });
}

//===----------------------------------------------------------------------===//
// LineReader
//===----------------------------------------------------------------------===//

absl::StatusOr<LineReader> LineReader::open(const std::string &path) {
  LineReader reader;
  reader.filePath = path;
  reader.file.reset(std::fopen(path.c_str(), "rb"));
  struct stat info;
  if (!reader.file || fstat(fileno(reader.file.get()), &info) != 0)
    return ioError(errno, path, "cannot open");
  reader.device = static_cast<int64_t>(info.st_dev);
  reader.inode = static_cast<int64_t>(info.st_ino);
  reader.fileSize = static_cast<int64_t>(info.st_size);
  reader.modified = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 +
                    info.st_mtim.tv_nsec;
  return reader;
}

absl::StatusOr<bool> LineReader::next() {
  char *data = buffer.release();
  ssize_t read = ::getline(&data, &capacity, file.get());
  buffer.reset(data);
  if (read < 0) {
    if (std::ferror(file.get()))
      return ioError(errno, where(), "cannot read");
    return false;
  }
  if (numbered)
    ++lineNumber;
  lineOffset = nextOffset;
  nextOffset += read;
  lineSize = static_cast<size_t>(read);
  if (lineSize > 0 && data[lineSize - 1] == '\n')
    --lineSize;
  if (lineSize > 0 && data[lineSize - 1] == '\r')
    --lineSize;
  return true;
}

absl::Status LineReader::seek(int64_t offset, int64_t number) {
  nextOffset = offset;
  numbered = number > 0;
  lineNumber = numbered ? number - 1 : 0;
  if (fseeko(file.get(), static_cast<off_t>(offset), SEEK_SET) != 0)
    return ioError(errno, where(), "cannot seek");
  return absl::OkStatus();
}

std::string LineReader::where() const {
  if (numbered)
    return absl::StrCat(filePath, ":", lineNumber + 1);
  return absl::StrCat(filePath, " at byte ", nextOffset);
}

bool LineReader::sameFileAs(const LineReader &other) const {
  return device == other.device && inode == other.inode &&
         fileSize == other.fileSize && modified == other.modified;
}

namespace {

/// Calls `onLine(char *data, size_t size, int64_t number, int64_t offset)`
/// with each line of `path`, without its LF or CRLF ending, its 1-based
/// number and the byte offset of its start; the line may be modified in
/// place. Stops at the first non-OK status.
template <typename OnLine>
absl::Status forEachLine(const std::string &path, OnLine &&onLine) {
  absl::StatusOr<LineReader> reader = LineReader::open(path);
  if (!reader.ok())
    return reader.status();
  while (true) {
    absl::StatusOr<bool> read = reader->next();
    if (!read.ok())
      return read.status();
    if (!*read)
      return absl::OkStatus();
    if (absl::Status status = onLine(reader->data(), reader->size(),
                                     reader->number(), reader->offset());
        !status.ok())
      return status;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// TSV
//===----------------------------------------------------------------------===//

absl::StatusOr<TsvParser> TsvParser::create(const std::string &path,
                                            const TsvOptions &options) {
  if (options.sourceColumn < 0 || options.targetColumn < -1)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": invalid columns: source ", options.sourceColumn,
                     ", target ", options.targetColumn));
  if (options.targetColumn < 0 && !options.labels.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": labels given but no target column"));
  TsvParser parser;
  parser.options = options;
  parser.needed = static_cast<size_t>(
                      std::max(options.sourceColumn, options.targetColumn)) +
                  1;
  for (const auto &[value, word] : options.labels)
    absl::StrAppend(&parser.expectedLabels,
                    parser.expectedLabels.empty() ? "" : ", ", value);
  return parser;
}

std::string TsvParser::parse(std::string_view line, Example &example) {
  size_t offset;
  if (!isValidUtf8(line, &offset))
    return absl::StrCat("invalid UTF-8 at byte ", offset);
  splitTabs(line, columns);
  if (columns.size() < needed)
    return absl::StrCat("expected at least ", needed,
                        " tab-separated columns, found ", columns.size());
  if (isBlank(columns[options.sourceColumn]))
    return absl::StrCat("empty text in column ", options.sourceColumn);
  if (options.targetColumn >= 0) {
    std::string_view value = columns[options.targetColumn];
    if (isBlank(value))
      return absl::StrCat("empty text in column ", options.targetColumn);
    if (options.labels.empty()) {
      example.target = value;
    } else {
      auto it =
          std::find_if(options.labels.begin(), options.labels.end(),
                       [&](const auto &label) { return label.first == value; });
      if (it == options.labels.end())
        return absl::StrCat("unknown label '", asAbsl(value),
                            "' (expected one of ", expectedLabels, ")");
      example.target = it->second;
    }
  }
  example.source = columns[options.sourceColumn];
  return "";
}

absl::Status
forEachTsvExample(const std::string &path, const TsvOptions &options,
                  const std::function<absl::Status(Example)> &callback,
                  TsvStats *stats) {
  TsvStats localStats;
  TsvStats &counts = stats ? *stats : localStats;
  counts = TsvStats();
  absl::StatusOr<TsvParser> parser = TsvParser::create(path, options);
  if (!parser.ok())
    return parser.status();
  auto malformed = [&](int64_t number, std::string_view problem) {
    if (options.skipMalformed) {
      ++counts.skipped;
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", number, ": ", asAbsl(problem)));
  };

  // A blank line is malformed only if another line follows it.
  int64_t pendingBlank = 0;
  return forEachLine(path,
                     [&](char *data, size_t size, int64_t number,
                         int64_t offset) -> absl::Status {
                       if (pendingBlank != 0) {
                         if (absl::Status status =
                                 malformed(pendingBlank, "blank line");
                             !status.ok())
                           return status;
                         pendingBlank = 0;
                       }
                       if (size == 0) {
                         pendingBlank = number;
                         return absl::OkStatus();
                       }
                       Example example;
                       example.line = number;
                       example.offset = offset;
                       std::string problem =
                           parser->parse(std::string_view(data, size), example);
                       if (!problem.empty())
                         return malformed(number, problem);
                       ++counts.read;
                       return callback(std::move(example));
                     });
}

absl::StatusOr<std::vector<Example>>
readTsv(const std::string &path, const TsvOptions &options, TsvStats *stats) {
  std::vector<Example> examples;
  absl::Status status = forEachTsvExample(
      path, options,
      [&](Example example) {
        examples.push_back(std::move(example));
        return absl::OkStatus();
      },
      stats);
  if (!status.ok())
    return status;
  return examples;
}

int64_t replaceInvalidUtf8(char *data, size_t size) {
  std::string_view line(data, size);
  int64_t replaced = 0;
  for (size_t i = 0; i < size;) {
    if (static_cast<unsigned char>(data[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t length = utf8SequenceLength(line, i);
    if (length == 0) {
      data[i++] = ' ';
      ++replaced;
    } else {
      i += length;
    }
  }
  return replaced;
}

absl::Status forEachTextLine(
    const std::string &path,
    const std::function<absl::Status(std::string_view line, int64_t lineNumber,
                                     int64_t offset)> &callback,
    int64_t *replacedBytes) {
  int64_t localReplaced;
  int64_t &replaced = replacedBytes ? *replacedBytes : localReplaced;
  replaced = 0;
  return forEachLine(
      path, [&](char *data, size_t size, int64_t number, int64_t offset) {
        replaced += replaceInvalidUtf8(data, size);
        std::string_view line(data, size);
        if (isBlank(line))
          return absl::OkStatus();
        return callback(line, number, offset);
      });
}

absl::StatusOr<Corrupted> spanCorrupt(const std::vector<int32_t> &tokens,
                                      double noiseDensity,
                                      double meanSpanLength,
                                      const std::vector<int32_t> &sentinelIds,
                                      int32_t eosId, uint64_t &rngState) {
  int64_t n = static_cast<int64_t>(tokens.size());
  if (n < 2)
    return absl::InvalidArgumentError(
        absl::StrCat("span corruption needs at least 2 tokens, got ", n));
  if (sentinelIds.empty())
    return absl::InvalidArgumentError("span corruption needs sentinel ids");
  if (!(noiseDensity >= 0.0 && noiseDensity <= 1.0))
    return absl::InvalidArgumentError(
        absl::StrCat("noise density ", noiseDensity, " is not in [0, 1]"));
  if (!(meanSpanLength > 0.0))
    return absl::InvalidArgumentError(absl::StrCat(
        "mean noise span length ", meanSpanLength, " is not positive"));

  int64_t numNoise = std::clamp<int64_t>(
      std::llround(static_cast<double>(n) * noiseDensity), 1, n - 1);
  int64_t numNonNoise = n - numNoise;
  double spans = std::round(static_cast<double>(numNoise) / meanSpanLength);
  int64_t numSpans = static_cast<int64_t>(
      std::min(spans, static_cast<double>(std::min(numNoise, numNonNoise))));
  numSpans = std::min<int64_t>(std::max<int64_t>(numSpans, 1),
                               static_cast<int64_t>(sentinelIds.size()));

  std::vector<int64_t> noiseLengths =
      randomSegmentation(numNoise, numSpans, rngState);
  std::vector<int64_t> nonNoiseLengths =
      randomSegmentation(numNonNoise, numSpans, rngState);

  Corrupted result;
  result.input.reserve(numNonNoise + numSpans);
  result.target.reserve(numNoise + numSpans + 1);
  auto next = tokens.begin();
  for (int64_t span = 0; span < numSpans; ++span) {
    result.input.insert(result.input.end(), next, next + nonNoiseLengths[span]);
    next += nonNoiseLengths[span];
    result.input.push_back(sentinelIds[span]);
    result.target.push_back(sentinelIds[span]);
    result.target.insert(result.target.end(), next, next + noiseLengths[span]);
    next += noiseLengths[span];
  }
  result.target.push_back(eosId);
  return result;
}

} // namespace convseq::runtime
