// Figure 1: classic perceptron learning (N = 1000). Energy M_perc and the minimal energy
// vs P/N, the inefficiency against Eq. 3, and epochs against the fit T/P.
#include <cmath>
#include <limits>

#include "syncache/experiments/figures.hpp"
#include "syncache/models/theory.hpp"

namespace syncache {

FigureData figure_fig1(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys(
      {"description", "master_seed", "N", "P_start", "P_stop", "P_step", "repeats", "max_epochs"});
  const std::int64_t N = cfg.integer("N");
  const std::int64_t p0 = cfg.integer("P_start"), p1 = cfg.integer("P_stop"),
                     step = cfg.integer("P_step");
  if (p0 < 1 || p1 < p0 || step < 1) {
    throw std::invalid_argument(cfg.where("P_start") +
                                ": need 1 <= P_start <= P_stop, P_step >= 1");
  }
  const auto seeds = repeat_seeds(ctx.env.master_seed, positive_integer(cfg, "repeats"));

  std::vector<PerceptronConfig> runs;
  std::vector<std::int64_t> Ps;
  for (std::int64_t P = p0; P <= p1; P += step) {
    Ps.push_back(P);
    for (auto s : seeds) {
      PerceptronConfig c;
      c.N = static_cast<std::size_t>(N);
      c.P = static_cast<std::size_t>(P);
      c.seed = s;
      c.max_epochs = positive_integer(cfg, "max_epochs");
      runs.push_back(c);
    }
  }
  const auto results = run_perceptrons(runs, ctx.env, "fig1");

  FigureData data;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::int64_t not_converged = 0;
  for (std::size_t i = 0; i < Ps.size(); ++i) {
    const double P = static_cast<double>(Ps[i]), load = P / static_cast<double>(N);
    std::vector<double> energy, minimal, ineff, epochs, updates;
    for (std::size_t k = 0; k < seeds.size(); ++k) {
      const auto& r = results[i * seeds.size() + k];
      const bool ok = r["converged"].get<bool>();
      not_converged += !ok;
      // Runs that hit the epoch cap have no final energy: they are left out of the means.
      energy.push_back(ok ? r["energy"]["total"].get<double>() : nan);
      minimal.push_back(ok ? r["energy"]["minimal"].get<double>() : nan);
      ineff.push_back(ok && !r["inefficiency"].is_null() ? r["inefficiency"].get<double>() : nan);
      epochs.push_back(ok ? r["epochs"].get<double>() : nan);
      updates.push_back(ok ? r["updates"].get<double>() : nan);
    }
    data.add("energy", "classic", load, energy);
    data.add("energy", "minimal", load, minimal);
    data.add("inefficiency", "simulation", load, ineff);
    data.add("epochs", "simulation", load, epochs);
    data.add("updates", "simulation", load, updates);
    if (load < 2.0) {
      const double Nd = static_cast<double>(N);
      data.add_theory("inefficiency", "Eq. 3", load, theory::classic_inefficiency(Nd, P));
      data.add_theory("epochs", "fit T/P", load, theory::presentations(Nd, P) / P);
      data.add_theory("updates", "fit K", load, theory::updates(Nd, P));
      // M_perc = N K eta with the fit K, and M_min = sqrt(2/pi) eta N sqrt(K).
      const double K = theory::updates(Nd, P);
      data.add_theory("energy", "theory classic", load, (Nd + 1) * K);
      data.add_theory("energy", "theory minimal", load,
                      std::sqrt(2.0 / M_PI) * (Nd + 1) * std::sqrt(K));
    }
  }
  data.notes.push_back("N = " + std::to_string(N) + ", " + std::to_string(seeds.size()) +
                       " seeds per P; runs that hit the epoch cap are left out of the means: " +
                       std::to_string(not_converged));
  return data;
}

namespace {
const FigureRegistration kRegistration{
    {"fig1", "classic perceptron: energy, minimal energy, inefficiency (Eq. 3), epochs vs P/N",
     figure_fig1, 10}};
}  // namespace

}  // namespace syncache
