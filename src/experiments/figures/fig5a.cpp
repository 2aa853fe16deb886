// Figure 5A: energy of the MNIST network (classic learning, no caching) vs test accuracy
// for several learning rates eta (docs/model.md section 3). Legend: "Except for the larger
// learning rates, the energy is independent of the learning rate".
#include <cmath>
#include <stdexcept>

#include "mlp_common.hpp"
#include "syncache/experiments/figures.hpp"

namespace syncache {

FigureData figure_fig5a(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  auto keys = figmlp::settings_keys();
  keys.push_back("etas");
  cfg.check_keys(keys);
  const figmlp::Settings set = figmlp::read_settings(cfg, ctx);
  const std::vector<double> etas = cfg.numbers("etas");
  std::vector<MlpRun> runs;
  for (double eta : etas) {
    if (!(eta > 0.0) || std::isinf(eta)) {
      throw std::invalid_argument(cfg.where("etas") + ": every eta must be a finite number > 0");
    }
    MlpRun run = set.base;
    run.net.eta = eta;
    figmlp::add_seeded(runs, run, set.seeds);
  }
  const auto results = run_mlp_curves(runs, set.data, ctx.env, "fig5a");

  FigureData fig;
  const std::size_t n = set.seeds.size();
  for (std::size_t i = 0; i < etas.size(); ++i) {
    figmlp::add_curves(fig, results, i * n, n, "eta=" + short_number(etas[i]));
  }
  std::string eta_list;
  for (double eta : etas) eta_list += (eta_list.empty() ? "" : ", ") + short_number(eta);
  fig.notes.push_back(figmlp::network_note(set.base.net, eta_list) +
                      "; classic learning (no caching); " + figmlp::training_note(set));
  return fig;
}

namespace {
const FigureRegistration kRegistration{
    {"fig5a", "MNIST network: energy vs test accuracy for several learning rates (classic)",
     figure_fig5a, 110}};
}  // namespace

}  // namespace syncache
