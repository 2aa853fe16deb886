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

/// How transient weights decay per step with time constant tau.
enum class DecayForm {
  linear,       // s <- s (1 - 1/tau) per step (the perceptron code)
  exponential,  // s <- s exp(-1/tau) per step (the MNIST code)
};

/// The parameters of a cached store: rule, threshold, decay, costs and energy exponent.
struct CacheParams {
  Rule rule = Rule::neuron;
  double theta = 0.0;                                    // consolidation threshold
  double tau = std::numeric_limits<double>::infinity();  // decay time constant, steps
  double c = 0.0;                                        // maintenance cost per |s| per step
  double b = 0.0;                                        // cost per |Delta s| left transient
  DecayForm decay = DecayForm::linear;

  // Throws ParamError keyed by the offending parameter (caching_parameters' ranges), or
  // by the ranges of a model's own descriptions of theta, tau, c and b (with its units).
  // Nothing is checked for the rule classic.
  void validate() const;
  void validate(std::span<const ParamSpec> described) const;
  // Per-step multiplicative decay factor of s (1 for tau = inf).
  double decay_factor() const;
};

// Caching parameters with the rule classic (no caching), for a model's defaults.
inline CacheParams no_caching(DecayForm decay) {
  CacheParams p;
  p.rule = Rule::classic;
  p.decay = decay;
  return p;
}

// The descriptions of theta, tau, c and b (io/params.hpp) for a decay form: the ranges
// validate() checks; the models' parameter tables take them over with their units.
std::span<const ParamSpec> caching_parameters(DecayForm decay);

/// The same restated in a model's units (string literals: the descriptions keep views of
/// them): theta in `weight_unit` ("" when dimensionless), tau in `time_unit` with `tau_doc`
/// saying how s decays, c described by `c_doc`; b is left out unless `with_b`.
struct CachingUnits {
  std::string_view weight_unit, time_unit, tau_doc, c_doc;
  bool with_b = false;
};
std::vector<ParamSpec> caching_parameters(DecayForm decay, const CachingUnits& units);

/// The cached weight store: w = l + s, changes into the transient weights s, which decay, cost
/// maintenance and are consolidated into l by the rule (docs/model.md section 2).
class CachedStore {
 public:
  using Weight = double;

  CachedStore(std::size_t rows, std::size_t cols, CacheParams params, ChangeCost cost);

  /// The state a store continues from (CachedColumnStore hands a layer back to this store):
  /// l and s~ row-major, the gain, each row's sum and max |s~| as this store holds them,
  /// the energies and the consolidation events. No row counts as changed.
  struct State {
    std::vector<double> l, s, row_sum, row_max;
    double gain = 1.0;
    EnergyTally energy;
    std::int64_t events = 0;
  };
  CachedStore(std::size_t rows, std::size_t cols, CacheParams params, ChangeCost cost, State state);

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  const CacheParams& params() const { return params_; }

