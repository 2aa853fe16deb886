// Cached weight store: w = l + s, with persistent weights l and transient weights s
// that decay, cost maintenance, and are consolidated into l by a threshold rule
// (docs/model.md section 2; paper Figures 2-4). Any learning rule and any number of rows
// (postsynaptic neurons) can use it; the network decides the order of the primitives
// decay(), charge_maintenance(), add(), apply_rule() within its time step.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "syncache/core/energy.hpp"
#include "syncache/core/input.hpp"
#include "syncache/core/kernels.hpp"
#include "syncache/core/rule.hpp"
#include "syncache/io/params.hpp"

namespace syncache {

enum class DecayForm {
  linear,       // s <- s (1 - 1/tau) per step (the perceptron code)
  exponential,  // s <- s exp(-1/tau) per step (the MNIST code)
};

struct CacheParams {
  Rule rule = Rule::neuron;
  double theta = 0.0;                                    // consolidation threshold
  double tau = std::numeric_limits<double>::infinity();  // decay time constant, steps
  double c = 0.0;                                        // maintenance cost per |s| per step
  double b = 0.0;                                        // cost per |Delta s| left transient
  DecayForm decay = DecayForm::linear;

  // Throws ParamError keyed by the offending parameter (caching_parameters' ranges).
  void validate() const;
  // Per-step multiplicative decay factor of s (1 for tau = inf).
  double decay_factor() const;
};

// The descriptions of theta, tau, c and b (io/params.hpp) for a decay form: the ranges
// validate() checks; the models' parameter tables take them over with their units.
std::span<const ParamSpec> caching_parameters(DecayForm decay);

class CachedStore {
 public:
  using Weight = double;

  CachedStore(std::size_t rows, std::size_t cols, CacheParams params, ChangeCost cost);

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  const CacheParams& params() const { return params_; }

  // s <- s * decay_factor, applied lazily through one common gain g (s = g * s~). Now and
  // then g is folded into the stored values, so that s~ = s / g stays far below the float
  // range (3.4e38) of the mirrors; the same schedule with or without mirrors keeps the
  // double state, and hence every result, identical either way.
  void decay() {
    if (factor_ == 1.0) return;
    if (reset_gain_if_empty()) return;  // nothing transient: nothing to decay
    g_ *= factor_;
    if (g_ < 1e-20) renormalise();
  }
  // M_trans += c sum_i |s_i| (accrued once per step).
  void charge_maintenance() {
    if (params_.c > 0.0) energy_.maintenance += params_.c * transient_abs_sum();
  }
  // The perceptron's order: decay, then maintenance, before the output is computed.
  void begin_step() {
    decay();
    charge_maintenance();
  }

  // Field of a row: sum_i (l_i + s_i) x_i.
  template <class X>
  double field(std::size_t row, const Input<X>& in) {
    if constexpr (std::is_same_v<X, std::int8_t>) {
      if (proj_ && in.index >= 0) return projected_field(in.index);
    }
    return kernels::dot2(&l_[row * cols_], &s_[row * cols_], g_, in.x, in.n);
  }

