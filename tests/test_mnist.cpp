// MNIST IDX reader (include/syncache/io/mnist.hpp): crafted files for every error, and the
// real data set fetched by scripts/bootstrap.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers/temp_dir.hpp"
#include "syncache/io/mnist.hpp"

namespace syncache::mnist {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

void write_file(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(out.good()) << path;
}

// An images file: header (magic, count, rows, cols) then the given pixel bytes.
Bytes images_bytes(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, const Bytes& pixels,
                   std::uint32_t magic = 0x00000803) {
  Bytes b;
  put32(b, magic);
  put32(b, count);
  put32(b, rows);
  put32(b, cols);
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

Bytes labels_bytes(const Bytes& labels, std::uint32_t magic = 0x00000801) {
  Bytes b;
  put32(b, magic);
  put32(b, static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// Three 28 x 28 images whose 2352 pixels run through every byte value.
constexpr std::uint32_t kCount = 3;
constexpr std::size_t kPixels = 28 * 28;
Bytes tiny_pixels() {
  Bytes p(kCount * kPixels);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i % 256);
  return p;
}
const Bytes kTinyLabels = {3, 0, 9};

// A directory holding one valid images/labels pair; tests overwrite either file.
class MnistRead : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(images, images_bytes(kCount, 28, 28, tiny_pixels()));
    write_file(labels, labels_bytes(kTinyLabels));
  }
  // read_idx must throw E whose message contains every one of parts.
  template <class E = std::runtime_error>
  void expect_error(std::initializer_list<std::string> parts, std::size_t limit = 0) {
    try {
      (void)read_idx(images, labels, limit);
      ADD_FAILURE() << "no exception";
    } catch (const E& e) {
      const std::string msg = e.what();
      for (const auto& part : parts) {
        EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
      }
    }
  }

  syncache::testing::TempDir dir;
  std::string images = dir.file("imgs-idx3-ubyte");
  std::string labels = dir.file("labs-idx1-ubyte");
};

TEST_F(MnistRead, ValidTinyPairRoundTrips) {
  const Dataset d = read_idx(images, labels);
  ASSERT_EQ(d.count, kCount);
  EXPECT_EQ(d.rows, 28u);
  EXPECT_EQ(d.cols, 28u);
  EXPECT_EQ(d.pixels(), kPixels);
  ASSERT_EQ(d.images.size(), kCount * kPixels);
  EXPECT_EQ(d.labels, kTinyLabels);
  const Bytes p = tiny_pixels();
  for (std::size_t i = 0; i < p.size(); ++i) {
    ASSERT_EQ(d.images[i], static_cast<float>(p[i]) / 255.0f) << "pixel " << i;
  }
  EXPECT_EQ(d.images[0], 0.0f);
  EXPECT_EQ(d.images[255], 1.0f);
  EXPECT_EQ(d.image(2), d.images.data() + 2 * kPixels);
  EXPECT_EQ(d.image(1)[0], static_cast<float>(kPixels % 256) / 255.0f);
}

TEST_F(MnistRead, LimitKeepsTheFirstSamples) {
  const Dataset d = read_idx(images, labels, 2);
  ASSERT_EQ(d.count, 2u);
  EXPECT_EQ(d.labels, (Bytes{3, 0}));
  ASSERT_EQ(d.images.size(), 2 * kPixels);
  const Dataset all = read_idx(images, labels);
  EXPECT_TRUE(std::equal(d.images.begin(), d.images.end(), all.images.begin()));
  EXPECT_EQ(read_idx(images, labels, 3).count, 3u);
}

TEST_F(MnistRead, LimitAboveCountIsRejected) {
  expect_error<std::invalid_argument>({"limit", "asks for 4", images, "holds 3"}, 4);
}

TEST_F(MnistRead, WrongMagicInImages) {
  write_file(images, images_bytes(kCount, 28, 28, tiny_pixels(), 0x00000801));
  expect_error({images, "wrong magic number", "expected 0x00000803", "found 0x00000801"});
}

TEST_F(MnistRead, WrongMagicInLabels) {
  write_file(labels, labels_bytes(kTinyLabels, 0x00000803));
  expect_error({labels, "wrong magic number", "expected 0x00000801", "found 0x00000803"});
}

TEST_F(MnistRead, TruncatedImages) {
  Bytes b = images_bytes(kCount, 28, 28, tiny_pixels());
  b.resize(b.size() - 10);  // 16 + 3 * 784 = 2368 bytes expected
  write_file(images, b);
  expect_error({images, "truncated", "expected 16 + 3 x 784 = 2368 bytes", "file has 2358"});
}

TEST_F(MnistRead, TruncatedHeader) {
  write_file(images, Bytes{0, 0, 8, 3, 0, 0});
  expect_error({images, "truncated", "header needs 16 bytes", "file has 6"});
}

TEST_F(MnistRead, TruncatedLabels) {
  Bytes b = labels_bytes(kTinyLabels);
  b.pop_back();
  write_file(labels, b);
  expect_error({labels, "truncated", "expected 8 + 3 x 1 = 11 bytes", "file has 10"});
}

TEST_F(MnistRead, TrailingBytesInImages) {
  Bytes b = images_bytes(kCount, 28, 28, tiny_pixels());
  b.push_back(0);
  b.push_back(0);
  write_file(images, b);
  expect_error({images, "2 extra trailing bytes", "= 2368 bytes", "file has 2370"});
}

TEST_F(MnistRead, TrailingBytesInLabels) {
  Bytes b = labels_bytes(kTinyLabels);
  b.push_back(1);
  write_file(labels, b);
  expect_error({labels, "1 extra trailing bytes", "file has 12"});
}

TEST_F(MnistRead, WrongDimensions) {
  write_file(images, images_bytes(kCount, 27, 28, Bytes(kCount * 27 * 28, 0)));
  expect_error({images, "wrong dimensions", "expected 3 x 28 x 28", "found 3 x 27 x 28"});
}

TEST_F(MnistRead, LabelAboveNine) {
  write_file(labels, labels_bytes(Bytes{3, 10, 9}));
  expect_error({labels, "label 10 at index 1", "outside 0..9"});
}

TEST_F(MnistRead, CountMismatch) {
  write_file(labels, labels_bytes(Bytes{3, 0, 9, 1}));
  expect_error({images, labels, "3 images", "4 labels"});
}

TEST_F(MnistRead, MissingFile) {
  images = dir.file("no-such-images");
  expect_error({images, "cannot open", "no such file"});
}

TEST(MnistLoad, MissingDirectorySaysHowToFetch) {
  syncache::testing::TempDir dir;
  const std::string missing = dir.file("absent");
  try {
    (void)load(missing);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(missing), std::string::npos) << msg;
    EXPECT_NE(msg.find("scripts/fetch-mnist"), std::string::npos) << msg;
  }
}

