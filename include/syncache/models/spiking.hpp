// The spiking neuron of Figure 2—supplement 1 (docs/model.md section 4, after D'Souza, Liu &
// Hahnloser, PNAS 2010): a conductance-based leaky integrate-and-fire neuron with
// spike-frequency adaptation learns, by trace-based STDP on its auditory synapses, to match
// its auditory response to a supervisory visual input. The auditory weights live in a
// CachedStore (one row), so the same consolidation rules and energy terms apply as for
// the perceptron and the MNIST network. Units: mV, ms, nS, nF.
//
// One time step (dt), in this order (documented in docs/spiking.md):
//   1. input spikes of the step are drawn (Poisson pools: per neuron a spike with
//      probability rate dt); each synaptic variable adds its spike count;
//   2. STDP, pre: an auditory input with at least one spike gets depression
//      -stdp_scale A- y (post trace before this step's output spike), and its pre trace
//      x_i rises by 1;
//   3. membrane: V += dt/C (-g_L (V - E_L) + sum_i g_i s_i (E_ex - V) - g_K (V - E_K)
//      + I_b) with the weights at the start of the step; I_b = +g_b s_b (V - E_L) (the
//      authors' sign) or -g_b s_b (V - E_L) (shunting option);
//   4. output spike when V > V_th: V = E_L, g_K += dg_K, potentiation +stdp_scale A+ x_i
//      on every auditory synapse (x including this step's pre spikes), then y += 1;
//   5. the step's weight changes are clipped so that the total weight w = l + s stays in
//      [0, g_max]; the clipped change goes into the transient part s (and, for the
//      classic rule, straight on into l): E += sum_i |clipped change| (docs/model.md section 4);
//   6. everything that decays decays by one step: synaptic variables (tau_syn), traces
//      (tau_minus for x, tau_plus for y), g_K (tau_K).
// Each trial starts from rest: V = E_L, g_K = 0, traces and synaptic variables 0.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <pcg_random.hpp>
#include <string>
#include <vector>

#include "syncache/core/cached_store.hpp"
#include "syncache/core/energy.hpp"
#include "syncache/core/rule.hpp"

namespace syncache::spiking {

/// The spiking neuron's parameters: membrane, synapses, inputs, STDP (docs/model.md section 4).
struct Params {
  // Membrane (docs/model.md section 4).
  double C = 0.5;        // nF
  double E_L = -70.0;    // mV, rest and reset
  double g_L = 20.0;     // nS
  double V_th = -50.0;   // mV
  double dt = 0.1;       // ms
  double trial = 150.0;  // ms
  // Adaptation: a K conductance.
  double E_K = -70.0;    // mV
  double dg_K = 80.0;    // nS per output spike
  double tau_K = 110.0;  // ms
  // Synapses.
  double E_ex = 0.0;                 // mV
  double tau_syn = 10.0;             // ms
  double background_rate = 1000.0;   // Hz, one Poisson source
  double g_b = 1.0;                  // nS
  bool shunting_background = false;  // false: the authors' +g_b s_b (V - E_L)
  // Inputs.
  int auditory = 100;                             // auditory inputs
  int pool = 15;                                  // Poisson neurons per input pool
  double rate = 100.0;                            // Hz, per neuron of an active pool
  int active = 2;                                 // auditory inputs active in a pattern
  double auditory_on = 0.0, auditory_off = 50.0;  // ms
  double visual_on = 70.0, visual_off = 120.0;    // ms
  double g_V = 3.0;                               // nS, fixed visual weight
  double visual_high = 1.0, visual_low = 0.5;     // rate factors of the two classes
  // STDP.
  double tau_plus = 50.0;    // ms, post trace
  double tau_minus = 70.0;   // ms, pre trace
  double stdp_scale = 1.25;  // nS
  double A_plus = 0.001;
  double g_max = 2.5;  // nS
  // Learning protocol.
  int window = 10;          // rounds of the convergence window
  double tolerance = 0.03;  // fraction of g_max each weight may stray from its window mean
  int max_rounds = 1000;

