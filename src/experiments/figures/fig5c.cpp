// Figure 5C: energy the MNIST network needs to reach a target test accuracy (0.85, 0.93)
// vs the number of hidden units H, with and without caching (docs/model.md section 3; legend
// of Figure 5: eta = 0.1, tau = 1000, c = 0.001). Each run trains until it reaches the
// highest target (or the patience rule or the epoch cap stops it); the energy to reach a
// target is that of the first evaluation at or above it. Runs that never reach a target
// are left out of that target's mean and counted in the panel "reached_<target>".
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "mlp_common.hpp"
#include "syncache/experiments/figures.hpp"

namespace syncache {

FigureData figure_fig5c(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  auto keys = figmlp::settings_keys();
  keys.insert(keys.end(), {"hidden_values", "targets", "theta", "tau", "c", "rule"});
  cfg.check_keys(keys);
  figmlp::Settings set = figmlp::read_settings(cfg, ctx);
  const std::vector<double> targets = cfg.numbers("targets");
  for (double t : targets) {
    if (!(t > 0.0 && t <= 1.0)) {
      throw std::invalid_argument(cfg.where("targets") + ": every target must lie in (0, 1]");
    }
  }
  set.base.training.target = *std::max_element(targets.begin(), targets.end());
  std::vector<std::size_t> hidden;
  for (double h : cfg.numbers("hidden_values")) {
    if (!(h >= 1.0 && h <= 1e6 && h == std::floor(h))) {
      throw std::invalid_argument(cfg.where("hidden_values") + ": every H must be an integer >= 1");
    }
    hidden.push_back(static_cast<std::size_t>(h));
  }
  const MlpConfig cached_net = figmlp::with_caching(cfg, set.base.net);

  // Per H: the classic seeds, then the caching seeds.
  std::vector<MlpRun> runs;
  for (std::size_t h : hidden) {
    for (int cached = 0; cached < 2; ++cached) {
      MlpRun run = set.base;
      if (cached != 0) run.net = cached_net;
      run.net.hidden = h;
      figmlp::add_seeded(runs, run, set.seeds);
    }
  }
  const auto results = run_mlp_curves(runs, set.data, ctx.env, "fig5c");

  FigureData fig;
  const std::size_t n = set.seeds.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::int64_t> missed(targets.size(), 0);
  for (std::size_t i = 0; i < hidden.size(); ++i) {
    for (int cached = 0; cached < 2; ++cached) {
      const std::string series = cached != 0 ? "caching" : "classic";
      std::vector<std::vector<LearningPoint>> curves;
      for (std::size_t s = 0; s < n; ++s) {
        curves.push_back(
            curve_from_json(results[(2 * i + static_cast<std::size_t>(cached)) * n + s]));
      }
      const double x = static_cast<double>(hidden[i]);
      for (std::size_t t = 0; t < targets.size(); ++t) {
        std::vector<double> energy, minimal, samples, reached;
        for (const auto& curve : curves) {
          const auto k = first_reaching(curve, targets[t]);
          energy.push_back(k ? curve[*k].energy.total() : nan);
          minimal.push_back(k ? curve[*k].energy.minimal : nan);
          samples.push_back(k ? static_cast<double>(curve[*k].samples) : nan);
          reached.push_back(k ? 1.0 : 0.0);
          missed[t] += k ? 0 : 1;
        }
        std::string tag = short_number(targets[t]);
        tag.insert(tag.begin(), '_');
        fig.add("energy" + tag, series, x, energy);
        fig.add("minimal" + tag, series, x, minimal);
        fig.add("samples" + tag, series, x, samples);
        fig.add("reached" + tag, series, x, reached);
      }
    }
  }
  fig.notes.push_back(figmlp::network_note(set.base.net, "", "H") + "; caching: " +
                      figmlp::caching_note(cached_net) + "; " + figmlp::training_note(set));
  std::string miss;
  for (std::size_t t = 0; t < targets.size(); ++t) {
    miss += (t == 0 ? "" : ", ") + short_number(targets[t]) + ": " + std::to_string(missed[t]);
  }
  fig.notes.push_back(
      "energy_T, minimal_T, samples_T: at the first evaluation with test accuracy >= T, mean "
      "over the runs that reached T (n counts them); reached_T: fraction of runs that reached "
      "T. Runs that never reached T (patience or epoch cap) of " +
      std::to_string(runs.size()) + ": " + miss);
  return fig;
}

namespace {
const FigureRegistration kRegistration{
    {"fig5c", "MNIST network: energy to reach 0.85 / 0.93 accuracy vs hidden units H", figure_fig5c,
     130}};
}  // namespace

}  // namespace syncache
