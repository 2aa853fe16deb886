#include "syncache/models/patterns.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <pcg_random.hpp>
#include <stdexcept>

#include "syncache/io/format.hpp"
#include "syncache/io/limits.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache {

namespace {

// The +-1 values of the 8 bits of a byte, least significant first (bit 1 -> +1).
constexpr std::array<std::array<std::int8_t, 8>, 256> kSigns = [] {
  std::array<std::array<std::int8_t, 8>, 256> t{};
  for (std::size_t b = 0; b < 256; ++b) {
    for (std::size_t j = 0; j < 8; ++j) t[b][j] = (b >> j) & 1u ? 1 : -1;
  }
  return t;
}();

}  // namespace

PatternSet<std::int8_t> random_patterns(std::size_t N, std::size_t P, std::uint64_t seed) {
  if (N == 0) throw ParamError("N", "must be a positive integer (got 0)");
  if (P == 0) throw ParamError("P", "must be a positive integer (got 0)");
  PatternSet<std::int8_t> set(N, P);
  // The stream's bits as +-1, unpacked one 32-bit output at a time into `word` (least
  // significant bit first); each pattern takes the next N + 1 (its inputs, then its
  // target), so the bits are those of the documented bit-by-bit stream.
  pcg32 rng(seed, 0);
  std::array<std::int8_t, 32> word{};
  std::size_t used = word.size();  // values of `word` already taken
  for (std::size_t p = 0; p < P; ++p) {
    std::int8_t* x = set.row(p);  // N + 1 values: the inputs, then (for now) the target
    for (std::size_t i = 0; i <= N;) {
      if (used == word.size()) {
        const std::uint32_t w = rng();
        for (std::size_t k = 0; k < 4; ++k) {
          std::memcpy(&word[8 * k], kSigns[(w >> (8 * k)) & 0xffu].data(), 8);
        }
        used = 0;
      }
      const std::size_t n = std::min(word.size() - used, N + 1 - i);
      std::memcpy(x + i, &word[used], n);
      used += n;
      i += n;
    }
    set.set_target(p, x[N]);
    x[N] = 1;  // bias input
  }
  set.finalise();
  return set;
}

PatternSet<double> zero_mean(const PatternSet<std::int8_t>& in) {
  const std::size_t N = in.N(), P = in.P();
  double sum = 0.0;
  for (std::size_t p = 0; p < P; ++p)
    for (std::size_t i = 0; i < N; ++i) sum += in.row(p)[i];
  const double mean = sum / (static_cast<double>(N) * static_cast<double>(P));
  PatternSet<double> out(N, P);
  for (std::size_t p = 0; p < P; ++p) {
    for (std::size_t i = 0; i < N; ++i) out.row(p)[i] = in.row(p)[i] - mean;
    out.row(p)[N] = 1.0;
    out.set_target(p, in.target(p));
  }
  out.finalise();
  return out;
}

namespace {

[[noreturn]] void file_error(const std::string& path, std::size_t line, const std::string& what) {
  throw ParamError("patterns", "" + shown(path, 200) + ":" + std::to_string(line) + ": " + what);
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    out.push_back(
        line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

PatternSet<double> read_patterns_csv(const std::string& path) {
  std::ifstream in(path);
  if (path.empty()) throw ParamError("patterns", "empty file name");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw ParamError("patterns", "'" + shown(path, 200) + "' is not a file");
  if (!in) throw ParamError("patterns", "cannot open '" + shown(path, 200) + "'");
  // Every value of at least 2 bytes ("1,") becomes one double, twice (rows, then the set).
  require_memory("patterns", 8.0 * static_cast<double>(st.st_size) + 1e6);
  return read_patterns_csv(in, path);
}

PatternSet<double> read_patterns_csv(std::istream& in, const std::string& path) {
  std::vector<std::vector<double>> rows;
  std::string line;
  std::size_t lineno = 0, width = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1) line = std::string(without_bom(line));
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    const auto fields = split_fields(line);
    if (fields.size() < 2) {
      file_error(path, lineno, "need at least one input value and the desired output");
    }
    if (width == 0) width = fields.size();
    if (fields.size() != width) {
      file_error(path, lineno,
                 "has " + std::to_string(fields.size()) + " values, earlier lines have " +
                     std::to_string(width) + " (ragged file)");
    }
    std::vector<double> row(width);
    for (std::size_t k = 0; k < width; ++k) {
      const auto v = read_real(fields[k]);
      if (!v) {
        file_error(path, lineno,
                   "value " + std::to_string(k + 1) + " '" + shown(fields[k]) +
                       "' is not a finite number");
      }
      row[k] = *v;
    }
    if (row.back() != 1.0 && row.back() != -1.0) {
      file_error(path, lineno,
                 "desired output must be +1 or -1 (got '" + shown(fields.back()) + "')");
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw ParamError("patterns", "" + shown(path, 200) + ": no patterns found");
  const std::size_t N = width - 1, P = rows.size();
  PatternSet<double> set(N, P);
  for (std::size_t p = 0; p < P; ++p) {
    for (std::size_t i = 0; i < N; ++i) set.row(p)[i] = rows[p][i];
    set.row(p)[N] = 1.0;  // bias input
    set.set_target(p, rows[p][N] > 0 ? 1 : -1);
  }
  set.finalise();
  return set;
}

PatternSet<double> patterns_from_values(const double* x, std::size_t P, std::size_t N,
                                        const double* targets) {
  if (P == 0 || N == 0) throw ParamError("patterns", "need at least one pattern of one input");
  PatternSet<double> set(N, P);
  for (std::size_t p = 0; p < P; ++p) {
    for (std::size_t i = 0; i < N; ++i) {
      const double v = x[p * N + i];
      if (!std::isfinite(v)) {
        throw ParamError("patterns", "value [" + std::to_string(p) + ", " + std::to_string(i) +
                                         "] is not a finite number");
      }
      set.row(p)[i] = v;
    }
    set.row(p)[N] = 1.0;  // bias input
    if (targets[p] != 1.0 && targets[p] != -1.0) {
      throw ParamError("targets", "value [" + std::to_string(p) + "] must be +1 or -1 (got " +
                                      round_trip(targets[p]) + ")");
    }
    set.set_target(p, targets[p] > 0 ? 1 : -1);
  }
  set.finalise();
  return set;
}

}  // namespace syncache
