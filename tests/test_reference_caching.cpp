// Independent references for synaptic caching with decay, maintenance and change cost,
// written from docs/model.md alone (plain vectors, every transient weight multiplied out
// every step; no CachedStore, no kernels): the perceptron (section 2) and the spiking
// neuron's store (section 4, docs/spiking.md step 5), compared run for run with the
// library; and the strictness of the threshold comparison when the transient weights have
// decayed (the store keeps s = g s~ with a common gain g, so a tie is g max|s~| == theta).
//
// Tests named Validate* are heavier (more seeds, larger networks); they are left out of
// ctest and run by `make validate`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "helpers/reference_perceptron.hpp"
#include "syncache/core/cached_store.hpp"
#include "syncache/models/perceptron.hpp"
#include "syncache/models/spiking.hpp"

namespace syncache {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using testing::describe;
using testing::reference_cached_perceptron;
using testing::RefParams;
using testing::RefResult;

PerceptronConfig library_config(std::size_t N, std::size_t P, std::uint64_t seed,
                                const RefParams& q) {
  PerceptronConfig c;
  c.N = N;
  c.P = P;
  c.seed = seed;
  c.cache.rule = q.rule;
  c.cache.theta = q.theta;
  c.cache.tau = q.tau;
  c.cache.c = q.c;
  c.cache.b = q.b;
  c.alpha = q.alpha;
  c.potentiation_only = q.potentiation_only;
  c.eta = q.eta;
  c.max_epochs = q.max_epochs;
  return c;
}

// Relative agreement of two sums of the same terms accumulated in a different order (the
// library sums in blocks and keeps s = g s~, the reference multiplies every s_i out; with
// eta != 1 the library also runs at eta = 1 and rescales): a few ulps per term.
void expect_close(double lib, double ref, const char* what, const std::string& ctx) {
  EXPECT_NEAR(lib, ref, 1e-9 * std::max(1.0, std::fabs(ref))) << what << ": " << ctx;
}

// Runs the library and the reference on seeds 1..seeds and compares everything reported.
template <class MakePatterns>
void compare_runs(std::size_t N, std::size_t P, std::uint64_t seeds, const RefParams& q,
                  MakePatterns make, bool zero_mean_patterns = false) {
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const std::string ctx = describe(q) + " N " + std::to_string(N) + " P " + std::to_string(P) +
                            " seed " + std::to_string(seed);
    const RefResult ref = make(seed, q);
    PerceptronConfig cfg = library_config(N, P, seed, q);
    cfg.zero_mean = zero_mean_patterns;
    const PerceptronResult lib = run_perceptron(cfg);
    ASSERT_EQ(lib.converged, ref.converged) << ctx;
    ASSERT_EQ(lib.epochs, ref.epochs) << ctx;
    ASSERT_EQ(lib.presentations, ref.presentations) << ctx;
    ASSERT_EQ(lib.updates, ref.updates) << ctx;
    if (q.rule != Rule::classic) {
      EXPECT_EQ(lib.consolidation_events, ref.events) << ctx;
    }
    expect_close(lib.energy.classic, ref.classic, "classic", ctx);
    expect_close(lib.energy.consolidation, ref.consolidation, "consolidation", ctx);
    expect_close(lib.energy.maintenance, ref.maintenance, "maintenance", ctx);
    expect_close(lib.energy.change, ref.change, "change", ctx);
    expect_close(lib.minimal, ref.minimal, "minimal", ctx);
    ASSERT_EQ(lib.weights.size(), ref.w.size()) << ctx;
    for (std::size_t i = 0; i < ref.w.size(); ++i) {
      ASSERT_NEAR(lib.weights[i], ref.w[i], 1e-9 * std::max(1.0, std::fabs(ref.w[i])))
          << "w_" << i << ": " << ctx;
    }
  }
}

