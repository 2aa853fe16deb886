#include "syncache/experiments/commands.hpp"

#include <cmath>
#include <optional>
#include <ostream>
#include <vector>

#include "syncache/core/energy.hpp"
#include "syncache/core/rule.hpp"
#include "syncache/experiments/mlp_training.hpp"
#include "syncache/io/format.hpp"
#include "syncache/io/mnist.hpp"
#include "syncache/models/input_preprocessing.hpp"
#include "syncache/models/mlp.hpp"
#include "syncache/models/perceptron.hpp"
#include "syncache/models/perceptron_json.hpp"
#include "syncache/models/spiking.hpp"
#include "syncache/models/spiking_json.hpp"
#include "syncache/models/theory.hpp"

namespace syncache::commands {

namespace {

Json real_or_inf(double v) {
  return std::isinf(v) ? Json("inf") : Json(v);
}

// The values of `specs` in `given` (defaults where absent), by name; unknown keys and
// missing required values (a spec without a default) are ParamErrors.
std::vector<double> read_reals(std::span<const ParamSpec> specs, const nlohmann::json& given) {
  if (!given.is_object()) throw ParamError("parameters", "must be an object of named values");
  for (const auto& [key, value] : given.items()) {
    if (find_param(specs, key) == nullptr) {
      throw ParamError(key, "unknown parameter (allowed: " + param_names(specs) + ")");
    }
  }
  std::vector<double> out;
  for (const auto& spec : specs) {
    const std::string name(spec.name);
    if (given.contains(name)) {
      out.push_back(spec.read_json_real(given[name]));
    } else if (!spec.default_text.empty()) {
      out.push_back(spec.read_real(spec.default_text));
    } else {
      throw ParamError(name, "required (no default)");
    }
  }
  return out;
}

}  // namespace

Json energy_json(const EnergyTally& e) {
  Json j;
  j["classic"] = e.classic;
  j["consolidation"] = e.consolidation;
  j["maintenance"] = e.maintenance;
  j["change"] = e.change;
  j["total"] = e.total();
  j["minimal"] = e.minimal;
  return j;
}

Json perceptron(const nlohmann::json& given_in, const PatternSet<double>* patterns) {
  nlohmann::json given = given_in.is_null() ? nlohmann::json::object() : given_in;
  if (!given.is_object()) throw ParamError("parameters", "must be an object of named values");
  if (given.contains("patterns") || patterns != nullptr) {
    // N, P and the random patterns' options do not apply to given patterns.
    for (const char* key : {"N", "P", "seed", "zero_mean"}) {
      if (given.contains(key)) {
        throw ParamError(key, "not allowed with patterns (N and P come from the patterns)");
      }
    }
  }
  if (patterns != nullptr && given.contains("patterns")) {
    throw ParamError("patterns", "given twice (a file and arrays)");
  }
  std::uint64_t seed = 1;
  if (given.contains("seed")) {
    seed = find_param(perceptron_parameters(), "seed")->read_json_seed(given["seed"]);
    given.erase("seed");  // a run's own key, not one of its parameters
  }
  PerceptronConfig cfg = perceptron_config_from_json(given);
  cfg.seed = seed;
  std::size_t N = 0, P = 0;
  PerceptronResult r;
  if (patterns != nullptr) {
    N = patterns->N();
    P = patterns->P();
    r = run_perceptron(cfg, *patterns);
  } else {
    r = run_perceptron(cfg, &N, &P);
  }
  Json j;
  j["N"] = N;
  j["P"] = P;
  j["rule"] = std::string(rule_name(cfg.cache.rule));
  j["seed"] = cfg.seed;
  if (cfg.cache.rule != Rule::classic) {
    j["theta"] = real_or_inf(cfg.cache.theta);
    j["tau"] = real_or_inf(cfg.cache.tau);
    j["c"] = cfg.cache.c;
    j["b"] = cfg.cache.b;
  }
  j["alpha"] = cfg.alpha;
  j["potentiation_only"] = cfg.potentiation_only;
  j["eta"] = cfg.eta;
  j["converged"] = r.converged;
  j["epochs"] = r.epochs;
  j["presentations"] = r.presentations;
  j["updates"] = r.updates;
  j["consolidation_events"] = r.consolidation_events;
  j["energy"] = energy_json(r.energy);
  const double ineff = r.inefficiency();
  j["inefficiency"] = std::isnan(ineff) ? Json(nullptr) : Json(ineff);
  j["version"] = SYNCACHE_VERSION;
  return j;
}

Json spiking(const nlohmann::json& given, std::ostream* record) {
  const spiking::LearningConfig cfg = spiking::config_from_json(given);
  spiking::Learner learner(cfg);
  std::vector<spiking::StepRecord> steps;
  const auto res = learner.learn(record != nullptr ? &steps : nullptr);
  if (record != nullptr) spiking::write_record_csv(*record, cfg.params, res.patterns, steps);
  return Json::parse(spiking::result_json(cfg, res).dump());
}

std::span<const ParamSpec> theory_perceptron_parameters() {
  static const ParamSpec specs[] = {
      ParamSpec("N", ParamKind::real, "number of inputs").in(0, kUnbounded, true),
      ParamSpec("P", ParamKind::real, "number of patterns (0 < P < 2N)").in(0, kUnbounded, true),
      ParamSpec("c", ParamKind::real, "maintenance cost per |s| per presentation")
          .with_default("0")
          .in(0, kUnbounded),
      ParamSpec("eta", ParamKind::real, "learning rate").with_default("1").in(0, kUnbounded, true),
  };
  return specs;
}

std::span<const ParamSpec> theory_transient_parameters() {
  static const ParamSpec specs[] = {
      ParamSpec("theta", ParamKind::real, "consolidation threshold").in(0, kUnbounded, true),
      ParamSpec("tau", ParamKind::real, "decay time constant")
          .in(0, kUnbounded, true)
          .or_inf()
          .in_unit("time steps"),
      ParamSpec("p", ParamKind::real, "update probability per time step").in(0, 1),
      ParamSpec("eta", ParamKind::real, "update size").with_default("1").in(0, kUnbounded, true),
      ParamSpec("N", ParamKind::real, "number of synapses")
          .with_default("1")
          .in(0, kUnbounded, true),
      ParamSpec("c", ParamKind::real, "maintenance cost per |s| per time step")
          .with_default("0")
          .in(0, kUnbounded),
  };
  return specs;
}

Json theory_perceptron(const nlohmann::json& given) {
  const auto v = read_reals(theory_perceptron_parameters(), given);
  const double N = v[0], P = v[1], c = v[2], eta = v[3];
  if (!(P < 2 * N)) throw ParamError("P", "must satisfy 0 < P < 2N (got " + round_trip(P) + ")");
  const theory::PerceptronTheory t = theory::perceptron(N, P, c, eta);
  Json j;
  j["N"] = N;
  j["P"] = P;
  j["c"] = c;
  j["eta"] = eta;
  j["inefficiency"] = t.inefficiency;
  j["updates"] = t.updates;
  j["presentations"] = t.presentations;
  j["theta_opt"] = t.theta_opt;
  j["caching_inefficiency"] = t.caching_inefficiency;
  return j;
}

Json theory_transient(const nlohmann::json& given) {
  const auto v = read_reals(theory_transient_parameters(), given);
  const double theta = v[0], tau = v[1], p = v[2], eta = v[3], N = v[4], c = v[5];
  const theory::TransientTheory t = theory::transient(theta, tau, p, eta, N, c);
  Json j;
  j["theta"] = theta;
  j["tau"] = real_or_inf(tau);
  j["p"] = p;
  j["eta"] = eta;
  j["N"] = N;
  j["c"] = c;
  j["sigma"] = real_or_inf(t.sigma);
  j["mean_abs_s"] = t.mean_abs_s;
  j["consolidation_rate"] = t.consolidation_rate;
  j["maintenance_power"] = t.maintenance_power;
  j["consolidation_power"] = t.consolidation_power;
  return j;
}

std::span<const ParamSpec> mlp_data_parameters() {
  static const ParamSpec specs[] = {
      ParamSpec("train_limit", ParamKind::integer, "use the first n training images (0 = all)")
          .with_default("0")
          .in(0, 1e9),
      ParamSpec("test_limit", ParamKind::integer, "use the first n test images (0 = all)")
          .with_default("0")
          .in(0, 1e9),
      ParamSpec("data", ParamKind::text, "directory with the four MNIST IDX files"),
      ParamSpec("inputs", ParamKind::text,
                "raw pixels, or centred-noise: zero mean plus N(0, input_noise^2) noise per "
                "pixel, as van Rossum & Pache's code (docs/beyond.md)")
          .with_default("raw")
          .one_of("raw|centred-noise"),
      ParamSpec("input_noise", ParamKind::real,
                "with inputs centred-noise: the noise's standard deviation (authors: 0.001)")
          .with_default("0.001")
          .in(0.0, 1.0),
  };
  return specs;
}

void mlp(const nlohmann::json& given, const std::function<void(const LearningPoint&)>& on_point) {
  if (!given.is_object()) throw ParamError("parameters", "must be an object of named values");
  // The keys go to the table that describes them: network, stopping rule or data.
  nlohmann::json net = nlohmann::json::object(), training = net;
  std::size_t train_limit = 0, test_limit = 0;
  std::string dir;
  bool centred = false;
  double noise = 0.001;
  for (const auto& [key, value] : given.items()) {
    if (find_param(mlp_parameters(), key) != nullptr) {
      net[key] = value;
    } else if (find_param(training_parameters(), key) != nullptr) {
      training[key] = value;
    } else if (const auto* spec = find_param(mlp_data_parameters(), key)) {
      if (key == "data") dir = spec->read_json_text(value);
      if (key == "train_limit")
        train_limit = static_cast<std::size_t>(spec->read_json_integer(value));
      if (key == "test_limit")
        test_limit = static_cast<std::size_t>(spec->read_json_integer(value));
      if (key == "inputs") centred = spec->read_json_text(value) == "centred-noise";
      if (key == "input_noise") noise = spec->read_json_real(value);
    } else {
      throw ParamError(key, "unknown parameter (allowed: " + param_names(mlp_parameters()) + ", " +
                                param_names(training_parameters()) + ", " +
                                param_names(mlp_data_parameters()) + ")");
    }
  }
  if (given.contains("input_noise") && !centred) {
    throw ParamError("input_noise", "only with inputs centred-noise");
  }
  const TrainingOptions opt = training_options_from_json(training);
  Mlp network(mlp_config_from_json(net));
  mnist::Mnist data;
  try {
    data = mnist::load(dir, train_limit, test_limit);
  } catch (const ParamError&) {
    throw;
  } catch (const std::exception& e) {
    throw ParamError("data", e.what());  // missing, truncated or corrupt files
  }
  if (centred) {  // the noise from the network's seed, one stream per set
    centre_and_add_noise(data.train, noise, network.config().seed, 0x747261696eu);  // "train"
    centre_and_add_noise(data.test, noise, network.config().seed, 0x74657374u);     // "test"
  }
  train_mlp(network, data.train, data.test, opt, on_point);
}

namespace {
// energy_total, ..., energy_minimal, updates, consolidation_events of one tally.
std::string energy_csv(const EnergyTally& e) {
  return round_trip(e.total()) + ',' + round_trip(e.consolidation) + ',' +
         round_trip(e.maintenance) + ',' + round_trip(e.pending) + ',' + round_trip(e.minimal) +
         ',' + std::to_string(e.updates) + ',' + std::to_string(e.consolidation_events);
}
}  // namespace

std::string mlp_csv_line(const LearningPoint& p) {
  // Shortest round-trip forms: full precision (the energies add up exactly), no noise.
  return std::to_string(p.samples) + ',' + std::to_string(p.epoch) + ',' + round_trip(p.accuracy) +
         ',' + energy_csv(p.energy) + ',' + energy_csv(p.layers[0]) + ',' + energy_csv(p.layers[1]);
}

}  // namespace syncache::commands
