// Figure 2B: with synaptic caching, the consolidation energy M_cons falls and the
// maintenance energy M_trans rises with the consolidation threshold theta; their sum is
// minimal at an intermediate theta. The curve is the threshold optimiser's evaluated grid
// (every point averaged over the same seeds), so theta_hat is marked on it. Without decay
// the theory of Materials and methods is drawn with the K and T measured in the runs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <stdexcept>

#include "optimise_common.hpp"
#include "syncache/experiments/figures.hpp"
#include "syncache/experiments/optimiser.hpp"
#include "syncache/models/theory.hpp"

namespace syncache {

FigureData figure_fig2b(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys({"description", "master_seed", "N", "P", "rule", "tau", "c", "eta", "theta_lo",
                  "theta_hi", "grid_points", "refine_rounds", "refine_points", "repeats",
                  "max_epochs"});
  PerceptronConfig base = cached_perceptron_base(cfg);
  base.cache.tau = cfg.number("tau");
  base.cache.c = cfg.number("c");

  const OptimiserOptions opt =
      figopt::search_options(cfg, "", static_cast<int>(cfg.integer("repeats")));
  {
    PerceptronConfig check = base;
    check.cache.theta = opt.lo;
    try {
      check.validate();
    } catch (const ParamError& e) {
      throw_located(cfg, e.key() == "theta" ? ParamError("theta_lo", e.message()) : e);
    }
  }
  const auto seeds = repeat_seeds(ctx.env.master_seed, opt.seeds);

  // Every (theta, seed) run is kept, so each curve point has all three energy terms.
  std::map<std::pair<double, int>, nlohmann::json> runs;
  auto evaluate = [&](const std::vector<std::pair<double, int>>& points) {
    std::vector<PerceptronConfig> configs;
    for (const auto& [theta, k] : points) {
      PerceptronConfig c = base;
      c.cache.theta = theta;
      c.seed = seeds[static_cast<std::size_t>(k)];
      configs.push_back(c);
    }
    const auto results = run_perceptrons(configs, ctx.env, "fig2b");
    std::vector<double> totals;
    for (std::size_t i = 0; i < points.size(); ++i) {
      runs[points[i]] = results[i];
      // A run that hit the epoch cap still has a finite (lower-bound) energy.
      totals.push_back(results[i]["energy"]["total"].get<double>());
    }
    return totals;
  };
  const OptimiserResult best = minimise_threshold_batched(evaluate, opt);

  FigureData data;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::int64_t not_converged = 0;
  std::vector<double> K_all, T_all, classic_all, minimal_all;
  for (const CurvePoint& pt : best.curve) {
    std::vector<double> cons, maint, total, classic, minimal, events, epochs;
    for (int k = 0; k < opt.seeds; ++k) {
      const auto& r = runs.at({pt.theta, k});
      const bool ok = r["converged"].get<bool>();
      not_converged += !ok;
      const auto get = [&](const char* a, const char* b) {
        return ok ? r[a][b].get<double>() : nan;
      };
      cons.push_back(get("energy", "consolidation"));
      maint.push_back(get("energy", "maintenance"));
      total.push_back(get("energy", "total"));
      classic.push_back(get("energy", "classic"));
      minimal.push_back(get("energy", "minimal"));
      events.push_back(ok ? r["consolidation_events"].get<double>() : nan);
      epochs.push_back(ok ? r["epochs"].get<double>() : nan);
      if (ok) {
        K_all.push_back(r["updates"].get<double>());
        T_all.push_back(r["presentations"].get<double>());
        classic_all.push_back(classic.back());
        minimal_all.push_back(minimal.back());
      }
    }
    data.add("energy", "consolidation", pt.theta, cons);
    data.add("energy", "maintenance", pt.theta, maint);
    data.add("energy", "total", pt.theta, total);
    data.add("energy", "no caching", pt.theta, classic);
    data.add("energy", "minimal", pt.theta, minimal);
    data.add("events", "consolidation events", pt.theta, events);
    data.add("epochs", "simulation", pt.theta, epochs);
  }
  // The optimiser's choice: theta_hat with the mean total (all seeds, as optimised).
  data.rows.push_back(FigureRow{"optimum", "theta_hat", best.theta_hat, best.mean, best.se,
                                static_cast<std::int64_t>(opt.seeds)});

  const double Nw = static_cast<double>(base.N + 1);  // N inputs plus the bias weight
  const MeanSe K = mean_se(K_all), T = mean_se(T_all);
  const bool theory_ok = std::isinf(base.cache.tau) && K.n > 0;
  if (theory_ok) {
    // No decay: M_cons = eta^2 N K / theta + N theta / 3, M_trans = c N T theta / 3
    // (Eq. 4), K and T as measured (they do not depend on theta without decay). Drawn for
    // theta >= eta, where the random-walk argument holds; it assumes local (synapse)
    // consolidation, so the neuron rule consolidates more and maintains less.
    const double eta = base.eta, c = base.cache.c;
    auto m_cons = [&](double th) { return eta * eta * Nw * K.mean / th + Nw * th / 3.0; };
    auto m_trans = [&](double th) { return c * Nw * T.mean * th / 3.0; };
    const int n = 200;
    const double lo = std::max(opt.lo, eta);
    for (int i = 0; i < n; ++i) {
      const double th = lo * std::pow(opt.hi / lo, static_cast<double>(i) / (n - 1));
      data.add_theory("energy", "theory consolidation", th, m_cons(th));
      data.add_theory("energy", "theory maintenance", th, m_trans(th));
      data.add_theory("energy", "theory total", th, m_cons(th) + m_trans(th));
    }
    // theta_hat^2 = 3 K eta^2 / (1 + c T)
    const double th_hat = eta * std::sqrt(3.0 * K.mean / (1.0 + c * T.mean));
    data.add_theory("optimum", "theory theta_hat", th_hat, m_cons(th_hat) + m_trans(th_hat));
  }
  const MeanSe classic = mean_se(classic_all), minimal = mean_se(minimal_all);
  data.notes.push_back(
      "N = " + std::to_string(base.N) + ", P = " + std::to_string(base.P) + ", rule " +
      std::string(rule_name(base.cache.rule)) + ", tau = " + short_number(base.cache.tau) +
      ", c = " + short_number(base.cache.c) + ", eta = " + short_number(base.eta) + "; " +
      std::to_string(opt.seeds) + " seeds per theta (the same for every theta)");
  data.notes.push_back("theta_hat = " + short_number(best.theta_hat) + " (bracket " +
                       short_number(best.bracket_lo) + " .. " + short_number(best.bracket_hi) +
                       (best.at_boundary ? ", AT THE SEARCH BOUNDARY" : "") + "), total energy " +
                       short_number(best.mean) + " +- " + short_number(best.se) +
                       "; without caching " + short_number(classic.mean) + ", minimal " +
                       short_number(minimal.mean));
  data.notes.push_back(
      "measured K = " + short_number(K.mean) + ", T = " + short_number(T.mean) +
      (theory_ok ? "; theory (no decay) uses them" : "; no theory with decay") +
      "; runs that hit the epoch cap are left out of the means: " + std::to_string(not_converged));
  return data;
}

namespace {
const FigureRegistration kRegistration{
    {"fig2b", "consolidation, maintenance and total energy vs theta", figure_fig2b, 40}};
}  // namespace

}  // namespace syncache
