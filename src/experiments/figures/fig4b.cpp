// Figure 4B: the consolidation rules synapse, neuron and sum (Figure 4A) without decay,
// N = P = 1000: energy vs the maintenance cost c, each rule with its own threshold
// optimised per c on the mean of the seeds. The sum rule's threshold applies to
// sum_i |s_i| over all N + 1 synapses, so it has its own search interval.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "optimise_common.hpp"
#include "priced_search.hpp"
#include "syncache/experiments/figures.hpp"

namespace syncache {

FigureData figure_fig4b(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys({"description", "master_seed", "N", "P", "eta", "max_epochs", "repeats",
                  "c_values", "rules", "theta_lo_synapse", "theta_hi_synapse", "theta_lo_neuron",
                  "theta_hi_neuron", "theta_lo_sum", "theta_hi_sum", "grid_points", "refine_rounds",
                  "refine_points", "flat_tolerance"});
  const std::int64_t N = cfg.integer("N"), P = cfg.integer("P");
  if (N < 1 || P < 1 || P / 2 >= N) {  // P >= 2N without overflow (P / 2 >= N iff P >= 2N)
    throw std::invalid_argument(cfg.where("P") + ": need N >= 1 and 1 <= P < 2N");
  }
  const std::vector<double> cs = cfg.numbers("c_values");
  for (double c : cs) {
    if (!(c > 0.0) || !std::isfinite(c)) {
      throw std::invalid_argument(
          cfg.where("c_values") +
          ": values must be finite and > 0 (log axis; c = 0 is always run)");
    }
  }
  std::vector<Rule> rules;
  for (const auto& name : cfg.texts("rules")) {
    rules.push_back(caching_rule_named(cfg, "rules", name));
  }
  const double tolerance = cfg.number("flat_tolerance");
  if (!(tolerance >= 0.0)) {
    throw std::invalid_argument(cfg.where("flat_tolerance") + ": must be >= 0");
  }
  const auto seeds = repeat_seeds(ctx.env.master_seed, positive_integer(cfg, "repeats"));
  const int nseeds = static_cast<int>(seeds.size());

  PerceptronConfig base;
  base.N = static_cast<std::size_t>(N);
  base.P = static_cast<std::size_t>(P);
  base.eta = cfg.number("eta");
  base.max_epochs = positive_integer(cfg, "max_epochs");

  // Classic learning: the classic and the minimal energy of each seed (without decay the
  // weights w = l + s, hence M_min, do not depend on the rule or theta).
  const auto classic = run_perceptrons(with_seeds(base, seeds), ctx.env, "fig4b classic");
  const auto m_classic = result_values(classic, {"energy", "total"});
  const auto m_min = result_values(classic, {"energy", "minimal"});

  FigureData data;
  std::vector<double> all_c = {0.0};
  all_c.insert(all_c.end(), cs.begin(), cs.end());
  // Per c, per rule: the per-seed totals at theta_hat.
  std::vector<std::vector<std::vector<double>>> totals(all_c.size());
  std::int64_t at_lo = 0, at_hi = 0;
  figopt::SearchCounts counts;
  figopt::PricedStats stats;
  std::string search_note, c0_note;
  for (Rule rule : rules) {
    const std::string name(rule_name(rule));
    const OptimiserOptions search = figopt::search_options(cfg, "_" + name, nseeds);
    search_note += (search_note.empty() ? "" : ", ") + name + " [" + short_number(search.lo) +
                   ", " + short_number(search.hi) + "]";
    PerceptronConfig pc = base;
    pc.cache.rule = rule;
    // One search per c over shared runs (figures/priced_search.hpp).
    std::vector<figopt::PricedSpec> specs;
    for (double c : all_c) specs.push_back({std::numeric_limits<double>::infinity(), c});
    const auto outcomes = figopt::priced_searches(pc, seeds, specs, search, tolerance, ctx.env,
                                                  "fig4b " + name, &stats);
    for (std::size_t i = 0; i < all_c.size(); ++i) {
      const double c = all_c[i];
      const figopt::PricedOutcome& res = outcomes[i];
      counts.add(res.opt);
      at_lo += res.opt.theta_hat == search.lo;
      at_hi += res.opt.theta_hat == search.hi;
      const auto& total = res.total;
      totals[i].push_back(total);
      const std::string curve_panel = "energy vs theta, " + name + ", c=" + short_number(c);
      for (const auto& p : res.opt.curve) {
        if (p.excluded) continue;
        data.rows.push_back({curve_panel, "mean total", p.theta, p.mean, p.se, p.count});
      }
      if (c == 0.0) {
        const MeanSe m = mean_se(figopt::ratio(total, m_min));
        c0_note += (c0_note.empty() ? "" : ", ") + name + " " + short_number(m.mean) + " +- " +
                   short_number(m.se);
        data.add("c0", name + " total/minimal", 0.0, figopt::ratio(total, m_min));
        data.rows.push_back({"c0", name + " theta_hat", 0.0, res.opt.theta_hat, 0.0, nseeds});
        continue;
      }
      data.add("energy", name, c, total);
      data.add("inefficiency", name, c, figopt::ratio(total, m_min));
      data.rows.push_back({"theta_hat", name, c, res.opt.theta_hat, 0.0, nseeds});
      data.rows.push_back({"theta_hat", name + " flat_lo", c, res.flat_lo, 0.0, nseeds});
      data.rows.push_back({"theta_hat", name + " flat_hi", c, res.flat_hi, 0.0, nseeds});
    }
  }

  // Comparison of the rules: per seed, each rule's energy over the neuron rule's (paired:
  // same patterns), and the spread (max - min) / min of the rules' mean energies per c.
  const auto neuron_at = std::find(rules.begin(), rules.end(), Rule::neuron);
  double worst_spread = 0.0, worst_c = 0.0;
  std::string spread_list;
  for (std::size_t i = 0; i < all_c.size(); ++i) {
    const double c = all_c[i];
    double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
    for (std::size_t r = 0; r < rules.size(); ++r) {
      const double m = mean_se(totals[i][r]).mean;
      lo = std::min(lo, m);
      hi = std::max(hi, m);
      if (c > 0.0 && neuron_at != rules.end()) {
        const auto& ref = totals[i][static_cast<std::size_t>(neuron_at - rules.begin())];
        data.add("relative to neuron", std::string(rule_name(rules[r])), c,
                 figopt::ratio(totals[i][r], ref));
      }
    }
    const double spread = (hi - lo) / lo;
    if (c > 0.0) data.add_theory("spread", "(max - min)/min of the rules", c, spread);
    if (spread > worst_spread) {
      worst_spread = spread;
      worst_c = c;
    }
    spread_list += (spread_list.empty() ? "" : ", ") + std::string("c=") + short_number(c) + ": " +
                   figopt::percent(spread);
  }
  for (double c : cs) {
    data.add("energy", "minimal", c, m_min);
    data.add("energy", "classic", c, m_classic);
  }

  data.notes.push_back("N = " + std::to_string(N) + ", P = " + std::to_string(P) + ", tau = inf, " +
                       std::to_string(nseeds) +
                       " seeds; theta optimised per rule and c on the mean total energy over "
                       "the seeds, in " +
                       search_note + " (" + std::to_string(cfg.integer("grid_points")) +
                       "-point log grid, " + std::to_string(cfg.integer("refine_rounds")) +
                       " refinements of " + std::to_string(cfg.integer("refine_points")) +
                       " points)");
  data.notes.push_back("spread of the rules' mean energies (max - min)/min: " + spread_list +
                       "; largest " + figopt::percent(worst_spread) +
                       " at c = " + short_number(worst_c));
  data.notes.push_back("c = 0: total/minimal at theta_hat: " + c0_note);
  figopt::add_search_notes(data, tolerance, counts, at_lo, at_hi, "(rule, c)");
  figopt::report_stats("fig4b", stats);
  return data;
}

namespace {
const FigureRegistration kRegistration{
    {"fig4b", "the rules synapse, neuron, sum vs c, each with its optimised theta", figure_fig4b,
     90}};
}  // namespace

}  // namespace syncache
