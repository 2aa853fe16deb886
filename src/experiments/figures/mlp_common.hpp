// Shared by the MNIST figures (5A, 5B, 5C, 3-supplement 1B): the settings every MNIST
// experiment file states, and the learning curves averaged over seeds.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "syncache/experiments/experiment.hpp"
#include "syncache/experiments/mlp_training.hpp"
#include "syncache/io/params.hpp"

namespace syncache::figmlp {

// The keys read by read_settings (a figure adds its own to check_keys).
inline std::vector<std::string> settings_keys() {
  return {"description", "master_seed", "hidden",     "eta",          "max_epochs", "patience",
          "eval_every",  "train_limit", "test_limit", "repeats",      "data",       "lazy",
          "lazy_margin", "restrict",    "keep",       "keep_rounding"};
}

// The keep fraction under `key`: F (both layers) or [F_hidden, F_output].
inline void read_keep(const ExperimentConfig& cfg, const std::string& key, MlpConfig& net) {
  std::exception_ptr not_a_number;
  try {
    net.keep = cfg.number(key);
    return;
  } catch (const std::invalid_argument&) {
    not_a_number = std::current_exception();
  }
  std::vector<double> f;
  try {
    f = cfg.numbers(key);
  } catch (const std::invalid_argument&) {
    std::rethrow_exception(not_a_number);  // neither a number nor an array of them
  }
  if (f.size() > 2) {
    throw std::invalid_argument(cfg.where(key) + ": one or two fractions (hidden, output)");
  }
  net.keep = f[0];
  if (f.size() == 2) net.keep_output = f[1];
}

// keep_rounding ("ceil" or "authors"), when the file has it.
inline void read_keep_rounding(const ExperimentConfig& cfg, MlpConfig& net) {
  if (!cfg.has("keep_rounding")) return;
  const std::string r = cfg.text("keep_rounding");
  if (r != "ceil" && r != "authors") {
    throw std::invalid_argument(cfg.where("keep_rounding") + ": must be ceil or authors (got '" +
                                r + "')");
  }
  net.keep_rounding = r == "authors" ? KeepRounding::authors : KeepRounding::ceil;
}

struct Settings {
  MlpRun base;  // network (classic) and stopping rule
  MlpDataOptions data;
  std::vector<std::uint64_t> seeds;
};

// hidden (default 100) and eta (default 0.1) are optional for figures that sweep them;
// max_epochs, eval_every and repeats are required; patience defaults to 0 (never),
// limits to 0 (all images), data to mnist::default_dir(). Optional, as on `syncache mlp`
// (docs/beyond.md): lazy (boolean) with lazy_margin, restrict (none, synapse, neuron,
// path) with keep (required unless none; F or [F_hidden, F_output]) and keep_rounding
// (ceil or authors); a figure that sets these per run itself passes
// plasticity = false, and they are left alone.
inline Settings read_settings(const ExperimentConfig& cfg, const FigureContext& ctx,
                              bool plasticity = true) {
  Settings s;
  if (cfg.has("hidden"))
    s.base.net.hidden = static_cast<std::size_t>(positive_integer(cfg, "hidden"));
  if (cfg.has("eta")) s.base.net.eta = cfg.number("eta");
  s.base.training.max_epochs = positive_integer(cfg, "max_epochs");
  s.base.training.eval_every = positive_integer(cfg, "eval_every");
  s.base.training.patience = cfg.has("patience") ? cfg.integer("patience") : 0;
  const std::int64_t train_limit = cfg.has("train_limit") ? cfg.integer("train_limit") : 0;
  const std::int64_t test_limit = cfg.has("test_limit") ? cfg.integer("test_limit") : 0;
  if (train_limit < 0 || test_limit < 0) {
    throw std::invalid_argument(cfg.where("train_limit") + ": limits must be >= 0 (0 = all)");
  }
  s.data.train_limit = static_cast<std::size_t>(train_limit);
  s.data.test_limit = static_cast<std::size_t>(test_limit);
  if (cfg.has("data")) s.data.dir = cfg.text("data");
  if (plasticity && cfg.has("lazy")) s.base.net.lazy = cfg.boolean("lazy");
  if (plasticity && cfg.has("lazy_margin")) {
    if (!s.base.net.lazy) {
      throw std::invalid_argument(cfg.where("lazy_margin") + ": needs lazy = true");
    }
    s.base.net.lazy_margin = cfg.number("lazy_margin");
  }
  try {
    if (plasticity && cfg.has("restrict")) {
      s.base.net.restriction = parse_restriction(cfg.text("restrict"));
    }
    if (plasticity && cfg.has("keep")) {
      if (s.base.net.restriction == Restriction::none) {
        throw ParamError("keep", "needs restrict = synapse, neuron or path");
      }
      read_keep(cfg, "keep", s.base.net);
    } else if (s.base.net.restriction != Restriction::none) {
      throw ParamError("keep", "required with a restriction (a fraction in (0, 1])");
    }
    if (plasticity) read_keep_rounding(cfg, s.base.net);
    s.base.net.validate();
    s.base.training.validate();
  } catch (const ParamError& e) {
    throw_located(cfg, e);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(cfg.source() + ": " + e.what());
  }
  s.seeds = repeat_seeds(ctx.env.master_seed, positive_integer(cfg, "repeats"));
  return s;
}

// The caching settings of a file: rule, theta, tau, c (all required; validated with the
// network).
inline MlpConfig with_caching(const ExperimentConfig& cfg, MlpConfig net) {
  net.cache.rule = caching_rule(cfg, "rule", kMlp);
  net.cache.theta = cfg.number("theta");
  net.cache.tau = cfg.number("tau");
  net.cache.c = cfg.number("c");
  try {
    net.validate();
  } catch (const ParamError& e) {
    throw_located(cfg, e);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(cfg.source() + ": " + e.what());
  }
  return net;
}

// Appends one copy of `run` per seed (the seed of the initial weights) to `runs`.
inline void add_seeded(std::vector<MlpRun>& runs, const MlpRun& run,
                       const std::vector<std::uint64_t>& seeds) {
  for (auto seed : seeds) {
    runs.push_back(run);
    runs.back().net.seed = seed;
  }
}

// The learning curves of the runs results[first .. first + n) as the panels "accuracy",
// "energy" (total) and "minimal" of `series`, x = training samples, averaged over the
// runs that have a point there (runs that stopped earlier do not count: n drops).
inline void add_curves(FigureData& fig, const std::vector<nlohmann::json>& results,
                       std::size_t first, std::size_t n, const std::string& series) {
  std::size_t longest = first;
  for (std::size_t s = first; s < first + n; ++s) {
    if (results[s]["samples"].size() > results[longest]["samples"].size()) longest = s;
  }
  const auto& xs = results[longest]["samples"];
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t k = 0; k < xs.size(); ++k) {
    std::vector<double> acc, total, minimal;
    for (std::size_t s = first; s < first + n; ++s) {
      const auto& r = results[s];
      const bool has = k < r["samples"].size();
      acc.push_back(has ? r["accuracy"][k].get<double>() : nan);
      total.push_back(has ? r["total"][k].get<double>() : nan);
      minimal.push_back(has ? r["minimal"][k].get<double>() : nan);
    }
    const double x = xs[k].get<double>();
    fig.add("accuracy", series, x, acc);
    fig.add("energy", series, x, total);
    fig.add("minimal", series, x, minimal);
  }
}

