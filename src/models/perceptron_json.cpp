#include "syncache/models/perceptron_json.hpp"

#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>

namespace syncache {

using nlohmann::json;

namespace {

json number_or_inf(double v) {
  return std::isinf(v) ? json("inf") : json(v);
}

double get_number(const json& j, const std::string& key, bool allow_inf) {
  const json& v = j.at(key);
  if (v.is_number()) return v.get<double>();
  if (allow_inf && v.is_string() && v.get<std::string>() == "inf") {
    return std::numeric_limits<double>::infinity();
  }
  throw std::invalid_argument("key '" + key + "': expected a number" +
                              (allow_inf ? std::string(" or \"inf\"") : std::string()) + ", got " +
                              v.dump());
}

std::int64_t get_int(const json& j, const std::string& key) {
  const json& v = j.at(key);
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t{1} << 62) {
    throw std::invalid_argument("key '" + key + "': integer too large, got " + v.dump());
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  // A float that holds an integer; converted only inside int64's range (|x| <= 2^62).
  if (v.is_number_float() && v.get<double>() == std::floor(v.get<double>())) {
    if (std::fabs(v.get<double>()) > 4611686018427387904.0) {
      throw std::invalid_argument("key '" + key + "': integer too large, got " + v.dump());
    }
    return static_cast<std::int64_t>(v.get<double>());
  }
  throw std::invalid_argument("key '" + key + "': expected an integer, got " + v.dump());
}

bool get_bool(const json& j, const std::string& key) {
  const json& v = j.at(key);
  if (!v.is_boolean()) {
    throw std::invalid_argument("key '" + key + "': expected true or false, got " + v.dump());
  }
  return v.get<bool>();
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
  j["rule"] = std::string(rule_name(cfg.rule));
  if (cfg.rule != Rule::classic) {
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
  static const std::set<std::string> known = {
      "N", "P", "patterns", "zero_mean",         "rule", "theta",     "tau",
      "c", "b", "alpha",    "potentiation_only", "eta",  "max_epochs"};
  if (!params.is_object()) throw std::invalid_argument("parameters must be a table");
  for (const auto& [key, value] : params.items()) {
    if (!known.count(key)) {
      throw std::invalid_argument("unknown key '" + key +
                                  "' (allowed: N, P, patterns, zero_mean, rule, theta, tau, c, b, "
                                  "alpha, potentiation_only, eta, max_epochs)");
    }
  }
  PerceptronConfig cfg;
  if (params.contains("N")) {
    const auto n = get_int(params, "N");
    if (n <= 0) throw std::invalid_argument("key 'N': must be a positive integer");
    if (static_cast<std::uint64_t>(n) > kMaxPerceptronSize)
      throw std::invalid_argument("key 'N': at most " + std::to_string(kMaxPerceptronSize) +
                                  " (got " + std::to_string(n) + ")");
    cfg.N = static_cast<std::size_t>(n);
  }
  if (params.contains("P")) {
    const auto p = get_int(params, "P");
    if (p <= 0) throw std::invalid_argument("key 'P': must be a positive integer");
    if (static_cast<std::uint64_t>(p) > kMaxPerceptronSize)
      throw std::invalid_argument("key 'P': at most " + std::to_string(kMaxPerceptronSize) +
                                  " (got " + std::to_string(p) + ")");
    cfg.P = static_cast<std::size_t>(p);
  }
  if (params.contains("patterns")) {
    if (!params["patterns"].is_string()) {
      throw std::invalid_argument("key 'patterns': expected a file name");
    }
    cfg.patterns_file = params["patterns"].get<std::string>();
  }
  if (params.contains("zero_mean")) cfg.zero_mean = get_bool(params, "zero_mean");
  if (params.contains("rule")) {
    if (!params["rule"].is_string()) throw std::invalid_argument("key 'rule': expected a string");
    cfg.rule = parse_rule(params["rule"].get<std::string>());
  }
  if (params.contains("theta")) cfg.cache.theta = get_number(params, "theta", true);
  if (params.contains("tau")) cfg.cache.tau = get_number(params, "tau", true);
  if (params.contains("c")) cfg.cache.c = get_number(params, "c", false);
  if (params.contains("b")) cfg.cache.b = get_number(params, "b", false);
  if (params.contains("alpha")) cfg.alpha = get_number(params, "alpha", false);
  if (params.contains("potentiation_only")) {
    cfg.potentiation_only = get_bool(params, "potentiation_only");
  }
  if (params.contains("eta")) cfg.eta = get_number(params, "eta", false);
  if (params.contains("max_epochs")) cfg.max_epochs = get_int(params, "max_epochs");
  if (cfg.rule != Rule::classic && !params.contains("theta")) {
    throw std::invalid_argument("key 'theta': required for rule '" +
                                std::string(rule_name(cfg.rule)) + "'");
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