  double A_minus() const { return 1.05 * A_plus * tau_plus / tau_minus; }
  int steps_per_trial() const;
  // Throws std::invalid_argument naming the offending parameter.
  void validate() const;
};

/// The membrane with adaptation (steps 3-4 and the g_K part of 6 above).
class Neuron {
 public:
  explicit Neuron(const Params& p);
  void reset();  // V = E_L, g_K = 0
  // One Euler step with total excitatory conductance g_exc (nS, reversal E_ex) and
  // background conductance g_bg (nS, applied with the configured sign); true on a spike.
  bool step(double g_exc, double g_bg);
  double v() const { return v_; }
  double g_k() const { return g_k_; }

 private:
  Params p_;
  double k_;        // dt / C, in ms/nF: dV = k_ * 1e-3 * I (I in nS mV)
  double decay_k_;  // exp(-dt / tau_K)
  double v_ = 0.0, g_k_ = 0.0;
};

/// Spike counts of a pool of n Poisson neurons in one step: Binomial(n, rate dt), drawn by
/// inverse CDF from one raw 32-bit random number.
class PoolSampler {
 public:
  PoolSampler() = default;
  PoolSampler(int n, double p);
  int draw(std::uint32_t u) const {
    int k = 0;
    while (k < static_cast<int>(cdf_.size()) && u >= cdf_[static_cast<std::size_t>(k)]) ++k;
    return k;
  }
  double mean() const { return mean_; }

 private:
  std::vector<std::uint64_t> cdf_;  // cdf_[k] = P(count <= k) * 2^32, k < n
  double mean_ = 0.0;
};

/// Trace-based STDP (steps 2, 4 and 6 above), traces kept for every auditory input.
class Stdp {
 public:
  Stdp(const Params& p, int inputs);
  void reset();  // all traces 0
  // Step 2: input i receives at least one spike. Returns its depression
  // -stdp_scale A- y (y before this step's output spike) and raises x_i by 1.
  double on_pre(int i) {
    const double d = -a_minus_ * y_;
    x_[static_cast<std::size_t>(i)] += 1.0;
    return d;
  }
  // Step 4: potentiation of input i on an output spike, +stdp_scale A+ x_i.
  double potentiation(int i) const { return a_plus_ * x_[static_cast<std::size_t>(i)]; }
  void on_post() { y_ += 1.0; }  // after the potentiation of the same step
  // Step 6: the traces of `inputs` (the only non-zero ones) and y decay by one step.
  void decay(const std::vector<int>& inputs);
  double pre_trace(int i) const { return x_[static_cast<std::size_t>(i)]; }
  double post_trace() const { return y_; }