// "784-H-10, eta = ..., exact gradient" for the notes; eta_text / hidden_text replace
// net.eta / net.hidden when given (figures that sweep them).
inline std::string network_note(const MlpConfig& net, const std::string& eta_text = "",
                                const std::string& hidden_text = "") {
  return std::to_string(net.inputs) + "-" +
         (hidden_text.empty() ? std::to_string(net.hidden) : hidden_text) + "-" +
         std::to_string(net.outputs) +
         ", eta = " + (eta_text.empty() ? short_number(net.eta) : eta_text) +
         (net.authors_backprop ? ", the authors' back-propagation" : ", exact gradient");
}

inline std::string caching_note(const MlpConfig& net) {
  return "rule " + std::string(rule_name(net.cache.rule)) +
         ", theta = " + short_number(net.cache.theta) + ", tau = " + short_number(net.cache.tau) +
         ", c = " + short_number(net.cache.c);
}

// Evaluation interval, stopping rule, seeds and limits, for the notes.
inline std::string training_note(const Settings& s) {
  const TrainingOptions& t = s.base.training;
  std::string out = "evaluation every " + std::to_string(t.eval_every) +
                    " samples and at each "
                    "epoch's end; at most " +
                    std::to_string(t.max_epochs) + " epoch(s)";
  if (t.patience > 0) out += ", patience " + std::to_string(t.patience) + " epoch(s)";
  out += "; " + std::to_string(s.seeds.size()) + " seed(s)";
  if (s.data.train_limit > 0 || s.data.test_limit > 0) {
    out += "; train_limit " + std::to_string(s.data.train_limit) + ", test_limit " +
           std::to_string(s.data.test_limit) + " (0 = all)";
  }
  return out;
}

}  // namespace syncache::figmlp
