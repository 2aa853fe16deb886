#include "syncache/io/mnist.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "syncache/io/params.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache::mnist {

namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr std::uint64_t kImagesHeader = 16;         // magic, count, rows, cols
constexpr std::uint64_t kLabelsHeader = 8;          // magic, count
constexpr std::uint32_t kSide = 28;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("MNIST file '" + shown(path, 200) + "': " + what);
}

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
         std::uint32_t{p[3]};
}

struct Closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// An open IDX file, its size and its header fields (big-endian 32-bit words).
struct IdxFile {
  std::string path;
  std::uint64_t size = 0;
  std::unique_ptr<std::FILE, Closer> f;
  std::array<std::uint32_t, 4> header{};

  // Reads n bytes at the current position into out.
  void read(std::uint8_t* out, std::size_t n) {
    if (n > 0 && std::fread(out, 1, n, f.get()) != n) {
      fail(path, std::string("read error: ") +
                     (std::ferror(f.get()) ? std::strerror(errno) : "unexpected end of file"));
    }
  }
};

// Opens path and reads a header of `words` 32-bit words, checking the magic number.
IdxFile open_idx(const std::string& path, std::size_t words, std::uint32_t magic,
                 const char* kind) {
  IdxFile file;
  file.path = path;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) fail(path, "cannot open: no such file");
  if (!fs::is_regular_file(st)) fail(path, "cannot open: not a regular file");
  file.f.reset(std::fopen(path.c_str(), "rb"));
  if (!file.f) fail(path, std::string("cannot open: ") + std::strerror(errno));
  file.size = fs::file_size(path, ec);
  if (ec) fail(path, "cannot read the size: " + ec.message());
  const std::uint64_t header_bytes = 4 * words;
  if (file.size < header_bytes) {
    fail(path, "truncated: the " + std::string(kind) + " header needs " + str(header_bytes) +
                   " bytes, the file has " + str(file.size));
  }
  std::array<std::uint8_t, 16> raw{};
  file.read(raw.data(), header_bytes);
  for (std::size_t i = 0; i < words; ++i) file.header[i] = be32(&raw[4 * i]);
  if (file.header[0] != magic) {
    fail(path, "wrong magic number: expected " + hex(magic) + " (" + kind + "), found " +
                   hex(file.header[0]));
  }
  return file;
}

// The file must hold exactly header + count * item bytes.
void check_size(const IdxFile& file, std::uint64_t header, std::uint64_t count, std::uint64_t item,
                const char* items) {
  const std::uint64_t expected = header + count * item;
  const std::string sizes = "expected " + str(header) + " + " + str(count) + " x " + str(item) +
                            " = " + str(expected) + " bytes, the file has " + str(file.size);
  if (file.size < expected) fail(file.path, "truncated: " + sizes);
  if (file.size > expected) {
    fail(file.path, str(file.size - expected) + " extra trailing bytes after the last " + items +
                        ": " + sizes);
  }
}

Dataset read(const std::string& images_path, const std::string& labels_path, std::size_t limit,
             const char* limit_name) {
  IdxFile img = open_idx(images_path, 4, kImagesMagic, "unsigned-byte images, 3 dimensions");
  const std::uint32_t count = img.header[1], rows = img.header[2], cols = img.header[3];
  if (rows != kSide || cols != kSide) {
    fail(images_path, "wrong dimensions: expected " + str(count) + " x 28 x 28, found " +
                          str(count) + " x " + str(rows) + " x " + str(cols));
  }
  const std::uint64_t pixels = std::uint64_t{rows} * cols;
  check_size(img, kImagesHeader, count, pixels, "image");

  IdxFile lab = open_idx(labels_path, 2, kLabelsMagic, "unsigned-byte labels, 1 dimension");
  const std::uint32_t nlabels = lab.header[1];
  check_size(lab, kLabelsHeader, nlabels, 1, "label");
  if (nlabels != count) {
    throw std::runtime_error("MNIST files disagree: '" + images_path + "' holds " + str(count) +
                             " images but '" + labels_path + "' holds " + str(nlabels) + " labels");
  }
  if (count == 0) fail(images_path, "holds no images (a valid header with 0 items)");
  if (limit > count) {
    throw ParamError(limit_name, "asks for " + str(limit) + " samples but '" + images_path +
                                     "' holds " + str(count) + " (0 = all)");
  }
  const std::size_t n = limit == 0 ? count : limit;

  Dataset d;
  d.count = n;
  d.rows = rows;
  d.cols = cols;

  std::vector<std::uint8_t> all_labels(count);
  lab.read(all_labels.data(), all_labels.size());
  for (std::size_t i = 0; i < count; ++i) {
    if (all_labels[i] > 9) {
      fail(labels_path, "label " + str(all_labels[i]) + " at index " + str(i) + " is outside 0..9");
    }
  }
  d.labels.assign(all_labels.begin(), all_labels.begin() + static_cast<std::ptrdiff_t>(n));

  // Only the images in use are read; float(p) / 255 is the correctly rounded quotient.
  std::vector<std::uint8_t> raw(n * pixels);
  img.read(raw.data(), raw.size());
  std::array<float, 256> scale{};
  for (std::size_t p = 0; p < scale.size(); ++p) scale[p] = static_cast<float>(p) / 255.0f;
  d.images.resize(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) d.images[i] = scale[raw[i]];
  return d;
}

}  // namespace

Dataset read_idx(const std::string& images_path, const std::string& labels_path,
                 std::size_t limit) {
  return read(images_path, labels_path, limit, "limit");
}

std::string user_cache_dir() {
  // The XDG base-directory convention: $XDG_CACHE_HOME, else ~/.cache.
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  fs::path base;
  if (xdg != nullptr && *xdg != '\0' && fs::path(xdg).is_absolute()) {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    base = fs::path(home != nullptr && *home != '\0' ? home : ".") / ".cache";
  }
  return (base / "syncache" / "mnist").string();
}

std::string default_dir() {
  const char* env = std::getenv("SYNCACHE_MNIST_DIR");
  if (env != nullptr && *env != '\0') return env;
  return user_cache_dir();
}

Mnist load(const std::string& dir, std::size_t train_limit, std::size_t test_limit) {
  const fs::path d = dir.empty() ? default_dir() : dir;
  // Where the files were looked for, in order, and how to fill the cache.
  const std::string cache = user_cache_dir();
  const std::string hint =
      dir.empty() ? "; MNIST is looked for in the folder given as data, then in "
                    "$SYNCACHE_MNIST_DIR, then in the user cache '" +
                        cache + "' (scripts/fetch-mnist fills it)"
                  : "; scripts/fetch-mnist fetches the files into the user cache '" + cache + "'";
  std::error_code ec;
  if (!fs::is_directory(d, ec)) {
    throw std::runtime_error("MNIST directory '" + d.string() + "' does not exist" + hint);
  }
  for (const char* name : {kTrainImages, kTrainLabels, kTestImages, kTestLabels}) {
    if (!fs::exists(d / name, ec)) {
      throw std::runtime_error("MNIST file '" + (d / name).string() + "' is missing" + hint);
    }
  }
  Mnist m;
  m.train =
      read((d / kTrainImages).string(), (d / kTrainLabels).string(), train_limit, "train_limit");
  m.test = read((d / kTestImages).string(), (d / kTestLabels).string(), test_limit, "test_limit");
  return m;
}

}  // namespace syncache::mnist
