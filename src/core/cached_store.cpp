#include "syncache/core/cached_store.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "syncache/io/params.hpp"

namespace syncache {

void CacheParams::validate() const {
  validate(caching_parameters(decay));
}

void CacheParams::validate(std::span<const ParamSpec> described) const {
  if (rule == Rule::classic) return;
  for (const ParamSpec& spec : described) {
    if (spec.name == "theta") spec.check(theta);
    if (spec.name == "tau") spec.check(tau);
    if (spec.name == "c") spec.check(c);
    if (spec.name == "b") spec.check(b);
  }
}

std::span<const ParamSpec> caching_parameters(DecayForm decay) {
  // theta is in the weights' unit and tau in the model's time steps: the models' own
  // tables restate them with their units (presentations, samples, ms; nS).
  static const ParamSpec linear[] = {
      ParamSpec("theta", ParamKind::real,
                "consolidation threshold (required unless the rule is classic)")
          .in(0.0, kUnbounded)
          .or_inf(),
      ParamSpec("tau", ParamKind::real,
                "decay time constant of the transient weights: s <- s (1 - 1/tau) per step")
          .with_default("inf")
          .in(1.0, kUnbounded)
          .or_inf(),
      ParamSpec("c", ParamKind::real, "maintenance cost per unit of transient weight per step")
          .with_default("0")
          .in(0.0, kUnbounded, false, true),
      ParamSpec("b", ParamKind::real, "cost per unit change of a transient weight")
          .with_default("0")
          .in(0.0, kUnbounded, false, true),
  };
  static const ParamSpec exponential[] = {
      linear[0],
      ParamSpec("tau", ParamKind::real,
                "decay time constant of the transient weights: s <- s exp(-1/tau) per step")
          .with_default("inf")
          .in(0.0, kUnbounded, true)
          .or_inf(),
      linear[2],
      linear[3],
  };
  return decay == DecayForm::linear ? std::span<const ParamSpec>(linear)
                                    : std::span<const ParamSpec>(exponential);
}

std::vector<ParamSpec> caching_parameters(DecayForm decay, const CachingUnits& units) {
  std::vector<ParamSpec> v;
  for (ParamSpec s : caching_parameters(decay)) {
    if (s.name == "theta") s.unit = units.weight_unit;
    if (s.name == "tau") {
      s.unit = units.time_unit;
      s.doc = units.tau_doc;
    }
    if (s.name == "c") s.doc = units.c_doc;
    if (s.name != "b" || units.with_b) v.push_back(s);
  }
  return v;
}

double CacheParams::decay_factor() const {
  if (std::isinf(tau)) return 1.0;
  return decay == DecayForm::linear ? 1.0 - 1.0 / tau : std::exp(-1.0 / tau);
}

CachedStore::CachedStore(std::size_t rows, std::size_t cols, CacheParams params, ChangeCost cost)
    : rows_(rows),
      cols_(cols),
      params_(params),
      cost_(cost),
      l_(rows * cols, 0.0),
      s_(rows * cols, 0.0),
      row_sum_(rows, 0.0),
      row_max_(rows, 0.0),
      touched_(rows, 0) {
  params_.validate();
  if (params_.rule == Rule::classic) {
    throw ParamError("rule", "a cached store needs a caching rule (" +
                                 rule_names(kPerceptron | kMlp | kSpiking) + " but classic)");
  }
  factor_ = params_.decay_factor();
  rule_ = &rule_info(params_.rule);
  if (params_.b > 0.0) step_delta_.assign(rows * cols, 0.0);
}

CachedStore::CachedStore(std::size_t rows, std::size_t cols, CacheParams params, ChangeCost cost,
                         State state)
    : CachedStore(rows, cols, params, cost) {
  if (state.l.size() != rows * cols || state.s.size() != rows * cols ||
      state.row_sum.size() != rows || state.row_max.size() != rows) {
    throw std::invalid_argument("CachedStore: a state of another shape");
  }
  l_ = std::move(state.l);
  s_ = std::move(state.s);
  row_sum_ = std::move(state.row_sum);
  row_max_ = std::move(state.row_max);
  g_ = state.gain;
  energy_ = state.energy;
  events_ = state.events;
}

void CachedStore::set_listener(Listener* listener) {
  if (listener != nullptr && listener_.p != nullptr && listener_.p != listener) {
    throw std::logic_error("CachedStore::set_listener: the store has a listener already");
  }
  listener_.p = listener;
}

void CachedStore::renormalise() {
  const double g = g_;
  for (double& v : s_) v *= g;
  for (double& v : row_sum_) v *= g;
  for (double& v : row_max_) v *= g;
  g_ = 1.0;
  if (listener_.p) listener_.p->renormalised(g);
}

bool CachedStore::reset_gain_if_empty() {
  for (double m : row_max_) {
    if (m != 0.0) return false;
  }
  g_ = 1.0;  // s~ = 0 everywhere: the row statistics (and a listener's data) stay valid
  return true;
}

double CachedStore::transient_abs_sum() const {
  double sum = 0.0;
  for (double v : row_sum_) sum += v;
  return g_ * sum;
}

void CachedStore::add(std::size_t row, const double* dw) {
  // The change vector as the input of a unit-scale change: the same vector kernel (s, the
  // row's statistics and sum |Delta| in one pass) as every other change of a row.
  add(row, 1.0, Input<double>{dw, cols_});
}

void CachedStore::set_persistent(const double* values) {
  std::copy(values, values + rows_ * cols_, l_.begin());
  if (listener_.p) {
    for (std::size_t r = 0; r < rows_; ++r) listener_.p->partly_consolidated(r);
  }
}

void CachedStore::add_at(std::size_t row, const std::size_t* cols, const double* dw,
                         std::size_t n) {
  double* s = &s_[row * cols_];
  const double inv_g = 1.0 / g_;
  // The dense add() sums the cost over every column in order; the zero columns add
  // exactly 0, so summing the listed columns in ascending order gives the same total.
  for (std::size_t k = 0; k < n; ++k) {
    energy_.classic += cost_(dw[k]);
    s[cols[k]] += dw[k] * inv_g;
  }
  if (params_.b > 0.0) {
    double* d = &step_delta_[row * cols_];
    for (std::size_t k = 0; k < n; ++k) d[cols[k]] += dw[k];
  }
  refresh_row_stats(row);
  if (listener_.p) listener_.p->transient_changed(row);
  touched_[row] = 1;
}

int CachedStore::nudge_into(std::size_t row, std::size_t col, double lo, double hi) {
  const std::size_t k = row * cols_ + col;
  int moved = 0;
  // l + g s~ is monotone in s~: move s~ by the missing amount (at least one unit of s~)
  // until the weight is inside; one or two moves suffice for rounding-sized excursions,
  // and the bound stops a misuse (a weight far outside) from looping for ever.
  for (double w = weight(row, col); (w > hi || w < lo) && moved < 64; w = weight(row, col)) {
    const double missing = ((w > hi ? hi : lo) - w) / g_;
    double next = s_[k] + missing;
    if (next == s_[k]) {
      next = std::nextafter(s_[k], missing < 0.0 ? -std::numeric_limits<double>::infinity()
                                                 : std::numeric_limits<double>::infinity());
    }
    s_[k] = next;
    ++moved;
  }
  if (moved > 0) {
    if (weight(row, col) > hi || weight(row, col) < lo) {
      throw std::logic_error("CachedStore::nudge_into: the weight is not within rounding of [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    refresh_row_stats(row);
    if (listener_.p) listener_.p->transient_changed(row);
  }
  return moved;
}

void CachedStore::consolidate_synapse(std::size_t index) {
  const double v = g_ * s_[index];
  if (v != 0.0) {
    l_[index] += v;                     // Delta l = s
    energy_.consolidation += cost_(v);  // |Delta l|^alpha
    ++events_;
  }
  s_[index] = 0.0;
  if (!step_delta_.empty()) step_delta_[index] = 0.0;  // consolidated: no change cost
}

void CachedStore::refresh_row_stats(std::size_t row) {
  const double* s = &s_[row * cols_];
  double sum = 0.0, mx = 0.0;
  for (std::size_t i = 0; i < cols_; ++i) {
    const double a = std::fabs(s[i]);
    sum += a;
    mx = std::max(mx, a);
  }
  row_sum_[row] = sum;
  row_max_[row] = mx;
}

void CachedStore::consolidate_row(std::size_t row) {
  if (cost_.is_absolute()) {  // one vector pass: M_cons += sum_i |s_i|
    const kernels::Consolidated c =
        kernels::consolidate(&l_[row * cols_], &s_[row * cols_], g_, cols_);
    energy_.consolidation += c.sum_abs;
    events_ += c.nonzero;
    if (!step_delta_.empty()) {
      std::fill_n(step_delta_.begin() + static_cast<std::ptrdiff_t>(row * cols_), cols_, 0.0);
    }
  } else {
    for (std::size_t i = 0; i < cols_; ++i) consolidate_synapse(row * cols_ + i);
  }
  row_sum_[row] = 0.0;
  row_max_[row] = 0.0;
  if (listener_.p) listener_.p->consolidated(row, g_);
}

void CachedStore::consolidate_all() {
  for (std::size_t r = 0; r < rows_; ++r) consolidate_row(r);
  if (!step_delta_.empty()) std::fill(step_delta_.begin(), step_delta_.end(), 0.0);
  reset_gain_if_empty();
}

void CachedStore::apply_rule() {
  const double theta = params_.theta;
  const RuleInfo& rule = *rule_;
  // The rule's statistic of row r (of s~; compared as g * statistic with theta).
  const auto stat = [&](std::size_t r) {
    return rule.statistic == RuleStatistic::sum ? row_sum_[r] : row_max_[r];
  };
  switch (rule.scope) {
    case RuleScope::synapse:
      for (std::size_t r = 0; r < rows_; ++r) {
        if (!touched_[r] || !(g_ * row_max_[r] > theta)) continue;
        for (std::size_t i = 0; i < cols_; ++i) {
          const std::size_t k = r * cols_ + i;
          if (g_ * std::fabs(s_[k]) > theta) consolidate_synapse(k);
        }
        if (listener_.p) listener_.p->partly_consolidated(r);
        refresh_row_stats(r);
      }
      break;
    case RuleScope::row:
      for (std::size_t r = 0; r < rows_; ++r) {
        if (touched_[r] && g_ * stat(r) > theta) consolidate_row(r);
      }
      break;
    case RuleScope::layer: {
      // max: a row untouched since the last check cannot have crossed theta (decay only
      // shrinks |s|), so the touched rows decide; sum: every row counts.
      bool any = false;
      double total = 0.0;
      for (std::size_t r = 0; r < rows_ && !any; ++r) {
        if (rule.statistic == RuleStatistic::sum) {
          total += row_sum_[r];
          any = g_ * total > theta;
        } else {
          any = touched_[r] && g_ * row_max_[r] > theta;
        }
      }
      if (any) consolidate_all();
      break;
    }
    case RuleScope::none:
      break;  // rejected by the constructor
  }
  // Changes that stayed transient pay b |Delta s| (M_change).
  if (!step_delta_.empty()) {
    for (std::size_t r = 0; r < rows_; ++r) {
      if (!touched_[r]) continue;
      double* d = &step_delta_[r * cols_];
      double m = 0.0;
      for (std::size_t i = 0; i < cols_; ++i) {
        m += std::fabs(d[i]);
        d[i] = 0.0;
      }
      energy_.change += params_.b * m;
    }
  }
  std::fill(touched_.begin(), touched_.end(), 0);
  reset_gain_if_empty();
}

}  // namespace syncache
