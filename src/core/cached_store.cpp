#include "syncache/core/cached_store.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "syncache/io/params.hpp"

namespace syncache {

void CacheParams::validate() const {
  if (rule == Rule::classic) return;
  for (const ParamSpec& spec : caching_parameters(decay)) {
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
          .or_inf()
          .in_unit("time steps"),
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
          .or_inf()
          .in_unit("time steps"),
      linear[2],
      linear[3],
  };
  return decay == DecayForm::linear ? std::span<const ParamSpec>(linear)
                                    : std::span<const ParamSpec>(exponential);
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
  if (params_.b > 0.0) step_delta_.assign(rows * cols, 0.0);
}

bool CachedStore::enable_float_mirrors() {
  if (cols_ % 64 != 0) return false;
  // The margin covers the rounding of the double sums sum|l| and sum|s~| themselves.
  mirror_error_factor_ = kernels::dot2f_error_factor(cols_) * (1.0 + 1e-9);
  // Recursive double summation of n terms: gamma_n with u = 2^-53, generously.
  total_error_factor_ = 2.0 * static_cast<double>(cols_ + 2) * 0x1p-53;
  l_sum_.assign(rows_, 0.0);
  s_sum_.assign(rows_, 0.0);
  lf_.assign(rows_ * cols_, 0.0f);
  sf_.assign(rows_ * cols_, 0.0f);
  l_abs_.assign(rows_, 0.0);
  for (std::size_t r = 0; r < rows_; ++r) {
    sync_mirror_l(r);
    sync_mirror_s(r);
  }
  return true;
}

void CachedStore::sync_mirror_s(std::size_t row) {
  s_sum_[row] = kernels::mirror(&s_[row * cols_], &sf_[row * cols_], cols_).sum;
}

void CachedStore::sync_mirror_l(std::size_t row) {
  const kernels::MirrorSums m = kernels::mirror(&l_[row * cols_], &lf_[row * cols_], cols_);
  l_abs_[row] = m.abs_sum;
  l_sum_[row] = m.sum;
}

bool CachedStore::attach_sign_bits(const std::vector<Input<std::int8_t>>& inputs) {
  if (lf_.empty() || inputs.empty()) return false;
  const std::size_t words = cols_ / 64;
  std::vector<std::uint64_t> bits(inputs.size() * words, 0);
  std::size_t prefix = 0;
  for (std::size_t p = 0; p < inputs.size(); ++p) {
    const Input<std::int8_t>& in = inputs[p];
    if (in.n != cols_ || in.index != static_cast<std::int64_t>(p)) return false;
    std::size_t k = 0;
    if (!kernels::pack_signs(in.x, cols_, &bits[p * words], &k)) return false;
    if (p == 0) prefix = k;
    if (k != prefix) return false;  // the padding must be the same for every input
  }
  sign_words_ = words;
  sign_bits_ = std::move(bits);
  return true;
}

void CachedStore::renormalise() {
  const bool mirrored = !sf_.empty();
  if (proj_) {
    for (double& v : proj_->B) v *= g_;
  }
  for (double& v : s_) v *= g_;
  for (double& v : row_sum_) v *= g_;
  for (double& v : row_max_) v *= g_;
  g_ = 1.0;
  if (mirrored) {
    for (std::size_t r = 0; r < rows_; ++r) sync_mirror_s(r);
  }
}

bool CachedStore::reset_gain_if_empty() {
  for (double m : row_max_) {
    if (m != 0.0) return false;
  }
  g_ = 1.0;  // s~ = 0 everywhere: the mirrors, projections and row statistics stay valid
  return true;
}

double CachedStore::transient_abs_sum() const {
  double sum = 0.0;
  for (double v : row_sum_) sum += v;
  return g_ * sum;
}

void CachedStore::add(std::size_t row, const double* dw) {
  if (proj_) proj_->dirty = true;
  double* s = &s_[row * cols_];
  const double inv_g = 1.0 / g_;
  double sum = 0.0, mx = 0.0;
  for (std::size_t i = 0; i < cols_; ++i) {
    energy_.classic += cost_(dw[i]);
    s[i] += dw[i] * inv_g;
    const double a = std::fabs(s[i]);
    sum += a;
    mx = std::max(mx, a);
  }
  row_sum_[row] = sum;
  row_max_[row] = mx;
  if (params_.b > 0.0) {
    double* d = &step_delta_[row * cols_];
    for (std::size_t i = 0; i < cols_; ++i) d[i] += dw[i];
  }
  if (!sf_.empty()) sync_mirror_s(row);
  touched_[row] = 1;
}

void CachedStore::add_at(std::size_t row, const std::size_t* cols, const double* dw,
                         std::size_t n) {
  if (proj_) proj_->dirty = true;
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
  if (!sf_.empty()) sync_mirror_s(row);
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
    if (!sf_.empty()) sync_mirror_s(row);
    if (proj_) proj_->dirty = true;
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
  if (proj_ && !proj_->dirty) {  // l += g s~ and s~ = 0, projected: A += g B, B = 0
    for (std::size_t p = 0; p < proj_->A.size(); ++p) {
      proj_->A[p] += g_ * proj_->B[p];
      proj_->B[p] = 0.0;
    }
  }
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
  if (!lf_.empty()) {
    sync_mirror_l(row);
    // s~ is now zero on the whole row.
    std::fill_n(sf_.begin() + static_cast<std::ptrdiff_t>(row * cols_), cols_, 0.0f);
    s_sum_[row] = 0.0;
  }
}

void CachedStore::consolidate_all() {
  for (std::size_t r = 0; r < rows_; ++r) consolidate_row(r);
  if (!step_delta_.empty()) std::fill(step_delta_.begin(), step_delta_.end(), 0.0);
  reset_gain_if_empty();
}

bool CachedStore::attach_inputs(const std::vector<Input<std::int8_t>>& inputs,
                                std::size_t max_inputs) {
  const bool whole_row =
      params_.rule == Rule::neuron || params_.rule == Rule::sum || params_.rule == Rule::layer;
  if (rows_ != 1 || !whole_row || inputs.empty() || inputs.size() > max_inputs) return false;
  for (std::size_t p = 0; p < inputs.size(); ++p) {
    // Overlaps are kept in 16 bits: every input must have entries in {-1, 0, 1}, length
    // cols() < 2^15, and know its own index.
    if (inputs[p].n != cols_ || cols_ >= 32768 || inputs[p].index != static_cast<std::int64_t>(p)) {
      return false;
    }
    for (std::size_t i = 0; i < cols_; ++i) {
      if (inputs[p].x[i] < -1 || inputs[p].x[i] > 1) return false;
    }
  }
  auto proj = std::make_unique<Projections>();
  const std::size_t P = inputs.size();
  proj->inputs = inputs;
  proj->overlap.assign(P * P, 0);
  for (std::size_t p = 0; p < P; ++p) {
    for (std::size_t q = p; q < P; ++q) {
      const auto c = static_cast<std::int16_t>(kernels::dot(inputs[p].x, inputs[q].x, cols_));
      proj->overlap[p * P + q] = c;
      proj->overlap[q * P + p] = c;
    }
  }
  proj->A.assign(P, 0.0);
  proj->B.assign(P, 0.0);
  proj_ = std::move(proj);
  refresh_projections();
  return true;
}

void CachedStore::refresh_projections() {
  for (std::size_t p = 0; p < proj_->inputs.size(); ++p) {
    const Input<std::int8_t>& in = proj_->inputs[p];
    proj_->A[p] = kernels::dot(l_.data(), in.x, cols_);
    proj_->B[p] = kernels::dot(s_.data(), in.x, cols_);
  }
  proj_->dirty = false;
  proj_->updates_since_refresh = 0;
}

double CachedStore::projected_field(std::int64_t p) {
  if (proj_->dirty) refresh_projections();
  const auto k = static_cast<std::size_t>(p);
  return proj_->A[k] + g_ * proj_->B[k];
}

void CachedStore::project_update(std::int64_t q, double a) {
  if (proj_->dirty) return;  // recomputed before the next projected field
  if (q < 0 || ++proj_->updates_since_refresh > proj_->inputs.size()) {
    proj_->dirty = true;
    return;
  }
  const std::size_t P = proj_->inputs.size();
  kernels::axpy(proj_->B.data(), a, &proj_->overlap[static_cast<std::size_t>(q) * P], P);
}

void CachedStore::apply_rule() {
  const double theta = params_.theta;
  const RuleInfo& rule = rule_info(params_.rule);
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
        if (proj_) proj_->dirty = true;
        if (!lf_.empty()) {
          sync_mirror_l(r);
          sync_mirror_s(r);
        }
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
