// Beyond the paper (docs/beyond.md): the energy (alpha = 1), the number of synaptic updates
// (alpha = 0) and the training samples the MNIST network needs to reach a target test
// accuracy, for plain back-propagation, lazy learning (Pache & van Rossum 2023, arXiv
// 2303.16067), the three competitive restrictions (van Rossum & Pache 2024, PLoS Comput
// Biol 20:e1012553) and lazy learning with the synapse restriction, each without and with
// synaptic caching (Li & van Rossum 2020), against the number of hidden units H.
// The caching threshold theta is scanned once per algorithm, at the first H of the file
// (all seeds); the theta with the lowest mean energy to the target (among those whose runs
// all reached it) is then used at every H.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "mlp_common.hpp"
#include "syncache/experiments/figures.hpp"

namespace syncache {

namespace {

struct Algorithm {
  std::string name;
  bool lazy = false;
  Restriction restriction = Restriction::none;
  std::string keep_key;  // the file's key of F ("" without a restriction)
};

// The counts and energy at the first evaluation that reaches the target, NaN if none.
struct AtTarget {
  double energy, updates, persistent, samples, reached;
};
AtTarget at_target(const nlohmann::json& result, double target, bool cached) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto curve = curve_from_json(result);
  const auto k = first_reaching(curve, target);
  if (!k) return {nan, nan, nan, nan, 0.0};
  const LearningPoint& p = curve[*k];
  if (p.energy.updates < 0) {
    throw std::runtime_error(
        "efficiency: a stored MNIST run has no update counts (computed by an older "
        "syncache); remove it from the results store and run again");
  }
  // alpha = 0 energy of what is written into the persistent weights: classic, every
  // update; caching, the consolidation events plus the transient weights still non-zero
  // (as if consolidated now, as M_total counts them).
  const double persistent =
      cached ? static_cast<double>(p.energy.consolidation_events + p.pending_changes)
             : static_cast<double>(p.energy.updates);
  return {p.energy.total(), static_cast<double>(p.energy.updates), persistent,
          static_cast<double>(p.samples), 1.0};
}

}  // namespace

