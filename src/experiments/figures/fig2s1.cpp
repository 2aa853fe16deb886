// Figure 2—supplement 1: the spiking neuron with STDP and adaptation (docs/model.md section 4)
// learning P = 1 ... 25 patterns, with and without synaptic caching (no decay, no
// maintenance cost): energy vs P over the successful runs, the minimal energy, the share
// saved, the success rate, and one recorded trial.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "syncache/experiments/figures.hpp"
#include "syncache/models/spiking.hpp"
#include "syncache/models/spiking_json.hpp"

namespace syncache {

namespace {

using nlohmann::json;
namespace sp = spiking;

// A run counts as learnt when its weights converged within the round cap and the final
// weights pass the success test.
bool learnt(const json& r) {
  return r["converged"] == true && r["success"] == true;
}

// The result value at `path` for the learnt runs, NaN for the others (FigureData skips
// NaNs, so every mean is over successful runs only, as in the paper).
std::vector<double> successful(const std::vector<json>& runs, std::size_t first, std::size_t n,
                               std::initializer_list<const char*> path) {
  std::vector<double> out;
  for (std::size_t k = first; k < first + n; ++k) {
    const json& r = runs[k];
    const json* v = &r;
    for (const char* key : path) v = &(*v)[key];
    out.push_back(learnt(r) ? v->get<double>() : std::nan(""));
  }
  return out;
}

// One trial of a learnt pattern (the last round of a run), as panel "trial" rows:
// membrane potential, output spikes and input spikes against time.
void add_trial(FigureData& fig, const sp::LearningConfig& cfg) {
  sp::Learner learner(cfg);
  std::vector<sp::StepRecord> steps;
  const sp::LearningResult r = learner.learn(&steps);
  // The first pattern of the strong visual class (else pattern 0).
  int shown = 0;
  for (std::size_t q = 0; q < r.patterns.size(); ++q) {
    if (r.patterns[q].cls == 1) {
      shown = static_cast<int>(q);
      break;
    }
  }
  const double dt = cfg.params.dt;
  for (const sp::StepRecord& s : steps) {
    if (s.pattern != shown) continue;
    const double t = s.step * dt;
    fig.add_theory("trial", "v", t, s.v);
    if (s.output_spike) fig.add_theory("trial", "output", t, 1.0);
    for (std::size_t j = 0; j < s.input_spikes.size(); ++j) {
      if (s.input_spikes[j] > 0) {
        fig.add_theory("trial", "auditory " + std::to_string(j + 1), t, s.input_spikes[j]);
      }
    }
    if (s.visual_spikes > 0) fig.add_theory("trial", "visual", t, s.visual_spikes);
  }
  fig.notes.push_back("trial panel: pattern " + std::to_string(shown) +
                      " (strong visual class) of " + std::to_string(cfg.patterns) +
                      " in the last round of seed " + std::to_string(cfg.seed) + ", after " +
                      std::to_string(r.rounds) + " rounds");
}

}  // namespace

FigureData figure_fig2s1(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys({"description", "master_seed", "patterns", "repeats", "rule", "theta",
                  "max_rounds", "trial_patterns", "trial_seed"});
  std::vector<int> counts;
  for (double v : cfg.numbers("patterns")) {
    if (!(v >= 1.0 && v <= 100000.0 && v == std::floor(v))) {
      throw std::invalid_argument(cfg.where("patterns") + ": values must be integers >= 1");
    }
    counts.push_back(static_cast<int>(v));
  }
  sp::LearningConfig cached;
  cached.cache.rule = caching_rule(cfg);
  if (cached.cache.rule == Rule::layer) {
    throw std::invalid_argument(cfg.where("rule") + ": the single neuron has no layer rule");
  }
  cached.cache.theta = cfg.number("theta");
  cached.params.max_rounds = static_cast<int>(positive_integer(cfg, "max_rounds"));
  sp::LearningConfig classic = cached;
  classic.cache.rule = Rule::classic;
  try {
    cached.validate();
  } catch (const ParamError& e) {
    throw_located(cfg, e);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(cfg.source() + ": " + e.what());
  }
  const auto seeds = repeat_seeds(ctx.env.master_seed, positive_integer(cfg, "repeats"));

  // Runs: for each P, the classic runs of every seed, then the cached ones.
  std::vector<RunSpec> specs;
  std::vector<sp::LearningConfig> configs;
  for (int P : counts) {
    for (const sp::LearningConfig* base : {&classic, &cached}) {
      for (auto s : seeds) {
        sp::LearningConfig c = *base;
        c.patterns = P;
        c.seed = s;
        configs.push_back(c);
        specs.push_back(RunSpec{"spiking", sp::params_json(c), s});
      }
    }
  }
  auto work = [&](const RunSpec& spec) -> json {
    const auto& c = configs[static_cast<std::size_t>(&spec - specs.data())];
    return sp::result_json(c, sp::Learner(c).learn());
  };
  RunnerOptions opt = ctx.env.runner;
  opt.label = "fig2s1";
  const auto results = run_all(specs, work, ctx.env.store, opt);

  FigureData fig;
  const std::size_t n = seeds.size();
  int unconverged = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double x = counts[i];
    const std::size_t c0 = 2 * n * i, k0 = c0 + n;
    fig.add("energy", "classic", x, successful(results, c0, n, {"energy", "total"}));
    fig.add("energy", "caching", x, successful(results, k0, n, {"energy", "total"}));
    fig.add("energy", "minimal", x, successful(results, k0, n, {"energy", "minimal"}));
    // Share saved, paired by seed over the seeds where both runs succeeded.
    std::vector<double> saved, rate, rounds;
    for (std::size_t s = 0; s < n; ++s) {
      const json& a = results[c0 + s];
      const json& b = results[k0 + s];
      const bool both = learnt(a) && learnt(b);
      saved.push_back(both ? 1.0 - b["energy"]["total"].get<double>() /
                                       a["energy"]["total"].get<double>()
                           : std::nan(""));
      // Success rate over the pattern sets with two classes (the others are left out).
      rate.push_back(b["success"].is_null() ? std::nan("") : (learnt(b) ? 1.0 : 0.0));
      rounds.push_back(learnt(b) ? b["counted_rounds"].get<double>() : std::nan(""));
      unconverged += (a["converged"] != true) + (b["converged"] != true);
    }
    fig.add("saving", "caching", x, saved);
    fig.add("success", "caching", x, rate);
    fig.add("rounds", "caching", x, rounds);
  }
  fig.notes.push_back(std::to_string(unconverged) + " of " + std::to_string(results.size()) +
                      " runs did not converge within the round cap (counted as failures)");
  const auto tp = static_cast<int>(positive_integer(cfg, "trial_patterns"));
  sp::LearningConfig trial = cached;
  trial.patterns = tp;
  trial.seed = static_cast<std::uint64_t>(positive_integer(cfg, "trial_seed"));
  add_trial(fig, trial);
  fig.notes.push_back("spiking neuron (docs/model.md section 4); caching: rule " +
                      std::string(rule_name(cached.cache.rule)) +
                      ", theta = " + short_number(cached.cache.theta) +
                      " nS, no decay, no maintenance cost; energies over successful runs "
                      "only; " +
                      std::to_string(n) + " seed(s) per P; at most " +
                      std::to_string(cached.params.max_rounds) + " rounds");
  return fig;
}

namespace {
const FigureRegistration kRegistration{
    {"fig2s1",
     "spiking neuron with STDP: energy vs number of patterns, with and without "
     "caching",
     figure_fig2s1, 140}};
}  // namespace

}  // namespace syncache