// The parameter sets: every rule; no decay, slow and fast decay (tau not a power of two,
// so that s carries rounding); maintenance and change costs; alpha 0, 1, 1.5, 2; the
// potentiation-only option; eta 1 and not 1; theta below, near and above the update size.
std::vector<RefParams> parameter_sets() {
  std::vector<RefParams> sets;
  RefParams classic;  // classic learning, the reference's every change straight into l
  classic.rule = Rule::classic;
  classic.alpha = 1.5;
  sets.push_back(classic);
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum}) {
    const double theta = rule == Rule::sum ? 100.0 : 3.0;
    RefParams a;
    a.rule = rule;
    a.theta = theta;
    sets.push_back(a);  // no decay, no cost
    RefParams d = a;
    d.tau = 37.3;
    d.c = 0.013;
    sets.push_back(d);  // decay and maintenance
    RefParams e = d;
    e.tau = 5.7;
    e.b = 0.21;
    e.alpha = 1.5;
    sets.push_back(e);  // fast decay, change cost, alpha 1.5
    RefParams g = d;
    // A dyadic eta (3/8): the reference adds eta d x_i in plain double arithmetic, so with
    // eta = 0.37 its weights would carry rounding residues and a field that is exactly
    // zero in the model (integer multiples of eta cancelling) would come out +-1e-16; the
    // library learns at eta = 1 and rescales, which keeps such fields exact.
    g.eta = 0.375;
    g.theta = theta * 0.375 * 1.3;
    g.alpha = 2.0;
    g.potentiation_only = true;
    sets.push_back(g);  // eta != 1, squared cost, potentiation only
    RefParams z = d;
    z.b = 0.05;
    z.theta = 0.5;
    sets.push_back(z);  // theta below the update size, with decay: classic learning
    RefParams k = z;
    k.tau = kInf;
    k.alpha = 0.0;
    sets.push_back(k);  // alpha = 0 counts non-zero changes: exact weights (no decay) only
  }
  return sets;
}

RefResult make_pm1(std::size_t N, std::size_t P, std::uint64_t seed, const RefParams& q) {
  return reference_cached_perceptron(random_patterns(N, P, seed), q);
}

TEST(ReferenceCachedPerceptron, MatchesRunPerceptronRunForRun) {
  // N = 40, P = 30 (P/N = 0.75: tens of epochs, so the pattern projections of the
  // library, switched on at epoch 20, take part), 12 seeds per parameter set.
  for (const RefParams& q : parameter_sets()) {
    compare_runs(40, 30, 12, q,
                 [](std::uint64_t seed, const RefParams& p) { return make_pm1(40, 30, seed, p); });
  }
}

TEST(ReferenceCachedPerceptron, ZeroMeanPatternsMatch) {
  // Real-valued inputs (the authors' zero-mean option) take the double-input path.
  RefParams q;
  q.rule = Rule::neuron;
  q.theta = 2.5;
  q.tau = 23.1;
  q.c = 0.02;
  q.b = 0.1;
  compare_runs(
      30, 24, 8, q,
      [](std::uint64_t seed, const RefParams& p) {
        return reference_cached_perceptron(zero_mean(random_patterns(30, 24, seed)), p);
      },
      true);
}

TEST(ReferenceCachedPerceptron, FinalErrorFreeEpochDecaysAndPaysMaintenance) {
  // Decay and maintenance act once per presentation, the final error-free epoch included:
  // with T = epochs P presentations the reference's maintenance is c sum over T steps.
  // Checked directly: the epoch observer's cumulative maintenance at the end of the
  // last-but-one epoch plus c sum_{k=1..P} f^k S over the final epoch, where S = sum|s| at
  // the start of the final epoch (no update changes s in that epoch, so s only decays),
  // equals the run's maintenance; and the final consolidation moves l + f^P s.
  RefParams q;
  q.rule = Rule::neuron;
  q.theta = 6.0;
  q.tau = 400.0;
  q.c = 0.05;
  int runs_with_transient = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    std::vector<EpochRecord> recs;
    EpochObserver obs = [&](const EpochRecord& e) { recs.push_back(e); };
    PerceptronConfig cfg = library_config(40, 30, seed, q);
    const PerceptronResult lib = run_perceptron(cfg, nullptr, nullptr, &obs);
    ASSERT_TRUE(lib.converged);
    ASSERT_GE(recs.size(), 2u);
    const EpochRecord& before = recs[recs.size() - 2];
    const EpochRecord& last = recs.back();
    ASSERT_EQ(last.errors, 0);
    const double f = 1.0 - 1.0 / q.tau;
    double geometric = 0.0;
    for (int k = 1; k <= 30; ++k) geometric += std::pow(f, k);
    const double S = before.transient_abs_sum;
    EXPECT_NEAR(lib.energy.maintenance, before.energy.maintenance + q.c * geometric * S,
                1e-9 * lib.energy.maintenance)
        << "seed " << seed;
    EXPECT_NEAR(last.transient_abs_sum, std::pow(f, 30) * S, 1e-12 * std::max(1.0, S));
    // The final consolidation charges sum|s| at the end (M_cons after the run minus at the
    // end of the final epoch, during which nothing consolidated).
    EXPECT_NEAR(lib.energy.consolidation - last.energy.consolidation, std::pow(f, 30) * S,
                1e-9 * std::max(1.0, S));
    runs_with_transient += S > 0.0;
    const RefResult ref = make_pm1(40, 30, seed, q);
    EXPECT_NEAR(lib.energy.maintenance, ref.maintenance, 1e-9 * ref.maintenance);
  }
  EXPECT_GT(runs_with_transient, 5);  // the check had something to check
}

