//===- SafetensorsTest.cpp - Checkpoint files in the safetensors format ---===//

#include "runtime/Safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"

using namespace convseq::runtime;
namespace fs = std::filesystem;

namespace {

/// A fresh directory for each test, removed afterwards.
class Safetensors : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "safetensors-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir = pattern;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string pathOf(const std::string &name) const {
    return (fs::path(dir) / name).string();
  }

  /// The names of the files in the test directory.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto &entry : fs::directory_iterator(dir))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  /// Writes `bytes` to a file and returns its path.
  std::string writeBytes(const std::string &bytes,
                         const std::string &name = "in.safetensors") const {
    std::string path = pathOf(name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  /// Reads a file made of `bytes`; expects an error that starts with the
  /// path and contains `message`.
  void expectError(const std::string &bytes, const std::string &message) {
    std::string path = writeBytes(bytes);
    absl::StatusOr<SafetensorsFile> file = readSafetensors(path);
    ASSERT_FALSE(file.ok()) << "accepted: " << bytes;
    std::string text(file.status().message());
    EXPECT_EQ(text.rfind(path + ": ", 0), 0u) << text;
    EXPECT_NE(text.find(message), std::string::npos)
        << "expected '" << message << "' in: " << text;
  }

  std::string dir;
};

std::string readAll(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The 8-byte little-endian encoding of `value`.
std::string u64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>(value >> (8 * i));
  return bytes;
}

/// A file with `json` as its header (padded with spaces to a multiple of 8
/// bytes, as the reference writer does) and `data`.
std::string fileOf(std::string json, const std::string &data) {
  json.append((8 - json.size() % 8) % 8, ' ');
  return u64(json.size()) + json + data;
}

template <typename T> std::string bytesOf(const std::vector<T> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(T));
}

std::string bytesOf(const std::vector<uint8_t> &bytes) {
  return std::string(bytes.begin(), bytes.end());
}

TEST_F(Safetensors, RoundTripsEveryDtypeShapeAndMetadata) {
  std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, 7.0f};
  std::vector<double> f64 = {3.141592653589793, -1e300, 0.5, 2.0};
  std::vector<int32_t> i32 = {-7, 0, 2147483647, -2147483647 - 1};
  std::vector<int64_t> scalar = {-1234567890123456789};
  std::vector<int32_t> none;
  std::vector<TensorView> tensors = {
      {"layer.0.weight", Dtype::F32, {2, 3}, f32.data()},
      {"b", Dtype::F64, {4}, f64.data()},
      {"ids", Dtype::I32, {2, 1, 2}, i32.data()},
      {"step", Dtype::I64, {}, scalar.data()},
      {"empty", Dtype::I32, {3, 0}, nullptr},
      {"a \"quoted\\\" name \xC3\xA9", Dtype::F32, {0}, none.data()},
  };
  std::map<std::string, std::string> metadata = {
      {"format", "pt"},
      {"quote", "say \"hi\" \\o/"},
      {"lines", "one\ntwo\r\n\tthree\x01\x1F"},
      {"unicode \xE2\x9C\x93", "h\xC3\xA9llo \xF0\x9F\x98\x80"},
      {"", ""},
  };
  std::string path = pathOf("model.safetensors");
  ASSERT_TRUE(writeSafetensors(path, tensors, metadata).ok());
  EXPECT_EQ(readAll(path).size() % 8, 0u);

  absl::StatusOr<SafetensorsFile> file = readSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata, metadata);
  ASSERT_EQ(file->tensors.size(), tensors.size());
  std::vector<std::string> expectedBytes = {
      bytesOf(f32), bytesOf(f64), bytesOf(i32), bytesOf(scalar), "", ""};
  std::vector<int64_t> expectedCounts = {6, 4, 4, 1, 0, 0};
  for (size_t i = 0; i < tensors.size(); ++i) {
    const StoredTensor &tensor = file->tensors[i];
    EXPECT_EQ(tensor.name, tensors[i].name);
    EXPECT_EQ(tensor.dtype, tensors[i].dtype);
    EXPECT_EQ(tensor.shape, tensors[i].shape);
    EXPECT_EQ(bytesOf(tensor.bytes), expectedBytes[i]) << tensor.name;
    EXPECT_EQ(tensor.numElements(), expectedCounts[i]) << tensor.name;
    EXPECT_EQ(file->find(tensors[i].name), &tensor);
  }
  EXPECT_EQ(file->find("missing"), nullptr);
  EXPECT_EQ(listing(), std::vector<std::string>{"model.safetensors"});
}

