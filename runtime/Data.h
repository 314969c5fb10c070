//===- Data.h - Training data: TSV examples and raw text --------*- C++ -*-===//
//
// Text-to-text training reads (source, target) pairs from TSV files, one
// example a line, and pre-training reads raw text, one paragraph a line, then
// corrupts spans of its tokens as T5 does. Files are streamed: a corpus never
// has to fit in memory. Malformed lines are reported as "path:LINE: problem"
// so that a bad row of a large file can be found and fixed.
//
//===----------------------------------------------------------------------===//

#ifndef CONVSEQ_RUNTIME_DATA_H
#define CONVSEQ_RUNTIME_DATA_H

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstdio>
#include <memory>

namespace convseq::runtime {

/// Reads a file line by line with POSIX getline into one growing buffer, so
/// a file of any size is streamed and a line of any length is read whole;
/// can seek to a line's offset to read it again. Remembers what the file
/// was when opened, so a reader of the same path can tell whether it was
/// changed since (sameFileAs).
class LineReader {
public:
  /// Errors: "path: cannot open: <reason>" (with the status code of errno).
  static absl::StatusOr<LineReader> open(const std::string &path);

  /// Reads the next line, without its LF or CRLF ending, into data() and
  /// size(); false at the end of the file. Errors: "path:LINE: cannot read".
  absl::StatusOr<bool> next();
  /// Continues at byte `offset`, the start of line `number` (0: unknown,
  /// and unknown for the lines after it).
  absl::Status seek(int64_t offset, int64_t number = 0);

  /// The line last read; may be modified in place.
  char *data() { return buffer.get(); }
  size_t size() const { return lineSize; }
  /// Its 1-based number (0 if unknown after seek) and the byte offset of
  /// its start.
  int64_t number() const { return numbered ? lineNumber : 0; }
  int64_t offset() const { return lineOffset; }
  const std::string &path() const { return filePath; }
  /// Whether `other` was opened on the same file, unchanged (device, inode,
  /// size and modification time).
  bool sameFileAs(const LineReader &other) const;

private:
  /// "path:LINE" of the next line, or "path at byte N" if its number is
  /// unknown.
  std::string where() const;

  struct Closer {
    void operator()(std::FILE *file) const { std::fclose(file); }
  };
  struct Freer {
    void operator()(char *data) const { std::free(data); }
  };

