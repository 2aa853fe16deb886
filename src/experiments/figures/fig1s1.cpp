// Figure 1—figure supplement 1: inefficiency M / M_min of classic perceptron learning vs
// the exponent alpha of the energy function (Eq. 1, |Delta w|^alpha; Eq. 2 with the same
// exponent), for the full cost and the potentiation-only variant ([Delta w]_+^alpha).
// alpha and the variant do not change the learning trajectory, only its price.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "syncache/core/energy.hpp"
#include "syncache/experiments/figures.hpp"
#include "syncache/models/perceptron_json.hpp"
#include "syncache/models/theory.hpp"

namespace syncache {

namespace {

// Classic runs with their final weights w(T) (member "weights": N + 1 values, bias last), kept
// in the results store under experiment "perceptron_weights" (the perceptron's own results
// do not keep the weights).
std::vector<nlohmann::json> runs_with_weights(const std::vector<PerceptronConfig>& configs,
                                              const ExperimentEnv& env, const std::string& label) {
  std::vector<RunSpec> specs;
  for (const auto& c : configs) {
    specs.push_back(RunSpec{"perceptron_weights", perceptron_params_json(c), c.seed});
  }
  auto work = [&configs, &specs](const RunSpec& spec) -> nlohmann::json {
    const auto i = static_cast<std::size_t>(&spec - specs.data());
    const PerceptronResult r = run_perceptron(configs[i]);
    nlohmann::json j = perceptron_result_json(r);
    j["weights"] = r.weights;
    return j;
  };
  RunnerOptions opt = env.runner;
  opt.label = label;
  return run_all(specs, work, env.store, opt);
}

// Random-walk estimate (Materials and methods, generalised from alpha = 1): K steps of
// size eta cost N K eta^alpha; the final weights are Gaussian with variance K eta^2, so
// M_min = N <|w|^alpha> = N (K eta^2)^{alpha/2} 2^{alpha/2} Gamma((alpha+1)/2) / sqrt(pi).
// At alpha = 1 this is Eq. 3; potentiation only halves both terms (same ratio).
// `variance` (in units of eta^2) is K for the random walk, or the measured variance.
double gaussian_inefficiency(double K, double variance, double alpha) {
  return K * std::sqrt(M_PI) /
         (std::pow(2.0 * variance, alpha / 2.0) * std::tgamma((alpha + 1.0) / 2.0));
}

}  // namespace

FigureData figure_fig1s1(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys({"description", "master_seed", "N", "P", "alpha_start", "alpha_stop", "alpha_step",
                  "repeats", "max_epochs"});
  const std::int64_t N = cfg.integer("N"), P = cfg.integer("P");
  if (N < 1 || P < 1) throw std::invalid_argument(cfg.where("N") + ": N and P must be >= 1");
  const double a0 = cfg.number("alpha_start"), a1 = cfg.number("alpha_stop"),
               step = cfg.number("alpha_step");
  if (!(a0 >= 0.0 && a0 <= kMaxAlpha)) {
    throw std::invalid_argument(cfg.where("alpha_start") + ": must lie in [0, 4]");
  }
  if (!(a1 >= a0 && a1 <= kMaxAlpha)) {
    throw std::invalid_argument(cfg.where("alpha_stop") + ": must lie in [alpha_start, 4]");
  }
  if (!(step > 0.0) || std::isinf(step)) {
    throw std::invalid_argument(cfg.where("alpha_step") + ": must be a finite number > 0");
  }
  const auto count = static_cast<std::int64_t>(std::floor((a1 - a0) / step + 1e-9)) + 1;
  const auto seeds = repeat_seeds(ctx.env.master_seed, positive_integer(cfg, "repeats"));

  std::vector<double> alphas;
  for (std::int64_t k = 0; k < count; ++k) {
    alphas.push_back(std::min(a1, a0 + static_cast<double>(k) * step));
  }
  // One run per seed prices every alpha and both variants. With eta = 1 and inputs +-1
  // every change of a weight is +-1, whose cost is 1 for every alpha, so the energy M is
  // the number of changes paid for: the alpha = 1 run's (all changes, or only the
  // potentiations: a second run, the same trajectory). M_min = sum_i cost(w_i(T)) needs the
  // final weights, which the runs of experiment "perceptron_weights" keep; it is summed in
  // weight order with ChangeCost, as a run at that alpha would (bit for bit).
  PerceptronConfig one;
  one.N = static_cast<std::size_t>(N);
  one.P = static_cast<std::size_t>(P);
  one.max_epochs = positive_integer(cfg, "max_epochs");
  const auto all = runs_with_weights(with_seeds(one, seeds), ctx.env, "fig1s1");
  PerceptronConfig pot_only = one;
  pot_only.potentiation_only = true;
  const auto potentiation = run_perceptrons(with_seeds(pot_only, seeds), ctx.env, "fig1s1 [dw]+");

  FigureData data;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::int64_t not_converged = 0;
  std::vector<double> K_all, var_all;
  for (double alpha : alphas) {
    for (bool pot : {false, true}) {
      const ChangeCost cost(alpha, pot);
      std::vector<double> ineff, energy, minimal;
      for (std::size_t k = 0; k < seeds.size(); ++k) {
        const auto& res = (pot ? potentiation : all)[k];
        const bool ok = res["converged"].get<bool>();
        not_converged += !ok;
        double m_min = 0.0;
        for (const auto& w : all[k]["weights"]) m_min += cost(w.get<double>());
        const double m = res["energy"]["total"].get<double>();
        // Runs that hit the epoch cap have no final weights: left out of the means.
        ineff.push_back(ok && m_min > 0.0 ? m / m_min : nan);
        energy.push_back(ok ? m : nan);
        minimal.push_back(ok ? m_min : nan);
        if (ok && !pot && alpha == alphas.front()) K_all.push_back(res["updates"].get<double>());
        // At alpha = 2, M_min = sum_i w_i^2: the measured variance of the final weights
        // (the curve that uses it needs alpha = 2 in the grid).
        if (ok && !pot && alpha == 2.0) var_all.push_back(m_min / static_cast<double>(N + 1));
      }
      const std::string series = pot ? "potentiation only" : "all changes";
      data.add("inefficiency", series, alpha, ineff);
      data.add("energy", series, alpha, energy);
      data.add("minimal", series, alpha, minimal);
    }
  }
  const double Nd = static_cast<double>(N), Pd = static_cast<double>(P);
  const MeanSe K = mean_se(K_all), var = mean_se(var_all);
  for (double alpha : alphas) {
    if (Pd < 2.0 * Nd) {
      const double Kfit = theory::updates(Nd, Pd);
      data.add_theory("inefficiency", "random walk, fit K", alpha,
                      gaussian_inefficiency(Kfit, Kfit, alpha));
    }
    if (K.n > 0) {
      data.add_theory("inefficiency", "random walk, measured K", alpha,
                      gaussian_inefficiency(K.mean, K.mean, alpha));
    }
    if (K.n > 0 && var.n > 0) {
      data.add_theory("inefficiency", "Gaussian, measured K and variance", alpha,
                      gaussian_inefficiency(K.mean, var.mean, alpha));
    }
  }
  if (Pd < 2.0 * Nd)
    data.add_theory("inefficiency", "Eq. 3", 1.0, theory::classic_inefficiency(Nd, Pd));
  // Where the mean inefficiency of all changes falls to 1 (learning then costs no more
  // than setting the weights directly). Between grid points the inefficiency is close to
  // exponential in alpha (the Gaussian estimate is c^alpha / Gamma((alpha + 1)/2)), so
  // the crossing is interpolated linearly in log(inefficiency); the Gaussian estimate with
  // the measured K and variance gives an independent value (bisection).
  std::string crossing =
      "the inefficiency stays above 1 up to alpha = " + short_number(alphas.back());
  {
    double prev_a = nan, prev_m = nan;
    for (const auto& row : data.rows) {
      if (row.panel != "inefficiency" || row.series != "all changes" || !(row.mean > 0.0)) {
        continue;
      }
      if (std::isfinite(prev_m) && prev_m > 1.0 && row.mean <= 1.0) {
        const double a =
            prev_a + (row.x - prev_a) * std::log(prev_m) / (std::log(prev_m) - std::log(row.mean));
        data.rows.push_back(
            {"crossing", "inefficiency = 1", a, 1.0, 0.0, static_cast<std::int64_t>(seeds.size())});
        crossing = "the inefficiency (all changes, mean over seeds) falls to 1 at alpha = " +
                   short_number(a);
        break;
      }
      prev_a = row.x;
      prev_m = row.mean;
    }
  }
  if (K.n > 0 && var.n > 0 && gaussian_inefficiency(K.mean, var.mean, alphas.back()) < 1.0) {
    double lo = alphas.front(), hi = alphas.back();
    for (int i = 0; i < 60; ++i) {
      const double mid = 0.5 * (lo + hi);
      (gaussian_inefficiency(K.mean, var.mean, mid) > 1.0 ? lo : hi) = mid;
    }
    data.add_theory("crossing", "Gaussian, measured K and variance", lo, 1.0);
    crossing += "; the Gaussian estimate with the measured K and variance at " + short_number(lo);
  }
  data.notes.push_back(crossing);
  data.notes.push_back(
      "N = " + std::to_string(N) + ", P = " + std::to_string(P) + ", " +
      std::to_string(seeds.size()) +
      " seeds per alpha (the same patterns for "
      "every alpha); measured updates K = " +
      short_number(K.mean) + ", final weight variance / K = " +
      short_number(var.n > 0 && K.n > 0 ? var.mean / K.mean : nan) +
      "; runs that hit the epoch cap are left out of the means: " + std::to_string(not_converged));
  return data;
}

namespace {
const FigureRegistration kRegistration{
    {"fig1s1", "inefficiency vs exponent alpha, and the potentiation-only variant", figure_fig1s1,
     20}};
}  // namespace

}  // namespace syncache
