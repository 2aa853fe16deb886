#include "syncache/core/cached_column_store.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "syncache/io/params.hpp"

namespace syncache {

CachedColumnStore::CachedColumnStore(std::size_t rows, std::size_t cols, CacheParams params)
    : rows_(rows),
      cols_(cols),
      hp_(padded_rows(rows)),
      params_(params),
      l_(cols * padded_rows(rows), 0.0),
      s_(cols * padded_rows(rows), 0.0),
      row_sum_(rows, 0.0),
      row_sum_kind_(rows, Sum::current),
      bound_(rows, 0.0),
      changed_max_(rows, 0.0),
      adds_(rows, 0),
      scale_(padded_rows(rows), 0.0),
      lanes_(kernels::kLanes * padded_rows(rows), 0.0),
      row_values_(3 * padded_rows(rows), 0.0),
      keep_(padded_rows(rows), 0),
      nonzero_(padded_rows(rows), 0) {
  params_.validate();
  if (params_.rule == Rule::classic) {
    throw ParamError("rule", "a cached store needs a caching rule (" +
                                 rule_names(kPerceptron | kMlp | kSpiking) + " but classic)");
  }
  if (params_.b != 0.0) {
    throw std::invalid_argument(
        "CachedColumnStore: no change cost b (got b = " + std::to_string(params_.b) + ")");
  }
  factor_ = params_.decay_factor();
  rule_ = &rule_info(params_.rule);
  eager_sums_ = params_.c > 0.0 || rule_->statistic == RuleStatistic::sum;
}

void CachedColumnStore::fields(const kernels::ColumnInput& x, double* out) {
  // dot2: (sum_i l_i x_i) + g (sum_i s~_i x_i), each sum combined from its lanes.
  double* b = row_values_.data();
  kernels::column_dot2(l_.data(), s_.data(), hp_, x, out, b);
  for (std::size_t r = 0; r < hp_; ++r) out[r] = out[r] + g_ * b[r];
}

void CachedColumnStore::after_change(std::size_t row, double changed_max) {
  // The row is surely not empty when a changed entry is not 0. When every changed entry is
  // 0 (some may have just become 0), the row may be: it is looked at when emptiness matters.
  zeroed_ = zeroed_ || (changed_max == 0.0 && bound_[row] != 0.0);
  bound_[row] = std::max(bound_[row], changed_max);
  changed_max_[row] = adds_[row] == 0 ? changed_max : std::max(changed_max_[row], changed_max);
  ++adds_[row];
}

void CachedColumnStore::add(const double* scale, const char* row_mask,
                            const kernels::ColumnInput& x) {
  // CachedStore::add per row: a = scale / g. A row left out changes by 0 * x_k = +-0
  // (finite x), i.e. not at all, and is not counted as changed.
  for (std::size_t r = 0; r < hp_; ++r) {
    const bool on = r < rows_ && (row_mask == nullptr || row_mask[r] != 0);
    scale_[r] = on ? scale[r] / g_ : 0.0;
  }
  double* delta = row_values_.data();
  double* sums = row_values_.data() + hp_;
  double* changed = row_values_.data() + 2 * hp_;
  kernels::column_add(s_.data(), hp_, scale_.data(), x, delta, changed);
  // add_and_stats' sum_abs, every step when the rule or the maintenance cost reads it
  if (eager_sums_) {
    kernels::column_abs_sums(s_.data(), hp_, cols_, sums, nullptr, nullptr, lanes_.data());
  }
  for (std::size_t r = 0; r < rows_; ++r) {
    if (row_mask != nullptr && row_mask[r] == 0) continue;
    energy_.classic += g_ * delta[r];  // in row order, as one add() per row
    if (eager_sums_) {
      row_sum_[r] = sums[r];
      row_sum_kind_[r] = Sum::current;
    } else {
      row_sum_kind_[r] = Sum::lanes;
    }
    after_change(r, changed[r]);
  }
}

void CachedColumnStore::add(std::size_t row, const double* dw) {
  // CachedStore::add(row, dw): the change vector through the same vector kernel (s, the
  // row's sum and max |s| and sum |Delta| in the kernel's lane order), on a copy of the row.
  std::vector<double> s(cols_);
  for (std::size_t i = 0; i < cols_; ++i) s[i] = s_[i * hp_ + row];
  const kernels::RowStats st = kernels::add_and_stats(s.data(), 1.0 / g_, dw, cols_);
  for (std::size_t i = 0; i < cols_; ++i) s_[i * hp_ + row] = s[i];
  energy_.classic += g_ * st.sum_abs_delta;  // ChangeCost{} (alpha = 1)
  row_sum_[row] = st.sum_abs;
  row_sum_kind_[row] = Sum::current;
  after_change(row, st.max_abs);
}

void CachedColumnStore::add_at(std::size_t row, const std::size_t* cols, const double* dw,
                               std::size_t n) {
  // CachedStore::add_at: the listed entries in order, then (here when read) the row's
  // sequential sum; the max from the changed entries.
  const ChangeCost cost;
  const double inv_g = 1.0 / g_;
  double mx = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    double& s = s_[cols[k] * hp_ + row];
    energy_.classic += cost(dw[k]);
    s += dw[k] * inv_g;
    mx = std::max(mx, std::fabs(s));
  }
  row_sum_kind_[row] = Sum::sequential;
  after_change(row, mx);
}

