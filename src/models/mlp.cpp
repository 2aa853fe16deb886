#include "syncache/models/mlp.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <pcg_random.hpp>
#include <stdexcept>
#include <string>
#include <utility>

#include "evaluation.hpp"
#include "syncache/core/kernels.hpp"
#include "syncache/core/normal.hpp"
#include "syncache/io/limits.hpp"
#include "syncache/io/params.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache {

namespace {

std::string num(double v) {
  return std::to_string(v);
}

double logistic(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace

const char* restriction_name(Restriction r) {
  switch (r) {
    case Restriction::synapse:
      return "synapse";
    case Restriction::neuron:
      return "neuron";
    case Restriction::path:
      return "path";
    case Restriction::none:
      break;
  }
  return "none";
}

Restriction parse_restriction(const std::string& name) {
  for (Restriction r :
       {Restriction::none, Restriction::synapse, Restriction::neuron, Restriction::path}) {
    if (name == restriction_name(r)) return r;
  }
  throw ParamError("restrict", "must be none, synapse, neuron or path (got '" + name + "')");
}

const char* keep_rounding_name(KeepRounding r) {
  return r == KeepRounding::authors ? "authors" : "ceil";
}

std::size_t keep_count(double keep, std::size_t n, KeepRounding rounding) {
  if (rounding == KeepRounding::authors) {
    // k = n - round((1 - F)(n - 1)): std::nearbyint rounds half to even in the default
    // rounding mode, as Python's round and numpy.round do.
    const double dropped = std::nearbyint((1.0 - keep) * static_cast<double>(n - 1));
    const auto d = static_cast<std::size_t>(std::clamp(dropped, 0.0, static_cast<double>(n - 1)));
    return n - d;
  }
  const double k = std::ceil(keep * static_cast<double>(n) - 1e-9);
  return std::clamp<std::size_t>(k < 1.0 ? 1 : static_cast<std::size_t>(k), 1, n);
}

void MlpConfig::validate() const {
  if (inputs < 1) throw ParamError("inputs", "must be >= 1 (got 0)");
  if (hidden < 1) throw ParamError("hidden", "must be >= 1 (got 0)");
  if (outputs < 1) throw ParamError("outputs", "must be >= 1 (got 0)");
  // Weights of both layers, each with the persistent and transient parts, a float mirror,
  // the gradient and scratch space: about 64 bytes per synapse (checked before anything
  // is allocated; the double products cannot overflow).
  const double synapses = static_cast<double>(hidden) * (static_cast<double>(inputs) + 1.0) +
                          static_cast<double>(outputs) * (static_cast<double>(hidden) + 1.0);
  require_memory("hidden", 64.0 * synapses);
  if (!(eta > 0.0) || std::isinf(eta)) {
    throw ParamError("eta", "must be finite and > 0 (got " + num(eta) + ")");
  }
  require_rule(cache.rule, kMlp, "the MLP");
  if (!(lazy_margin >= 0.0 && lazy_margin <= 1.0)) {
    throw ParamError("lazy_margin", "must lie in [0, 1] (got " + num(lazy_margin) + ")");
  }
  switch (restriction) {
    case Restriction::none:
    case Restriction::synapse:
    case Restriction::neuron:
    case Restriction::path:
      break;
    default:
      throw ParamError("restrict", "must be none, synapse, neuron or path");
  }
  for (double f : {keep, keep_output.value_or(keep)}) {
    if (!(f > 0.0 && f <= 1.0)) throw ParamError("keep", "must lie in (0, 1] (got " + num(f) + ")");
  }
  if (restriction == Restriction::path && keep_output) {
    throw ParamError("keep", "one fraction with restrict path (its plastic hidden units)");
  }
  if (keep_rounding != KeepRounding::ceil && restriction != Restriction::synapse &&
      restriction != Restriction::neuron) {
    throw ParamError("keep_rounding", "only with restrict synapse or neuron");
  }
  // theta, tau and c are checked for every rule, so that a bad value never passes silently.
  CacheParams p = cache;
  p.rule = Rule::neuron;
  p.decay = DecayForm::exponential;
  p.validate(mlp_caching_parameters());
}

std::span<const ParamSpec> mlp_parameters() {
  static const std::string rules = rule_names(kMlp, "|");
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> v = {
        ParamSpec("hidden", ParamKind::integer, "hidden units H")
            .with_default("100")
            .in(1, 4294967296.0),
        ParamSpec("eta", ParamKind::real, "learning rate")
            .with_default("0.1")
            .in(0.0, kUnbounded, true, true),
        ParamSpec("rule", ParamKind::text, "consolidation rule (classic = no caching)")
            .with_default("classic")
            .one_of(rules),
    };
    // theta, tau and c (the network charges no change cost b).
    for (const ParamSpec& s : mlp_caching_parameters()) v.push_back(s);
    v.push_back(
        ParamSpec("seed", ParamKind::seed, "seed of the initial weights").with_default("1"));
    v.push_back(ParamSpec("backprop", ParamKind::text,
                          "authors: no output-sigmoid derivative in the hidden delta")
                    .with_default("exact")
                    .one_of("exact|authors"));
    v.push_back(ParamSpec("lazy", ParamKind::flag,
                          "lazy learning: change the weights only on misclassified samples "
                          "(docs/beyond.md)")
                    .with_default("false"));
    v.push_back(ParamSpec("lazy_margin", ParamKind::real,
                          "with lazy learning: also learn when the label's output is below X")
                    .with_default("0")
                    .in(0.0, 1.0));
    v.push_back(ParamSpec("restrict", ParamKind::text,
                          "competitive plasticity: which weights may change (docs/beyond.md)")
                    .with_default("none")
                    .one_of("none|synapse|neuron|path"));
    v.push_back(ParamSpec("keep", ParamKind::real,
                          "with a restriction: the fraction F of weights that may change "
                          "(F or F_hidden,F_output)")
                    .in(0.0, 1.0, true)
                    .up_to(2));
    v.push_back(ParamSpec("keep_rounding", ParamKind::text,
                          "with restrict synapse or neuron: k = ceil(F n), or the authors' n - "
                          "round((1 - F)(n - 1)) with ties kept")
                    .with_default("ceil")
                    .one_of("ceil|authors"));
    return v;
  }();
  return specs;
}

MlpConfig mlp_config_from_json(const nlohmann::json& params) {
  if (!params.is_object()) throw std::invalid_argument("parameters must be a table");
  const auto specs = mlp_parameters();
  MlpConfig cfg;
  for (const auto& [key, value] : params.items()) {
    const ParamSpec* spec = find_param(specs, key);
    if (spec == nullptr) {
      throw ParamError(shown(key), "unknown key (allowed: " + param_names(specs) + ")");
    }
    if (key == "hidden") cfg.hidden = static_cast<std::size_t>(spec->read_json_integer(value));
    if (key == "eta") cfg.eta = spec->read_json_real(value);
    if (key == "rule") cfg.cache.rule = parse_rule(spec->read_json_text(value), kMlp);
    if (key == "theta") cfg.cache.theta = spec->read_json_real(value);
    if (key == "tau") cfg.cache.tau = spec->read_json_real(value);
    if (key == "c") cfg.cache.c = spec->read_json_real(value);
    if (key == "seed") cfg.seed = spec->read_json_seed(value);
    if (key == "backprop") cfg.authors_backprop = spec->read_json_text(value) == "authors";
    if (key == "lazy") cfg.lazy = spec->read_json_flag(value);
    if (key == "lazy_margin") cfg.lazy_margin = spec->read_json_real(value);
    if (key == "restrict") cfg.restriction = parse_restriction(spec->read_json_text(value));
    if (key == "keep") {
      if (value.is_array()) {  // [F] or [F_hidden, F_output]
        if (value.empty() || value.size() > 2) {
          throw ParamError("keep", "one or two fractions (hidden, output) (got " +
                                       std::to_string(value.size()) + ")");
        }
        cfg.keep = spec->read_json_real(value[0]);
        if (value.size() == 2) cfg.keep_output = spec->read_json_real(value[1]);
      } else {
        cfg.keep = spec->read_json_real(value);
      }
    }
    if (key == "keep_rounding") {
      cfg.keep_rounding =
          spec->read_json_text(value) == "authors" ? KeepRounding::authors : KeepRounding::ceil;
    }
  }
  if (cfg.cache.rule != Rule::classic && !params.contains("theta")) {
    throw ParamError("theta", "required for rule '" + std::string(rule_name(cfg.cache.rule)) +
                                  "' (" + find_param(specs, "theta")->range_text() + ")");
  }
  if (params.contains("lazy_margin") && !cfg.lazy) {
    throw ParamError("lazy_margin", "only with lazy learning (lazy)");
  }
  if (params.contains("keep_rounding") && cfg.restriction == Restriction::none) {
    throw ParamError("keep_rounding", "only with restrict synapse or neuron");
  }
  if (params.contains("keep") && cfg.restriction == Restriction::none) {
    throw ParamError("keep", "only with a restriction (restrict synapse, neuron or path)");
  }
  if (!params.contains("keep") && cfg.restriction != Restriction::none) {
    throw ParamError("keep", "required with restrict " +
                                 std::string(restriction_name(cfg.restriction)) +
                                 " (a fraction in (0, 1])");
  }
  cfg.validate();
  return cfg;
}

std::span<const ParamSpec> mlp_caching_parameters() {
  static const std::vector<ParamSpec> specs = caching_parameters(
      DecayForm::exponential,
      {.weight_unit = "",
       .time_unit = "samples",
       .tau_doc = "decay time constant of the transient weights: s <- s exp(-1/tau) per sample",
       .c_doc = "maintenance cost per unit of transient weight per sample",
       .with_b = false});
  return specs;
}

double Mlp::Layer::field(std::size_t row, const double* x, const double* zeros) const {
  if (store) return store->field(row, Input<double>{x, cols});
  // The cached store's kernel with s = 0: theta = 0 caching then equals classic bit for bit.
  return kernels::dot2(w.row(static_cast<Eigen::Index>(row)).data(), zeros, 1.0, x, cols);
}

double Mlp::Layer::weight(std::size_t row, std::size_t col) const {
  if (store) return store->weight(row, col);
  if (cstore) return cstore->weight(row, col);
  if (!wt.empty()) return wt[col * padded_rows(rows) + row];
  return w(static_cast<Eigen::Index>(row), static_cast<Eigen::Index>(col));
}

double Mlp::Layer::persistent(std::size_t row, std::size_t col) const {
  if (store) return store->persistent(row, col);
  if (cstore) return cstore->persistent(row, col);
  return weight(row, col);
}

double Mlp::Layer::transient(std::size_t row, std::size_t col) const {
  if (store) return store->transient(row, col);
  if (cstore) return cstore->transient(row, col);
  return 0.0;
}

const EnergyTally* Mlp::Layer::tally() const {
  if (store) return &store->energy();
  if (cstore) return &cstore->energy();
  return nullptr;
}

Mlp::Mlp(const MlpConfig& config) : cfg_(config) {
  cfg_.validate();
  const std::size_t shape[2][2] = {{cfg_.hidden, cfg_.inputs}, {cfg_.outputs, cfg_.hidden}};
  Normal normal(cfg_.seed);
  for (int l = 0; l < 2; ++l) {
    Layer& L = layer_[l];
    L.rows = shape[l][0];
    L.cols = shape[l][1];
    // w(0) ~ N(0, 0.01^2), layer 0 then layer 1, row by row.
    Matrix& w0 = w0_[l];
    w0.resize(static_cast<Eigen::Index>(L.rows), static_cast<Eigen::Index>(L.cols));
    for (Eigen::Index r = 0; r < w0.rows(); ++r) {
      for (Eigen::Index c = 0; c < w0.cols(); ++c) w0(r, c) = 0.01 * normal();
    }
    // The first layer is kept by input unless the dense reference is asked for.
    const bool by_column = l == 0 && !cfg_.dense_reference;
    if (cfg_.cache.rule == Rule::classic) {
      if (by_column) {
        const std::size_t hp = padded_rows(L.rows);
        L.wt.assign(L.cols * hp, 0.0);
        for (std::size_t r = 0; r < L.rows; ++r) {
          for (std::size_t c = 0; c < L.cols; ++c) {
            L.wt[c * hp + r] = w0(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
          }
        }
      } else {
        L.w = w0;
      }
    } else {
      CacheParams p = cfg_.cache;
      p.decay = DecayForm::exponential;
      // The store starts at l = 0: w(0) enters through one consolidation that is not
      // charged (l = 0 + 1 * w(0) exactly).
      const auto load = [&w0, &L](auto& store) {
        for (std::size_t r = 0; r < L.rows; ++r) {
          store.add(r, w0.row(static_cast<Eigen::Index>(r)).data());
        }
        store.consolidate_all();
        L.init_consolidation = store.energy().consolidation;
        L.init_classic = store.energy().classic;
        return store.consolidation_events();
      };
      if (by_column) {
        L.cstore.emplace(L.rows, L.cols, p);
        init_events_[static_cast<std::size_t>(l)] = load(*L.cstore);
      } else {
        L.store.emplace(L.rows, L.cols, p, ChangeCost{});
        init_events_[static_cast<std::size_t>(l)] = load(*L.store);
      }
    }
  }
  all_inputs_.resize(cfg_.inputs);
  for (std::size_t i = 0; i < cfg_.inputs; ++i) all_inputs_[i] = static_cast<std::uint32_t>(i);
  drift_ = w0_[0].cwiseAbs().maxCoeff();
  scale_.assign(padded_rows(cfg_.hidden), 0.0);
  zeros_.assign(std::max(cfg_.inputs, cfg_.hidden), 0.0);
  pass_ = make_pass();
  // The plastic hidden units of the restriction path: round(F H) of them (at least 1),
  // the first draws of a partial Fisher-Yates shuffle of 0 .. H-1 by pcg32 with the seed
  // and its own stream (so the initial weights do not depend on it).
  const std::size_t H = cfg_.hidden;
  std::size_t m = H;
  if (cfg_.restriction == Restriction::path) {
    m = std::clamp<std::size_t>(
        static_cast<std::size_t>(std::llround(cfg_.keep * static_cast<double>(H))), 1, H);
  }
  std::vector<std::size_t> perm(H);
  for (std::size_t j = 0; j < H; ++j) perm[j] = j;
  if (m < H) {
    pcg32 rng(cfg_.seed, 0x70617468u);  // stream "path"
    for (std::size_t j = 0; j < m; ++j) {
      const auto pick = j + rng(static_cast<std::uint32_t>(H - j));
      std::swap(perm[j], perm[pick]);
    }
  }
  path_units_.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(m));
  std::sort(path_units_.begin(), path_units_.end());
  path_mask_.assign(H, 0);
  for (std::size_t j : path_units_) path_mask_[j] = 1;
}

Mlp::Pass Mlp::make_pass() const {
  Pass p;
  p.x.resize(cfg_.inputs);
  p.h.resize(cfg_.hidden);
  p.delta_h.resize(cfg_.hidden);
  p.o.resize(cfg_.outputs);
  p.delta_o.resize(cfg_.outputs);
  p.back.resize(cfg_.outputs);
  if (layer_[0].by_column()) {
    p.nz_index.resize(cfg_.inputs);
    p.nz_value.resize(cfg_.inputs);
    p.lane_index.resize(cfg_.inputs);
    p.lane_value.resize(cfg_.inputs);
    p.z.resize(padded_rows(cfg_.hidden));
  }
  return p;
}

void Mlp::check_label(int label) const {
  if (label < 0 || static_cast<std::size_t>(label) >= cfg_.outputs) {
    throw std::invalid_argument("label: must lie in [0, " + std::to_string(cfg_.outputs) +
                                ") (got " + std::to_string(label) + ")");
  }
}

void Mlp::forward_backward(const float* x, int label, Pass& p) const {
  const std::size_t N = cfg_.inputs, H = cfg_.hidden, K = cfg_.outputs;
  // Forward with w = l + s: h = sigma(W0 x), o = sigma(W1 h).
  const Layer& L0 = layer_[0];
  if (L0.by_column()) {
    // The non-zero inputs in ascending order, and sum_i |x_i| over them: the dense loop's
    // sum, as a skipped x_i = 0 adds +0 to a sum that starts at +0 (not a bit changes).
    const std::size_t m =
        kernels::widen_nonzeros(x, N, p.x.data(), p.nz_index.data(), p.nz_value.data());
    double sum = 0.0;
    bool finite = true;
    for (std::size_t q = 0; q < m; ++q) {
      sum += std::fabs(p.nz_value[q]);
      finite = finite && std::isfinite(p.nz_value[q]);
    }
    p.x_abs_sum = sum;
    p.x_nonzero = static_cast<std::int64_t>(m);
    p.x_finite = finite;
    // The column kernels equal the dense ones for finite inputs (kernels::ColumnInput);
    // an input with inf or NaN takes every input, which is the dense kernels' arithmetic.
    p.in = finite ? kernels::column_input(p.nz_index.data(), p.nz_value.data(), m, N,
                                          p.lane_index.data(), p.lane_value.data())
                  : kernels::column_input(all_inputs_.data(), p.x.data(), N, N, p.lane_index.data(),
                                          p.lane_value.data());
    if (L0.cstore) {
      L0.cstore->fields(p.in, p.z.data());
    } else {
      // Classic: dot2(w, 0, 1, x), whose zero half is +-0 for finite x and NaN otherwise.
      kernels::column_dot(L0.wt.data(), padded_rows(H), p.in, p.z.data());
      if (!finite) {
        for (std::size_t j = 0; j < H; ++j) p.z[j] += std::numeric_limits<double>::quiet_NaN();
      }
    }
    for (std::size_t j = 0; j < H; ++j) p.h[j] = logistic(p.z[j]);
  } else {
    for (std::size_t i = 0; i < N; ++i) p.x[i] = x[i];
    for (std::size_t j = 0; j < H; ++j) p.h[j] = logistic(L0.field(j, p.x.data(), zeros_.data()));
  }
  for (std::size_t k = 0; k < K; ++k)
    p.o[k] = logistic(layer_[1].field(k, p.h.data(), zeros_.data()));
  // E = 1/2 sum_k (t_k - o_k)^2 with t = 0.99 for the label, 0.01 otherwise.
  // delta_o = -dE/dz_o = e o (1 - o), e = t - o.
  p.loss = 0.0;
  for (std::size_t k = 0; k < K; ++k) {
    const double e = (static_cast<std::size_t>(label) == k ? 0.99 : 0.01) - p.o[k];
    p.loss += 0.5 * e * e;
    p.delta_o[k] = e * p.o[k] * (1.0 - p.o[k]);
    p.back[k] = cfg_.authors_backprop ? e : p.delta_o[k];
  }
  // delta_h = (W1^T delta_o) h (1 - h)   (authors: (W1^T e) h (1 - h))
  if (!L0.by_column()) {
    for (std::size_t j = 0; j < H; ++j) {
      double a = 0.0;
      for (std::size_t k = 0; k < K; ++k) a += layer_[1].weight(k, j) * p.back[k];
      p.delta_h[j] = a * p.h[j] * (1.0 - p.h[j]);
    }
    return;
  }
  // The same sums, all j at once: each a_j still adds its terms w_kj back_k for k = 0, 1,
  // ... from 0, with w_kj = l_kj + g s~_kj formed as CachedStore::weight forms it.
  double* a = p.z.data();  // the fields are no longer needed
  std::fill_n(a, H, 0.0);
  const Layer& L1 = layer_[1];
  for (std::size_t k = 0; k < K; ++k) {
    const double b = p.back[k];
    if (L1.store) {
      const double* l = L1.store->persistent_row(k);
      const double* s = L1.store->scaled_transient_row(k);
      const double g = L1.store->gain();
      for (std::size_t j = 0; j < H; ++j) a[j] += (l[j] + g * s[j]) * b;
    } else {
      const double* w = L1.w.row(static_cast<Eigen::Index>(k)).data();
      for (std::size_t j = 0; j < H; ++j) a[j] += w[j] * b;
    }
  }
  for (std::size_t j = 0; j < H; ++j) p.delta_h[j] = a[j] * p.h[j] * (1.0 - p.h[j]);
}

bool Mlp::wants_update(const Pass& p, int label) const {
  // Lazy learning (Pache & van Rossum 2023): learn from errors only; the largest output is
  // the first of equal maxima, as in accuracy().
  std::size_t best = 0;
  for (std::size_t k = 1; k < cfg_.outputs; ++k) {
    if (p.o[k] > p.o[best]) best = k;
  }
  if (best != static_cast<std::size_t>(label)) return true;
  return p.o[static_cast<std::size_t>(label)] < cfg_.lazy_margin;
}

void Mlp::dense_change(Layer& L, const std::vector<double>& delta, const double* v,
                       const char* row_mask) {
  const double eta = cfg_.eta;
  std::int64_t nonzero_in = 0, nonzero_rows = 0;
  if (!L.store) {  // classic: w_row += eta delta x; M += sum |Delta w|
    double sum_abs = 0.0;
    for (std::size_t i = 0; i < L.cols; ++i) {
      sum_abs += std::fabs(v[i]);
      nonzero_in += v[i] != 0.0;
    }
    double scale_abs = 0.0;
    for (std::size_t r = 0; r < L.rows; ++r) {
      if (row_mask != nullptr && row_mask[r] == 0) continue;
      const double a = eta * delta[r];
      kernels::axpy(L.w.row(static_cast<Eigen::Index>(r)).data(), a, v, L.cols);
      scale_abs += std::fabs(a);
      nonzero_rows += a != 0.0;
    }
    classic_energy_ += scale_abs * sum_abs;
    L.classic_abs += scale_abs * sum_abs;
  } else {
    for (std::size_t i = 0; i < L.cols; ++i) nonzero_in += v[i] != 0.0;
    const Input<double> input{v, L.cols};
    for (std::size_t r = 0; r < L.rows; ++r) {
      if (row_mask != nullptr && row_mask[r] == 0) continue;
      const double a = eta * delta[r];
      L.store->add(r, a, input);
      nonzero_rows += a != 0.0;
    }
  }
  L.updates += nonzero_rows * nonzero_in;
}

void Mlp::column_change(Layer& L, const std::vector<double>& delta, const char* row_mask,
                        const Pass& p) {
  // dense_change by column: the same scales eta delta_r, sums and counts (p.x_abs_sum and
  // p.x_nonzero are the dense loops' sum |x_i| and count), only the non-zero inputs'
  // weights touched. A row left out gets scale 0: 0 * x_k = +-0 for finite x, no change.
  const double eta = cfg_.eta;
  std::int64_t nonzero_rows = 0;
  double scale_abs = 0.0;
  for (std::size_t r = 0; r < L.rows; ++r) {
    if (row_mask != nullptr && row_mask[r] == 0) {
      scale_[r] = 0.0;
      continue;
    }
    const double a = eta * delta[r];
    scale_[r] = a;
    scale_abs += std::fabs(a);
    nonzero_rows += a != 0.0;
  }
  if (L.cstore) {
    L.cstore->add(scale_.data(), row_mask, p.in);
  } else {  // classic: w_row += eta delta x; M += sum |Delta w|
    kernels::column_axpy(L.wt.data(), padded_rows(L.rows), scale_.data(), p.in);
    classic_energy_ += scale_abs * p.x_abs_sum;
    L.classic_abs += scale_abs * p.x_abs_sum;
  }
  L.updates += nonzero_rows * p.x_nonzero;
}

void Mlp::check_column_bound(const Pass& p) {
  // The column kernels equal the dense ones while the inputs, the first layer's weights
  // and its scales eta delta_r are finite (kernels::ColumnInput). drift_ bounds the
  // weights: |w_rc(t)| <= max |w(0)| + sum over samples of (sum_r |eta delta_r|)
  // (sum_i |x_i|), as no change eta delta_r x_c (whole, or kept by a restriction) is
  // larger. For the cached store, l and s = g s~ obey the same bound, and s~ = s / g and
  // the scales / g are at most 1e20 times larger (CachedColumnStore keeps g >= 1e-20).
  // Below 1e250 all of it is far from overflow (1.8e308). A sample that would pass the
  // bound (only with an absurd learning rate), or has an input of inf or NaN, hands the
  // layer back to the row-major store in the state it has reached, and the network goes
  // on with the dense reference from there.
  constexpr double kBound = 1e250;
  double scale_abs = 0.0;
  for (double d : p.delta_h) scale_abs += std::fabs(cfg_.eta * d);
  const double grown = drift_ + scale_abs * p.x_abs_sum;
  if (p.x_finite && scale_abs < kBound && grown < kBound) {
    drift_ = grown;
    return;
  }
  to_row_major(layer_[0]);
}

void Mlp::to_row_major(Layer& L) {
  if (L.cstore) {
    CacheParams p = cfg_.cache;
    p.decay = DecayForm::exponential;
    L.store.emplace(L.rows, L.cols, p, ChangeCost{}, L.cstore->state());
    L.cstore.reset();
  } else {
    L.w.resize(static_cast<Eigen::Index>(L.rows), static_cast<Eigen::Index>(L.cols));
    for (std::size_t r = 0; r < L.rows; ++r) {
      for (std::size_t c = 0; c < L.cols; ++c) {
        L.w(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = L.weight(r, c);
      }
    }
    L.wt.clear();
  }
}

std::size_t Mlp::keep_count_of(std::size_t layer, std::size_t n) const {
  return keep_count(cfg_.keep_of(layer), n, cfg_.keep_rounding);
}

void Mlp::synapse_change(std::size_t l, const std::vector<double>& delta, const double* v,
                         const Pass& p) {
  Layer& L = layer_[l];
  // Competitive plasticity per synapse (van Rossum & Pache 2024): of the layer's n_l =
  // rows x cols synapses (this network has no biases), keep the k = ceil(F n_l) changes
  // with the largest |Delta w| = |eta delta_r v_c|; equal sizes are taken in row-major
  // order (lower index first); a zero change is never kept. The rest are discarded. With the
  // authors' rounding, k = n_l - round((1 - F)(n_l - 1)) and every change equal to the k-th
  // largest is kept too.
  const double eta = cfg_.eta;
  const std::size_t k = keep_count_of(l, L.rows * L.cols);
  nz_rows_.clear();
  by_a_.clear();
  by_v_.clear();
  for (std::size_t r = 0; r < L.rows; ++r) {
    const double a = eta * delta[r];
    if (a != 0.0) {
      nz_rows_.push_back(r);
      by_a_.emplace_back(std::fabs(a), r);
    }
  }
  for (std::size_t c = 0; c < L.cols; ++c) {
    if (v[c] != 0.0) by_v_.emplace_back(std::fabs(v[c]), c);
  }
  if (k >= by_a_.size() * by_v_.size()) {  // every non-zero change is kept: the plain change
    if (L.by_column()) {
      column_change(L, delta, nullptr, p);
    } else {
      dense_change(L, delta, v, nullptr);
    }
    return;
  }
  // |Delta w_rc| = |a_r| |v_c| (rounding is symmetric and monotone), so with rows and
  // columns sorted by size the changes >= t of a row form a prefix of the columns, and the
  // prefix shrinks row by row: count_ge(t) costs O(rows + cols).
  auto desc = [](const std::pair<double, std::size_t>& x, const std::pair<double, std::size_t>& y) {
    return x.first > y.first || (x.first == y.first && x.second < y.second);
  };
  std::sort(by_a_.begin(), by_a_.end(), desc);
  std::sort(by_v_.begin(), by_v_.end(), desc);
  auto count_ge = [this](double t) {
    std::size_t total = 0, p = by_v_.size();
    for (const auto& [a, r] : by_a_) {
      while (p > 0 && a * by_v_[p - 1].first < t) --p;
      if (p == 0) break;
      total += p;
    }
    return total;
  };
  // The cut is the k-th largest change: the largest t with count_ge(t) >= k, found by
  // bisection on the bits of t (non-negative doubles are ordered as their bit patterns).
  std::uint64_t lo = 0,
                hi = std::bit_cast<std::uint64_t>(by_a_.front().first * by_v_.front().first);
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (count_ge(std::bit_cast<double>(mid)) >= k) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const double cut = std::bit_cast<double>(lo);
  const std::size_t kept = cfg_.keep_rounding == KeepRounding::authors ? count_ge(cut) : k;
  std::size_t ties = kept - count_ge(std::nextafter(cut, std::numeric_limits<double>::infinity()));
  // Rows in ascending order; in each, the columns above the cut, then the equal ones with
  // the lowest column indices while ties are left.
  for (std::size_t r : nz_rows_) {
    const double a = eta * delta[r];
    const double abs_a = std::fabs(a);
    cols_.clear();
    std::size_t q = 0;
    while (q < by_v_.size() && abs_a * by_v_[q].first > cut) cols_.push_back(by_v_[q++].second);
    if (ties > 0) {
      const std::size_t first_tie = cols_.size();
      while (q < by_v_.size() && abs_a * by_v_[q].first == cut) cols_.push_back(by_v_[q++].second);
      std::sort(cols_.begin() + static_cast<std::ptrdiff_t>(first_tie), cols_.end());
      const std::size_t take = std::min(ties, cols_.size() - first_tie);
      cols_.resize(first_tie + take);
      ties -= take;
    }
    if (cols_.empty()) continue;
    dw_.resize(cols_.size());
    for (std::size_t i = 0; i < cols_.size(); ++i) dw_[i] = a * v[cols_[i]];
    if (L.store) {
      L.store->add_at(r, cols_.data(), dw_.data(), cols_.size());
    } else if (L.cstore) {
      L.cstore->add_at(r, cols_.data(), dw_.data(), cols_.size());
    } else {
      const bool by_column = L.by_column();
      const std::size_t hp = padded_rows(L.rows);
      double* w = by_column ? L.wt.data() + r : L.w.row(static_cast<Eigen::Index>(r)).data();
      const std::size_t stride = by_column ? hp : 1;
      for (std::size_t i = 0; i < cols_.size(); ++i) {
        w[cols_[i] * stride] += dw_[i];
        classic_energy_ += std::fabs(dw_[i]);
        L.classic_abs += std::fabs(dw_[i]);
      }
    }
  }
  L.updates += static_cast<std::int64_t>(kept);
}

void Mlp::change_layer(int l, const Pass& p) {
  Layer& L = layer_[static_cast<std::size_t>(l)];
  const double* v = l == 0 ? p.x.data() : p.h.data();
  const std::vector<double>& delta = l == 0 ? p.delta_h : p.delta_o;
  // The plain change of the rows in row_mask (all if null): by column or dense.
  const auto change = [&](const double* input, const char* row_mask) {
    if (L.by_column()) {
      column_change(L, delta, row_mask, p);
    } else {
      dense_change(L, delta, input, row_mask);
    }
  };
  switch (cfg_.restriction) {
    case Restriction::none:
      change(v, nullptr);
      return;
    case Restriction::synapse:
      synapse_change(static_cast<std::size_t>(l), delta, v, p);
      return;
    case Restriction::neuron: {
      // Competitive plasticity per neuron (van Rossum & Pache 2024): the ceil(F rows)
      // postsynaptic units with the largest |delta| (equal ones: lower index first) change
      // their incoming weights. delta_h came from the unrestricted output error. With the
      // authors' rounding, the units tied with the k-th largest |delta| change too.
      const std::size_t k = keep_count_of(static_cast<std::size_t>(l), L.rows);
      order_.resize(L.rows);
      for (std::size_t r = 0; r < L.rows; ++r) order_[r] = r;
      std::partial_sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(k),
                        order_.end(), [&delta](std::size_t a, std::size_t b) {
                          const double da = std::fabs(delta[a]), db = std::fabs(delta[b]);
                          return da > db || (da == db && a < b);
                        });
      row_keep_.assign(L.rows, 0);
      for (std::size_t i = 0; i < k; ++i) row_keep_[order_[i]] = 1;
      if (cfg_.keep_rounding == KeepRounding::authors) {
        const double cut = std::fabs(delta[order_[k - 1]]);
        for (std::size_t r = 0; r < L.rows; ++r) row_keep_[r] |= std::fabs(delta[r]) == cut;
      }
      change(v, row_keep_.data());
      return;
    }
    case Restriction::path:
      if (l == 0) {  // only the plastic hidden units change their incoming weights
        change(v, path_mask_.data());
      } else {  // only the plastic hidden units' outgoing weights change: h_j -> 0 elsewhere
        masked_.resize(L.cols);
        for (std::size_t j = 0; j < L.cols; ++j) masked_[j] = path_mask_[j] != 0 ? v[j] : 0.0;
        change(masked_.data(), nullptr);
      }
      return;
  }
}

void Mlp::train_sample(const float* x, int label) {
  check_label(label);
  Pass& p = pass_;
  forward_backward(x, label, p);
  const bool learn = !cfg_.lazy || wants_update(p, label);
  plastic_samples_ += learn ? 1 : 0;
  if (learn && layer_[0].by_column()) check_column_bound(p);
  for (int l = 0; l < 2; ++l) {
    if (learn) change_layer(l, p);
    Layer& L = layer_[static_cast<std::size_t>(l)];
    // docs/model.md section 3 order: s += Delta w; consolidation rule (M_cons); maintenance
    // c sum |s| on what stays transient; decay s <- s exp(-1/tau). A skipped sample (lazy
    // learning) changes nothing, but time passes: maintenance and decay still run.
    if (L.store) {
      L.store->apply_rule();
      L.store->charge_maintenance();
      L.store->decay();
    } else if (L.cstore) {
      L.cstore->apply_rule();
      L.cstore->charge_maintenance();
      L.cstore->decay();
    }
  }
  ++samples_;
}

std::int64_t Mlp::consolidation_events() const {
  return layer_consolidation_events(0) + layer_consolidation_events(1);
}

std::int64_t Mlp::layer_consolidation_events(std::size_t layer) const {
  const Layer& L = layer_.at(layer);
  if (cfg_.cache.rule == Rule::classic) return L.updates;
  return (L.store ? L.store->consolidation_events() : L.cstore->consolidation_events()) -
         init_events_[layer];
}

std::int64_t Mlp::pending_changes() const {
  std::int64_t n = 0;
  for (const Layer& L : layer_) {
    if (L.tally() == nullptr) continue;
    for (std::size_t r = 0; r < L.rows; ++r) {
      for (std::size_t c = 0; c < L.cols; ++c) n += L.transient(r, c) != 0.0;
    }
  }
  return n;
}

void Mlp::train(const float* images, const std::uint8_t* labels, std::size_t count) {
  const std::size_t bytes = cfg_.inputs * sizeof(float);
  for (std::size_t i = 0; i < count; ++i) {
    if (i + 1 < count) {  // the next image from memory while this one trains
      const char* next = reinterpret_cast<const char*>(images + (i + 1) * cfg_.inputs);
      for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(next + b);
    }
    train_sample(images + i * cfg_.inputs, labels[i]);
  }
}

Mlp::MatrixF Mlp::output_fields(const SparseImages& images) const {
  const std::size_t N = cfg_.inputs, H = cfg_.hidden, K = cfg_.outputs, count = images.count;
  const std::size_t hp = (H + 7) / 8 * 8;
  // Float copies of the weights: W0 transposed and padded, W1 transposed.
  std::vector<float> wt(N * hp, 0.0f);
  for (std::size_t j = 0; j < H; ++j) {
    for (std::size_t i = 0; i < N; ++i) wt[i * hp + j] = static_cast<float>(layer_[0].weight(j, i));
  }
  MatrixF w1t(static_cast<Eigen::Index>(H), static_cast<Eigen::Index>(K));
  for (std::size_t k = 0; k < K; ++k) {
    for (std::size_t j = 0; j < H; ++j) {
      w1t(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(k)) =
          static_cast<float>(layer_[1].weight(k, j));
    }
  }
  // Blocks of images that stay in cache: A = sigma(X W0^T), F = A W1^T.
  constexpr std::size_t kBlock = 64;
  MatrixF out(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(K));
  MatrixF a(static_cast<Eigen::Index>(kBlock), static_cast<Eigen::Index>(hp));
  std::vector<std::size_t> cursor(kBlock);
  for (std::size_t start = 0; start < count; start += kBlock) {
    const std::size_t m = std::min(kBlock, count - start);
    const auto rows = static_cast<Eigen::Index>(m);
    evaluation::hidden_activities(images, start, m, wt.data(), hp, a.data(), cursor.data());
    out.middleRows(static_cast<Eigen::Index>(start), rows).noalias() =
        a.topLeftCorner(rows, static_cast<Eigen::Index>(H)) * w1t;
  }
  return out;
}

Mlp::MatrixF Mlp::outputs(const float* images, std::size_t count) const {
  MatrixF f = output_fields(SparseImages::from_dense(images, count, cfg_.inputs));
  return (1.0f + (-f.array()).exp()).inverse().matrix();
}

double Mlp::accuracy(const float* images, const std::uint8_t* labels, std::size_t count) const {
  if (count == 0) throw std::invalid_argument("accuracy: no images to evaluate");
  return accuracy(SparseImages::from_dense(images, count, cfg_.inputs), labels);
}

double Mlp::accuracy(const SparseImages& images, const std::uint8_t* labels) const {
  if (images.count == 0) throw std::invalid_argument("accuracy: no images to evaluate");
  if (images.pixels != cfg_.inputs) {
    throw std::invalid_argument("accuracy: the images have " + std::to_string(images.pixels) +
                                " pixels, the network " + std::to_string(cfg_.inputs) + " inputs");
  }
  const MatrixF f = output_fields(images);  // sigma is monotone: argmax of the fields
  std::size_t correct = 0;
  for (Eigen::Index i = 0; i < f.rows(); ++i) {
    Eigen::Index best = 0;  // the first of equal maxima
    for (Eigen::Index k = 1; k < f.cols(); ++k) {
      if (f(i, k) > f(i, best)) best = k;
    }
    correct += static_cast<std::size_t>(best) == labels[i];
  }
  return static_cast<double>(correct) / static_cast<double>(images.count);
}

void Mlp::add_minimal(std::size_t layer, double& sum) const {
  const Layer& L = layer_[layer];
  for (std::size_t r = 0; r < L.rows; ++r) {
    for (std::size_t c = 0; c < L.cols; ++c) {
      sum += std::fabs(L.weight(r, c) -
                       w0_[layer](static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)));
    }
  }
}