FigureData figure_efficiency(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  // Every run sets its own lazy learning and restriction: the file gives one keep fraction
  // per restricted algorithm and the lazy margin, not the single lazy / restrict / keep.
  std::vector<std::string> keys;
  for (const auto& k : figmlp::settings_keys()) {
    if (k != "lazy" && k != "restrict" && k != "keep") keys.push_back(k);
  }
  keys.insert(keys.end(), {"hidden_values", "target", "thetas", "tau", "c", "rule", "keep_synapse",
                           "keep_neuron", "keep_path", "keep_lazy_synapse"});
  cfg.check_keys(keys);
  figmlp::Settings set = figmlp::read_settings(cfg, ctx, false);
  const double target = cfg.number("target");
  if (!(target > 0.0 && target <= 1.0)) {
    throw std::invalid_argument(cfg.where("target") + ": must lie in (0, 1]");
  }
  set.base.training.target = target;
  std::vector<std::size_t> hidden;
  for (double h : cfg.numbers("hidden_values")) {
    if (!(h >= 1.0 && h <= 1e6 && h == std::floor(h))) {
      throw std::invalid_argument(cfg.where("hidden_values") + ": every H must be an integer >= 1");
    }
    hidden.push_back(static_cast<std::size_t>(h));
  }
  const std::vector<double> thetas = cfg.numbers("thetas");
  MlpConfig cache_base = set.base.net;
  cache_base.cache.rule = caching_rule(cfg, "rule", kMlp);
  cache_base.cache.theta = thetas.front();
  cache_base.cache.tau = cfg.number("tau");
  cache_base.cache.c = cfg.number("c");

  const std::vector<Algorithm> algos = {
      {"backprop", false, Restriction::none, ""},
      {"lazy", true, Restriction::none, ""},
      {"synapse", false, Restriction::synapse, "keep_synapse"},
      {"neuron", false, Restriction::neuron, "keep_neuron"},
      {"path", false, Restriction::path, "keep_path"},
      {"lazy+synapse", true, Restriction::synapse, "keep_lazy_synapse"},
  };
  const double margin = cfg.has("lazy_margin") ? cfg.number("lazy_margin") : 0.0;
  // The network of an algorithm (classic or with caching at theta), validated here so that
  // a bad value names the file.
  auto network = [&](const Algorithm& a, bool cached, double theta, std::size_t h) {
    MlpConfig net = cached ? cache_base : set.base.net;
    net.hidden = h;
    net.cache.theta = cached ? theta : net.cache.theta;
    net.lazy = a.lazy;
    net.lazy_margin = a.lazy ? margin : 0.0;
    net.restriction = a.restriction;
    if (!a.keep_key.empty()) figmlp::read_keep(cfg, a.keep_key, net);
    if (net.restriction == Restriction::synapse || net.restriction == Restriction::neuron) {
      figmlp::read_keep_rounding(cfg, net);
    }
    try {
      net.validate();
    } catch (const ParamError& e) {
      // This file names each algorithm's keep fraction.
      throw_located(
          cfg, e.key() == "keep" && !a.keep_key.empty() ? ParamError(a.keep_key, e.message()) : e);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(cfg.source() + ": " + e.what());
    }
    return net;
  };
  const std::size_t n = set.seeds.size();
  auto seeded = [&](std::vector<MlpRun>& runs, const MlpConfig& net) {
    MlpRun run = set.base;
    run.net = net;
    figmlp::add_seeded(runs, run, set.seeds);
  };

  // Phase 1: without caching at every H; with caching at the first H for every theta.
  std::vector<MlpRun> runs;
  for (const auto& a : algos) {
    for (std::size_t h : hidden) seeded(runs, network(a, false, 0.0, h));
    for (double theta : thetas) seeded(runs, network(a, true, theta, hidden.front()));
  }
  const auto first = run_mlp_curves(runs, set.data, ctx.env, "efficiency");
  const std::size_t per_algo = (hidden.size() + thetas.size()) * n;

  FigureData fig;
  std::vector<double> best_theta(algos.size(), thetas.front());
  std::string chosen;
  for (std::size_t i = 0; i < algos.size(); ++i) {
    double best = std::numeric_limits<double>::infinity();
    bool found = false;
    for (std::size_t t = 0; t < thetas.size(); ++t) {
      std::vector<double> energy;
      bool all = true;
      for (std::size_t s = 0; s < n; ++s) {
        const AtTarget r =
            at_target(first[i * per_algo + (hidden.size() + t) * n + s], target, true);
        energy.push_back(r.energy);
        all = all && r.reached == 1.0;
      }
      fig.add("theta_scan", algos[i].name, thetas[t], energy);
      const double mean = mean_se(energy).mean;
      if (all && mean < best) {
        best = mean;
        best_theta[i] = thetas[t];
        found = true;
      }
    }
    chosen += (i == 0 ? "" : ", ") + algos[i].name + " " + short_number(best_theta[i]) +
              (found ? "" : " (no theta reached the target in every run: the first)");
  }

  // Phase 2: with caching at the other H, at each algorithm's theta.
  std::vector<MlpRun> more;
  for (std::size_t i = 0; i < algos.size(); ++i) {
    for (std::size_t j = 1; j < hidden.size(); ++j) {
      seeded(more, network(algos[i], true, best_theta[i], hidden[j]));
    }
  }
  const auto second = run_mlp_curves(more, set.data, ctx.env, "efficiency");

  std::int64_t missed = 0;
  for (std::size_t i = 0; i < algos.size(); ++i) {
    const std::size_t t_best = static_cast<std::size_t>(
        std::find(thetas.begin(), thetas.end(), best_theta[i]) - thetas.begin());
    for (int cached = 0; cached < 2; ++cached) {
      const std::string series = algos[i].name + (cached != 0 ? " caching" : "");
      for (std::size_t j = 0; j < hidden.size(); ++j) {
        std::vector<double> energy, updates, persistent, samples, reached;
        for (std::size_t s = 0; s < n; ++s) {
          const nlohmann::json* r = nullptr;
          if (cached == 0) {
            r = &first[i * per_algo + j * n + s];
          } else if (j == 0) {
            r = &first[i * per_algo + (hidden.size() + t_best) * n + s];
          } else {
            r = &second[(i * (hidden.size() - 1) + (j - 1)) * n + s];
          }
          const AtTarget a = at_target(*r, target, cached != 0);
          energy.push_back(a.energy);
          updates.push_back(a.updates);
          persistent.push_back(a.persistent);
          samples.push_back(a.samples);
          reached.push_back(a.reached);
          missed += a.reached == 1.0 ? 0 : 1;
        }
        const double x = static_cast<double>(hidden[j]);
        fig.add("energy", series, x, energy);
        fig.add("updates", series, x, updates);
        fig.add("persistent_updates", series, x, persistent);
        fig.add("samples", series, x, samples);
        fig.add("reached", series, x, reached);
      }
    }
  }
  fig.notes.push_back(figmlp::network_note(set.base.net, "", "H") + "; caching: rule " +
                      std::string(rule_name(cache_base.cache.rule)) +
                      ", tau = " + short_number(cache_base.cache.tau) + ", c = " +
                      short_number(cache_base.cache.c) + "; " + figmlp::training_note(set));
  // F, or F_hidden/F_output when the file gives one per layer; the rounding when not ceil.
  const auto keep = [&cfg](const char* key) {
    MlpConfig net;
    figmlp::read_keep(cfg, key, net);
    return short_number(net.keep) +
           (net.keep_output ? " (hidden), " + short_number(*net.keep_output) + " (output)" : "");
  };
  fig.notes.push_back(
      "keep fraction F: synapse " + keep("keep_synapse") + ", neuron " + keep("keep_neuron") +
      ", path " + keep("keep_path") + ", lazy+synapse " + keep("keep_lazy_synapse") +
      (cfg.has("keep_rounding") ? "; keep rounding " + cfg.text("keep_rounding") : std::string()) +
      "; lazy margin " + short_number(margin));
  std::string scanned;
  for (std::size_t t = 0; t < thetas.size(); ++t) {
    scanned += (t == 0 ? "" : ", ") + short_number(thetas[t]);
  }
  fig.notes.push_back("theta scanned over {" + scanned +
                      "} at H = " + std::to_string(hidden.front()) +
                      " (lowest mean energy to the target): " + chosen);
  fig.notes.push_back(
      "at the first evaluation with test accuracy >= " + short_number(target) +
      ": energy = M_total (alpha = 1); updates = non-zero synaptic changes (alpha = 0); "
      "persistent_updates = changes written into persistent weights (classic: the updates; "
      "caching: consolidation events + transient weights still non-zero); samples = training "
      "samples. Mean over the runs that reached the target; runs that did not: " +
      std::to_string(missed));
  return fig;
}

namespace {
const FigureRegistration kRegistration{
    {"efficiency",
     "MNIST network: energy, updates and samples to a target accuracy for lazy and "
     "competitive plasticity, without and with caching, vs H",
     figure_efficiency, 150}};
}  // namespace

}  // namespace syncache
