// The perceptron's fast decision paths. A perceptron needs only the sign of its field
// (docs/model.md section 2); for a CachedStore on +-1/0 patterns, DecisionFields finds it
// faster than the store's exact field() from data it keeps beside the store: pattern
// projections (O(1) fields) and float mirrors of l and s~ (half the memory traffic, with a
// rigorous error bound and the exact field as fallback). It reads the store through its
// read interface (rows of l and s~, the gain, sum |s~| per row) and follows every change
// as the store's listener, so the store itself holds the model only.
//
// DecisionPaths<Store, X> chooses, in this one place, what train_perceptron uses with a
// store and inputs of type X: DecisionFields for a CachedStore on int8 inputs, else
// ExactFields (the store's own field()).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "syncache/core/cached_store.hpp"
#include "syncache/core/input.hpp"
#include "syncache/core/kernels.hpp"
#include "syncache/models/patterns.hpp"

namespace syncache {

/// The perceptron's fast decision paths beside a CachedStore on +-1/0 patterns, following the
/// store's changes as its listener.
class DecisionFields final : private CachedStore::Listener {
 public:
  // Follows `store` (as its listener) until destroyed; the store must outlive it.
  explicit DecisionFields(CachedStore& store);
  ~DecisionFields();
  DecisionFields(const DecisionFields&) = delete;
  DecisionFields& operator=(const DecisionFields&) = delete;

  // Field of a row: from the O(1) pattern projections when attached (and the input knows
  // its index), else the store's field().
  double field(std::size_t row, const Input<std::int8_t>& in) {
    if (proj_ && in.index >= 0) return projected_field(in.index);
    return store_.field(row, in);
  }

  // A value with exactly the sign (and zero-ness) of field(row, in), computed faster:
  // from the O(1) pattern projections when attached, else from float mirrors of l and s~
  // when enabled and the float result is farther from zero than its rigorous error bound
  // (kernels::dot2f_error_factor), else from the store's field(). The perceptron only
  // needs the sign.
  double decision_field(std::size_t row, const Input<std::int8_t>& in) {
    if (proj_ && in.index >= 0) return projected_field(in.index);
    if (!lf_.empty() && in.n == cols_) {
      const double g = store_.gain();
      double a = 0.0, b = 0.0, factor = mirror_error_factor_;
      if (!sign_bits_.empty() && in.index >= 0 &&
          kernels::masked_sums(&lf_[row * cols_], &sf_[row * cols_],
                               &sign_bits_[static_cast<std::size_t>(in.index) * sign_words_], cols_,
                               &a, &b)) {
        // x_i = +-1: sum l_i x_i = 2 sum_{x_i=+1} l_i - sum_i l_i (doubled float error,
        // plus the rounding of the double totals).
        a = 2.0 * a - l_sum_[row];
        b = 2.0 * b - s_sum_[row];
        factor = 2.0 * mirror_error_factor_ + total_error_factor_;
      } else {
        kernels::dot2f(&lf_[row * cols_], &sf_[row * cols_], in.x, in.n, &a, &b);
      }
      const double h = a + g * b;
      // Relative float error, plus an absolute term for values in the subnormal float
      // range, where conversion errs by up to 2^-150 (sums of subnormals are exact).
      const double bound = factor * (l_abs_[row] + g * store_.scaled_transient_abs_sum(row)) +
                           4.0 * static_cast<double>(cols_) * 0x1p-149 * (1.0 + g);
      if (std::fabs(h) > bound && std::isfinite(a) && std::isfinite(b)) return h;
      ++exact_fallbacks_;
    }
    return store_.field(row, in);
  }

  // Keeps float mirrors of l and s~ for decision_field(). Needs cols() % 64 == 0;
  // returns false (and changes nothing) otherwise.
  bool enable_float_mirrors();
  // With float mirrors enabled: keep each input's signs as bits so that the decision sums
  // use masked adds (x_i = +1 selects l_i). Every input must have entries +-1 on one common
  // prefix and 0 beyond it (the perceptron's patterns with padding); returns false (and
  // changes nothing) otherwise.
  bool attach_sign_bits(const std::vector<Input<std::int8_t>>& inputs);
  std::int64_t exact_fallbacks() const { return exact_fallbacks_; }

