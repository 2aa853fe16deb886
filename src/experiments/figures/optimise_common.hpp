// Shared by Figures 2C and 4B: the energy-optimal consolidation threshold theta_hat of a
// cached perceptron (docs/model.md section 2), found by minimise_threshold_batched on the mean
// total energy over seeds. Every grid of the search runs in parallel through
// run_perceptrons (and the results store).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "syncache/experiments/experiment.hpp"
#include "syncache/experiments/optimiser.hpp"

namespace syncache::figopt {

// The epoch-cap policy of every threshold optimiser (README, "Runs that hit the epoch
// cap"): a run that stopped at the cap has not learnt, whatever it spent, so its objective
// is this value instead of its energy, and theta_hat is the best threshold at which every
// seed converged. (The mean over seeds of a failed point stays >= kNotConverged / seeds,
// far above any energy.)
inline constexpr double kNotConverged = 1e30;
inline double objective(const nlohmann::json& run, double energy) {
  return run["converged"].get<bool>() ? energy : kNotConverged;
}

// Short text of a number for labels ("0.001", "1e-06").
// The notes every optimised figure writes: the near-optimal band, and how many optima hit
// the epoch cap or an end of the search interval (`what` names the points, e.g. "c values").
inline void add_search_notes(FigureData& data, double tolerance, std::int64_t not_converged,
                             std::int64_t at_lo, std::int64_t at_hi, const std::string& what) {
  data.notes.push_back("flat_lo/flat_hi: evaluated thetas whose mean energy is within " +
                       short_number(100.0 * tolerance) + " % of the minimum");
  data.notes.push_back(
      "runs at theta_hat that hit the epoch cap: " + std::to_string(not_converged) + "; " + what +
      " with theta_hat at the lower end of the search interval (theta < eta: "
      "consolidation after every update, = classic): " +
      std::to_string(at_lo) + ", at the upper end (widen it): " + std::to_string(at_hi));
}

// A percentage with 3 significant digits ("12.5 %").
inline std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g %%", 100.0 * fraction);
  return buf;
}

// The search options of one rule from the experiment file: theta_lo<suffix>,
// theta_hi<suffix> and the shared grid_points, refine_rounds, refine_points.
inline OptimiserOptions search_options(const ExperimentConfig& cfg, const std::string& suffix,
                                       int seeds) {
  OptimiserOptions o;
  o.lo = cfg.number("theta_lo" + suffix);
  o.hi = cfg.number("theta_hi" + suffix);
  o.grid_points = static_cast<int>(cfg.integer("grid_points"));
  o.refine_rounds = static_cast<int>(cfg.integer("refine_rounds"));
  o.refine_points = static_cast<int>(cfg.integer("refine_points"));
  o.seeds = seeds;
  try {
    o.validate();
  } catch (const ParamError& e) {
    throw_located(cfg, optimiser_error_in_file(e, suffix));
  }
  return o;
}

struct Optimised {
  OptimiserResult opt;
  std::vector<nlohmann::json> at_best;  // the run of each seed at theta_hat, in seed order
  // Smallest and largest evaluated theta whose mean energy lies within (1 + tolerance) of
  // the minimum: how flat the energy-vs-theta curve is around theta_hat.
  double flat_lo = 0.0, flat_hi = 0.0;
};

// Minimises the mean over `seeds` of the total energy of `base` (its rule, tau, c, ...)
// over theta. base.seed and base.cache.theta are overwritten per run.
inline Optimised optimise_theta(const PerceptronConfig& base,
                                const std::vector<std::uint64_t>& seeds,
                                const OptimiserOptions& opt, const ExperimentEnv& env,
                                const std::string& label, double tolerance) {
  std::map<std::pair<double, int>, nlohmann::json> runs;
  auto evaluate = [&](const std::vector<std::pair<double, int>>& points) {
    std::vector<PerceptronConfig> configs;
    configs.reserve(points.size());
    for (const auto& [theta, k] : points) {
      PerceptronConfig c = base;
      c.cache.theta = theta;
      c.seed = seeds.at(static_cast<std::size_t>(k));
      configs.push_back(c);
    }
    const auto results = run_perceptrons(configs, env, label);
    std::vector<double> energy;
    energy.reserve(points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
      energy.push_back(objective(results[i], results[i]["energy"]["total"].get<double>()));
      runs[points[i]] = results[i];
    }
    return energy;
  };
  Optimised out;
  out.opt = minimise_threshold_batched(evaluate, opt);
  for (int k = 0; k < opt.seeds; ++k) {
    const auto it = runs.find({out.opt.theta_hat, k});
    if (it == runs.end()) {
      throw std::runtime_error(label +
                               ": no run stored at theta_hat = " + short_number(out.opt.theta_hat));
    }
    out.at_best.push_back(it->second);
  }
  const double limit = out.opt.mean * (1.0 + tolerance);
  out.flat_lo = std::numeric_limits<double>::infinity();
  out.flat_hi = -out.flat_lo;
  for (const auto& p : out.opt.curve) {
    if (p.mean <= limit) {
      out.flat_lo = std::min(out.flat_lo, p.theta);
      out.flat_hi = std::max(out.flat_hi, p.theta);
    }
  }
  return out;
}

// Per-seed ratio a / b.
inline std::vector<double> ratio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] / b[i];
  return r;
}

}  // namespace syncache::figopt
