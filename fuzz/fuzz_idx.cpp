// libFuzzer harness: the MNIST IDX reader. The input is split into an images file and a
// labels file (the first two bytes, big-endian, give the images file's length, capped at
// the rest); any pair must load or end in a std::runtime_error / std::invalid_argument.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "syncache/io/mnist.hpp"

namespace {
std::string temp_path(const char* what) {
  return "/tmp/syncache-fuzz-idx-" + std::to_string(::getpid()) + "-" + what;
}
void write(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) __builtin_trap();
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t rest = size - 2;
  const std::size_t split = std::min<std::size_t>(rest, std::size_t{data[0]} << 8 | data[1]);
  static const std::string images = temp_path("images"), labels = temp_path("labels");
  write(images, data + 2, split);
  write(labels, data + 2 + split, rest - split);
  try {
    const auto d = syncache::mnist::read_idx(images, labels);
    if (d.count == 0 || d.images.size() != d.count * 784 || d.labels.size() != d.count)
      __builtin_trap();
  } catch (const std::runtime_error&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