  // A value with exactly the sign (and zero-ness) of field(row, in), computed faster:
  // from the O(1) pattern projections when attached, else from float mirrors of l and s~
  // when enabled and the float result is farther from zero than its rigorous error bound
  // (kernels::dot2f_error_factor), else from field(). The perceptron only needs the sign.
  template <class X>
  double decision_field(std::size_t row, const Input<X>& in) {
    if constexpr (std::is_same_v<X, std::int8_t>) {
      if (proj_ && in.index >= 0) return projected_field(in.index);
      if (!lf_.empty() && in.n == cols_) {
        double a = 0.0, b = 0.0, factor = mirror_error_factor_;
        if (!sign_bits_.empty() && in.index >= 0 &&
            kernels::masked_sums(&lf_[row * cols_], &sf_[row * cols_],
                                 &sign_bits_[static_cast<std::size_t>(in.index) * sign_words_],
                                 cols_, &a, &b)) {
          // x_i = +-1: sum l_i x_i = 2 sum_{x_i=+1} l_i - sum_i l_i (doubled float error,
          // plus the rounding of the double totals).
          a = 2.0 * a - l_sum_[row];
          b = 2.0 * b - s_sum_[row];
          factor = 2.0 * mirror_error_factor_ + total_error_factor_;
        } else {
          kernels::dot2f(&lf_[row * cols_], &sf_[row * cols_], in.x, in.n, &a, &b);
        }
        const double h = a + g_ * b;
        // Relative float error, plus an absolute term for values in the subnormal float
        // range, where conversion errs by up to 2^-150 (sums of subnormals are exact).
        const double bound = factor * (l_abs_[row] + g_ * row_sum_[row]) +
                             4.0 * static_cast<double>(cols_) * 0x1p-149 * (1.0 + g_);
        if (std::fabs(h) > bound && std::isfinite(a) && std::isfinite(b)) return h;
        ++exact_fallbacks_;
      }
    }
    return kernels::dot2(&l_[row * cols_], &s_[row * cols_], g_, in.x, in.n);
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
  // of +-1/0 inputs again and again (the perceptron): the store keeps A_p = l.x_p and
  // B_p = s~.x_p for every input p and updates them through the overlap matrix
  // C_pq = x_p.x_q, so that a field costs O(1) instead of O(N); an update costs O(N + P)
  // and a consolidation O(P). Every P updates (and after any change the projections do
  // not follow) they are recomputed directly, which bounds rounding drift; with integer
  // values (tau = inf, integer eta) they are exact. Returns false (and changes nothing)
  // when the store does not qualify or P is larger than max_inputs.
  bool attach_inputs(const std::vector<Input<std::int8_t>>& inputs, std::size_t max_inputs = 8192);
  bool has_projections() const { return proj_ != nullptr; }

  // s_row += scale * x (one fused pass that also refreshes the row's sum and max |s|).
  template <class X>
  void add(std::size_t row, double scale, const Input<X>& in) {
    double* s = &s_[row * cols_];
    const double a = scale / g_;
    kernels::RowStats st;
    if constexpr (std::is_same_v<X, std::int8_t>) {
      if (lf_.empty()) {
        st = kernels::add_and_stats(s, a, in.x, in.n);
      } else {
        st = kernels::add_and_stats_mirror(s, &sf_[row * cols_], a, in.x, in.n);
        s_sum_[row] = st.sum;
      }
    } else {
      st = kernels::add_and_stats(s, a, in.x, in.n);
      if (!lf_.empty()) sync_mirror_s(row);
    }
    if (proj_) {
      if constexpr (std::is_same_v<X, std::int8_t>) {
        project_update(in.index, a);
      } else {
        proj_->dirty = true;
      }
    }
    row_sum_[row] = st.sum_abs;
    row_max_[row] = st.max_abs;
    if constexpr (std::is_same_v<X, std::int8_t>) {
      energy_.classic += in.change_cost(scale, cost_);  // exact from the +-1 counts
    } else {
      energy_.classic += cost_.is_absolute() ? g_ * st.sum_abs_delta : in.change_cost(scale, cost_);
    }
    if (params_.b > 0.0) {
      double* d = &step_delta_[row * cols_];
      for (std::size_t i = 0; i < in.n; ++i) d[i] += scale * in.x[i];
    }
    touched_[row] = 1;
  }
  // s_row += dw (a general change vector of length cols()).
  void add(std::size_t row, const double* dw);
  // s_row[cols[k]] += dw[k] for k < n (distinct columns): the same result as add() with a
  // dense vector that is zero elsewhere, at the cost of n entries plus one pass for the
  // row's statistics (the spiking neuron changes 2 of its 100 synapses per step).
  void add_at(std::size_t row, const std::size_t* cols, const double* dw, std::size_t n);
  // After a change that was clipped to keep w = l + s inside [lo, hi] (lo <= l <= hi):
  // the rounding of l + s can land a unit in the last place outside; this moves s by the
  // fewest such units back inside (no energy is charged for them). Returns the number of
  // units moved.
  int nudge_into(std::size_t row, std::size_t col, double lo, double hi);

  // Checks the consolidation rule on the rows changed since the last call, consolidates,
  // and charges b |Delta s| for the changes that stayed transient.
  void apply_rule();

  // add() then apply_rule(): the perceptron's update.
  template <class X>
  void update(std::size_t row, double scale, const Input<X>& in) {
    add(row, scale, in);
    apply_rule();
  }

  // End of learning: every remaining transient weight consolidates (counted in M_cons).
  void finish() { consolidate_all(); }
  void consolidate_all();
  void consolidate_row(std::size_t row);

  double persistent(std::size_t row, std::size_t col) const { return l_[row * cols_ + col]; }
  double transient(std::size_t row, std::size_t col) const { return g_ * s_[row * cols_ + col]; }
  double weight(std::size_t row, std::size_t col) const {
    return persistent(row, col) + transient(row, col);
  }
  // sum over all rows and synapses of |s_i|
  double transient_abs_sum() const;
  const EnergyTally& energy() const { return energy_; }
  const ChangeCost& cost() const { return cost_; }
  // Number of synapse consolidations (one synapse consolidating once counts 1).
  std::int64_t consolidation_events() const { return events_; }

 private:
  struct Projections {
    std::vector<Input<std::int8_t>> inputs;
    std::vector<std::int16_t> overlap;  // P x P, C_pq = x_p . x_q
    std::vector<double> A, B;           // A_p = l . x_p, B_p = s~ . x_p
    bool dirty = false;
    std::size_t updates_since_refresh = 0;
  };
  double projected_field(std::int64_t p);
  void sync_mirror_s(std::size_t row);  // sf <- float(s~) on one row
  void sync_mirror_l(std::size_t row);  // lf <- float(l), and sum |l| of the row
  void project_update(std::int64_t q, double a);
  void refresh_projections();

  void consolidate_synapse(std::size_t index);
  void refresh_row_stats(std::size_t row);
  void renormalise();
  // When no transient weight is left (every s~ = 0), the gain returns to 1 without
  // changing any value (returns true; false while some s~ != 0). Then the next change is
  // stored exactly (s~ = Delta instead of Delta / g, whose product with g may miss Delta
  // by an ulp and move l off the exact sums of the updates: with theta below the update
  // size and decay, a field that is exactly zero in the model would otherwise come out
  // +-1e-16 and change the learning).
  bool reset_gain_if_empty();

  std::size_t rows_, cols_;
  CacheParams params_;
  ChangeCost cost_;
  double factor_;
  double g_ = 1.0;                  // common gain: s_i = g_ * s_[i]
  std::vector<double> l_, s_;       // persistent weights, scaled transient weights
  std::vector<double> row_sum_;     // sum_i |s~_i| per row
  std::vector<double> row_max_;     // max_i |s~_i| per row
  std::vector<double> step_delta_;  // Delta s of the current step (only when b > 0)
  std::vector<char> touched_;       // rows changed since the last apply_rule()
  EnergyTally energy_;
  std::int64_t events_ = 0;
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

}  // namespace syncache
