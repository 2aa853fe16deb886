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

// A stored or sweep value of one parameter, read and range-checked by its description.
double get_real(const json& v, const ParamSpec& spec) {
  if (v.is_number()) return spec.check(v.get<double>());
  if (spec.allow_inf && v.is_string() && v.get<std::string>() == "inf") return kUnbounded;
  throw ParamError(std::string(spec.name), std::string("expected a number") +
                                               (spec.allow_inf ? " or \"inf\"" : "") + ", got " +
                                               shown(v.dump()));
}

std::int64_t get_integer(const json& v, const ParamSpec& spec) {
  const std::string key(spec.name);
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t{1} << 62) {
    throw ParamError(key, "integer too large, got " + shown(v.dump()));
  }
  if (v.is_number_integer()) return spec.check(v.get<std::int64_t>());
  // A float that holds an integer; converted only inside int64's range (|x| <= 2^62).
  if (v.is_number_float() && v.get<double>() == std::floor(v.get<double>())) {
    if (std::fabs(v.get<double>()) > 4611686018427387904.0) {
      throw ParamError(key, "integer too large, got " + shown(v.dump()));
    }
    return spec.check(static_cast<std::int64_t>(v.get<double>()));
  }
  throw ParamError(key, "expected an integer, got " + shown(v.dump()));
}

bool get_flag(const json& v, const ParamSpec& spec) {
  if (!v.is_boolean()) {
    throw ParamError(std::string(spec.name), "expected true or false, got " + shown(v.dump()));
  }
  return v.get<bool>();
}

std::string get_text(const json& v, const ParamSpec& spec) {
  if (!v.is_string()) {
    throw ParamError(std::string(spec.name), "expected a string, got " + shown(v.dump()));
  }
  return spec.read_text(v.get<std::string>());
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
    if (key == "N") cfg.N = static_cast<std::size_t>(get_integer(value, *spec));
    if (key == "P") cfg.P = static_cast<std::size_t>(get_integer(value, *spec));
    if (key == "patterns") {
      cfg.patterns_file = get_text(value, *spec);
      if (cfg.patterns_file.empty()) throw ParamError("patterns", "empty file name");
    }
    if (key == "zero_mean") cfg.zero_mean = get_flag(value, *spec);
    if (key == "rule") cfg.cache.rule = parse_rule(get_text(value, *spec), kPerceptron);
    if (key == "theta") cfg.cache.theta = get_real(value, *spec);
    if (key == "tau") cfg.cache.tau = get_real(value, *spec);
    if (key == "c") cfg.cache.c = get_real(value, *spec);
    if (key == "b") cfg.cache.b = get_real(value, *spec);
    if (key == "alpha") cfg.alpha = get_real(value, *spec);
    if (key == "potentiation_only") cfg.potentiation_only = get_flag(value, *spec);
    if (key == "eta") cfg.eta = get_real(value, *spec);
    if (key == "max_epochs") cfg.max_epochs = get_integer(value, *spec);
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

}  // namespace syncache