EnergyTally Mlp::layer_energy(std::size_t layer) const {
  const Layer& L = layer_.at(layer);
  EnergyTally e;
  if (const EnergyTally* tally = L.tally()) {
    const EnergyTally& t = *tally;
    e.classic = t.classic - L.init_classic;
    e.consolidation = t.consolidation - L.init_consolidation;
    e.maintenance = t.maintenance;
    e.change = t.change;  // 0: the network's stores have b = 0
    e.pending = L.store ? L.store->transient_abs_sum() : L.cstore->transient_abs_sum();
  }
  if (cfg_.cache.rule == Rule::classic) e.classic = e.consolidation = L.classic_abs;
  e.updates = L.updates;
  e.consolidation_events = layer_consolidation_events(layer);
  add_minimal(layer, e.minimal);  // M_min of the layer: sum |w(T) - w(0)|
  return e;
}

EnergyTally Mlp::energy() const {
  // The layers' terms added to 0 in the order hidden, output: for the cached store each
  // total is exactly layer_energy(0) + layer_energy(1). Classic energy is summed change by
  // change over both layers, and M_min synapse by synapse, so those totals may differ from
  // the sum of the layers' in the last bits.
  EnergyTally e;
  for (std::size_t l = 0; l < 2; ++l) {
    if (layer_[l].tally() == nullptr) continue;
    const EnergyTally t = layer_energy(l);
    e.classic += t.classic;
    e.consolidation += t.consolidation;
    e.maintenance += t.maintenance;
    e.change += t.change;
    e.pending += t.pending;
  }
  if (cfg_.cache.rule == Rule::classic) e.classic = e.consolidation = classic_energy_;
  e.updates = updates();
  e.consolidation_events = consolidation_events();
  for (std::size_t l = 0; l < 2; ++l) add_minimal(l, e.minimal);  // M_min = sum |w(T) - w(0)|
  return e;
}

