// Shared by the figures that optimise the consolidation threshold (2C, 3, 4B; the searches
// themselves are in priced_search.hpp): their notes, search options and per-seed ratios.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "syncache/experiments/experiment.hpp"
#include "syncache/experiments/optimiser.hpp"

namespace syncache::figopt {

// Thresholds the searches of a figure evaluated, and how many of them were excluded (a
// seed hit the epoch cap, or the mean provably exceeded the search's bound; see
// priced_search.hpp). Both are the same whichever runs were stopped in time.
struct SearchCounts {
  long evaluated = 0, excluded = 0;
  void add(const OptimiserResult& r) {
    evaluated += static_cast<long>(r.curve.size());
    for (const auto& p : r.curve) excluded += p.excluded ? 1 : 0;
  }
};

// Short text of a number for labels ("0.001", "1e-06").
// The notes every optimised figure writes: the near-optimal band, the excluded thresholds
// and how many optima lie at an end of the search interval (`what` names the points, e.g.
// "c values").
inline void add_search_notes(FigureData& data, double tolerance, const SearchCounts& counts,
                             std::int64_t at_lo, std::int64_t at_hi, const std::string& what) {
  data.notes.push_back("flat_lo/flat_hi: evaluated thetas whose mean energy is within " +
                       short_number(100.0 * tolerance) + " % of the minimum");
  data.notes.push_back(
      "thresholds evaluated over all searches: " + std::to_string(counts.evaluated) +
      ", excluded (a seed hit the epoch cap, or the mean above (1 + " + short_number(tolerance) +
      ") x the best of the earlier grids; their runs may stop early): " +
      std::to_string(counts.excluded) + "; " + what +
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

// Per-seed ratio a / b.
inline std::vector<double> ratio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] / b[i];
  return r;
}

}  // namespace syncache::figopt