  // Pattern projections, for a one-row store with a whole-row rule that sees a fixed set
  // of +-1/0 inputs again and again (the perceptron): keeps A_p = l.x_p and B_p = s~.x_p
  // for every input p and updates them through the overlap matrix C_pq = x_p.x_q, so that
  // a field costs O(1) instead of O(N); an update costs O(N + P) and a consolidation O(P).
  // Every P updates (and after any change the projections do not follow) they are
  // recomputed directly, which bounds rounding drift; with integer values (tau = inf,
  // integer eta) they are exact. Returns false (and changes nothing) when the store does
  // not qualify or P is larger than max_inputs.
  bool attach_inputs(const std::vector<Input<std::int8_t>>& inputs, std::size_t max_inputs = 8192);
  bool has_projections() const { return proj_ != nullptr; }

  // train_perceptron's two steps: float mirrors and sign bits of the patterns from the
  // start, pattern projections from its projection epoch on.
  void use_float_mirrors(const PatternSet<std::int8_t>& patterns);
  void use_projections(const PatternSet<std::int8_t>& patterns);

 private:
  struct Projections {
    std::vector<Input<std::int8_t>> inputs;
    std::vector<std::int16_t> overlap;  // P x P, C_pq = x_p . x_q
    std::vector<double> A, B;           // A_p = l . x_p, B_p = s~ . x_p
    bool dirty = false;
    std::size_t updates_since_refresh = 0;
  };
  double projected_field(std::int64_t p) {
    if (proj_->dirty) refresh_projections();
    const auto k = static_cast<std::size_t>(p);
    return proj_->A[k] + store_.gain() * proj_->B[k];
  }
  void sync_mirror_s(std::size_t row);  // sf <- float(s~) on one row
  void sync_mirror_l(std::size_t row);  // lf <- float(l), and sum |l| of the row
  void project_update(std::int64_t q, double a);
  void refresh_projections();

  // CachedStore::Listener
  float* transient_copy(std::size_t row) override;
  void added(std::size_t row, double a, const Input<std::int8_t>& in, double sum) override;
  void transient_changed(std::size_t row) override;
  void partly_consolidated(std::size_t row) override;
  void consolidated(std::size_t row, double g) override;
  void renormalised(double g) override;

  CachedStore& store_;
  std::size_t rows_, cols_;
  std::unique_ptr<Projections> proj_;
  std::vector<float> lf_, sf_;            // float mirrors of l and s~ (empty unless enabled)
  std::vector<double> l_abs_;             // sum_i |l_i| per row, kept with the mirrors
  double mirror_error_factor_ = 0.0;      // dot2f_error_factor(cols) with a margin for l_abs_
  double total_error_factor_ = 0.0;       // rounding of the double totals l_sum_, s_sum_
  std::vector<double> l_sum_, s_sum_;     // sum_i l_i and sum_i s~_i per row (signed)
  std::vector<std::uint64_t> sign_bits_;  // per input: bit i set iff x_i = +1
  std::size_t sign_words_ = 0;
  std::int64_t exact_fallbacks_ = 0;
};

/// Any other store (and a CachedStore on double inputs): the exact field.
template <class Store>
class ExactFields {
 public:
  explicit ExactFields(Store& store) : store_(store) {}
  template <class X>
  auto decision_field(std::size_t row, const Input<X>& in) {
    return store_.field(row, in);
  }
  template <class X>
  void use_float_mirrors(const PatternSet<X>&) {}
  template <class X>
  void use_projections(const PatternSet<X>&) {}

 private:
  Store& store_;
};

/// Chooses the decision paths train_perceptron uses for a store and pattern type: ExactFields, or
/// DecisionFields for a CachedStore on int8 patterns.
template <class Store, class X>
struct DecisionPaths {
  using type = ExactFields<Store>;
};
template <>
struct DecisionPaths<CachedStore, std::int8_t> {
  using type = DecisionFields;
};

}  // namespace syncache
