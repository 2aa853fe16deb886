// Figure 3-supplement 1A: learning time vs energy as the consolidation threshold theta
// runs over a grid (tau = 1000, neuron rule, N = P = 1000), one curve per maintenance
// cost c; classic learning (no caching) as the reference point.
//
// c only prices sum_t sum_i |s_i(t)| and does not change the learning dynamics, so each
// (theta, seed) runs once at c = kCRef and its total energy at any c is
// M_cons + M_change + (c / kCRef) M_trans (docs/model.md section 1).
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "syncache/experiments/figures.hpp"

namespace syncache {
namespace {

constexpr double kCRef = 1.0;  // c of the stored runs

}  // namespace

FigureData figure_fig3s1a(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys({"description", "master_seed", "N", "P", "rule", "eta", "tau", "c", "theta_start",
                  "theta_stop", "theta_step", "repeats", "max_epochs"});
  const std::int64_t N = cfg.integer("N"), P = cfg.integer("P");
  if (N < 1 || P < 1) throw std::invalid_argument(cfg.where("N") + ": N and P must be >= 1");
  const std::int64_t repeats = positive_integer(cfg, "repeats");
  const std::vector<double> cs = cost_values(cfg, "c");
  const std::vector<double> thetas = threshold_grid(cfg);
  const double t0 = cfg.number("theta_start"), t1 = cfg.number("theta_stop"),
               dt = cfg.number("theta_step");
  const auto seeds = repeat_seeds(ctx.env.master_seed, repeats);

  PerceptronConfig base = cached_perceptron_base(cfg);
  const std::int64_t max_epochs = base.max_epochs;
  base.cache.tau = cfg.number("tau");
  base.cache.c = kCRef;

  // Classic runs first, then the theta grid, in one parallel batch.
  std::vector<PerceptronConfig> runs;
  for (auto s : seeds) {
    PerceptronConfig c = base;
    c.cache = no_caching(DecayForm::linear);
    c.seed = s;
    runs.push_back(c);
  }
  for (double theta : thetas) {
    for (auto s : seeds) {
      PerceptronConfig c = base;
      c.cache.theta = theta;
      c.seed = s;
      runs.push_back(c);
    }
  }
  const auto results = run_perceptrons(runs, ctx.env, "fig3s1a");
  const std::size_t ns = seeds.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();

  FigureData data;
  // Classic: x = 0 (no threshold); energy and epochs do not depend on c.
  std::vector<double> cl_energy, cl_epochs, cl_minimal;
  for (std::size_t k = 0; k < ns; ++k) {
    const auto& r = results[k];
    const bool ok = r["converged"].get<bool>();
    cl_energy.push_back(ok ? r["energy"]["total"].get<double>() : nan);
    cl_minimal.push_back(ok ? r["energy"]["minimal"].get<double>() : nan);
    cl_epochs.push_back(ok ? r["epochs"].get<double>() : nan);
  }
  data.add("energy", "classic", 0.0, cl_energy);
  data.add("energy", "minimal (classic)", 0.0, cl_minimal);
  data.add("epochs", "classic", 0.0, cl_epochs);

  std::int64_t capped = 0;
  for (std::size_t i = 0; i < thetas.size(); ++i) {
    std::vector<const nlohmann::json*> rs;
    std::vector<double> epochs;
    for (std::size_t k = 0; k < ns; ++k) {
      const auto& r = results[ns + i * ns + k];
      const bool ok = r["converged"].get<bool>();
      capped += ok ? 0 : 1;
      rs.push_back(ok ? &r : nullptr);
      epochs.push_back(ok ? r["epochs"].get<double>() : nan);
    }
    for (double c : cs) {
      const std::string series = "c=" + short_number(c);
      std::vector<double> energy;
      for (const auto* r : rs) {
        if (r == nullptr) {
          energy.push_back(nan);
          continue;
        }
        const auto& e = (*r)["energy"];
        energy.push_back(e["consolidation"].get<double>() + e["change"].get<double>() +
                         c / kCRef * e["maintenance"].get<double>());
      }
      data.add("energy", series, thetas[i], energy);
      data.add("epochs", series, thetas[i], epochs);
    }
  }
  data.add_theory("meta", "N", 0.0, static_cast<double>(N));
  data.add_theory("meta", "P", 0.0, static_cast<double>(P));
  data.add_theory("meta", "max_epochs", 0.0, static_cast<double>(max_epochs));
  data.add_theory("meta", "repeats", 0.0, static_cast<double>(repeats));
  data.add_theory("meta", "capped_runs", 0.0, static_cast<double>(capped));
  data.add_theory("meta", "total_runs", 0.0, static_cast<double>(thetas.size() * ns));
  data.add_theory("meta", "tau", 0.0, base.cache.tau);

  data.notes.push_back("N = " + std::to_string(N) + ", P = " + std::to_string(P) + ", rule " +
                       cfg.text("rule") + ", tau = " + short_number(base.cache.tau) +
                       " (linear decay), theta = " + short_number(t0) + " ... " + short_number(t1) +
                       " step " + short_number(dt) + ", " + std::to_string(repeats) + " seeds");
  data.notes.push_back(
      "x = theta; energy and epochs rows at the same x pair into the parametric curve; "
      "classic rows at x = 0. Runs that hit the epoch cap (" +
      std::to_string(max_epochs) +
      ") are not solutions and are left out of the means (n counts the converged seeds): " +
      std::to_string(capped) + " of " + std::to_string(thetas.size() * ns) + " runs");
  data.notes.push_back("energy at c from runs made at c = 1: M_cons + (c / 1) M_trans");
  return data;
}

namespace {
const FigureRegistration kRegistration{
    {"fig3s1a", "learning time vs energy as theta varies (tau = 1000), several c", figure_fig3s1a,
     70}};
}  // namespace

}  // namespace syncache
