// Plain weight store: classic learning, every change applied to the persistent weight.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "syncache/core/energy.hpp"
#include "syncache/core/input.hpp"
#include "syncache/core/kernels.hpp"

namespace syncache {

/// W is double (general) or std::int32_t (exact integer weights, for +-1 inputs and an
/// integer learning rate). Rows are postsynaptic neurons, columns synapses.
template <class W>
class PlainStore {
  static_assert(std::is_same_v<W, double> || std::is_same_v<W, std::int32_t>);

 public:
  using Weight = W;
  using Field = std::conditional_t<std::is_same_v<W, double>, double, std::int64_t>;

  PlainStore(std::size_t rows, std::size_t cols, ChangeCost cost)
      : rows_(rows), cols_(cols), w_(rows * cols, W{0}), cost_(cost), sum_abs_bound_(rows, 0) {}

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }

  // Start of a time step: nothing decays and nothing is maintained in a plain store.
  void begin_step() {}

  template <class X>
  Field field(std::size_t row, const Input<X>& in) {
    const W* w = &w_[row * cols_];
    if constexpr (std::is_same_v<W, double>) {
      return kernels::dot(w, in.x, in.n);
    } else {
      static_assert(std::is_same_v<X, std::int8_t>, "integer weights need int8 inputs");
      // The 32-bit kernel is exact while sum_i |w_i| |x_i| < 2^31 (|x_i| <= 1).
      if (sum_abs_bound_[row] < kInt32Safe) return kernels::dot(w, in.x, in.n);
      return kernels::dot_wide(w, in.x, in.n);
    }
  }

  // w_row += scale * x. Every change is a persistent change (classic energy M).
  template <class X>
  void update(std::size_t row, W scale, const Input<X>& in) {
    W* w = &w_[row * cols_];
    kernels::axpy(w, scale, in.x, in.n);
    const double m = in.change_cost(static_cast<double>(scale), cost_);
    energy_.classic += m;
    energy_.consolidation += m;
    if constexpr (std::is_same_v<W, std::int32_t>) {
      sum_abs_bound_[row] += static_cast<std::int64_t>(std::abs(scale)) * in.nonzero();
      if (sum_abs_bound_[row] >= kInt32Safe) {  // tighten the bound with the exact sum
        sum_abs_bound_[row] = kernels::sum_abs(w, cols_);
      }
    }
  }

  // w_row += dw (a general change vector of length cols(); double weights only). Every
  // change costs cost(dw_i), classic and consolidation alike.
  void add(std::size_t row, const double* dw) requires std::is_same_v<W, double> {
    W* w = &w_[row * cols_];
    // Local copies (see CachedStore::add): the same sums, kept out of memory.
    double classic = energy_.classic, consolidation = energy_.consolidation;
    const ChangeCost cost = cost_;
    for (std::size_t i = 0; i < cols_; ++i) {
      const double m = cost(dw[i]);
      classic += m;
      consolidation += m;
      w[i] += dw[i];
    }
    energy_.classic = classic;
    energy_.consolidation = consolidation;
  }
  // Starting weights (rows x cols values, row-major), set without energy.
  void set_weights(const double* values) requires std::is_same_v<W, double> {
    std::copy(values, values + rows_ * cols_, w_.begin());
  }

  // The energy tally to continue from (a checkpoint restored with set_weights()).
  void set_energy(const EnergyTally& energy) { energy_ = energy; }

  // End of learning: nothing is pending in a plain store.
  void finish() {}

  double weight(std::size_t row, std::size_t col) const {
    return static_cast<double>(w_[row * cols_ + col]);
  }
  const EnergyTally& energy() const { return energy_; }
  const ChangeCost& cost() const { return cost_; }
  std::int64_t consolidation_events() const { return 0; }
  // Nothing is transient in a plain store.
  double transient_abs_sum() const { return 0.0; }

 private:
  static constexpr std::int64_t kInt32Safe = std::numeric_limits<std::int32_t>::max();
  std::size_t rows_, cols_;
  std::vector<W> w_;
  ChangeCost cost_;
  EnergyTally energy_;
  std::vector<std::int64_t> sum_abs_bound_;
};

}  // namespace syncache