void CachedColumnStore::current_sums(double* sums) const {
  bool lanes = false, seq = false;
  for (std::size_t r = 0; r < rows_; ++r) {
    lanes = lanes || row_sum_kind_[r] == Sum::lanes;
    seq = seq || row_sum_kind_[r] == Sum::sequential;
  }
  AlignedDoubles combined, sequential, scratch;
  if (lanes || seq) {
    if (lanes) {
      combined.resize(hp_);
      scratch.resize(kernels::kLanes * hp_);
    }
    if (seq) sequential.resize(hp_);
    kernels::column_abs_sums(s_.data(), hp_, cols_, lanes ? combined.data() : nullptr,
                             seq ? sequential.data() : nullptr, nullptr, scratch.data());
  }
  for (std::size_t r = 0; r < rows_; ++r) {
    switch (row_sum_kind_[r]) {
      case Sum::current:
        sums[r] = row_sum_[r];
        break;
      case Sum::lanes:
        sums[r] = combined[r];
        break;
      case Sum::sequential:
        sums[r] = sequential[r];
        break;
    }
  }
}

void CachedColumnStore::settle_sums() {
  bool stale = false;
  for (std::size_t r = 0; r < rows_ && !stale; ++r) stale = row_sum_kind_[r] != Sum::current;
  if (!stale) return;
  current_sums(row_sum_.data());
  std::fill(row_sum_kind_.begin(), row_sum_kind_.end(), Sum::current);
}

double CachedColumnStore::transient_abs_sum() const {
  std::vector<double> sums(rows_);
  current_sums(sums.data());
  double sum = 0.0;
  for (double v : sums) sum += v;
  return g_ * sum;
}

CachedStore::State CachedColumnStore::state() const {
  CachedStore::State st;
  st.l.resize(rows_ * cols_);
  st.s.resize(rows_ * cols_);
  st.row_sum.resize(rows_);
  st.row_max.assign(rows_, 0.0);
  for (std::size_t r = 0; r < rows_; ++r) {
    for (std::size_t c = 0; c < cols_; ++c) {
      st.l[r * cols_ + c] = l_[c * hp_ + r];
      st.s[r * cols_ + c] = s_[c * hp_ + r];
      // CachedStore's row max is max |s~| (in any order, for finite values).
      st.row_max[r] = std::max(st.row_max[r], std::fabs(s_[c * hp_ + r]));
    }
  }
  current_sums(st.row_sum.data());
  st.gain = g_;
  st.energy = energy_;
  st.events = events_;
  return st;
}

void CachedColumnStore::charge_maintenance() {
  if (params_.c > 0.0) {
    settle_sums();
    double sum = 0.0;
    for (double v : row_sum_) sum += v;
    energy_.maintenance += params_.c * (g_ * sum);
  }
}

bool CachedColumnStore::exceeds_max(std::size_t row) {
  // CachedStore: g max |s~_row| > theta. Changed by one add since the last check: the
  // unchanged entries are at most the bound U of that check, with g U <= theta then and g
  // no larger now, so only the changed entries can exceed (see the header).
  if (adds_[row] == 1) return g_ * changed_max_[row] > params_.theta;
  double mx = 0.0;
  for (std::size_t i = 0; i < cols_; ++i) mx = std::max(mx, std::fabs(s_[i * hp_ + row]));
  bound_[row] = mx;
  return g_ * mx > params_.theta;
}