namespace {
// A layer's matrix of one quantity of its store (weight, persistent or transient).
template <class Get>
Mlp::Matrix store_matrix(std::size_t rows, std::size_t cols, Get get) {
  Mlp::Matrix m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) {
      m(r, c) = get(static_cast<std::size_t>(r), static_cast<std::size_t>(c));
    }
  }
  return m;
}
}  // namespace

Mlp::Matrix Mlp::weights(std::size_t layer) const {
  const Layer& L = layer_.at(layer);
  if (!L.store && !L.by_column()) return L.w;
  return store_matrix(L.rows, L.cols,
                      [&L](std::size_t r, std::size_t c) { return L.weight(r, c); });
}

Mlp::Matrix Mlp::persistent(std::size_t layer) const {
  const Layer& L = layer_.at(layer);
  if (!L.store && !L.by_column()) return L.w;
  return store_matrix(L.rows, L.cols,
                      [&L](std::size_t r, std::size_t c) { return L.persistent(r, c); });
}

Mlp::Matrix Mlp::transient(std::size_t layer) const {
  const Layer& L = layer_.at(layer);
  if (L.tally() == nullptr) {
    return Matrix::Zero(static_cast<Eigen::Index>(L.rows), static_cast<Eigen::Index>(L.cols));
  }
  return store_matrix(L.rows, L.cols,
                      [&L](std::size_t r, std::size_t c) { return L.transient(r, c); });
}

Mlp::Gradient Mlp::gradient(const float* x, int label) const {
  check_label(label);
  Pass p = make_pass();
  forward_backward(x, label, p);
  using Vec = Eigen::Map<const Eigen::VectorXd>;
  const auto N = static_cast<Eigen::Index>(cfg_.inputs), H = static_cast<Eigen::Index>(cfg_.hidden),
             K = static_cast<Eigen::Index>(cfg_.outputs);
  Gradient g;
  // dE/dW = -delta (input)^T
  g.layer0 = -Vec(p.delta_h.data(), H) * Vec(p.x.data(), N).transpose();
  g.layer1 = -Vec(p.delta_o.data(), K) * Vec(p.h.data(), H).transpose();
  g.loss = p.loss;
  return g;
}

}  // namespace syncache
