#include "syncache/models/spiking.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "syncache/core/random.hpp"
#include "syncache/io/interrupt.hpp"
#include "syncache/io/params.hpp"

namespace syncache::spiking {

namespace {

void require_param(bool ok, const char* key, const std::string& message) {
  if (!ok) throw ParamError(key, message);
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

// First step of a window [on, off) in ms.
int step_at(double t, double dt) {
  return static_cast<int>(std::lround(t / dt));
}

// Uniform integer in [0, n) from raw pcg32 output, by rejection (no modulo bias).
std::uint32_t below(pcg32& rng, std::uint32_t n) {
  const std::uint32_t limit = static_cast<std::uint32_t>((std::uint64_t{1} << 32) / n * n - 1);
  for (;;) {
    const std::uint32_t u = rng();
    if (u <= limit) return u % n;
  }
}

// P(event) * 2^32, rounded, for comparisons with one raw 32-bit number.
std::uint64_t threshold32(double p) {
  return static_cast<std::uint64_t>(std::llround(std::clamp(p, 0.0, 1.0) * 4294967296.0));
}

}  // namespace

int Params::steps_per_trial() const {
  return step_at(trial, dt);
}

void Params::validate() const {
  require(C > 0.0 && g_L > 0.0, "spiking: C and g_L must be > 0");
  require(dt > 0.0 && trial >= dt, "spiking: need dt > 0 and trial >= dt");
  require(V_th > E_L, "spiking: the threshold must lie above E_L");
  require(tau_K > 0.0 && tau_syn > 0.0 && tau_plus > 0.0 && tau_minus > 0.0,
          "spiking: time constants must be > 0");
  require(dg_K >= 0.0 && g_b >= 0.0 && g_V >= 0.0 && background_rate >= 0.0 && rate >= 0.0,
          "spiking: conductances and rates must be >= 0");
  require(rate * dt * 1e-3 <= 1.0 && background_rate * dt * 1e-3 <= 1.0,
          "spiking: rate * dt must not exceed 1 (one spike per neuron per step)");
  require(auditory >= 1 && pool >= 1 && active >= 1 && active <= auditory,
          "spiking: need 1 <= active <= auditory inputs and pool >= 1");
  require(g_max > 0.0 && A_plus >= 0.0 && stdp_scale >= 0.0,
          "spiking: need g_max > 0, A+ >= 0, scale >= 0");
  require(window >= 2 && tolerance >= 0.0, "spiking: need window >= 2 and tolerance >= 0");
  require_param(max_rounds >= 1, "max_rounds",
                "must be >= 1 (got " + std::to_string(max_rounds) + ")");
}

Neuron::Neuron(const Params& p)
    : p_(p), k_(p.dt / p.C * 1e-3), decay_k_(std::exp(-p.dt / p.tau_K)) {
  reset();
}

void Neuron::reset() {
  v_ = p_.E_L;
  g_k_ = 0.0;
}

bool Neuron::step(double g_exc, double g_bg) {
  // docs/model.md section 4: V += dt/C (-g_L (V - E_L) + I_syn - g_K (V - E_K) + I_b); the factor
  // 1e-3 converts ms nS mV / nF to mV.
  const double bg = p_.shunting_background ? -g_bg : g_bg;
  const double current =
      -p_.g_L * (v_ - p_.E_L) + g_exc * (p_.E_ex - v_) - g_k_ * (v_ - p_.E_K) + bg * (v_ - p_.E_L);
  v_ += k_ * current;
  const bool spike = v_ > p_.V_th;
  if (spike) {
    v_ = p_.E_L;
    g_k_ += p_.dg_K;
  }
  g_k_ = std::max(0.0, g_k_ * decay_k_);
  return spike;
}

PoolSampler::PoolSampler(int n, double p) : mean_(n * p) {
  // P(k) = C(n, k) p^k (1-p)^(n-k), accumulated; cdf_[k] = P(count <= k) 2^32.
  double term = std::pow(1.0 - p, n), total = 0.0;
  for (int k = 0; k < n; ++k) {
    total += term;
    cdf_.push_back(threshold32(total));
    term *= p / (1.0 - p) * static_cast<double>(n - k) / static_cast<double>(k + 1);
  }
  // Trailing entries equal to 2^32 can never be passed; drop them to shorten the search.
  while (!cdf_.empty() && cdf_.back() >= (std::uint64_t{1} << 32)) cdf_.pop_back();
  if (p >= 1.0) cdf_.assign(static_cast<std::size_t>(n), 0);  // always n spikes
}

Stdp::Stdp(const Params& p, int inputs)
    : a_plus_(p.stdp_scale * p.A_plus),
      a_minus_(p.stdp_scale * p.A_minus()),
      decay_plus_(std::exp(-p.dt / p.tau_plus)),
      decay_minus_(std::exp(-p.dt / p.tau_minus)),
      x_(static_cast<std::size_t>(inputs), 0.0) {}

void Stdp::reset() {
  std::fill(x_.begin(), x_.end(), 0.0);
  y_ = 0.0;
}

void Stdp::decay(const std::vector<int>& inputs) {
  for (int i : inputs) x_[static_cast<std::size_t>(i)] *= decay_minus_;
  y_ *= decay_plus_;
}

std::vector<Pattern> make_patterns(const Params& p, int P, std::uint64_t seed) {
  pcg32 rng(derive_seed(seed, 1));
  std::vector<Pattern> out;
  for (int q = 0; q < P; ++q) {
    Pattern pat;
    while (static_cast<int>(pat.inputs.size()) < p.active) {
      const int i = static_cast<int>(below(rng, static_cast<std::uint32_t>(p.auditory)));
      if (std::find(pat.inputs.begin(), pat.inputs.end(), i) == pat.inputs.end()) {
        pat.inputs.push_back(i);
      }
    }
    std::sort(pat.inputs.begin(), pat.inputs.end());
    pat.cls = static_cast<int>(rng() >> 31);
    out.push_back(std::move(pat));
  }
  return out;
}

void LearningConfig::validate() const {
  params.validate();
  require_param(patterns >= 1, "patterns", "must be >= 1 (got " + std::to_string(patterns) + ")");
  require_rule(cache.rule, kSpiking, "the spiking neuron");
  cache.validate(spiking_caching_parameters());
}

std::span<const ParamSpec> spiking_parameters() {
  static const std::string rules = rule_names(kSpiking, "|");
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> v = {
        ParamSpec("patterns", ParamKind::integer,
                  "number of patterns P (2 of 100 inputs active each)")
            .with_default("10")
            .in(1, 100000),
        ParamSpec("rule", ParamKind::text, "consolidation rule (classic = no caching)")
            .with_default("classic")
            .one_of(rules),
    };
    // theta, tau and c (the neuron charges no change cost b).
    for (const ParamSpec& s : spiking_caching_parameters()) v.push_back(s);
    v.push_back(ParamSpec("seed", ParamKind::integer, "seed of the patterns and spike trains")
                    .with_default("1")
                    .in(1, 9223372036854775807.0));
    v.push_back(ParamSpec("max_rounds", ParamKind::integer, "rounds (all patterns once) at most")
                    .with_default("1000")
                    .in(1, 1000000));
    v.push_back(ParamSpec("background", ParamKind::text,
                          "sign of the background current (authors: +g_b s_b (V - E_L))")
                    .with_default("authors")
                    .one_of("authors|shunting"));
    return v;
  }();
  return specs;
}

std::span<const ParamSpec> spiking_caching_parameters() {
  static const std::vector<ParamSpec> specs = caching_parameters(
      DecayForm::exponential,
      {.weight_unit = "nS",
       .time_unit = "ms",
       .tau_doc = "decay time constant of the transient weights: s <- s exp(-t/tau)",
       .c_doc = "maintenance cost per nS of transient weight per ms",
       .with_b = false});
  return specs;
}

bool converged_window(const std::vector<std::vector<double>>& history, int window,
                      double tolerance_abs) {
  const std::size_t w = static_cast<std::size_t>(window);
  if (history.size() < w) return false;
  const std::size_t first = history.size() - w;
  const std::size_t n = history.back().size();
  for (std::size_t i = 0; i < n; ++i) {
    double mean = 0.0;
    for (std::size_t r = first; r < history.size(); ++r) mean += history[r][i];
    mean /= static_cast<double>(w);
    for (std::size_t r = first; r < history.size(); ++r) {
      if (std::fabs(history[r][i] - mean) > tolerance_abs) return false;
    }
  }
  return true;
}

std::optional<bool> separated(const std::vector<double>& responses,
                              const std::vector<Pattern>& patterns) {
  double mean[2] = {0.0, 0.0}, sd[2] = {0.0, 0.0};
  int count[2] = {0, 0};
  for (std::size_t p = 0; p < patterns.size(); ++p) {
    mean[patterns[p].cls] += responses[p];
    ++count[patterns[p].cls];
  }
  if (count[0] == 0 || count[1] == 0) return std::nullopt;
  for (int k = 0; k < 2; ++k) mean[k] /= count[k];
  for (std::size_t p = 0; p < patterns.size(); ++p) {
    const double d = responses[p] - mean[patterns[p].cls];
    sd[patterns[p].cls] += d * d;
  }
  for (int k = 0; k < 2; ++k) sd[k] = std::sqrt(sd[k] / count[k]);  // population SD
  // The association itself: every response of the strong visual class (1) exceeds every
  // response of the weak class (0). Without it the SD test is empty whenever a class has
  // an SD of 0 (one pattern, or equal responses): identical responses would pass.
  double weakest_strong = INFINITY, strongest_weak = -INFINITY;
  for (std::size_t p = 0; p < patterns.size(); ++p) {
    if (patterns[p].cls == 1) weakest_strong = std::min(weakest_strong, responses[p]);
    if (patterns[p].cls == 0) strongest_weak = std::max(strongest_weak, responses[p]);
  }
  if (!(weakest_strong > strongest_weak)) return false;
  for (std::size_t p = 0; p < patterns.size(); ++p) {
    const int k = patterns[p].cls;
    if (std::fabs(responses[p] - mean[k]) > 2.0 * sd[k]) return false;
    if (std::fabs(responses[p] - mean[1 - k]) < 5.0 * sd[k]) return false;
  }
  return true;
}

namespace {

CacheParams cache_params(const LearningConfig& cfg) {
  CacheParams cp;
  // Classic learning is the synapse rule at theta = 0: every non-zero change consolidates
  // in the step it is made, so M_cons = sum |Delta g| (docs/model.md section 1).
  const CacheParams& c = cfg.cache;
  cp.rule = c.rule == Rule::classic ? Rule::synapse : c.rule;
  cp.theta = c.rule == Rule::classic ? 0.0 : c.theta;
  cp.tau = c.rule == Rule::classic ? std::numeric_limits<double>::infinity()
                                   : c.tau / cfg.params.dt;    // in steps
  cp.c = c.rule == Rule::classic ? 0.0 : c.c * cfg.params.dt;  // per step
  cp.decay = DecayForm::exponential;
  return cp;
}

}  // namespace

Learner::Learner(const LearningConfig& cfg)
    : cfg_((cfg.validate(), cfg)),
      p_(cfg.params),
      patterns_(make_patterns(cfg.params, cfg.patterns, cfg.seed)),
      store_(1, static_cast<std::size_t>(cfg.params.auditory), cache_params(cfg), ChangeCost(1.0)),
      neuron_(cfg.params),
      stdp_(cfg.params, cfg.params.auditory),
      rng_(derive_seed(cfg.seed, 2)),
      auditory_pool_(p_.pool, p_.rate * p_.dt * 1e-3),
      visual_high_(p_.pool, p_.visual_high * p_.rate * p_.dt * 1e-3),
      visual_low_(p_.pool, p_.visual_low * p_.rate * p_.dt * 1e-3),
      background_threshold_(threshold32(p_.background_rate * p_.dt * 1e-3)),
      decay_syn_(std::exp(-p_.dt / p_.tau_syn)) {}

void Learner::trial(const Pattern& pat, std::vector<StepRecord>* record, int index) {
  neuron_.reset();
  stdp_.reset();
  const std::vector<int>& in = pat.inputs;
  const std::size_t n = in.size();
  const PoolSampler& visual = pat.cls ? visual_high_ : visual_low_;
  const int steps = p_.steps_per_trial();
  const int a_on = step_at(p_.auditory_on, p_.dt), a_off = step_at(p_.auditory_off, p_.dt);
  const int v_on = step_at(p_.visual_on, p_.dt), v_off = step_at(p_.visual_off, p_.dt);
  const double gmax = p_.g_max;
  std::vector<double> syn(n, 0.0), w(n), d(n);
  std::vector<int> counts(n, 0);
  std::vector<std::size_t> cols(n);  // the step's changed synapses (ascending: in is sorted)
  std::vector<double> vals(n);
  for (std::size_t j = 0; j < n; ++j) w[j] = store_.weight(0, static_cast<std::size_t>(in[j]));
  double syn_v = 0.0, syn_b = 0.0;
  for (int k = 0; k < steps; ++k) {
    StepRecord r;
    if (record) {  // the state at the start of the step
      r.classic = store_.energy().classic;
      r.consolidation = store_.energy().consolidation;
      r.consolidation_events = store_.consolidation_events();
      for (std::size_t i = 0; k == 0 && i < store_.cols(); ++i) {
        r.l_start.push_back(store_.persistent(0, i));
        r.s_start.push_back(store_.transient(0, i));
      }
    }
    // 1-2: input spikes; depression on pre spikes.
    const int nb = rng_() < background_threshold_ ? 1 : 0;
    syn_b += nb;
    bool changed = false;
    int vis = 0;
    std::fill(d.begin(), d.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    if (k >= a_on && k < a_off) {
      for (std::size_t j = 0; j < n; ++j) {
        const int c = auditory_pool_.draw(rng_());
        if (c > 0) {
          syn[j] += c;
          counts[j] = c;
          d[j] += stdp_.on_pre(in[j]);
          changed = true;
        }
      }
    }
    if (k >= v_on && k < v_off) {
      vis = visual.draw(rng_());
      syn_v += vis;
    }
    // 3-4: membrane with the weights at the start of the step; potentiation on a spike.
    double g_exc = p_.g_V * syn_v;
    for (std::size_t j = 0; j < n; ++j) g_exc += w[j] * syn[j];
    const bool spike = neuron_.step(g_exc, p_.g_b * syn_b);
    if (spike) {
      for (std::size_t j = 0; j < n; ++j) d[j] += stdp_.potentiation(in[j]);
      stdp_.on_post();
      ++output_spikes_;
      changed = true;
    }
    // 5: clipped changes into the store (skipped when clipping leaves nothing to change,
    // e.g. depression of a zero weight: adding zeros would change nothing).
    if (changed) {
      std::size_t m = 0;
      for (std::size_t j = 0; j < n; ++j) {
        const double dd = clipped_change(w[j], d[j], gmax);
        if (dd != 0.0) {
          cols[m] = static_cast<std::size_t>(in[j]);
          vals[m++] = dd;
        }
      }
      changed = m > 0;
      updates_ += static_cast<std::int64_t>(m);
      if (changed) {
        store_.add_at(0, cols.data(), vals.data(), m);
        for (std::size_t q = 0; q < m; ++q) store_.nudge_into(0, cols[q], 0.0, gmax);
        store_.apply_rule();
      }
    }
    store_.charge_maintenance();
    store_.decay();
    if (changed || store_.params().decay_factor() != 1.0) {  // decay moved the weights
      for (std::size_t j = 0; j < n; ++j) w[j] = store_.weight(0, static_cast<std::size_t>(in[j]));
    }
    if (record) {
      r.pattern = index;
      r.step = k;
      r.v = neuron_.v();
      r.output_spike = spike;
      r.input_spikes = counts;
      r.visual_spikes = vis;
      r.background_spikes = nb;
      r.weights = w;
      record->push_back(std::move(r));
    }
    // 6: decay.
    for (double& s : syn) s *= decay_syn_;
    syn_v *= decay_syn_;
    syn_b *= decay_syn_;
    stdp_.decay(in);
  }
}

EnergyTally Learner::snapshot() const {
  EnergyTally e = store_.energy();  // classic, consolidation, maintenance, change (b = 0: 0)
  // The final consolidation (docs/model.md section 1), counted without touching the store
  // (learning goes on to confirm convergence): every s still transient moves into l, at
  // cost sum |s| (alpha = 1), one event per non-zero s; nothing is left pending.
  e.consolidation += store_.transient_abs_sum();
  e.pending = 0.0;
  e.consolidation_events = store_.consolidation_events();
  for (std::size_t i = 0; i < store_.cols(); ++i) {
    e.consolidation_events += store_.transient(0, i) != 0.0 ? 1 : 0;
    e.minimal += std::fabs(store_.weight(0, i));  // g(0) = 0: sum |g(T) - g(0)| = sum |g(T)|
  }
  e.updates = updates_;
  return e;
}

LearningResult Learner::learn(std::vector<StepRecord>* record_last) {
  LearningResult res;
  const std::size_t N = store_.cols();
  std::vector<std::vector<double>> history;  // round-end weights
  std::vector<EnergyTally> energies;         // round-end energies
  const double tol = p_.tolerance * p_.g_max;
  for (int round = 1; round <= p_.max_rounds; ++round) {
    check_interrupt();
    const bool last_possible = round == p_.max_rounds;
    std::vector<StepRecord> rec;
    for (std::size_t q = 0; q < patterns_.size(); ++q) {
      trial(patterns_[q], record_last ? &rec : nullptr, static_cast<int>(q));
    }
    std::vector<double> w(N);
    for (std::size_t i = 0; i < N; ++i) w[i] = store_.weight(0, i);
    history.push_back(std::move(w));
    energies.push_back(snapshot());
    res.rounds = round;
    res.converged = converged_window(history, p_.window, tol);
    if (record_last) *record_last = std::move(rec);
    if (res.converged || last_possible) break;
  }
  // Energy up to the first round of the converged window (docs/model.md section 4); without
  // convergence, up to the last round.
  res.counted_rounds = res.converged ? res.rounds - p_.window + 1 : res.rounds;
  res.energy = energies[static_cast<std::size_t>(res.counted_rounds - 1)];
  res.weights = history.back();
  for (const Pattern& pat : patterns_) {
    double a = 0.0;
    for (int i : pat.inputs) a += res.weights[static_cast<std::size_t>(i)];
    res.responses.push_back(a);
  }
  res.success = separated(res.responses, patterns_);
  res.output_spikes = output_spikes_;
  res.patterns = patterns_;
  return res;
}

}  // namespace syncache::spiking