// Heavier: more seeds, larger N and P, and loads near capacity (hundreds of epochs).
TEST(ValidateReferenceCachedPerceptron, ManySeedsLargerNetworks) {
  for (const RefParams& q : parameter_sets()) {
    compare_runs(130, 120, 40, q, [](std::uint64_t seed, const RefParams& p) {
      return make_pm1(130, 120, seed, p);
    });
    compare_runs(64, 90, 10, q,
                 [](std::uint64_t seed, const RefParams& p) { return make_pm1(64, 90, seed, p); });
  }
}

// ---------------------------------------------------------------------------------------
// Threshold ties after decay: the rule's comparison is strict (docs/model.md section 2:
// |s_i| > theta, max_i |s_i| > theta, sum_i |s_i| > theta). With tau = 2 the linear
// decay factor is exactly 1/2 and every value below is a dyadic rational, so the tie is
// exact: s = 3 decays to 1.5, and a change of +2.5 lands exactly on theta = 4.

// 2.5 + 2^-50: 1.5 plus it is 4 + 2^-50, the double just above 4 (one ulp of 4 is 2^-50).
const double kAbove = 2.5 + 0x1p-50;

TEST(ThresholdTieAfterDecay, ValueOnThetaStaysTransientOneAboveConsolidates) {
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum, Rule::layer}) {
    for (double second : {2.5, kAbove}) {
      SCOPED_TRACE(std::string(rule_name(rule)) + (second == 2.5 ? " tie" : " above"));
      CacheParams cp;
      cp.rule = rule;
      cp.theta = 4.0;
      cp.tau = 2.0;
      cp.c = 0.0;
      CachedStore store(1, 3, cp, ChangeCost());
      ASSERT_EQ(cp.decay_factor(), 0.5);
      const double first[3] = {3.0, 0.0, 0.0};
      store.add(0, first);
      store.apply_rule();
      ASSERT_EQ(store.persistent(0, 0), 0.0);  // 3 < 4
      store.decay();                           // s_0 = 1.5
      ASSERT_EQ(store.transient(0, 0), 1.5);
      const double next[3] = {second, 0.0, 0.0};
      store.add(0, next);  // 1.5 + 2.5 = 4 = theta, or one ulp above
      store.apply_rule();
      const double expected = 1.5 + second;
      if (second == 2.5) {
        EXPECT_EQ(store.transient(0, 0), 4.0);
        EXPECT_EQ(store.persistent(0, 0), 0.0);
        EXPECT_EQ(store.energy().consolidation, 0.0);
      } else {
        ASSERT_GT(expected, 4.0);
        EXPECT_EQ(store.transient(0, 0), 0.0);
        EXPECT_EQ(store.persistent(0, 0), expected);
        EXPECT_EQ(store.energy().consolidation, expected);
      }
    }
  }
}

TEST(ThresholdTieAfterDecay, PerceptronStepOrderOnTheTie) {
  // The same tie in the perceptron's order (begin_step: decay, maintenance; then update):
  // s = 3 on two synapses, then a presentation decays them to 1.5 and an update of +-2.5
  // moves them to exactly 4 and -1; maintenance c (|1.5| + |1.5|) is charged before.
  for (double second : {2.5, kAbove}) {
    CacheParams cp;
    cp.rule = Rule::neuron;
    cp.theta = 4.0;
    cp.tau = 2.0;
    cp.c = 0.25;
    CachedStore store(1, 2, cp, ChangeCost());
    const std::int8_t x[2] = {1, 1};
    const std::int8_t y[2] = {1, -1};
    const Input<std::int8_t> in1{x, 2, 2, 0, -1};
    const Input<std::int8_t> in2{y, 2, 1, 1, -1};
    store.update(0, 3.0, in1);  // s = (3, 3): 3 < 4
    store.begin_step();         // s = (1.5, 1.5), M_trans = 0.25 * 3
    EXPECT_EQ(store.energy().maintenance, 0.75);
    store.update(0, second, in2);  // s = (1.5 + second, 1.5 - second)
    if (second == 2.5) {
      EXPECT_EQ(store.transient(0, 0), 4.0) << "a tie must not consolidate";
      EXPECT_EQ(store.transient(0, 1), -1.0);
      EXPECT_EQ(store.energy().consolidation, 0.0);
    } else {
      EXPECT_EQ(store.transient(0, 0), 0.0) << "one ulp above theta consolidates the row";
      EXPECT_EQ(store.persistent(0, 0), 1.5 + second);
      EXPECT_EQ(store.persistent(0, 1), 1.5 - second);
    }
  }
}