TEST_F(Safetensors, RoundTripsAnEmptyFile) {
  std::string path = pathOf("empty.safetensors");
  ASSERT_TRUE(writeSafetensors(path, {}, {}).ok());
  EXPECT_EQ(readAll(path), u64(8) + "{}      ");
  absl::StatusOr<SafetensorsFile> file = readSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->metadata.empty());
  EXPECT_TRUE(file->tensors.empty());
}

TEST_F(Safetensors, DtypeNamesAndSizes) {
  EXPECT_STREQ(dtypeName(Dtype::F32), "F32");
  EXPECT_STREQ(dtypeName(Dtype::F64), "F64");
  EXPECT_STREQ(dtypeName(Dtype::I32), "I32");
  EXPECT_STREQ(dtypeName(Dtype::I64), "I64");
  EXPECT_EQ(dtypeSize(Dtype::F32), 4u);
  EXPECT_EQ(dtypeSize(Dtype::F64), 8u);
  EXPECT_EQ(dtypeSize(Dtype::I32), 4u);
  EXPECT_EQ(dtypeSize(Dtype::I64), 8u);
}

// One F32 tensor "a" of shape [1] holding 1.0f: the JSON is 54 bytes, padded
// with 2 spaces to 56 (0x38), then the 4 data bytes of 0x3F800000.
TEST_F(Safetensors, WritesTheExactBytesOfATinyFile) {
  float one = 1.0f;
  std::string path = pathOf("tiny.safetensors");
  ASSERT_TRUE(writeSafetensors(path, {{"a", Dtype::F32, {1}, &one}}, {}).ok());
  std::string expected("\x38\0\0\0\0\0\0\0", 8);
  expected += "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
              "\"data_offsets\":[0,4]}}  ";
  expected += std::string("\x00\x00\x80\x3F", 4);
  EXPECT_EQ(expected.size(), 68u);
  EXPECT_EQ(readAll(path), expected);

  // With metadata, "__metadata__" comes first; control characters are
  // escaped as \u00XX.
  std::map<std::string, std::string> metadata = {{"k", "\"\\\n"}};
  ASSERT_TRUE(
      writeSafetensors(path, {{"a", Dtype::F32, {1}, &one}}, metadata).ok());
  std::string json = "{\"__metadata__\":{\"k\":\"\\\"\\\\\\u000a\"},"
                     "\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                     "\"data_offsets\":[0,4]}}";
  EXPECT_EQ(readAll(path), fileOf(json, std::string("\x00\x00\x80\x3F", 4)));
}

// The layout Python's safetensors.torch.save_file produces for
// {"weight": 2x2 F32, "bias": [2] I64} with metadata {"format": "pt"}:
// compact JSON, "__metadata__" first, tensors in offset order (the 8-byte
// dtype first), header padded with spaces.
TEST_F(Safetensors, ReadsAFileWrittenByPython) {
  std::vector<int64_t> bias = {5, -6};
  std::vector<float> weight = {1.0f, 2.0f, 3.0f, 4.0f};
  std::string json =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"bias\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
      "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],"
      "\"data_offsets\":[16,32]}}";
  std::string path = writeBytes(fileOf(json, bytesOf(bias) + bytesOf(weight)));
  absl::StatusOr<SafetensorsFile> file = readSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata,
            (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(file->tensors.size(), 2u);
  const StoredTensor *w = file->find("weight");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, Dtype::F32);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(w->numElements(), 4);
  EXPECT_EQ(bytesOf(w->bytes), bytesOf(weight));
  const StoredTensor *b = file->find("bias");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, Dtype::I64);
  EXPECT_EQ(bytesOf(b->bytes), bytesOf(bias));
}

