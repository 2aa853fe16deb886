// Figure 3-supplement 1B: learning time vs energy of the MNIST network as the
// consolidation threshold theta varies, for several maintenance costs c (legend: theta
// from 0.005 in steps of 0.005, c = 0 and 0.001, eta = 0.1, tau = 10^4, required
// accuracy 0.93); classic learning as the reference point. Learning time: training
// samples until the first evaluation with test accuracy >= the target.
//
// c only prices sum_t sum_i |s_i(t)| and does not change the learning dynamics (docs/model.md
// sections 1 and 3), so each (theta, seed) runs once at c = kCRef and its energy at any c
// is M_cons + pending + (c / kCRef) M_maint at that evaluation.
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "mlp_common.hpp"
#include "syncache/experiments/figures.hpp"

namespace syncache {
namespace {

constexpr double kCRef = 1.0;  // c of the stored runs

}  // namespace

FigureData figure_fig3s1b(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  auto keys = figmlp::settings_keys();
  keys.insert(keys.end(),
              {"rule", "tau", "c", "target", "theta_start", "theta_stop", "theta_step"});
  cfg.check_keys(keys);
  figmlp::Settings set = figmlp::read_settings(cfg, ctx);
  const double target = cfg.number("target");
  if (!(target > 0.0 && target <= 1.0)) {
    throw std::invalid_argument(cfg.where("target") + ": must lie in (0, 1]");
  }
  set.base.training.target = target;
  const std::vector<double> cs = cost_values(cfg, "c");
  const std::vector<double> thetas = threshold_grid(cfg);
  const double t0 = cfg.number("theta_start"), t1 = cfg.number("theta_stop"),
               dt = cfg.number("theta_step");
  MlpConfig cached = set.base.net;
  cached.cache.rule = caching_rule(cfg, "rule", kMlp);
  cached.cache.tau = cfg.number("tau");
  cached.cache.c = kCRef;

  // Classic seeds first, then the theta grid from the largest theta down: larger
  // thresholds learn more slowly, and the runner starts runs in this order.
  std::vector<MlpRun> runs;
  figmlp::add_seeded(runs, set.base, set.seeds);
  for (auto it = thetas.rbegin(); it != thetas.rend(); ++it) {
    const double theta = *it;
    MlpRun run = set.base;
    run.net = cached;
    run.net.cache.theta = theta;
    figmlp::add_seeded(runs, run, set.seeds);
  }
  const auto results = run_mlp_curves(runs, set.data, ctx.env, "fig3s1b");

  const std::size_t n = set.seeds.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  FigureData fig;
  std::int64_t missed = 0, classic_missed = 0;
  // Classic at x = 0: energy and learning time do not depend on c.
  {
    std::vector<double> energy, samples, minimal;
    for (std::size_t s = 0; s < n; ++s) {
      const auto curve = curve_from_json(results[s]);
      const auto k = first_reaching(curve, target);
      classic_missed += k ? 0 : 1;
      energy.push_back(k ? curve[*k].energy.total() : nan);
      minimal.push_back(k ? curve[*k].energy.minimal : nan);
      samples.push_back(k ? static_cast<double>(curve[*k].samples) : nan);
    }
    fig.add("energy", "classic", 0.0, energy);
    fig.add("minimal", "classic", 0.0, minimal);
    fig.add("samples", "classic", 0.0, samples);
  }
  for (std::size_t i = 0; i < thetas.size(); ++i) {
    std::vector<std::vector<LearningPoint>> curves;
    std::vector<std::optional<std::size_t>> at;
    std::vector<double> samples;
    for (std::size_t s = 0; s < n; ++s) {
      curves.push_back(curve_from_json(results[n + (thetas.size() - 1 - i) * n + s]));
      at.push_back(first_reaching(curves.back(), target));
      missed += at.back() ? 0 : 1;
      samples.push_back(at.back() ? static_cast<double>(curves.back()[*at.back()].samples) : nan);
    }
    for (double c : cs) {
      const std::string series = "c=" + short_number(c);
      std::vector<double> energy;
      for (std::size_t s = 0; s < n; ++s) {
        if (!at[s]) {
          energy.push_back(nan);
          continue;
        }
        const EnergyTally& e = curves[s][*at[s]].energy;
        energy.push_back(e.consolidation + e.pending + c / kCRef * e.maintenance);
      }
      fig.add("energy", series, thetas[i], energy);
      fig.add("samples", series, thetas[i], samples);
    }
  }
  const double train_count =
      set.data.train_limit > 0 ? static_cast<double>(set.data.train_limit) : 60000.0;
  fig.add_theory("meta", "train_count", 0.0, train_count);
  fig.add_theory("meta", "target", 0.0, target);
  fig.add_theory("meta", "tau", 0.0, cached.cache.tau);
  fig.add_theory("meta", "repeats", 0.0, static_cast<double>(n));
  fig.add_theory("meta", "missed_runs", 0.0, static_cast<double>(missed + classic_missed));
  fig.add_theory("meta", "total_runs", 0.0, static_cast<double>(runs.size()));
  fig.add_theory("meta", "max_epochs", 0.0, static_cast<double>(set.base.training.max_epochs));

  fig.notes.push_back(
      figmlp::network_note(set.base.net) + "; caching: rule " +
      std::string(rule_name(cached.cache.rule)) + ", tau = " + short_number(cached.cache.tau) +
      ", theta = " + short_number(t0) + " ... " + short_number(t1) + " step " + short_number(dt) +
      "; target accuracy " + short_number(target) + "; " + figmlp::training_note(set));
  fig.notes.push_back(
      "x = theta; energy and samples rows at the same x pair into the parametric curve; "
      "classic rows at x = 0. Runs that never reached the target (patience or epoch cap) are "
      "left out of the means (n counts the others): " +
      std::to_string(missed + classic_missed) + " of " + std::to_string(runs.size()) + " runs");
  fig.notes.push_back("energy at c from runs made at c = 1: M_cons + pending + (c / 1) M_maint");
  return fig;
}

namespace {
const FigureRegistration kRegistration{
    {"fig3s1b", "MNIST network: learning time vs energy as theta varies (tau = 10^4), c = 0, 0.001",
     figure_fig3s1b, 80}};
}  // namespace

}  // namespace syncache
