// Figure 2C: synaptic caching without decay (tau = inf), N = P = 1000, rule `neuron`.
// Energy with caching vs the maintenance cost c, theta optimised per c on the mean of
// the seeds, against the theory M_cache/M_min = min(sqrt(2 pi/3 (1 + cT)), sqrt(pi K/2))
// (Materials and methods), with the minimal and the classic energy; lower panel: theta_hat
// vs c against theta_hat^2 = 3 K eta^2 / (1 + cT).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "optimise_common.hpp"
#include "priced_search.hpp"
#include "syncache/experiments/figures.hpp"
#include "syncache/models/theory.hpp"

namespace syncache {

namespace {

double mean_of(const std::vector<double>& v) {
  return mean_se(v).mean;
}

// Caching inefficiency with given K and T (Materials and methods, after Eq. 4).
double caching_ratio(double K, double T, double c) {
  return std::min(std::sqrt(2.0 * M_PI / 3.0 * (1.0 + c * T)), std::sqrt(M_PI * K / 2.0));
}

}  // namespace

FigureData figure_fig2c(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys({"description", "master_seed", "N", "P", "eta", "max_epochs", "repeats",
                  "c_values", "theta_lo", "theta_hi", "grid_points", "refine_rounds",
                  "refine_points", "flat_tolerance"});
  const std::int64_t N = cfg.integer("N"), P = cfg.integer("P");
  if (N < 1 || P < 1 || P >= 2 * N) {
    throw std::invalid_argument(cfg.where("P") + ": need N >= 1 and 1 <= P < 2N");
  }
  const double eta = cfg.number("eta");
  const std::vector<double> cs = cfg.numbers("c_values");
  for (double c : cs) {
    if (!(c > 0.0) || !std::isfinite(c)) {
      throw std::invalid_argument(
          cfg.where("c_values") +
          ": values must be finite and > 0 (log axis; c = 0 is always run)");
    }
  }
  const double tolerance = cfg.number("flat_tolerance");
  if (!(tolerance >= 0.0)) {
    throw std::invalid_argument(cfg.where("flat_tolerance") + ": must be >= 0");
  }
  const auto seeds = repeat_seeds(ctx.env.master_seed, positive_integer(cfg, "repeats"));
  const int nseeds = static_cast<int>(seeds.size());
  const OptimiserOptions search = figopt::search_options(cfg, "", nseeds);

  PerceptronConfig base;
  base.N = static_cast<std::size_t>(N);
  base.P = static_cast<std::size_t>(P);
  base.eta = eta;
  base.max_epochs = positive_integer(cfg, "max_epochs");

  // Classic learning: the classic and the minimal energy, K and T of each seed (without
  // decay, caching does not change the weights w = l + s, so K and T are the same).
  const auto classic = run_perceptrons(with_seeds(base, seeds), ctx.env, "fig2c classic");
  const auto m_classic = result_values(classic, {"energy", "total"});
  const auto m_min = result_values(classic, {"energy", "minimal"});
  const auto K_runs = result_values(classic, {"updates"});
  const auto T_runs = result_values(classic, {"presentations"});
  const double K = mean_of(K_runs), T = mean_of(T_runs), Mmin = mean_of(m_min);

  FigureData data;
  base.cache.rule = Rule::neuron;
  std::int64_t at_lo = 0, at_hi = 0;
  std::vector<double> all_c = {0.0};
  all_c.insert(all_c.end(), cs.begin(), cs.end());
  // One search per c over shared runs (figures/priced_search.hpp).
  std::vector<figopt::PricedSpec> specs;
  for (double c : all_c) specs.push_back({std::numeric_limits<double>::infinity(), c});
  figopt::PricedStats stats;
  const auto outcomes =
      figopt::priced_searches(base, seeds, specs, search, tolerance, ctx.env, "fig2c", &stats);
  figopt::SearchCounts counts;
  for (std::size_t i = 0; i < all_c.size(); ++i) {
    const double c = all_c[i];
    const figopt::PricedOutcome& res = outcomes[i];
    const auto& total = res.total;
    counts.add(res.opt);
    at_lo += res.opt.theta_hat == search.lo;
    at_hi += res.opt.theta_hat == search.hi;
    const std::string curve_panel = "energy vs theta, c=" + short_number(c);
    for (const auto& p : res.opt.curve) {
      if (p.excluded) continue;
      data.rows.push_back({curve_panel, "mean total", p.theta, p.mean, p.se, p.count});
    }
    if (c == 0.0) {
      // No log-axis position: reported as its own panel and in the notes.
      const auto ineff = figopt::ratio(total, m_min);
      data.add("c0", "total/minimal", 0.0, ineff);
      data.rows.push_back({"c0", "theta_hat", 0.0, res.opt.theta_hat, 0.0, nseeds});
      const MeanSe m = mean_se(ineff);
      data.notes.push_back("c = 0: theta_hat = " + short_number(res.opt.theta_hat) +
                           " (flat from " + short_number(res.flat_lo) + "), total/minimal = " +
                           short_number(m.mean) + " +- " + short_number(m.se) +
                           "; theory sqrt(2 pi/3) = " + short_number(std::sqrt(2.0 * M_PI / 3.0)));
      continue;
    }
    data.add("energy", "caching", c, total);
    data.add("energy", "consolidation", c, res.consolidation);
    data.add("energy", "maintenance", c, res.maintenance);
    data.add("energy", "minimal", c, m_min);
    data.add("energy", "classic", c, m_classic);
    data.add("inefficiency", "caching", c, figopt::ratio(total, m_min));
    data.add("inefficiency", "classic", c, figopt::ratio(m_classic, m_min));
    data.add("saving", "caching/classic", c, figopt::ratio(total, m_classic));
    data.rows.push_back({"theta_hat", "simulation", c, res.opt.theta_hat, 0.0, nseeds});
    data.rows.push_back({"theta_hat", "flat_lo", c, res.flat_lo, 0.0, nseeds});
    data.rows.push_back({"theta_hat", "flat_hi", c, res.flat_hi, 0.0, nseeds});
  }

  // Theory on a dense log grid over the c range, so the kink of min(.) is drawn sharply.
  const double Nd = static_cast<double>(N), Pd = static_cast<double>(P);
  const double c_lo = *std::min_element(cs.begin(), cs.end());
  const double c_hi = *std::max_element(cs.begin(), cs.end());
  const int dense = 121;
  for (int k = 0; k < dense; ++k) {
    const double c =
        c_lo == c_hi
            ? c_lo
            : std::exp(std::log(c_lo) + (std::log(c_hi) - std::log(c_lo)) * k / (dense - 1));
    // Paper's fits K = 2P/(2 - P/N)^2, T = P^{3/2}/(2 - P/N)^2, scaled by the measured M_min.
    data.add_theory("energy", "theory (fit K, T)", c,
                    theory::caching_inefficiency(Nd, Pd, c) * Mmin);
    data.add_theory("energy", "theory (measured K, T)", c, caching_ratio(K, T, c) * Mmin);
    data.add_theory("inefficiency", "theory (fit K, T)", c,
                    theory::caching_inefficiency(Nd, Pd, c));
    data.add_theory("inefficiency", "theory (measured K, T)", c, caching_ratio(K, T, c));
    // theta_hat^2 = 3 K eta^2 / (1 + cT).
    data.add_theory("theta_hat", "theory (fit K, T)", c, theory::theta_opt(Nd, Pd, c, eta));
    data.add_theory("theta_hat", "theory (measured K, T)", c,
                    std::sqrt(3.0 * K * eta * eta / (1.0 + c * T)));
    data.add_theory("theta_hat", "update size eta", c, eta);
  }

  const MeanSe ineff_classic = mean_se(figopt::ratio(m_classic, m_min));
  data.notes.push_back("N = " + std::to_string(N) + ", P = " + std::to_string(P) +
                       ", tau = inf, rule neuron, " + std::to_string(nseeds) +
                       " seeds; theta optimised per c on the mean total energy over the seeds "
                       "in [" +
                       short_number(search.lo) + ", " + short_number(search.hi) + "] (" +
                       std::to_string(search.grid_points) + "-point log grid, " +
                       std::to_string(search.refine_rounds) + " refinements of " +
                       std::to_string(search.refine_points) + " points)");
  data.notes.push_back("measured K = " + short_number(K) + ", T = " + short_number(T) +
                       " (fits: K = " + short_number(theory::updates(Nd, Pd)) +
                       ", T = " + short_number(theory::presentations(Nd, Pd)) +
                       "); classic/minimal = " + short_number(ineff_classic.mean) + " +- " +
                       short_number(ineff_classic.se) +
                       "; theory theta_hat = eta at c = (3K - 1)/T = " +
                       short_number((3.0 * K - 1.0) / T) + " (measured K, T)");
  figopt::add_search_notes(data, tolerance, counts, at_lo, at_hi, "c values");
  figopt::report_stats("fig2c", stats);
  return data;
}

namespace {
const FigureRegistration kRegistration{
    {"fig2c", "no decay: energy with caching vs c (optimised theta) against theory", figure_fig2c,
     50}};
}  // namespace

}  // namespace syncache
