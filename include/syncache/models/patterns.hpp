// Pattern sets for the perceptron: N inputs plus an always-on bias input, and a desired
// output d = +-1 per pattern (docs/model.md section 2).
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "syncache/core/input.hpp"

namespace syncache {

/// P patterns of N inputs plus a bias input, and a desired output +-1 for each.
template <class X>
class PatternSet {
 public:
  PatternSet() = default;
  // Rows of N + 1 values (bias last) stored with a stride padded to 64 entries; the
  // padding is zero, so it neither contributes to fields nor changes any weight.
  PatternSet(std::size_t N, std::size_t P)
      : N_(N),
        P_(P),
        stride_((N + 1 + 63) / 64 * 64),
        x_(P * stride_, X{0}),
        d_(P, 1),
        n_pos_(P, 0),
        n_neg_(P, 0) {}

  std::size_t N() const { return N_; }  // inputs, without the bias
  std::size_t P() const { return P_; }
  std::size_t stride() const { return stride_; }
  X* row(std::size_t p) { return &x_[p * stride_]; }
  const X* row(std::size_t p) const { return &x_[p * stride_]; }
  int target(std::size_t p) const { return d_[p]; }
  void set_target(std::size_t p, int d) { d_[p] = static_cast<std::int8_t>(d); }

  // Recount the +1 / -1 entries of every row (call after filling the rows).
  void finalise() {
    for (std::size_t p = 0; p < P_; ++p) {
      std::int64_t pos = 0, neg = 0;
      for (std::size_t i = 0; i < stride_; ++i) {
        pos += row(p)[i] == X{1};
        neg += row(p)[i] == X{-1};
      }
      n_pos_[p] = pos;
      n_neg_[p] = neg;
    }
  }

  Input<X> input(std::size_t p) const {
    return Input<X>{row(p), stride_, n_pos_[p], n_neg_[p], static_cast<std::int64_t>(p)};
  }

 private:
  std::size_t N_ = 0, P_ = 0, stride_ = 0;
  std::vector<X> x_;
  std::vector<std::int8_t> d_;
  std::vector<std::int64_t> n_pos_, n_neg_;
};

// P random patterns of N inputs +-1 (probability 1/2 each) and targets +-1, from the seed.
// Stream: pcg32 seeded with (seed, stream 0); for each pattern in turn its N input bits,
// then its target bit, consumed least significant bit first (bit 1 -> +1, bit 0 -> -1).
PatternSet<std::int8_t> random_patterns(std::size_t N, std::size_t P, std::uint64_t seed);

// The authors' variant: subtract the overall mean of the N x P input matrix (not the
// bias) from every input.
PatternSet<double> zero_mean(const PatternSet<std::int8_t>& patterns);

// CSV: one pattern per line, N input values then the desired output (+-1). Blank lines
// and lines starting with '#' are skipped. Throws std::invalid_argument naming the file,
// the line and what is wrong (ragged rows, non-numeric values, targets other than +-1).
PatternSet<double> read_patterns_csv(const std::string& path);
// Patterns given as arrays (the Python package): x holds P rows of N values (row-major),
// targets P values +-1; the result is what the same values in a CSV file give. Throws
// ParamError keyed "patterns" (no rows, a value not finite) or "targets" (not +-1).
PatternSet<double> patterns_from_values(const double* x, std::size_t P, std::size_t N,
                                        const double* targets);
// The same from a stream; `path` names it in errors (the fuzz harness reads from memory).
PatternSet<double> read_patterns_csv(std::istream& in, const std::string& path);

}  // namespace syncache
