// Figure 2A: example traces of synaptic caching. One perceptron learns with a cached
// store (w = l + s, decay, consolidation rule); after every presentation of a window the
// transient s_i, persistent l_i and total w_i of two synapses are recorded, and every
// consolidation of the neuron (the jump Delta l_i) is marked. The maintenance energy of a
// synapse is c times the area under |s_i| (docs/model.md section 1).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "syncache/experiments/figures.hpp"
#include "syncache/models/patterns.hpp"

namespace syncache {

FigureData figure_fig2a(FigureContext& ctx) {
  const ExperimentConfig& cfg = ctx.config;
  cfg.check_keys({"description", "master_seed", "N", "P", "rule", "theta", "tau", "c", "eta",
                  "max_epochs", "window_start", "window_stop", "synapses"});
  const std::int64_t N = cfg.integer("N"), P = cfg.integer("P");
  if (N < 1 || P < 1) throw std::invalid_argument(cfg.where("N") + ": N and P must be >= 1");
  CacheParams params;
  params.rule = caching_rule(cfg);
  params.theta = cfg.number("theta");
  params.tau = cfg.number("tau");
  params.c = cfg.number("c");
  try {
    params.validate();
  } catch (const ParamError& e) {
    throw_located(cfg, e);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(cfg.source() + ": " + e.what());
  }
  const double eta = cfg.number("eta");
  if (!(eta > 0.0) || std::isinf(eta)) {
    throw std::invalid_argument(cfg.where("eta") + ": must be a finite number > 0");
  }
  const std::int64_t max_epochs = cfg.integer("max_epochs");
  if (max_epochs < 1) throw std::invalid_argument(cfg.where("max_epochs") + ": must be >= 1");
  const std::int64_t t0 = cfg.integer("window_start"), t1 = cfg.integer("window_stop");
  if (t0 < 1 || t1 < t0) {
    throw std::invalid_argument(cfg.where("window_start") +
                                ": need 1 <= window_start <= window_stop (presentations)");
  }
  // One run from the first repeat seed (the patterns of repeat 0 in the other figures).
  const std::uint64_t seed = repeat_seeds(ctx.env.master_seed, 1).front();
  const PatternSet<std::int8_t> patterns =
      random_patterns(static_cast<std::size_t>(N), static_cast<std::size_t>(P), seed);
  const std::size_t n_w = static_cast<std::size_t>(N) + 1;  // N inputs and the bias (last)

  // Two synapses: given (0-based input indices, N = the bias weight), or chosen as the
  // two that crossed theta (|Delta l_i| > theta at a consolidation) most often in the
  // window (ties: the lower index), found by a first, identical run.
  std::vector<std::size_t> syn;
  std::string chosen = "given";
  if (cfg.has("synapses")) {
    for (double v : cfg.numbers("synapses")) {
      if (v < 0.0 || v > static_cast<double>(N) || v != std::floor(v)) {
        throw std::invalid_argument(cfg.where("synapses") + ": indices must be integers in [0, N]");
      }
      syn.push_back(static_cast<std::size_t>(v));
    }
    if (syn.size() != 2) throw std::invalid_argument(cfg.where("synapses") + ": give two indices");
  } else {
    CachedStore store(1, patterns.stride(), params, ChangeCost(1.0, false));
    std::vector<double> l_before(n_w, 0.0);
    std::vector<std::int64_t> crossings(n_w, 0);
    std::int64_t last = 0;
    const StepObserver count = [&](std::int64_t t, bool) {
      const std::int64_t events = store.consolidation_events();
      if (events == last) return;
      last = events;
      for (std::size_t i = 0; i < n_w; ++i) {
        const double l = store.persistent(0, i);
        if (t >= t0 && t <= t1 && std::fabs(l - l_before[i]) > params.theta) ++crossings[i];
        l_before[i] = l;
      }
    };
    train_perceptron(patterns, store, eta, std::min(max_epochs, t1 / P + 1), nullptr, -1, &count);
    for (int k = 0; k < 2; ++k) {
      std::size_t best = n_w;
      for (std::size_t i = 0; i < n_w; ++i) {
        if (k == 1 && i == syn[0]) continue;
        if (best == n_w || crossings[i] > crossings[best]) best = i;
      }
      syn.push_back(best);
    }
    chosen = "the two crossing theta most often in the window (" +
             std::to_string(crossings[syn[0]]) + " and " + std::to_string(crossings[syn[1]]) +
             " times)";
  }
  CachedStore store(1, patterns.stride(), params, ChangeCost(1.0, false));

  FigureData data;
  std::vector<double> prev_l(syn.size(), 0.0);
  std::int64_t last_events = 0, consolidations = 0, updates = 0;
  double area[2] = {0.0, 0.0};  // sum_t |s_i(t)| over the window (after each step)
  const StepObserver on_step = [&](std::int64_t t, bool updated) {
    const std::int64_t events = store.consolidation_events();
    const bool consolidated = events != last_events;
    last_events = events;
    const bool in_window = t >= t0 && t <= t1;
    updates += in_window && updated;
    consolidations += in_window && consolidated;
    for (std::size_t k = 0; k < syn.size(); ++k) {
      const double s = store.transient(0, syn[k]), l = store.persistent(0, syn[k]);
      if (in_window) {
        const std::string series = "synapse " + std::to_string(k + 1);
        const double x = static_cast<double>(t);
        data.add("transient", series, x, {s});
        data.add("persistent", series, x, {l});
        data.add("total", series, x, {l + s});
        // Delta l_i = s_i just before the reset (after this step's decay and update).
        if (consolidated) data.add("consolidation", series, x, {l - prev_l[k]});
        area[k] += std::fabs(s);
      }
      prev_l[k] = l;
    }
  };
  const PerceptronResult res =
      train_perceptron(patterns, store, eta, max_epochs, nullptr, -1, &on_step);

  data.notes.push_back(
      "N = " + std::to_string(N) + ", P = " + std::to_string(P) + ", rule " +
      std::string(rule_name(params.rule)) + ", theta = " + short_number(params.theta) +
      ", tau = " + short_number(params.tau) + ", c = " + short_number(params.c) +
      ", eta = " + short_number(eta) + "; one run (seed " + std::to_string(seed) + "), synapses " +
      std::to_string(syn[0]) + " and " + std::to_string(syn[1]) + ": " + chosen);
  data.notes.push_back(
      "window: presentations " + std::to_string(t0) + " .. " + std::to_string(t1) + ", " +
      std::to_string(updates) + " updates, " + std::to_string(consolidations) +
      " consolidations; maintenance of the two synapses in the window c sum|s| = " +
      short_number(params.c * area[0]) + ", " + short_number(params.c * area[1]));
  data.notes.push_back(
      std::string("whole run: ") + (res.converged ? "converged" : "NOT converged") + " after " +
      std::to_string(res.epochs) + " epochs (" + std::to_string(res.presentations) +
      " presentations, " + std::to_string(res.updates) +
      " updates); M_cons = " + short_number(res.energy.consolidation) + ", M_trans = " +
      short_number(res.energy.maintenance) + ", total = " + short_number(res.energy.total()) +
      ", classic = " + short_number(res.energy.classic) +
      ", minimal = " + short_number(res.minimal));
  return data;
}

namespace {
const FigureRegistration kRegistration{
    {"fig2a", "transient and persistent weight traces of two synapses, consolidations",
     figure_fig2a, 30}};
}  // namespace

}  // namespace syncache