  std::string filePath;
  std::unique_ptr<std::FILE, Closer> file;
  std::unique_ptr<char, Freer> buffer;
  size_t capacity = 0, lineSize = 0;
  int64_t lineNumber = 0, lineOffset = 0, nextOffset = 0;
  /// Whether lineNumber counts lines (not after a seek to an unknown one).
  bool numbered = true;
  int64_t device = 0, inode = 0, fileSize = 0, modified = 0;
};

/// One example: source text and target text (for classification, the
/// target is the label word).
struct Example {
  std::string source;
  std::string target;
  /// The byte offset of its line in the file.
  int64_t offset = 0;
  /// 1-based line of the file the example comes from.
  int64_t line = 0;
};

/// Which columns of a TSV file hold the example, and how to read them.
struct TsvOptions {
  /// 0-based column of the input text.
  int sourceColumn = 0;
  /// 0-based column of the target or label; -1: no target (prediction
  /// input), every example's target is empty.
  int targetColumn = 1;
  /// Classification: maps the label column's value to the label word used
  /// as target (e.g. "HUM" -> "human"). Empty: the column is the target as
  /// is. A value not in a non-empty map is a malformed line.
  std::vector<std::pair<std::string, std::string>> labels;
  /// Skip and count malformed lines instead of failing.
  bool skipMalformed = false;
};

/// What a pass over a TSV file saw.
struct TsvStats {
  /// Examples handed to the callback.
  int64_t read = 0;
  /// Malformed lines skipped (with TsvOptions::skipMalformed).
  int64_t skipped = 0;
};

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong encodings, no
/// surrogates, nothing above U+10FFFF, no truncated sequences). If not and
/// `errorOffset` is given, sets it to the 0-based offset of the first byte
/// of the first ill-formed sequence.
bool isValidUtf8(std::string_view s, size_t *errorOffset = nullptr);

/// Streams the TSV file at `path` line by line (holding one line at a time)
/// and calls `callback` for each example. Handles LF and CRLF line endings
/// and a missing final newline. Columns are separated by single tabs and
/// their text is taken as is.
///
/// A line is malformed when it is empty (except the very last line), is not
/// valid UTF-8, has fewer columns than needed, has an empty or
/// whitespace-only source (or target, when there is one) column, or has a
/// label that is not in a non-empty `options.labels`. The error is
/// InvalidArgument "path:LINE: problem", with 1-based lines and the 0-based
/// columns and byte offsets of TsvOptions and isValidUtf8, e.g.
///   data.tsv:12: expected at least 3 tab-separated columns, found 1
///   data.tsv:66: invalid UTF-8 at byte 14
///   data.tsv:3: unknown label 'FOO' (expected one of ABBR, DESC, HUM)
///   data.tsv:5: empty text in column 2
///   data.tsv:7: blank line
/// With `options.skipMalformed` such lines are skipped and counted instead.
/// A file that cannot be opened gives "path: cannot open: <reason>" (with
/// the status code of its errno), one that cannot be read "path:LINE: cannot
/// read: <reason>". A non-OK status from `callback` stops reading and is
/// returned as is.
/// `stats`, if given, is reset and then filled in.
absl::Status
forEachTsvExample(const std::string &path, const TsvOptions &options,
                  const std::function<absl::Status(Example)> &callback,
                  TsvStats *stats = nullptr);

/// Parses lines of one TSV file as forEachTsvExample does, for a reader
/// that comes back to lines it has checked before.
class TsvParser {
public:
  /// Errors: invalid columns, or labels without a target column.
  static absl::StatusOr<TsvParser> create(const std::string &path,
                                          const TsvOptions &options);
  /// Fills in the source and target of `example` from `line` and returns
  /// "", or returns what is wrong with the line (as in "expected at least 3
  /// tab-separated columns, found 1").
  std::string parse(std::string_view line, Example &example);

private:
  TsvOptions options;
  size_t needed = 0;
  std::string expectedLabels;
  std::vector<std::string_view> columns;
};

/// Reads all examples of a TSV file into memory (see forEachTsvExample).
absl::StatusOr<std::vector<Example>> readTsv(const std::string &path,
                                             const TsvOptions &options,
                                             TsvStats *stats = nullptr);

/// Streams raw text for pre-training, one paragraph a line: calls `callback`
/// with each line that is not blank (empty or whitespace only) and its
/// 1-based line number. Line endings are LF or CRLF. Each byte that is not
/// part of a valid UTF-8 sequence (public-domain books contain Latin-1
/// bytes) is replaced by a space and counted in `replacedBytes`, if given
/// (which is reset first). The line passed to `callback` is valid only
/// during the call; `offset` is the byte offset of its start in the file.
/// Errors as for forEachTsvExample; a non-OK status from `callback` stops
/// reading and is returned as is.
absl::Status forEachTextLine(
    const std::string &path,
    const std::function<absl::Status(std::string_view line, int64_t lineNumber,
                                     int64_t offset)> &callback,
    int64_t *replacedBytes = nullptr);

/// The cleaning forEachTextLine applies to each line: replaces each byte
/// that is not part of a valid UTF-8 sequence by a space and returns how
/// many it replaced.
int64_t replaceInvalidUtf8(char *data, size_t size);

/// Whether `s` is empty or whitespace only.
bool isBlank(std::string_view s);

/// A span-corrupted sequence: the encoder input and the decoder target.
struct Corrupted {
  std::vector<int32_t> input, target;
};

/// T5 span corruption (Raffel et al. 2020; `random_spans_noise_mask` and
/// `noise_span_to_unique_sentinel` of the T5 codebase, without random roll).
/// Of the n = tokens.size() tokens, round(n * noiseDensity) (rounded half
/// away from zero, then clamped to [1, n-1]) are noise. They form
/// max(1, round(numNoise / meanSpanLength)) spans, at most
/// sentinelIds.size() and at most the number of non-noise tokens; noise and
/// non-noise tokens are each split into that many non-empty spans of random
/// lengths (as T5 does: m tokens into k spans by shuffling k-1 cut marks
/// among the m-1 gaps), which alternate, starting with a non-noise span. The
/// input is the tokens with the i-th noise span replaced by sentinelIds[i] (the
/// id of <extra_id_i>); it has no eos: the caller appends it as for any input.
/// The target is each sentinel followed by its span, then `eosId`.
///
/// Randomness comes from splitmix64 (Steele, Lea and Flood 2014) steps on
/// `rngState`, bounded without bias by Lemire's multiply-and-reject, so the
/// result depends only on the arguments and the state, whatever the
/// platform or C++ library; `rngState` is advanced past the draws.
/// Errors (InvalidArgument): fewer than 2 tokens, no sentinels, a density
/// outside [0, 1] or a mean span length that is not positive.
absl::StatusOr<Corrupted> spanCorrupt(const std::vector<int32_t> &tokens,
                                      double noiseDensity,
                                      double meanSpanLength,
                                      const std::vector<int32_t> &sentinelIds,
                                      int32_t eosId, uint64_t &rngState);

} // namespace convseq::runtime

#endif // CONVSEQ_RUNTIME_DATA_H