 private:
  double a_plus_, a_minus_, decay_plus_, decay_minus_;
  std::vector<double> x_;
  double y_ = 0.0;
};

// Step 5: the change that keeps w + d inside [0, g_max].
inline double clipped_change(double w, double d, double g_max) {
  const double target = w + d;
  if (target < 0.0) return -w;
  if (target > g_max) return g_max - w;
  return d;
}

/// One pattern: its active auditory inputs and its visual class.
struct Pattern {
  std::vector<int> inputs;  // active auditory inputs (distinct, ascending)
  int cls = 0;              // 1: visual rate visual_high, 0: visual_low
};

// P patterns: `active` distinct inputs of `auditory` and a class bit each, from
// pcg32(derive_seed(seed, 1)).
std::vector<Pattern> make_patterns(const Params& p, int P, std::uint64_t seed);

/// One recorded step of a trial (for the command's record file and the figure's trial panel).
struct StepRecord {
  int pattern = 0;
  int step = 0;
  double v = 0.0;
  bool output_spike = false;
  std::vector<int> input_spikes;  // spikes arriving on each of the pattern's active inputs
  int visual_spikes = 0;
  int background_spikes = 0;
  std::vector<double> weights;  // total weights of the pattern's active inputs after the step
  // The store's energies at the start of the step (a replay's starting point).
  double classic = 0.0, consolidation = 0.0;
  std::int64_t consolidation_events = 0;
  // At a trial's first step only (empty otherwise): l and s of every auditory synapse at
  // the start of the trial (V, g_K, traces and synaptic variables start at rest).
  std::vector<double> l_start, s_start;
};

// The caching defaults of the neuron: classic, theta = tau = inf.
inline CacheParams spiking_no_caching() {
  CacheParams p = no_caching(DecayForm::exponential);
  p.theta = std::numeric_limits<double>::infinity();
  return p;
}

// theta, tau and c with the neuron's units (nS, ms), as LearningConfig::validate checks them.
std::span<const ParamSpec> spiking_caching_parameters();

// The learning run's parameters, described once (io/params.hpp): the `syncache spiking`
// options and the keys config_from_json reads (patterns, seed, max_rounds, background,
// rule, theta, tau, c).
std::span<const ParamSpec> spiking_parameters();

/// A learning run of the spiking neuron: its parameters, number of patterns, caching and seed.
struct LearningConfig {
  Params params;
  int patterns = 10;
  // Caching in the neuron's units: rule (classic = no caching; one neuron, so no layer
  // rule), theta in nS, tau in ms with exponential decay, c per nS of transient weight per
  // ms (b is not used); converted to time steps of dt for the store.
  CacheParams cache = spiking_no_caching();
  std::uint64_t seed = 1;
  void validate() const;
};

/// What a learning run of the spiking neuron returns: convergence, rounds, success, energies.
struct LearningResult {
  bool converged = false;
  int rounds = 0;               // rounds simulated (convergence detected at the last one)
  int counted_rounds = 0;       // rounds charged: up to the first round of the converged window
  std::optional<bool> success;  // empty when all patterns are of one class
  // Energies at the counted round (the first round of the converged window; docs/model.md
  // section 4), in nS, as if learning ended there: the final consolidation of every
  // transient weight still left is counted in consolidation (sum |s|) and
  // consolidation_events, so pending is 0 (docs/model.md section 1). classic =
  // sum_t sum_i |Delta g_i| (what learning without caching costs), maintenance = M_trans,
  // change = 0, minimal = sum_i |g_i(T) - g_i(0)|, updates = the non-zero clipped changes.
  EnergyTally energy;
  std::int64_t output_spikes = 0;  // over all rounds simulated
  std::vector<double> weights;     // final total weights g_A
  std::vector<double> responses;   // A_p = g_A . x_p on the final weights
  std::vector<Pattern> patterns;
};

// The convergence test (docs/model.md section 4): over the last `window` round-end weight
// vectors, every weight stays within tolerance * g_max of its mean. `history` holds one
// weight vector per round; false while fewer than `window` rounds exist.
bool converged_window(const std::vector<std::vector<double>>& history, int window,
                      double tolerance_abs);

// The success test on responses A_p and classes (docs/model.md section 4): every response lies
// within 2 SD of its class mean and at least 5 SD (its own class's population SD) from
// the other class's mean; and, this project's addition, every response of the strong
// visual class exceeds every response of the weak one (without it a class with SD 0 — a
// single pattern — passes with any responses). Empty when only one class is present.
std::optional<bool> separated(const std::vector<double>& responses,
                              const std::vector<Pattern>& patterns);

/// The learner: a neuron, its input streams and its cached auditory weights.
class Learner {
 public:
  explicit Learner(const LearningConfig& cfg);
  // Presents one pattern for one trial; the recorder, if given, gets every step.
  void trial(const Pattern& pat, std::vector<StepRecord>* record = nullptr, int index = 0);
  // Runs the protocol: rounds of all patterns until convergence or max_rounds.
  // `record_last`: if given, filled with every step of the last round.
  LearningResult learn(std::vector<StepRecord>* record_last = nullptr);

  const CachedStore& store() const { return store_; }
  CachedStore& store() { return store_; }
  const std::vector<Pattern>& patterns() const { return patterns_; }
  std::int64_t output_spikes() const { return output_spikes_; }

 private:
  // The energies as if learning ended now (see LearningResult::energy).
  EnergyTally snapshot() const;

  LearningConfig cfg_;
  Params p_;
  std::vector<Pattern> patterns_;
  CachedStore store_;
  Neuron neuron_;
  Stdp stdp_;
  pcg32 rng_;  // spike trains: pcg32(derive_seed(seed, 2))
  PoolSampler auditory_pool_, visual_high_, visual_low_;
  std::uint64_t background_threshold_ = 0;  // a background spike iff u < threshold
  double decay_syn_;
  std::int64_t output_spikes_ = 0;
  std::int64_t updates_ = 0;  // non-zero clipped changes put into the store
};

}  // namespace syncache::spiking