  // s <- s * decay_factor, applied lazily through one common gain g (s = g * s~). Now and
  // then g is folded into the stored values, so that s~ = s / g stays far below the float
  // range (3.4e38) of a listener's float copies (the perceptron's mirrors); the same
  // schedule with or without a listener keeps the double state, and hence every result,
  // identical either way.
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
    return kernels::dot2(&l_[row * cols_], &s_[row * cols_], g_, in.x, in.n);
  }

  // Read access for a reader that keeps data derived from the weights (the perceptron's
  // DecisionFields, models/decision_fields.hpp): the rows of l and of the scaled transient
  // weights s~, with s = gain() * s~, and sum_i |s~_i| of a row. A Listener is told of
  // every change of these values.
  const double* persistent_row(std::size_t row) const { return &l_[row * cols_]; }
  const double* scaled_transient_row(std::size_t row) const { return &s_[row * cols_]; }
  double gain() const { return g_; }
  double scaled_transient_abs_sum(std::size_t row) const { return row_sum_[row]; }

  /// Told of every change of l and s~, after it is made (a change of the gain alone, by
  /// decay or by its return to 1 when nothing is transient, changes neither).
  class Listener {
   public:
    // Where add() with an int8 input should also write float(s~_i) of the row, in the same
    // pass as the change (a float copy of s~ then costs its keeper no pass of its own);
    // nullptr for none.
    virtual float* transient_copy(std::size_t row) = 0;
    // s~_row += a x; `sum` is sum_i s~_i of the row afterwards when transient_copy(row)
    // was written, else 0.
    virtual void added(std::size_t row, double a, const Input<std::int8_t>& in, double sum) = 0;
    // s~ of the row changed otherwise (add() with double inputs or a change vector,
    // add_at(), nudge_into()).
    virtual void transient_changed(std::size_t row) = 0;
    // Some synapses of the row consolidated: l and s~ of the row changed.
    virtual void partly_consolidated(std::size_t row) = 0;
    // The whole row consolidated: l_row += g s~_row, then s~_row = 0.
    virtual void consolidated(std::size_t row, double g) = 0;
    // Every s~ was multiplied by g and the gain returned to 1 (values of s unchanged).
    virtual void renormalised(double g) = 0;

   protected:
    ~Listener() = default;
  };
  // One listener at a time (nullptr removes it); it is not carried over when the store is
  // copied or moved. Throws std::logic_error when another listener is attached.
  void set_listener(Listener* listener);

  // s_row += scale * x (one fused pass that also refreshes the row's sum and max |s|).
  template <class X>
  void add(std::size_t row, double scale, const Input<X>& in) {
    double* s = &s_[row * cols_];
    const double a = scale / g_;
    kernels::RowStats st;
    if constexpr (std::is_same_v<X, std::int8_t>) {
      float* copy = listener_.p ? listener_.p->transient_copy(row) : nullptr;
      if (copy == nullptr) {
        st = kernels::add_and_stats(s, a, in.x, in.n);
      } else {
        st = kernels::add_and_stats_mirror(s, copy, a, in.x, in.n);
      }
      if (listener_.p) listener_.p->added(row, a, in, copy ? st.sum : 0.0);
    } else {
      st = kernels::add_and_stats(s, a, in.x, in.n);
      if (listener_.p) listener_.p->transient_changed(row);
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
  // s_row += dw (a general change vector of length cols()): add(row, 1, dw), the classic
  // energy summed as there (for alpha = 1, g sum |dw / g| in the kernel's lane order).
  void add(std::size_t row, const double* dw);
  // s_row[cols[k]] += dw[k] for k < n (distinct columns): the same result as add() with a
  // dense vector that is zero elsewhere (the classic energy to rounding: summed here in
  // column order), at the cost of n entries plus one pass for the row's statistics (the
  // spiking neuron changes 2 of its 100 synapses per step).
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

  // Starting persistent weights l (rows x cols values, row-major), set without energy:
  // the state learning starts from (a pre-trained network, the Python package's
  // `initial`). The transient weights are not touched.
  void set_persistent(const double* values);

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
  // The state to continue from (a checkpoint; the constructor above takes it back). Taken
  // between steps: changes added since the last apply_rule() are not part of it.
  State state() const { return State{l_, s_, row_sum_, row_max_, g_, energy_, events_}; }
  // Number of synapse consolidations (one synapse consolidating once counts 1).
  std::int64_t consolidation_events() const { return events_; }

 private:
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
  const RuleInfo* rule_ = nullptr;  // the rule's row of kRules, looked up once
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
  struct ListenerSlot {  // a copy or a moved-to store starts without a listener
    Listener* p = nullptr;
    ListenerSlot() = default;
    ListenerSlot(const ListenerSlot&) {}
    ListenerSlot& operator=(const ListenerSlot&) {
      p = nullptr;
      return *this;
    }
  } listener_;
};

}  // namespace syncache