// Sets an environment variable for one scope and restores it afterwards.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~EnvVar() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(MnistLoad, DefaultDirectory) {
  {
    EnvVar env("SYNCACHE_MNIST_DIR", "/somewhere/mnist");
    EXPECT_EQ(default_dir(), "/somewhere/mnist");
  }
  {
    EnvVar env("SYNCACHE_MNIST_DIR", "other/mnist");  // as given: from the working folder
    EXPECT_EQ(default_dir(), "other/mnist");
  }
  EnvVar none("SYNCACHE_MNIST_DIR", nullptr);
  {
    EnvVar xdg("XDG_CACHE_HOME", "/var/cache-x");
    EXPECT_EQ(default_dir(), "/var/cache-x/syncache/mnist");
  }
  {
    EnvVar xdg("XDG_CACHE_HOME", nullptr);
    EnvVar home("HOME", "/home/someone");
    EXPECT_EQ(default_dir(), "/home/someone/.cache/syncache/mnist");
    EnvVar relative("XDG_CACHE_HOME", "relative");  // not absolute: ignored, as XDG says
    EXPECT_EQ(default_dir(), "/home/someone/.cache/syncache/mnist");
  }
}

TEST(MnistLoad, MissingDataNamesTheThreePlaces) {
  EnvVar none("SYNCACHE_MNIST_DIR", nullptr);
  EnvVar xdg("XDG_CACHE_HOME", "/nonexistent-cache");
  try {
    load();
    FAIL() << "no MNIST in /nonexistent-cache";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("data"), std::string::npos) << m;
    EXPECT_NE(m.find("$SYNCACHE_MNIST_DIR"), std::string::npos) << m;
    EXPECT_NE(m.find("/nonexistent-cache/syncache/mnist"), std::string::npos) << m;
  }
}