TEST(ThresholdTieAfterDecay, SpikingOrderExponentialDecay) {
  // The spiking neuron's store: exponential decay, and the step order add, rule,
  // maintenance, decay (docs/spiking.md step 5). tau = 1/ln 2 steps gives exp(-ln 2);
  // when that rounds to exactly 1/2 (it does in IEEE double) the tie is exact again.
  CacheParams cp;
  cp.rule = Rule::synapse;
  cp.theta = 4.0;
  cp.tau = 1.0 / std::log(2.0);
  cp.decay = DecayForm::exponential;
  cp.c = 0.5;
  if (cp.decay_factor() != 0.5) GTEST_SKIP() << "exp(-ln 2) is not exactly 1/2 here";
  for (double second : {2.5, kAbove}) {
    CachedStore store(1, 4, cp, ChangeCost());
    const std::size_t col[1] = {2};
    const double d1[1] = {3.0};
    store.add_at(0, col, d1, 1);
    store.apply_rule();
    store.charge_maintenance();  // 0.5 * 3
    store.decay();               // 1.5
    const double d2[1] = {second};
    store.add_at(0, col, d2, 1);
    store.apply_rule();
    store.charge_maintenance();
    if (second == 2.5) {
      EXPECT_EQ(store.transient(0, 2), 4.0);
      EXPECT_EQ(store.energy().maintenance, 0.5 * 3.0 + 0.5 * 4.0);
    } else {
      EXPECT_EQ(store.transient(0, 2), 0.0);
      EXPECT_EQ(store.persistent(0, 2), 1.5 + second);
      EXPECT_EQ(store.energy().maintenance, 0.5 * 3.0);
    }
  }
}

// ---------------------------------------------------------------------------------------
// The spiking neuron's store with caching, decay and maintenance: the recorded spikes of
// each trial replayed through STDP written as explicit sums (docs/spiking.md: a pre spike
// at step m and a post spike at step k >= m potentiate by 1.25 A+ e^{-(k-m)dt/tau-}; a
// post spike at m and a pre spike at k > m depress by 1.25 A- e^{-(k-m)dt/tau+}), with
// the weight w = l + s clipped to [0, g_max], the change added to s, the rule applied on
// all synapses, maintenance c dt sum|s| charged and s decayed by e^{-dt/tau} (docs/spiking.md
// step 5), with l, s and every energy term kept by the reference itself across trials.

struct SpikingRef {
  std::vector<double> l, s;
  double classic = 0.0, consolidation = 0.0, maintenance = 0.0;
};

void replay_trial(const spiking::Params& p, const spiking::Pattern& pat,
                  const std::vector<spiking::StepRecord>& rec, Rule rule, double theta,
                  double tau_ms, double c_per_ms, SpikingRef& r, int trial) {
  const double f = std::isinf(tau_ms) ? 1.0 : std::exp(-p.dt / tau_ms);
  const std::size_t n = pat.inputs.size();
  std::vector<int> posts;
  std::vector<std::vector<int>> pres(n);
  for (std::size_t k = 0; k < rec.size(); ++k) {
    const int kk = static_cast<int>(k);
    double y = 0.0;
    for (int m : posts) y += std::exp(-(kk - m) * p.dt / p.tau_plus);
    bool changed = false;
    for (std::size_t j = 0; j < n; ++j) {
      double d = 0.0;
      if (rec[k].input_spikes[j] > 0) {
        d -= 1.25 * p.A_minus() * y;
        pres[j].push_back(kk);
        changed = true;
      }
      if (rec[k].output_spike) {
        double x = 0.0;
        for (int m : pres[j]) x += std::exp(-(kk - m) * p.dt / p.tau_minus);
        d += 1.25 * p.A_plus * x;
        changed = true;
      }
      const auto i = static_cast<std::size_t>(pat.inputs[j]);
      const double w = r.l[i] + r.s[i];
      const double dd = std::clamp(w + d, 0.0, p.g_max) - w;
      r.s[i] += dd;
      r.classic += std::fabs(dd);
    }
    if (changed) {
      double mx = 0.0, sum = 0.0;
      for (double v : r.s) {
        mx = std::max(mx, std::fabs(v));
        sum += std::fabs(v);
      }
      for (std::size_t i = 0; i < r.s.size(); ++i) {
        bool cons = false;
        if (rule == Rule::classic) cons = true;  // every change straight into l
        if (rule == Rule::synapse) cons = std::fabs(r.s[i]) > theta;
        if (rule == Rule::neuron) cons = mx > theta;
        if (rule == Rule::sum) cons = sum > theta;
        if (cons && r.s[i] != 0.0) {
          r.l[i] += r.s[i];
          r.consolidation += std::fabs(r.s[i]);
          r.s[i] = 0.0;
        }
      }
    }
    double sum = 0.0;
    for (double v : r.s) sum += std::fabs(v);
    r.maintenance += c_per_ms * p.dt * sum;
    for (double& v : r.s) v *= f;
    for (std::size_t j = 0; j < n; ++j) {
      const auto i = static_cast<std::size_t>(pat.inputs[j]);
      ASSERT_NEAR(rec[k].weights[j], r.l[i] + r.s[i], 1e-9)
          << "trial " << trial << " step " << k << " input " << j;
      // Continue from the learner's total (the clip's rounding), in its split.
    }
    if (rec[k].output_spike) posts.push_back(kk);
  }
}

