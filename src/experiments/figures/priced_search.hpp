// Threshold searches that share their runs (Figures 2C, 3 and 4B): the energy-optimal
// consolidation threshold theta_hat of a cached perceptron (docs/model.md section 2) for
// many maintenance costs c, and in Figure 3 many decay times tau, at once.
//
// Pricing. The maintenance cost c only charges c sum_t sum_i |s_i(t)|; it never changes
// what the perceptron does. Every run is therefore made once, at c = kCRef, and its total
// energy at any c is M_cons + M_change + (c / kCRef) M_trans (energy_at). The searches of
// all c run in lockstep: each asks for its next grid, the union of the grids runs as one
// parallel batch, and a (tau, theta, seed) run serves every search that asks for it.
//
// Early abandonment (minimise_threshold_bounded). Each search passes, with its grid, a bound
// B: (1 + margin) times its lowest mean energy so far. A threshold whose mean over the S
// seeds exceeds B cannot win. The energies of a run only grow (every term of M_cons,
// M_change and M_trans is a non-negative addition), so with the finished seeds' totals
// E_j and a running seed's energy e(t) so far,
//     S * mean >= sum_{finished j} E_j + e(t),
// and once the right side exceeds S * B (1 + 1e-9: rounding never stops a tie) for every
// search that asked for the threshold (each at its own c), the run stops and the threshold's seeds
// that have not started are skipped. A run that hits the epoch cap excludes its threshold for every
// c (a threshold at which some seed does not learn is never theta_hat: docs/guide/results.md, "Runs
// that hit the epoch cap"), so its siblings stop too. Stopped runs are not stored. The optimiser
// excludes a threshold whenever its mean exceeds B, stopped or not, so the result does not depend
// on which runs stopped in time: theta_hat, its energy and the flat band are those of the
// exhaustive search (tests/test_experiment.cpp, PricedSearch.*).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "syncache/experiments/experiment.hpp"
#include "syncache/experiments/optimiser.hpp"

namespace syncache::figopt {

// The maintenance cost at which the shared runs are made.
inline constexpr double kCRef = 1.0;

// Total energy at maintenance cost c of a run made at c = kCRef.
double energy_at(const nlohmann::json& run, double c);

// The lowest threshold that no transient weight of a run of cfg with decay time tau can
// exceed, so that every theta at or above it gives the same run as theta = +inf (nothing
// consolidates before the end): the searches make that run once for all of them. With
// inputs and bias +-1 (random patterns, zero_mean off) each step multiplies s_i by the
// decay factor f (1 - 1/tau, linear decay) and then adds at most eta, so from s = 0
//     |s_i(t)| <= eta (1 + f + ... + f^(t - 1)) < eta / (1 - f)   (= eta tau, linear);
// the rules synapse and neuron compare max |s_i| with theta, sum compares the sum over
// the N + 1 synapses (< (N + 1) eta / (1 - f)). Returned with a relative margin of 1e-6 (far
// above the rounding of s); +inf when no bound is known (no decay, patterns from a file,
// zero_mean, classic).
double unreachable_threshold(const PerceptronConfig& cfg, double tau);

// One search: the decay time tau of its runs (+inf: no decay) and the maintenance cost c
// it prices them at.
struct PricedSpec {
  double tau;
  double c;
};

struct PricedOutcome {
  OptimiserResult opt;  // excluded curve points: mean +inf
  // At theta_hat, per seed (in seed order), priced at this search's c: the total, its
  // consolidation and maintenance parts; and the runs themselves (made at c = kCRef).
  std::vector<double> total, consolidation, maintenance;
  std::vector<nlohmann::json> at_best;
  // Smallest and largest evaluated theta whose mean lies within (1 + margin) of the
  // minimum: how flat the energy-vs-theta curve is around theta_hat.
  double flat_lo = 0.0, flat_hi = 0.0;
};

struct PricedStats {
  long requested = 0;  // distinct (tau, theta, seed) runs the searches asked for
  long finished = 0;   // runs that went to the end (computed or found in the store)
  long abandoned = 0;  // runs stopped by the bound or a capped sibling, or never started
};

// One line on standard error: how many runs the searches asked for and how many stopped
// early (depends on the timing of the threads, so it is not part of the figure's data).
void report_stats(const std::string& figure, const PricedStats& stats);

// Runs the searches. base: the perceptron (rule, N, P, eta, max_epochs, ...); its seed,
// cache.theta, cache.tau and cache.c are set per run. margin: see above (>= 0; Figures 2C
// and 4B use their flat_tolerance, so the flat band keeps every mean it contains).
// Outcomes in the order of `specs`. Throws std::runtime_error when no threshold of a
// search's first grid has every seed converged.
std::vector<PricedOutcome> priced_searches(const PerceptronConfig& base,
                                           const std::vector<std::uint64_t>& seeds,
                                           const std::vector<PricedSpec>& specs,
                                           const OptimiserOptions& opt, double margin,
                                           const ExperimentEnv& env, const std::string& label,
                                           PricedStats* stats = nullptr);

}  // namespace syncache::figopt
