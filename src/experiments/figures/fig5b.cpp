// Figure 5B: energy of the MNIST network vs test accuracy, with and without synaptic
// caching, and the minimal energy of each (docs/model.md section 3).
#include "mlp_common.hpp"
#include "syncache/experiments/figures.hpp"

namespace syncache {

FigureData figure_fig5b(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  auto keys = figmlp::settings_keys();
  keys.insert(keys.end(), {"theta", "tau", "c", "rule"});
  cfg.check_keys(keys);
  const figmlp::Settings set = figmlp::read_settings(cfg, ctx);
  MlpRun cached = set.base;
  cached.net = figmlp::with_caching(cfg, set.base.net);

  std::vector<MlpRun> runs;
  figmlp::add_seeded(runs, set.base, set.seeds);
  figmlp::add_seeded(runs, cached, set.seeds);
  const auto results = run_mlp_curves(runs, set.data, ctx.env, "fig5b");

  FigureData fig;
  const std::size_t n = set.seeds.size();
  figmlp::add_curves(fig, results, 0, n, "classic");
  figmlp::add_curves(fig, results, n, n, "caching");
  fig.notes.push_back(figmlp::network_note(set.base.net) + "; caching: " +
                      figmlp::caching_note(cached.net) + "; " + figmlp::training_note(set));
  return fig;
}

namespace {
const FigureRegistration kRegistration{
    {"fig5b", "MNIST network: energy vs test accuracy with and without caching", figure_fig5b,
     120}};
}  // namespace

}  // namespace syncache
