#include "syncache/models/decision_fields.hpp"

#include <algorithm>

namespace syncache {

DecisionFields::DecisionFields(CachedStore& store)
    : store_(store), rows_(store.rows()), cols_(store.cols()) {
  store_.set_listener(this);
}

DecisionFields::~DecisionFields() {
  store_.set_listener(nullptr);
}

bool DecisionFields::enable_float_mirrors() {
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

void DecisionFields::sync_mirror_s(std::size_t row) {
  s_sum_[row] = kernels::mirror(store_.scaled_transient_row(row), &sf_[row * cols_], cols_).sum;
}

void DecisionFields::sync_mirror_l(std::size_t row) {
  const kernels::MirrorSums m =
      kernels::mirror(store_.persistent_row(row), &lf_[row * cols_], cols_);
  l_abs_[row] = m.abs_sum;
  l_sum_[row] = m.sum;
}

bool DecisionFields::attach_sign_bits(const std::vector<Input<std::int8_t>>& inputs) {
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

bool DecisionFields::attach_inputs(const std::vector<Input<std::int8_t>>& inputs,
                                   std::size_t max_inputs) {
  // Projections follow whole-row consolidations only (rule table: row or layer scope).
  const RuleScope scope = rule_info(store_.params().rule).scope;
  const bool whole_row = scope == RuleScope::row || scope == RuleScope::layer;
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

void DecisionFields::refresh_projections() {
  for (std::size_t p = 0; p < proj_->inputs.size(); ++p) {
    const Input<std::int8_t>& in = proj_->inputs[p];
    proj_->A[p] = kernels::dot(store_.persistent_row(0), in.x, cols_);
    proj_->B[p] = kernels::dot(store_.scaled_transient_row(0), in.x, cols_);
  }
  proj_->dirty = false;
  proj_->updates_since_refresh = 0;
}

void DecisionFields::project_update(std::int64_t q, double a) {
  if (proj_->dirty) return;  // recomputed before the next projected field
  if (q < 0 || ++proj_->updates_since_refresh > proj_->inputs.size()) {
    proj_->dirty = true;
    return;
  }
  const std::size_t P = proj_->inputs.size();
  kernels::axpy(proj_->B.data(), a, &proj_->overlap[static_cast<std::size_t>(q) * P], P);
}

void DecisionFields::use_float_mirrors(const PatternSet<std::int8_t>& patterns) {
  if (!enable_float_mirrors()) return;
  std::vector<Input<std::int8_t>> inputs;
  inputs.reserve(patterns.P());
  for (std::size_t p = 0; p < patterns.P(); ++p) inputs.push_back(patterns.input(p));
  attach_sign_bits(inputs);
}

void DecisionFields::use_projections(const PatternSet<std::int8_t>& patterns) {
  std::vector<Input<std::int8_t>> inputs;
  inputs.reserve(patterns.P());
  for (std::size_t p = 0; p < patterns.P(); ++p) inputs.push_back(patterns.input(p));
  attach_inputs(inputs);
}

// The store's changes, followed.

float* DecisionFields::transient_copy(std::size_t row) {
  return sf_.empty() ? nullptr : &sf_[row * cols_];
}

void DecisionFields::added(std::size_t row, double a, const Input<std::int8_t>& in, double sum) {
  if (!sf_.empty()) s_sum_[row] = sum;  // the store wrote sf in its pass (transient_copy)
  if (proj_) project_update(in.index, a);
}

void DecisionFields::transient_changed(std::size_t row) {
  if (!sf_.empty()) sync_mirror_s(row);
  if (proj_) proj_->dirty = true;
}

void DecisionFields::partly_consolidated(std::size_t row) {
  if (proj_) proj_->dirty = true;
  if (!lf_.empty()) {
    sync_mirror_l(row);
    sync_mirror_s(row);
  }
}

void DecisionFields::consolidated(std::size_t row, double g) {
  if (proj_ && !proj_->dirty) {  // l += g s~ and s~ = 0, projected: A += g B, B = 0
    for (std::size_t p = 0; p < proj_->A.size(); ++p) {
      proj_->A[p] += g * proj_->B[p];
      proj_->B[p] = 0.0;
    }
  }
  if (!lf_.empty()) {
    sync_mirror_l(row);
    // s~ is now zero on the whole row.
    std::fill_n(sf_.begin() + static_cast<std::ptrdiff_t>(row * cols_), cols_, 0.0f);
    s_sum_[row] = 0.0;
  }
}

void DecisionFields::renormalised(double g) {
  if (proj_) {
    for (double& v : proj_->B) v *= g;
  }
  if (!sf_.empty()) {
    for (std::size_t r = 0; r < rows_; ++r) sync_mirror_s(r);
  }
}

}  // namespace syncache
