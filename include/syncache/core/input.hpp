// A read-only view of one input vector (a pattern row) handed to a weight store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "syncache/core/energy.hpp"

namespace syncache {

/// For int8 inputs (values in {-1, 0, +1}) the counts of +1 and -1 entries are carried
/// along so that the cost of the change scale * x is computed without a pass over x.
template <class X>
struct Input {
  const X* x = nullptr;
  std::size_t n = 0;
  std::int64_t n_pos = 0;   // int8 only: number of +1 entries
  std::int64_t n_neg = 0;   // int8 only: number of -1 entries
  std::int64_t index = -1;  // position in the pattern set the input came from, or -1

  std::int64_t nonzero() const { return n_pos + n_neg; }

  // sum_i cost(scale * x_i)
  double change_cost(double scale, const ChangeCost& cost) const {
    if constexpr (std::is_same_v<X, std::int8_t>) {
      return static_cast<double>(n_pos) * cost(scale) + static_cast<double>(n_neg) * cost(-scale);
    } else {
      double m = 0.0;
      for (std::size_t i = 0; i < n; ++i) m += cost(scale * x[i]);
      return m;
    }
  }
};

}  // namespace syncache
