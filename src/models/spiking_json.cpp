#include "syncache/models/spiking_json.hpp"

#include <cmath>
#include <string>

#include "syncache/io/format.hpp"
#include "syncache/io/params.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache::spiking {

namespace {

using nlohmann::json;

json number_or_inf(double v) {
  return std::isinf(v) ? json("inf") : json(v);
}

}  // namespace

json params_json(const LearningConfig& cfg) {
  json p = {{"patterns", cfg.patterns},
            {"rule", std::string(rule_name(cfg.cache.rule))},
            {"max_rounds", cfg.params.max_rounds},
            {"background", cfg.params.shunting_background ? "shunting" : "authors"},
            {"revision", kSpikingRevision}};
  if (cfg.cache.rule != Rule::classic) {
    p["theta"] = number_or_inf(cfg.cache.theta);
    p["tau"] = number_or_inf(cfg.cache.tau);
    p["c"] = cfg.cache.c;
  }
  return p;
}

LearningConfig config_from_json(const json& params) {
  if (!params.is_object()) throw std::invalid_argument("parameters must be a table");
  const auto specs = spiking_parameters();
  LearningConfig cfg;
  for (const auto& [key, value] : params.items()) {
    const ParamSpec* spec = find_param(specs, key);
    if (spec == nullptr) {
      throw ParamError(shown(key), "unknown key (allowed: " + param_names(specs) + ")");
    }
    if (key == "patterns") cfg.patterns = static_cast<int>(spec->read_json_integer(value));
    if (key == "rule") cfg.cache.rule = parse_rule(spec->read_json_text(value), kSpiking);
    if (key == "theta") cfg.cache.theta = spec->read_json_real(value);
    if (key == "tau") cfg.cache.tau = spec->read_json_real(value);
    if (key == "c") cfg.cache.c = spec->read_json_real(value);
    if (key == "seed") cfg.seed = static_cast<std::uint64_t>(spec->read_json_integer(value));
    if (key == "max_rounds") {
      cfg.params.max_rounds = static_cast<int>(spec->read_json_integer(value));
    }
    if (key == "background") {
      cfg.params.shunting_background = spec->read_json_text(value) == "shunting";
    }
  }
  if (cfg.cache.rule != Rule::classic && !params.contains("theta")) {
    throw ParamError("theta", "required for rule '" + std::string(rule_name(cfg.cache.rule)) +
                                  "' (" + find_param(specs, "theta")->range_text() + ")");
  }
  cfg.validate();
  return cfg;
}

json result_json(const LearningConfig& cfg, const LearningResult& r) {
  const EnergyTally& e = r.energy;
  json out = {
      {"patterns", cfg.patterns},
      {"seed", cfg.seed},
      {"rule", std::string(rule_name(cfg.cache.rule))},
      {"theta", cfg.cache.rule == Rule::classic ? json(nullptr) : number_or_inf(cfg.cache.theta)},
      {"converged", r.converged},
      {"rounds", r.rounds},
      {"counted_rounds", r.counted_rounds},
      {"success", r.success ? json(*r.success) : json(nullptr)},
      {"energy",
       {{"classic", e.classic},
        {"consolidation", e.consolidation},
        {"maintenance", e.maintenance},
        {"pending", e.pending},
        {"total", e.total()},
        {"minimal", e.minimal}}},
      {"saving", e.classic > 0.0 ? json(1.0 - e.total() / e.classic) : json(nullptr)},
      {"output_spikes", r.output_spikes}};
  json classes = json::array();
  for (const Pattern& pat : r.patterns) classes.push_back(pat.cls);
  out["classes"] = classes;
  out["responses"] = r.responses;
  return out;
}

void write_record_csv(std::ostream& out, const Params& p, const std::vector<Pattern>& patterns,
                      const std::vector<StepRecord>& steps) {
  std::size_t width = 0;
  for (const Pattern& pat : patterns) width = std::max(width, pat.inputs.size());
  out << "pattern,class,t_ms,v_mv,output_spike,visual_spikes,background_spikes";
  for (std::size_t j = 0; j < width; ++j) {
    const std::string name = std::to_string(j + 1);
    out << ",input_" << name << ",spikes_" << name << ",g_" << name;
  }
  out << ",energy_classic,energy_consolidation,consolidation_events,l_start,s_start\n";
  for (const StepRecord& r : steps) {
    const Pattern& pat = patterns[static_cast<std::size_t>(r.pattern)];
    out << r.pattern << ',' << pat.cls << ',' << round_trip(r.step * p.dt) << ',' << round_trip(r.v)
        << ',' << (r.output_spike ? 1 : 0) << ',' << r.visual_spikes << ',' << r.background_spikes;
    for (std::size_t j = 0; j < width; ++j) {
      if (j < pat.inputs.size()) {
        out << ',' << pat.inputs[j] << ',' << r.input_spikes[j] << ',' << round_trip(r.weights[j]);
      } else {
        out << ",,,";
      }
    }
    out << ',' << round_trip(r.classic) << ',' << round_trip(r.consolidation) << ','
        << r.consolidation_events;
    for (const auto* v : {&r.l_start, &r.s_start}) {  // space-separated, one per synapse
      out << ',';
      for (std::size_t i = 0; i < v->size(); ++i) out << (i ? " " : "") << round_trip((*v)[i]);
    }
    out << "\n";
  }
}

}  // namespace syncache::spiking