void compare_spiking(Rule rule, double theta, double tau_ms, double c_per_ms, int trials,
                     std::uint64_t seed) {
  SCOPED_TRACE(std::string(rule_name(rule)) + " theta " + std::to_string(theta) + " tau " +
               std::to_string(tau_ms) + " c " + std::to_string(c_per_ms));
  spiking::LearningConfig cfg;
  cfg.patterns = 4;
  cfg.cache.rule = rule;
  cfg.cache.theta = theta;
  cfg.cache.tau = tau_ms;
  cfg.cache.c = c_per_ms;
  cfg.seed = seed;
  cfg.params.A_plus = 0.02;  // strong STDP: weights reach theta and the clip in few trials
  spiking::Learner L(cfg);
  const std::size_t N = L.store().cols();
  SpikingRef r;
  r.l.assign(N, 0.0);
  r.s.assign(N, 0.0);
  for (int t = 0; t < trials; ++t) {
    const spiking::Pattern& pat = L.patterns()[static_cast<std::size_t>(t) % L.patterns().size()];
    std::vector<spiking::StepRecord> rec;
    L.trial(pat, &rec, t);
    replay_trial(cfg.params, pat, rec, rule, theta, tau_ms, c_per_ms, r, t);
    if (::testing::Test::HasFatalFailure()) return;
    for (std::size_t i = 0; i < N; ++i) {
      ASSERT_NEAR(L.store().persistent(0, i), r.l[i], 1e-9) << "trial " << t << " l_" << i;
      ASSERT_NEAR(L.store().transient(0, i), r.s[i], 1e-9) << "trial " << t << " s_" << i;
    }
    const EnergyTally& e = L.store().energy();
    EXPECT_NEAR(e.classic, r.classic, 1e-9 * std::max(1.0, r.classic)) << "trial " << t;
    EXPECT_NEAR(e.consolidation, r.consolidation, 1e-9 * std::max(1.0, r.consolidation));
    EXPECT_NEAR(e.maintenance, r.maintenance, 1e-9 * std::max(1.0, r.maintenance));
  }
  // The run exercised what it claims to: something consolidated and something stayed.
  if (rule != Rule::classic) {
    EXPECT_GT(r.consolidation, 0.0);
    if (c_per_ms > 0.0) {
      EXPECT_GT(r.maintenance, 0.0);
    }
  }
}

TEST(ReferenceSpikingStore, CachingWithDecayAndMaintenanceMatchesReplay) {
  compare_spiking(Rule::classic, 0.0, kInf, 0.0, 8, 5);
  for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum}) {
    const double theta = rule == Rule::sum ? 0.9 : 0.35;
    compare_spiking(rule, theta, kInf, 0.0, 8, 5);      // no decay, no maintenance
    compare_spiking(rule, theta, 30.0, 0.004, 8, 5);    // fast decay (0.2 trials)
    compare_spiking(rule, theta, 700.0, 0.0013, 8, 7);  // slow decay
  }
}

TEST(ValidateReferenceSpikingStore, MoreTrialsAndSeeds) {
  for (std::uint64_t seed : {11u, 12u, 13u}) {
    for (Rule rule : {Rule::synapse, Rule::neuron, Rule::sum}) {
      const double theta = rule == Rule::sum ? 0.9 : 0.35;
      compare_spiking(rule, theta, 30.0, 0.004, 30, seed);
      compare_spiking(rule, theta, 333.0, 0.02, 30, seed);
    }
  }
}

}  // namespace
}  // namespace syncache