// ------------------------------------------------------------------ the real data set

class MnistData : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      data_ = load();
    } catch (const std::exception& e) {
      error_ = e.what();
      if (error_.find("scripts/bootstrap") == std::string::npos) {
        error_ += " (run scripts/bootstrap to fetch the MNIST files into " + default_dir() + ")";
      }
    }
  }
  static void TearDownTestSuite() { data_.reset(); }
  void SetUp() override { ASSERT_TRUE(data_.has_value()) << error_; }

  static std::optional<Mnist> data_;
  static std::string error_;
};
std::optional<Mnist> MnistData::data_;
std::string MnistData::error_;

TEST_F(MnistData, CountsAndShape) {
  for (const Dataset* d : {&data_->train, &data_->test}) {
    EXPECT_EQ(d->rows, 28u);
    EXPECT_EQ(d->cols, 28u);
    EXPECT_EQ(d->images.size(), d->count * 784);
    EXPECT_EQ(d->labels.size(), d->count);
  }
  EXPECT_EQ(data_->train.count, 60000u);
  EXPECT_EQ(data_->test.count, 10000u);
}

std::array<int, 10> histogram(const Dataset& d) {
  std::array<int, 10> h{};
  for (const auto l : d.labels) ++h.at(l);
  return h;
}

TEST_F(MnistData, LabelHistograms) {
  EXPECT_EQ(histogram(data_->test),
            (std::array<int, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
  EXPECT_EQ(histogram(data_->train),
            (std::array<int, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
}

TEST_F(MnistData, FirstLabels) {
  EXPECT_EQ(data_->train.labels.front(), 5);
  EXPECT_EQ(data_->test.labels.front(), 7);
}

// The training pixel bytes sum to 1567298545 (over 60000 x 784 pixels), so the mean of
// pixel / 255 is 0.130660476..., the familiar 0.1307. Each float pixel is within 2^-24
// (relative) of p / 255 and the double sum adds < 1e-8 more, so 1e-7 is a safe bound on
// the exact value; the byte sum itself is recovered exactly.
TEST_F(MnistData, TrainingMeanPixel) {
  const Dataset& d = data_->train;
  double sum = 0.0;
  std::uint64_t bytes = 0;
  for (const float x : d.images) {
    sum += x;
    bytes += static_cast<std::uint64_t>(std::lround(x * 255.0f));
  }
  EXPECT_EQ(bytes, 1567298545u);
  const double mean = sum / static_cast<double>(d.images.size());
  EXPECT_NEAR(mean, 1567298545.0 / (47040000.0 * 255.0), 1e-7);
  EXPECT_NEAR(mean, 0.1307, 1e-4);
}

TEST_F(MnistData, LimitsKeepThePrefix) {
  const Mnist small = load("", 100, 50);
  ASSERT_EQ(small.train.count, 100u);
  ASSERT_EQ(small.test.count, 50u);
  EXPECT_TRUE(std::equal(small.train.images.begin(), small.train.images.end(),
                         data_->train.images.begin()));
  EXPECT_TRUE(
      std::equal(small.test.labels.begin(), small.test.labels.end(), data_->test.labels.begin()));
  EXPECT_THROW((void)load("", 60001, 0), std::invalid_argument);
}

}  // namespace
}  // namespace syncache::mnist