// Header order, whitespace and escapes do not matter; tensors come back in
// offset order (empty tensors at the same offset in header order).
TEST_F(Safetensors, ReadsTensorsInOffsetOrder) {
  std::string json = " {\n \"z\" : {\"shape\": [], \"dtype\": \"I32\", "
                     "\"data_offsets\": [4, 8]},\n"
                     "\t\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\": "
                     "{\"dtype\":\"F64\",\"shape\":[0,5],"
                     "\"data_offsets\":[4,4]},\r\n"
                     " \"y\":{\"dtype\":\"I32\",\"shape\":[1],"
                     "\"data_offsets\":[0,4]},"
                     " \"e\":{\"dtype\":\"F32\",\"shape\":[0],"
                     "\"data_offsets\":[4,4]} } ";
  std::vector<int32_t> data = {11, 22};
  absl::StatusOr<SafetensorsFile> file =
      readSafetensors(writeBytes(fileOf(json, bytesOf(data))));
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<std::string> names;
  for (const StoredTensor &tensor : file->tensors)
    names.push_back(tensor.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "y", "\xC3\xA9\xF0\x9F\x98\x80/\b\f\n\r\t", "e", "z"}));
  EXPECT_EQ(file->tensors[3].numElements(), 1);
  EXPECT_EQ(bytesOf(file->tensors[3].bytes), bytesOf(std::vector{22}));
}

TEST_F(Safetensors, MissingFile) {
  std::string path = pathOf("missing.safetensors");
  absl::StatusOr<SafetensorsFile> file = readSafetensors(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(file.status().message(),
            path + ": cannot open: No such file or directory");
}

TEST_F(Safetensors, NotARegularFile) {
  absl::StatusOr<SafetensorsFile> file = readSafetensors(dir);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(), dir + ": not a regular file");
}

TEST_F(Safetensors, TruncatedHeaderLength) {
  expectError("", "truncated: the file has 0 bytes, fewer than the 8-byte "
                  "header length");
  expectError(std::string("\x08\0\0\0\0", 5), "truncated: the file has 5");
}

TEST_F(Safetensors, HeaderLongerThanFile) {
  expectError(u64(1234) + std::string(100, ' '),
              "truncated: header says 1234 bytes but the file has 100");
}

TEST_F(Safetensors, HugeHeaderLength) {
  expectError(u64(~uint64_t(0)) + "{}",
              "header length 18446744073709551615 (negative as a signed "
              "integer) is over the limit of 100000000 bytes");
  expectError(u64(100'000'001) + "{}", "header length 100000001 is over");
}

TEST_F(Safetensors, InvalidJson) {
  std::string tensor = "{\"dtype\":\"F32\",\"shape\":[1],"
                       "\"data_offsets\":[0,4]}";
  std::string four(4, '\0');
  // The unpadded header; `at` is where the error is.
  auto expectJsonError = [&](const std::string &json, size_t at,
                             const std::string &what) {
    expectError(u64(json.size()) + json + four, "invalid JSON header at byte " +
                                                    std::to_string(at) + ": " +
                                                    what);
  };
  expectJsonError("{\"a\" " + tensor + "}", 5, "expected ':', found '{'");
  expectJsonError("", 0, "expected '{', found the end of the header");
  expectJsonError("[]", 0, "expected '{', found '['");
  expectJsonError("{\"a\":" + tensor, 53, "expected ',' or '}'");
  expectJsonError("{\"a\":" + tensor + ",}", 54, "expected a string key");
  expectJsonError("{\"a\":" + tensor + "}x", 54,
                  "expected the end of the header, found 'x'");
  expectJsonError("{\"a\":" + tensor + std::string("}\0", 2), 54,
                  "expected the end of the header, found byte 0x00");
  expectJsonError("{\"a\":{\"dtype\":true}}", 14,
                  "tensor 'a': expected a string for \"dtype\", found 't'");
  expectJsonError("{\"a\":{\"shape\":[1.0]}}", 15,
                  "expected an integer, found a fraction or exponent");
  expectJsonError("{\"a\":{\"shape\":[-1]}}", 15,
                  "expected a non-negative integer, found '-'");
  expectJsonError("{\"a\":{\"shape\":[01]}}", 15,
                  "integer with a leading zero");
  expectJsonError("{\"a\":{\"shape\":[9223372036854775808]}}", 15,
                  "integer too large");
  expectJsonError("{\"a\":{\"shape\":[1,]}}", 17,
                  "expected a non-negative integer");
  expectJsonError("{\"a\":{\"data_offsets\":[1]}}", 21,
                  "tensor 'a': \"data_offsets\" must have 2 integers, not 1");
  expectJsonError("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 5,
                  "tensor 'a': missing \"data_offsets\"");
  expectJsonError("{\"a\":{\"dtype\":\"F32\",\"offsets\":[1]}}", 30,
                  "tensor 'a': unknown field 'offsets'");
  expectJsonError("{\"a\":1}", 5, "tensor 'a': expected an object, found '1'");
  expectJsonError("{\"__metadata__\":[]}", 16,
                  "\"__metadata__\": expected an object of strings, found '['");
  expectJsonError("{\"__metadata__\":{\"k\":1}}", 21,
                  "__metadata__ key 'k': expected a string, found '1'");
  expectJsonError("{\"a\x01\":1}", 3, "unescaped control character");
  expectJsonError("{\"a", 3, "unterminated string");
  expectJsonError("{\"\\x\":1}", 2, "invalid escape sequence");
  expectJsonError("{\"\\u12G4\":1}", 6, "invalid hex digit");
  expectJsonError("{\"\\ud800\":1}", 2, "unpaired surrogate");
  expectJsonError("{\"\\udc00\":1}", 2, "unpaired surrogate");
  expectJsonError("{\"\\ud800\\u0041\":1}", 2, "unpaired surrogate");
  expectError(fileOf("{\"\xC3(\":1}", ""), "header is not valid UTF-8 at "
                                           "byte 2");
  expectError(fileOf("{\"\xED\xA0\x80\":1}", ""), "not valid UTF-8");
}

