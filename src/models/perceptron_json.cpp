#include "syncache/models/perceptron_json.hpp"

#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>

#include "syncache/io/params.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache {

using nlohmann::json;

namespace {

json number_or_inf(double v) {
  return std::isinf(v) ? json("inf") : json(v);
}

}  // namespace

json perceptron_params_json(const PerceptronConfig& cfg) {
  json j;
  if (cfg.patterns_file.empty()) {
    j["N"] = cfg.N;
    j["P"] = cfg.P;
    j["zero_mean"] = cfg.zero_mean;
  } else {
    j["patterns"] = cfg.patterns_file;
  }
  j["rule"] = std::string(rule_name(cfg.cache.rule));
  if (cfg.cache.rule != Rule::classic) {
    j["theta"] = number_or_inf(cfg.cache.theta);
    j["tau"] = number_or_inf(cfg.cache.tau);
    j["c"] = cfg.cache.c;
    j["b"] = cfg.cache.b;
  }
  j["alpha"] = cfg.alpha;
  j["potentiation_only"] = cfg.potentiation_only;
  j["eta"] = cfg.eta;
  j["max_epochs"] = cfg.max_epochs;
  j["revision"] = kPerceptronRevision;
  return j;
}

PerceptronConfig perceptron_config_from_json(const json& params) {
  if (!params.is_object()) throw std::invalid_argument("parameters must be a table");
  const auto specs = perceptron_parameters();
  PerceptronConfig cfg;
  for (const auto& [key, value] : params.items()) {
    const ParamSpec* spec = find_param(specs, key);
    // The seed is a run's own key, never one of its parameters.
    if (spec == nullptr || key == "seed") {
      std::string allowed;
      for (const auto& p : specs) {
        if (p.name != "seed") allowed += (allowed.empty() ? "" : ", ") + std::string(p.name);
      }
      throw ParamError(shown(key), "unknown key (allowed: " + allowed + ")");
    }
    if (key == "N") cfg.N = static_cast<std::size_t>(spec->read_json_integer(value));
    if (key == "P") cfg.P = static_cast<std::size_t>(spec->read_json_integer(value));
    if (key == "patterns") {
      cfg.patterns_file = spec->read_json_text(value);
      if (cfg.patterns_file.empty()) throw ParamError("patterns", "empty file name");
    }
    if (key == "zero_mean") cfg.zero_mean = spec->read_json_flag(value);
    if (key == "rule") cfg.cache.rule = parse_rule(spec->read_json_text(value), kPerceptron);
    if (key == "theta") cfg.cache.theta = spec->read_json_real(value);
    if (key == "tau") cfg.cache.tau = spec->read_json_real(value);
    if (key == "c") cfg.cache.c = spec->read_json_real(value);
    if (key == "b") cfg.cache.b = spec->read_json_real(value);
    if (key == "alpha") cfg.alpha = spec->read_json_real(value);
    if (key == "potentiation_only") cfg.potentiation_only = spec->read_json_flag(value);
    if (key == "eta") cfg.eta = spec->read_json_real(value);
    if (key == "max_epochs") cfg.max_epochs = spec->read_json_integer(value);
  }
  if (cfg.cache.rule != Rule::classic && !params.contains("theta")) {
    throw ParamError("theta", "required for rule '" + std::string(rule_name(cfg.cache.rule)) +
                                  "' (" + find_param(specs, "theta")->range_text() + ")");
  }
  cfg.validate();
  return cfg;
}

json perceptron_result_json(const PerceptronResult& r) {
  json j;
  j["converged"] = r.converged;
  j["epochs"] = r.epochs;
  j["presentations"] = r.presentations;
  j["updates"] = r.updates;
  j["consolidation_events"] = r.consolidation_events;
  json e;
  e["classic"] = r.energy.classic;
  e["consolidation"] = r.energy.consolidation;
  e["maintenance"] = r.energy.maintenance;
  e["change"] = r.energy.change;
  e["total"] = r.energy.total();
  e["minimal"] = r.minimal;
  j["energy"] = e;
  const double ineff = r.inefficiency();
  j["inefficiency"] = std::isnan(ineff) ? json(nullptr) : json(ineff);
  return j;
}

void check_perceptron_result(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("the result is not a JSON object");
  const auto need = [](const json& o, const char* key, bool (json::*is)() const noexcept,
                       const char* what) {
    const auto it = o.find(key);
    if (it == o.end()) throw std::invalid_argument(std::string("missing '") + key + "'");
    if (!((*it).*is)()) throw std::invalid_argument(std::string("'") + key + "' is not " + what);
  };
  need(j, "converged", &json::is_boolean, "true or false");
  for (const char* k : {"epochs", "presentations", "updates", "consolidation_events"})
    need(j, k, &json::is_number_integer, "an integer");
  need(j, "energy", &json::is_object, "an object");
  for (const char* k : {"classic", "consolidation", "maintenance", "change", "total", "minimal"})
    need(j["energy"], k, &json::is_number, "a number");
  const auto it = j.find("inefficiency");
  if (it == j.end()) throw std::invalid_argument("missing 'inefficiency'");
  if (!it->is_null() && !it->is_number())
    throw std::invalid_argument("'inefficiency' is not a number or null");
}

}  // namespace syncache