void CachedColumnStore::consolidate_rows(const std::vector<std::int64_t>& keep) {
  // CachedStore::consolidate_row (kernels::consolidate) of the kept rows, in row order.
  double* sums = row_values_.data();
  kernels::column_consolidate(l_.data(), s_.data(), hp_, cols_, g_, keep.data(), sums,
                              nonzero_.data());
  for (std::size_t r = 0; r < rows_; ++r) {
    if (keep[r] == 0) continue;
    energy_.consolidation += sums[r];
    events_ += nonzero_[r];
    row_sum_[r] = 0.0;
    row_sum_kind_[r] = Sum::current;
    bound_[r] = 0.0;
    changed_max_[r] = 0.0;
    adds_[r] = 0;  // an empty row cannot exceed theta: no need to check it
  }
}

void CachedColumnStore::consolidate_synapses(std::size_t row) {
  // CachedStore::apply_rule's synapse scope on one row: each |s_i| > theta moves into l_i,
  // then refresh_row_stats (its sequential sum and the max, exact).
  const ChangeCost cost;
  double sum = 0.0, mx = 0.0;
  for (std::size_t i = 0; i < cols_; ++i) {
    const std::size_t k = i * hp_ + row;
    if (g_ * std::fabs(s_[k]) > params_.theta) {
      const double v = g_ * s_[k];
      if (v != 0.0) {
        l_[k] += v;
        energy_.consolidation += cost(v);
        ++events_;
      }
      s_[k] = 0.0;
    }
    const double a = std::fabs(s_[k]);
    sum += a;
    mx = std::max(mx, a);
  }
  row_sum_[row] = sum;
  row_sum_kind_[row] = Sum::current;
  bound_[row] = mx;
}

void CachedColumnStore::consolidate_all() {
  std::fill(keep_.begin(), keep_.end(), 0);
  std::fill_n(keep_.begin(), rows_, std::int64_t{-1});
  consolidate_rows(keep_);
  reset_gain_if_empty();
}

void CachedColumnStore::apply_rule() {
  const double theta = params_.theta;
  const RuleInfo& rule = *rule_;
  const bool sum = rule.statistic == RuleStatistic::sum;
  if (sum) settle_sums();
  switch (rule.scope) {
    case RuleScope::synapse:
      for (std::size_t r = 0; r < rows_; ++r) {
        if (adds_[r] > 0 && exceeds_max(r)) consolidate_synapses(r);
      }
      break;
    case RuleScope::row: {
      bool any = false;
      for (std::size_t r = 0; r < rows_; ++r) {
        const bool go = adds_[r] > 0 && (sum ? g_ * row_sum_[r] > theta : exceeds_max(r));
        keep_[r] = go ? -1 : 0;
        any = any || go;
      }
      if (any) consolidate_rows(keep_);
      break;
    }
    case RuleScope::layer: {
      bool any = false;
      double total = 0.0;
      for (std::size_t r = 0; r < rows_ && !any; ++r) {
        if (sum) {
          total += row_sum_[r];
          any = g_ * total > theta;
        } else {
          any = adds_[r] > 0 && exceeds_max(r);
        }
      }
      if (any) consolidate_all();
      break;
    }
    case RuleScope::none:
      break;  // rejected by the constructor
  }
  std::fill(adds_.begin(), adds_.end(), 0);
  reset_gain_if_empty();
}

void CachedColumnStore::renormalise() {
  // CachedStore::renormalise, with the stale sums first made what CachedStore holds.
  settle_sums();
  const double g = g_;
  for (double& v : s_) v *= g;
  for (double& v : row_sum_) v *= g;
  for (double& v : bound_) v *= g;  // still a bound: rounding is monotone
  for (double& v : changed_max_) v *= g;
  g_ = 1.0;
  zeroed_ = true;  // an entry may have underflowed to 0
}

bool CachedColumnStore::reset_gain_if_empty() {
  // Empty when every bound U is 0. A row whose entries went back to exactly 0 keeps U > 0:
  // after that happened, a scan makes every U the row's max.
  const auto all_zero = [this] {
    return std::all_of(bound_.begin(), bound_.end(), [](double u) { return u == 0.0; });
  };
  if (all_zero()) {
    g_ = 1.0;
    return true;
  }
  if (!zeroed_) return false;
  double* mx = row_values_.data();
  kernels::column_abs_sums(s_.data(), hp_, cols_, nullptr, nullptr, mx, nullptr);
  for (std::size_t r = 0; r < rows_; ++r) bound_[r] = mx[r];
  zeroed_ = false;
  if (!all_zero()) return false;
  g_ = 1.0;
  return true;
}

void CachedColumnStore::decay() {
  if (factor_ == 1.0) return;
  if (reset_gain_if_empty()) return;  // nothing transient: nothing to decay
  g_ *= factor_;
  if (g_ < 1e-20) renormalise();
}

}  // namespace syncache