TEST_F(Safetensors, UnknownDtype) {
  expectError(fileOf("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2],"
                     "\"data_offsets\":[0,4]}}",
                     "abcd"),
              "tensor 'w': unknown dtype 'BF16' (supported: F32, F64, I32, "
              "I64)");
}

TEST_F(Safetensors, OffsetsDoNotMatchShape) {
  expectError(fileOf("{\"embedding\":{\"dtype\":\"F32\",\"shape\":[3,4],"
                     "\"data_offsets\":[0,10]}}",
                     std::string(10, 'x')),
              "tensor 'embedding': data_offsets [0, 10] do not match dtype "
              "F32 and shape [3, 4] (48 bytes)");
  expectError(fileOf("{\"big\":{\"dtype\":\"F64\",\"shape\":"
                     "[4294967296,4294967296],\"data_offsets\":[0,0]}}",
                     ""),
              "shape [4294967296, 4294967296] (over 2^64 bytes)");
  expectError(fileOf("{\"r\":{\"dtype\":\"F32\",\"shape\":[1],"
                     "\"data_offsets\":[8,4]}}",
                     std::string(8, 'x')),
              "tensor 'r': data_offsets [8, 4] end before they begin");
}

TEST_F(Safetensors, OffsetsOutsideTheData) {
  expectError(fileOf("{\"x\":{\"dtype\":\"F32\",\"shape\":[12],"
                     "\"data_offsets\":[0,48]}}",
                     std::string(40, 'x')),
              "tensor 'x': data_offsets [0, 48] lie outside the data (size "
              "40)");
}

TEST_F(Safetensors, OverlappingTensors) {
  expectError(fileOf("{\"b\":{\"dtype\":\"I64\",\"shape\":[1],"
                     "\"data_offsets\":[4,12]},"
                     "\"a\":{\"dtype\":\"I64\",\"shape\":[1],"
                     "\"data_offsets\":[0,8]}}",
                     std::string(12, 'x')),
              "tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]");
  // An empty tensor inside another one.
  expectError(fileOf("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],"
                     "\"data_offsets\":[0,8]},"
                     "\"e\":{\"dtype\":\"I64\",\"shape\":[0],"
                     "\"data_offsets\":[4,4]}}",
                     std::string(8, 'x')),
              "tensor 'e': data_offsets [4, 4] overlap tensor 'a' [0, 8]");
}

TEST_F(Safetensors, GapInTheData) {
  expectError(fileOf("{\"a\":{\"dtype\":\"I32\",\"shape\":[1],"
                     "\"data_offsets\":[0,4]},"
                     "\"b\":{\"dtype\":\"I32\",\"shape\":[1],"
                     "\"data_offsets\":[8,12]}}",
                     std::string(12, 'x')),
              "bytes [4, 8) of the data belong to no tensor (a gap before "
              "tensor 'b')");
  expectError(fileOf("{\"a\":{\"dtype\":\"I32\",\"shape\":[1],"
                     "\"data_offsets\":[0,4]}}",
                     std::string(6, 'x')),
              "bytes [4, 6) of the data belong to no tensor (trailing bytes)");
  expectError(fileOf("{}", "x"), "bytes [0, 1) of the data belong to no");
}

