// Figure 6: maintenance and consolidation power (energy per epoch) of the cached
// perceptron vs epoch, simulation against the decaying-transient theory (Eqs. 5-7, in the
// corrected form of docs/theory.md) fed each epoch's measured update fraction p.
//
// Simulation: per-epoch increments of the cumulative energies that the EpochObserver
// sees at the end of each epoch. The observer runs before the final consolidation of
// learning (train_perceptron calls finish() after the last epoch), so that final
// consolidation belongs to no epoch; it is reported separately in the CSV notes.
// Theory per epoch: transient(theta, tau, p = errors / P, eta, N + 1, c) gives the power
// per time step (N + 1 weights: the bias weight walks like the others); x P = per epoch.
// Means over the seeds still learning at an epoch (epochs with at least one update; the
// final error-free epoch of a converged run, p = 0, is left out). The theory is
// evaluated per seed with that seed's p and averaged over the same seeds.
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "syncache/experiments/figures.hpp"
#include "syncache/models/perceptron_json.hpp"
#include "syncache/models/theory.hpp"

namespace syncache {

namespace {

using nlohmann::json;

// One run with its per-epoch record: errors and the energy increments of each epoch.
json run_epochs(const PerceptronConfig& cfg) {
  json errors = json::array(), maint = json::array(), cons = json::array();
  double last_m = 0.0, last_c = 0.0;
  const EpochObserver obs = [&](const EpochRecord& r) {
    errors.push_back(r.errors);
    maint.push_back(r.energy.maintenance - last_m);
    cons.push_back(r.energy.consolidation - last_c);
    last_m = r.energy.maintenance;
    last_c = r.energy.consolidation;
  };
  const PerceptronResult res = run_perceptron(cfg, nullptr, nullptr, &obs);
  return json{
      {"converged", res.converged}, {"epochs", res.epochs},
      {"errors", errors},           {"maintenance", maint},
      {"consolidation", cons},      {"final_consolidation", res.energy.consolidation - last_c}};
}

std::string fmt(double v, int digits = 3) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string pm(const MeanSe& m) {
  return fmt(m.mean) + " +- " + fmt(m.se, 2);
}

}  // namespace

FigureData figure_fig6(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys({"description", "master_seed", "N", "P", "theta", "tau", "c", "eta", "rules",
                  "repeats", "max_epochs", "shifted_theory"});
  const std::int64_t N = cfg.integer("N"), P = cfg.integer("P");
  const double theta = cfg.number("theta"), tau = cfg.number("tau"), c = cfg.number("c"),
               eta = cfg.number("eta");
  const std::int64_t max_epochs = positive_integer(cfg, "max_epochs");
  const bool shifted = cfg.has("shifted_theory") && cfg.boolean("shifted_theory");
  if (N < 1 || P < 1) throw std::invalid_argument(cfg.where("N") + ": N and P must be >= 1");
  if (!(std::isfinite(theta) && theta > 0.0)) {
    throw std::invalid_argument(cfg.where("theta") + ": must be a finite number > 0");
  }
  if (!(std::isfinite(tau) && tau >= 1.0)) {
    throw std::invalid_argument(cfg.where("tau") +
                                ": must be a finite number >= 1 (the theory needs decay)");
  }
  const std::vector<std::string> rule_names = cfg.texts("rules");
  std::vector<Rule> rules;
  for (const auto& name : rule_names) {
    rules.push_back(caching_rule_named(cfg, "rules", name));
  }
  const auto seeds = repeat_seeds(ctx.env.master_seed, positive_integer(cfg, "repeats"));

  std::vector<PerceptronConfig> configs;
  std::vector<RunSpec> specs;
  for (Rule r : rules) {
    for (auto s : seeds) {
      PerceptronConfig pc;
      pc.N = static_cast<std::size_t>(N);
      pc.P = static_cast<std::size_t>(P);
      pc.seed = s;
      pc.cache.rule = r;
      pc.cache.theta = theta;
      pc.cache.tau = tau;
      pc.cache.c = c;
      pc.eta = eta;
      pc.max_epochs = max_epochs;
      try {
        pc.validate();
      } catch (const ParamError& e) {
        throw_located(cfg, e);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(cfg.source() + ": " + e.what());
      }
      configs.push_back(pc);
      // Own experiment key: the result holds per-epoch records, not the perceptron summary.
      specs.push_back(RunSpec{"perceptron_epochs", perceptron_params_json(pc), s});
    }
  }
  auto work = [&configs, &specs](const RunSpec& spec) -> json {
    return run_epochs(configs[static_cast<std::size_t>(&spec - specs.data())]);
  };
  RunnerOptions opt = ctx.env.runner;
  opt.label = "fig6";
  const auto results = run_all(specs, work, ctx.env.store, opt);

  FigureData data;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double Nw = static_cast<double>(N + 1), Pd = static_cast<double>(P);
  const std::size_t S = seeds.size();
  for (std::size_t ri = 0; ri < rules.size(); ++ri) {
    const std::string rule(rule_name(rules[ri]));
    // Per seed: energies summed over its learning epochs, simulation and theory.
    std::vector<double> sum_m(S, 0.0), sum_c(S, 0.0), th_m(S, 0.0), th_c(S, 0.0), sh_m(S, 0.0),
        sh_c(S, 0.0), final_c(S), epochs(S), converged(S);
    for (std::int64_t e = 1; e <= max_epochs; ++e) {
      std::vector<double> vp(S, nan), vm(S, nan), vc(S, nan), tm(S, nan), tc(S, nan), sm(S, nan),
          sc(S, nan);
      bool any = false;
      for (std::size_t k = 0; k < S; ++k) {
        const json& r = results[ri * S + k];
        const auto i = static_cast<std::size_t>(e - 1);
        if (i >= r["errors"].size() || r["errors"][i].get<std::int64_t>() == 0) continue;
        any = true;
        const double p = r["errors"][i].get<double>() / Pd;
        vp[k] = p;
        vm[k] = r["maintenance"][i].get<double>();
        vc[k] = r["consolidation"][i].get<double>();
        // Eqs. 5-7 (corrected), per step; x P presentations per epoch.
        const auto t = theory::transient(theta, tau, p, eta, Nw, c);
        tm[k] = t.maintenance_power * Pd;
        tc[k] = t.consolidation_power * Pd;
        // The same with the absorbing boundary at theta + eta/2 (overshoot of the
        // discrete walk, docs/theory.md section 3).
        const auto u = theory::transient(theta + 0.5 * eta, tau, p, eta, Nw, c);
        sm[k] = u.maintenance_power * Pd;
        sc[k] = u.consolidation_power * Pd;
        sum_m[k] += vm[k];
        sum_c[k] += vc[k];
        th_m[k] += tm[k];
        th_c[k] += tc[k];
        sh_m[k] += sm[k];
        sh_c[k] += sc[k];
      }
      if (!any) break;
      const double x = static_cast<double>(e);
      data.add("power " + rule, "maintenance", x, vm);
      data.add("power " + rule, "consolidation", x, vc);
      data.add("power " + rule, "maintenance theory", x, tm);
      data.add("power " + rule, "consolidation theory", x, tc);
      if (shifted) {
        data.add("power " + rule, "maintenance theory theta+eta/2", x, sm);
        data.add("power " + rule, "consolidation theory theta+eta/2", x, sc);
      }
      data.add("update fraction " + rule, "p", x, vp);
    }
    std::vector<double> rm(S), rc(S), qm(S), qc(S);
    double late_cons = 0.0;  // consolidation in the last 20 recorded epochs of capped runs
    for (std::size_t k = 0; k < S; ++k) {
      const json& r = results[ri * S + k];
      if (!r["converged"].get<bool>()) {
        const auto& v = r["consolidation"];
        for (std::size_t i = v.size() > 20 ? v.size() - 20 : 0; i < v.size(); ++i) {
          late_cons += v[i].get<double>();
        }
      }
      final_c[k] = r["final_consolidation"].get<double>();
      epochs[k] = r["epochs"].get<double>();
      converged[k] = r["converged"].get<bool>() ? 1.0 : 0.0;
      rm[k] = sum_m[k] / th_m[k] - 1.0;
      rc[k] = sum_c[k] / th_c[k] - 1.0;
      qm[k] = sum_m[k] / sh_m[k] - 1.0;
      qc[k] = sum_c[k] / sh_c[k] - 1.0;
    }
    std::int64_t n_conv = 0;
    for (double v : converged) n_conv += v > 0.0;
    data.notes.push_back(
        rule + " rule: " + std::to_string(n_conv) + " of " + std::to_string(S) +
        " runs converged within " + std::to_string(max_epochs) + " epochs; epochs run " +
        pm(mean_se(epochs)) + "; final consolidation at the end of learning (in no epoch) " +
        pm(mean_se(final_c)) +
        "; consolidation in the last 20 epochs of the runs not converged: " + fmt(late_cons));
    data.notes.push_back(rule + " rule: (simulation - theory) / theory, energies summed over the " +
                         "learning epochs, mean +- SE over seeds: maintenance " + pm(mean_se(rm)) +
                         ", consolidation " + pm(mean_se(rc)) + "; theory at theta + eta/2: " +
                         "maintenance " + pm(mean_se(qm)) + ", consolidation " + pm(mean_se(qc)));
  }
  data.notes.push_back("N = " + std::to_string(N) + ", P = " + std::to_string(P) +
                       ", theta = " + fmt(theta) + ", tau = " + fmt(tau) + ", c = " + fmt(c) +
                       ", eta = " + fmt(eta) + ", " + std::to_string(S) + " seeds; epoch cap " +
                       std::to_string(max_epochs) + "; theory: Eqs. 5-7 (corrected), N + 1 = " +
                       std::to_string(N + 1) + " weights, p = errors / P of the epoch");
  return data;
}

namespace {
const FigureRegistration kRegistration{
    {"fig6", "maintenance and consolidation power per epoch, simulation vs theory", figure_fig6,
     100}};
}  // namespace

}  // namespace syncache
