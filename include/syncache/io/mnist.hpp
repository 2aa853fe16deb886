// The MNIST data set read from the original IDX files (docs/model.md section 3): 28 x 28
// unsigned-byte images scaled to pixel / 255, and labels 0..9.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace syncache::mnist {

/// One MNIST set: images scaled to pixel / 255, one per row, and their labels.
struct Dataset {
  std::size_t count = 0, rows = 28, cols = 28;
  std::vector<float> images;         // count x (rows * cols), pixel / 255, one image per row
  std::vector<std::uint8_t> labels;  // 0..9

  std::size_t pixels() const { return rows * cols; }
  const float* image(std::size_t i) const { return images.data() + i * pixels(); }
  // Asks the processor to bring image i into the cache (a hint: nothing else changes), so
  // that a loop can fetch the next image while it works on the current one.
  void prefetch(std::size_t i) const {
    const char* p = reinterpret_cast<const char*>(image(i));
    for (std::size_t b = 0; b < pixels() * sizeof(float); b += 64) __builtin_prefetch(p + b);
  }
};

// Reads one images file (magic 0x00000803, dims count x 28 x 28) and one labels file
// (magic 0x00000801, dim count). Throws std::runtime_error naming the file and the problem:
// unreadable, wrong magic, wrong dimensions, truncated, trailing bytes, a label > 9, or
// image and label counts that differ. limit > 0 keeps only the first `limit` samples
// (std::invalid_argument if the files hold fewer).
Dataset read_idx(const std::string& images_path, const std::string& labels_path,
                 std::size_t limit = 0);

/// The MNIST training and test sets.
struct Mnist {
  Dataset train, test;
};

// File names inside an MNIST directory.
inline constexpr const char* kTrainImages = "train-images-idx3-ubyte";
inline constexpr const char* kTrainLabels = "train-labels-idx1-ubyte";
inline constexpr const char* kTestImages = "t10k-images-idx3-ubyte";
inline constexpr const char* kTestLabels = "t10k-labels-idx1-ubyte";

// The per-user cache folder: $XDG_CACHE_HOME/syncache/mnist, else ~/.cache/syncache/mnist
// (scripts/fetch-mnist fills it).
std::string user_cache_dir();

// $SYNCACHE_MNIST_DIR if set (as given: a relative path is taken from the working
// folder), else user_cache_dir(). Nothing refers to the source or build tree.
std::string default_dir();

// Loads the four files from dir (default_dir() if empty); limits as in read_idx. A missing
// folder or file is a std::runtime_error; without dir it names the three places looked in.
Mnist load(const std::string& dir = "", std::size_t train_limit = 0, std::size_t test_limit = 0);

}  // namespace syncache::mnist