TEST_F(Safetensors, DuplicateKey) {
  std::string a = "\"a\":{\"dtype\":\"I32\",\"shape\":[1],"
                  "\"data_offsets\":[0,4]}";
  expectError(fileOf("{" + a + "," + a + "}", "abcd"),
              "invalid JSON header at byte 54: duplicate key 'a'");
  expectError(fileOf("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", ""),
              "duplicate key 'k'");
}

TEST_F(Safetensors, WritingIntoAMissingDirectoryFails) {
  float one = 1.0f;
  std::string path = pathOf("missing/model.safetensors");
  absl::Status status =
      writeSafetensors(path, {{"a", Dtype::F32, {1}, &one}}, {});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), path + ": cannot create " + path +
                                  ".tmp: No such file or directory");
  EXPECT_TRUE(listing().empty());
}

TEST_F(Safetensors, OverwritingReplacesTheFile) {
  std::string path = pathOf("model.safetensors");
  std::vector<int64_t> first = {1, 2, 3};
  std::vector<int32_t> second = {4};
  ASSERT_TRUE(writeSafetensors(path, {{"x", Dtype::I64, {3}, first.data()}},
                               {{"step", "1"}})
                  .ok());
  ASSERT_TRUE(writeSafetensors(path, {{"y", Dtype::I32, {1}, second.data()}},
                               {{"step", "2"}})
                  .ok());
  EXPECT_EQ(listing(), std::vector<std::string>{"model.safetensors"});
  absl::StatusOr<SafetensorsFile> file = readSafetensors(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata.at("step"), "2");
  ASSERT_EQ(file->tensors.size(), 1u);
  EXPECT_EQ(file->tensors[0].name, "y");
  EXPECT_EQ(bytesOf(file->tensors[0].bytes), bytesOf(second));
}

// A failed rename (over a directory) leaves the target and no temp file.
TEST_F(Safetensors, FailedRenameLeavesNoTempFile) {
  std::string path = pathOf("taken");
  fs::create_directory(path);
  std::vector<int32_t> data = {1};
  absl::Status status =
      writeSafetensors(path, {{"x", Dtype::I32, {1}, data.data()}}, {});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(
      status.message().find(path + ": cannot rename " + path + ".tmp to it"),
      std::string::npos)
      << status;
  EXPECT_EQ(listing(), std::vector<std::string>{"taken"});
  EXPECT_TRUE(fs::is_directory(path));
}

TEST_F(Safetensors, RejectsInvalidTensorsToWrite) {
  std::string path = pathOf("model.safetensors");
  std::vector<float> data = {1.0f, 2.0f};
  auto expectInvalid = [&](const std::vector<TensorView> &tensors,
                           const std::map<std::string, std::string> &metadata,
                           const std::string &message) {
    absl::Status status = writeSafetensors(path, tensors, metadata);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), path + ": " + message);
  };
  expectInvalid({{"a", Dtype::F32, {1}, data.data()},
                 {"a", Dtype::F32, {1}, data.data()}},
                {}, "tensor 'a': duplicate name");
  expectInvalid({{"__metadata__", Dtype::F32, {1}, data.data()}}, {},
                "a tensor cannot be called '__metadata__'");
  expectInvalid({{"a", Dtype::F32, {2, -1}, data.data()}}, {},
                "tensor 'a': invalid shape [2, -1]");
  expectInvalid({{"a", Dtype::F32, {2}, nullptr}}, {}, "tensor 'a': no data");
  expectInvalid({{"a", static_cast<Dtype>(9), {2}, data.data()}}, {},
                "tensor 'a': invalid dtype 9");
  expectInvalid({{"\xFF", Dtype::F32, {2}, data.data()}}, {},
                "tensor '\xFF': name is not valid UTF-8");
  expectInvalid({}, {{"k", "\xC0\x80"}},
                "__metadata__ key 'k' or its value is not valid UTF-8");
  EXPECT_TRUE(listing().empty());
}

} // namespace
