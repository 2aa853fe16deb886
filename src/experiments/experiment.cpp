#include "syncache/experiments/experiment.hpp"

#include <sys/stat.h>
#include <toml++/toml.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "syncache/core/random.hpp"
#include "syncache/io/limits.hpp"
#include "syncache/io/text_input.hpp"
#include "syncache/models/perceptron_json.hpp"

namespace syncache {

using nlohmann::json;

// ---- ExperimentConfig ----

struct ExperimentConfig::Impl {
  std::string source;
  toml::table root;
  std::map<std::string, const toml::node*> merged;
};

ExperimentConfig::ExperimentConfig() : impl_(std::make_unique<Impl>()) {}
ExperimentConfig::~ExperimentConfig() = default;
ExperimentConfig::ExperimentConfig(ExperimentConfig&&) noexcept = default;
ExperimentConfig& ExperimentConfig::operator=(ExperimentConfig&&) noexcept = default;

namespace {

// toml++ 3.3 reaches __builtin_unreachable (undefined behaviour) when it classifies the
// code points U+FE9E..U+FEFE (UTF-8 EF BA 9E .. EF BB BE, and EF BB BF, the byte-order
// mark, anywhere but at the start). No experiment file needs them, so they are refused
// before the text reaches the parser; a leading byte-order mark is dropped.
void refuse_unsupported_code_points(std::string_view text, const std::string& source) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
    if (i + 2 >= text.size()) continue;
    const auto b0 = static_cast<unsigned char>(text[i]),
               b1 = static_cast<unsigned char>(text[i + 1]),
               b2 = static_cast<unsigned char>(text[i + 2]);
    if (b0 != 0xEF || (b1 != 0xBA && b1 != 0xBB) || b2 < 0x80 || b2 > 0xBF) continue;
    const unsigned cp = ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
    if (cp >= 0xFE9E && cp <= 0xFEFF) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "U+%04X", cp);
      throw std::invalid_argument(source + ":" + std::to_string(line) + ": character " + buf +
                                  " is not supported in experiment files");
    }
  }
}

}  // namespace

ExperimentConfig ExperimentConfig::parse(const std::string& text_in, const std::string& source,
                                         const std::string& scale) {
  ExperimentConfig cfg;
  cfg.impl_->source = source;
  const std::string_view text = without_bom(text_in);
  refuse_unsupported_code_points(text, source);
  try {
    cfg.impl_->root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw std::invalid_argument(source + ":" + std::to_string(e.source().begin.line) + ": " +
                                shown(e.description(), 120));
  }
  for (auto&& [k, v] : cfg.impl_->root) {
    const std::string key(k.str());
    if (key == "quick" || key == "full") {
      if (!v.is_table()) {
        throw std::invalid_argument(source + ":" + std::to_string(v.source().begin.line) +
                                    ": key '" + key + "': must be a table ([" + key + "])");
      }
      continue;
    }
    cfg.impl_->merged[key] = &v;
  }
  if (const toml::table* t = cfg.impl_->root[scale].as_table()) {
    for (auto&& [k, v] : *t) cfg.impl_->merged[std::string(k.str())] = &v;
  }
  return cfg;
}

ExperimentConfig ExperimentConfig::load(const std::string& path, const std::string& scale) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw std::invalid_argument(shown(path, 200) +
                                ": cannot open experiment file: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw std::invalid_argument(shown(path, 200) + ": not an experiment file (a folder or device)");
  }
  if (st.st_size > 16 * 1024 * 1024) {
    throw std::invalid_argument(shown(path, 200) + ": experiment file larger than 16 MB");
  }
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::invalid_argument(shown(path, 200) + ": cannot open experiment file");
  std::string text;
  char buf[4096];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, got);
  std::fclose(f);
  return parse(text, path, scale);
}

const std::string& ExperimentConfig::source() const {
  return impl_->source;
}

bool ExperimentConfig::has_scales() const {
  return impl_->root.contains("quick") || impl_->root.contains("full");
}

bool ExperimentConfig::has(const std::string& key) const {
  return impl_->merged.count(key) > 0;
}

std::string ExperimentConfig::where(const std::string& key) const {
  std::string out = impl_->source;
  auto it = impl_->merged.find(key);
  if (it != impl_->merged.end()) {
    out += ':';
    out += std::to_string(it->second->source().begin.line);
  }
  out += ": key '";
  out += key;
  out += '\'';
  return out;
}

std::string ExperimentConfig::where_in(const std::string& table, const std::string& key) const {
  auto it = impl_->merged.find(table);
  if (it != impl_->merged.end()) {
    if (const toml::table* t = it->second->as_table()) {
      if (const toml::node* n = t->get(key)) {
        return impl_->source + ":" + std::to_string(n->source().begin.line) + ": key '" + table +
               "." + key + "'";
      }
    }
  }
  return where(table);
}

namespace {
const toml::node& need(const std::map<std::string, const toml::node*>& m, const std::string& key,
                       const ExperimentConfig& cfg) {
  auto it = m.find(key);
  if (it == m.end()) throw std::invalid_argument(cfg.where(key) + ": missing");
  return *it->second;
}

double node_number(const toml::node& n, const std::string& where) {
  if (auto v = n.value<double>(); v && (n.is_floating_point() || n.is_integer())) return *v;
  if (n.is_string() && *n.value<std::string>() == "inf") {
    return std::numeric_limits<double>::infinity();
  }
  throw std::invalid_argument(where + ": expected a number");
}
}  // namespace

double ExperimentConfig::number(const std::string& key) const {
  return node_number(need(impl_->merged, key, *this), where(key));
}

namespace {
// The allowed range of every integer key of the experiment files, checked where the value
// is read, so that no count can wrap around or allocate without bound (the memory and
// run-count checks of syncache/io/limits.hpp then see sensible numbers).
struct IntRange {
  std::int64_t lo, hi;
};
const std::map<std::string, IntRange>& integer_ranges() {
  constexpr std::int64_t big = std::int64_t{1} << 40,
                         max = std::numeric_limits<std::int64_t>::max();
  static const std::map<std::string, IntRange> r = {{"N", {1, big}},
                                                    {"P", {1, big}},
                                                    {"P_start", {1, big}},
                                                    {"P_stop", {1, big}},
                                                    {"P_step", {1, big}},
                                                    {"repeats", {1, 1000000}},
                                                    {"max_epochs", {1, 1000000000000}},
                                                    {"grid_points", {2, 10000}},
                                                    {"refine_rounds", {0, 100}},
                                                    {"refine_points", {1, 10000}},
                                                    {"window_start", {0, 1000000000000}},
                                                    {"window_stop", {0, 1000000000000}},
                                                    {"master_seed", {0, max}},
                                                    {"max_rounds", {1, 1000000}},
                                                    {"trial_patterns", {1, 100000}},
                                                    {"trial_seed", {1, max}},
                                                    {"hidden", {1, std::int64_t{1} << 32}},
                                                    {"eval_every", {1, 1000000000}},
                                                    {"patience", {0, 1000000}},
                                                    {"train_limit", {0, 1000000000}},
                                                    {"test_limit", {0, 1000000000}}};
  return r;
}
}  // namespace

std::int64_t ExperimentConfig::integer(const std::string& key) const {
  const toml::node& n = need(impl_->merged, key, *this);
  if (!n.is_integer()) throw std::invalid_argument(where(key) + ": expected an integer");
  const std::int64_t v = *n.value<std::int64_t>();
  const auto& ranges = integer_ranges();
  if (auto it = ranges.find(key); it != ranges.end() && (v < it->second.lo || v > it->second.hi)) {
    throw std::invalid_argument(
        where(key) + ": must be an integer in [" + std::to_string(it->second.lo) + ", " +
        std::to_string(it->second.hi) + "] (got " + std::to_string(v) + ")");
  }
  return v;
}

std::string ExperimentConfig::text(const std::string& key) const {
  const toml::node& n = need(impl_->merged, key, *this);
  if (!n.is_string()) throw std::invalid_argument(where(key) + ": expected a string");
  return *n.value<std::string>();
}

bool ExperimentConfig::boolean(const std::string& key) const {
  const toml::node& n = need(impl_->merged, key, *this);
  if (!n.is_boolean()) throw std::invalid_argument(where(key) + ": expected true or false");
  return *n.value<bool>();
}

std::vector<double> ExperimentConfig::numbers(const std::string& key) const {
  const toml::node& n = need(impl_->merged, key, *this);
  const toml::array* a = n.as_array();
  if (!a) throw std::invalid_argument(where(key) + ": expected an array of numbers");
  if (a->empty()) throw std::invalid_argument(where(key) + ": empty array");
  std::vector<double> out;
  for (const toml::node& e : *a) out.push_back(node_number(e, where(key)));
  return out;
}

std::vector<std::string> ExperimentConfig::texts(const std::string& key) const {
  const toml::node& n = need(impl_->merged, key, *this);
  const toml::array* a = n.as_array();
  if (!a) throw std::invalid_argument(where(key) + ": expected an array of strings");
  if (a->empty()) throw std::invalid_argument(where(key) + ": empty array");
  std::vector<std::string> out;
  for (const toml::node& e : *a) {
    if (!e.is_string()) throw std::invalid_argument(where(key) + ": expected strings");
    out.push_back(*e.value<std::string>());
  }
  return out;
}

namespace {
json to_json(const toml::node& n, const std::string& where) {
  if (n.is_integer()) return json(*n.value<std::int64_t>());
  if (n.is_floating_point()) return json(*n.value<double>());
  if (n.is_boolean()) return json(*n.value<bool>());
  if (n.is_string()) return json(*n.value<std::string>());
  if (const toml::array* a = n.as_array()) {
    json out = json::array();
    for (const toml::node& e : *a) out.push_back(to_json(e, where));
    return out;
  }
  if (const toml::table* t = n.as_table()) {
    json out = json::object();
    for (auto&& [k, v] : *t) out[std::string(k.str())] = to_json(v, where);
    return out;
  }
  throw std::invalid_argument(where + ": unsupported value type");
}
}  // namespace

json ExperimentConfig::table(const std::string& key) const {
  const toml::node& n = need(impl_->merged, key, *this);
  if (!n.is_table()) throw std::invalid_argument(where(key) + ": expected a table [" + key + "]");
  return to_json(n, where(key));
}

void ExperimentConfig::check_keys(const std::vector<std::string>& allowed) const {
  const std::set<std::string> ok(allowed.begin(), allowed.end());
  // The keys of both scale tables, not only the chosen one: a typo in [full] must not
  // wait for a full run to be found.
  for (const char* scale : {"quick", "full"}) {
    if (const toml::table* t = impl_->root[scale].as_table()) {
      for (auto&& [k, v] : *t) {
        const std::string key(k.str());
        if (!ok.count(key)) {
          std::string list;
          for (const auto& name : allowed) list += (list.empty() ? "" : ", ") + name;
          throw std::invalid_argument(impl_->source + ":" + std::to_string(v.source().begin.line) +
                                      ": key '" + scale + "." + shown(key) +
                                      "': unknown key (allowed: " + list + ")");
        }
      }
    }
  }
  for (const auto& [key, node] : impl_->merged) {
    if (!ok.count(key)) {
      std::string list;
      for (const auto& a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      throw std::invalid_argument(impl_->source + ":" + std::to_string(node->source().begin.line) +
                                  ": key '" + shown(key) + "': unknown key (allowed: " + list +
                                  ")");
    }
  }
}

// ---- Statistics and tables ----

MeanSe mean_se(const std::vector<double>& values) {
  MeanSe r;
  double sum = 0.0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    ++r.n;
  }
  if (r.n == 0) {
    r.mean = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  r.mean = sum / static_cast<double>(r.n);
  if (r.n > 1) {
    double ss = 0.0;
    for (double v : values) {
      if (!std::isnan(v)) ss += (v - r.mean) * (v - r.mean);
    }
    r.se = std::sqrt(ss / static_cast<double>(r.n - 1) / static_cast<double>(r.n));
  }
  return r;
}

void FigureData::add(const std::string& panel, const std::string& series, double x,
                     const std::vector<double>& values) {
  const MeanSe m = mean_se(values);
  if (m.n == 0) return;  // nothing measured at this point (e.g. no run converged)
  rows.push_back(FigureRow{panel, series, x, m.mean, m.se, m.n});
}

void FigureData::add_theory(const std::string& panel, const std::string& series, double x,
                            double value) {
  if (!std::isfinite(value)) return;
  rows.push_back(FigureRow{panel, series, x, value, 0.0, 0});
}

namespace {
std::string fmt(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string quote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}
// Text for a '#' comment line of a CSV: control characters (a newline would end the
// comment and start a data row) as \xNN; everything else as it is.
std::string comment_text(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(u));
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}
}  // namespace

std::string FigureData::csv() const {
  std::ostringstream out;
  for (const auto& note : notes) out << "# " << note << "\n";
  out << "panel,series,x,mean,se,n\n";
  for (const auto& r : rows) {
    out << quote(r.panel) << ',' << quote(r.series) << ',' << fmt(r.x) << ',' << fmt(r.mean) << ','
        << fmt(r.se) << ',' << r.n << "\n";
  }
  return out.str();
}

// ---- Running ----

std::vector<std::uint64_t> repeat_seeds(std::uint64_t master, std::int64_t repeats) {
  std::vector<std::uint64_t> seeds;
  for (std::int64_t k = 0; k < repeats; ++k) {
    seeds.push_back(derive_seed(master, static_cast<std::uint64_t>(k)));
  }
  return seeds;
}

std::vector<json> run_perceptrons(const std::vector<PerceptronConfig>& configs,
                                  const ExperimentEnv& env, const std::string& label) {
  return run_perceptrons(configs, env, label, RunWatch{});
}

namespace {
struct StopRun {};  // thrown by the epoch observer of a watched run that is to stop
}  // namespace

std::vector<json> run_perceptrons(const std::vector<PerceptronConfig>& configs,
                                  const ExperimentEnv& env, const std::string& label,
                                  const RunWatch& watch) {
  std::vector<RunSpec> specs;
  specs.reserve(configs.size());
  for (const auto& c : configs) {
    specs.push_back(RunSpec{"perceptron", perceptron_params_json(c), c.seed});
  }
  auto work = [&configs, &specs, &watch](const RunSpec& spec) -> json {
    const std::size_t i = static_cast<std::size_t>(&spec - specs.data());
    if (!watch.start && !watch.epoch && !watch.done) {
      return perceptron_result_json(run_perceptron(configs[i]));
    }
    const json abandoned = {{"abandoned", true}};
    if (watch.start && !watch.start(i)) return abandoned;
    const EpochObserver observer = [&watch, i](const EpochRecord& rec) {
      if (!watch.epoch(i, rec)) throw StopRun{};
    };
    json result;
    try {
      result = perceptron_result_json(
          run_perceptron(configs[i], nullptr, nullptr, watch.epoch ? &observer : nullptr));
    } catch (const StopRun&) {
      return abandoned;
    }
    if (watch.done) watch.done(i, result);
    return result;
  };
  RunnerOptions opt = env.runner;
  opt.label = label;
  opt.check_stored = check_perceptron_result;
  return run_all(specs, work, env.store, opt);
}

// ---- Helpers shared by the figures ----

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void throw_located(const ExperimentConfig& cfg, const ParamError& e) {
  throw std::invalid_argument(cfg.where(e.key()) + ": " + e.message());
}

ParamError optimiser_error_in_file(const ParamError& e, const std::string& suffix) {
  const std::string& k = e.key();
  const std::string key = k == "lo"      ? "theta_lo" + suffix
                          : k == "hi"    ? "theta_hi" + suffix
                          : k == "seeds" ? std::string("repeats")
                                         : k;
  return ParamError(key, e.message());
}

PerceptronConfig perceptron_base(const ExperimentConfig& cfg) {
  PerceptronConfig base;
  const std::int64_t N = cfg.integer("N"), P = cfg.integer("P");
  if (N < 1) throw std::invalid_argument(cfg.where("N") + ": must be >= 1");
  if (P < 1) throw std::invalid_argument(cfg.where("P") + ": must be >= 1");
  base.N = static_cast<std::size_t>(N);
  base.P = static_cast<std::size_t>(P);
  if (cfg.has("eta")) {
    base.eta = cfg.number("eta");
    if (!(base.eta > 0.0) || std::isinf(base.eta)) {
      throw std::invalid_argument(cfg.where("eta") + ": must be a finite number > 0");
    }
  }
  if (cfg.has("max_epochs")) {
    base.max_epochs = cfg.integer("max_epochs");
    if (base.max_epochs < 1)
      throw std::invalid_argument(cfg.where("max_epochs") + ": must be >= 1");
  }
  try {
    base.validate();  // before any run starts, e.g. the memory the patterns need
  } catch (const ParamError& e) {
    throw_located(cfg, e);
  }
  return base;
}

Rule caching_rule(const ExperimentConfig& cfg, const std::string& key, unsigned model) {
  return caching_rule_named(cfg, key, cfg.text(key), model);
}

Rule caching_rule_named(const ExperimentConfig& cfg, const std::string& key,
                        const std::string& name, unsigned model) {
  const auto rule = find_rule(name, model);
  if (!rule || *rule == Rule::classic) {
    const char* whose = model == kMlp ? "the MNIST network" : "the perceptron";
    throw std::invalid_argument(cfg.where(key) + ": needs a caching rule of " + whose + " (" +
                                rule_names(model, ", ", true) + "; got '" + shown(name) + "')");
  }
  return *rule;
}

std::int64_t positive_integer(const ExperimentConfig& cfg, const std::string& key) {
  const std::int64_t v = cfg.integer(key);
  if (v < 1) throw std::invalid_argument(cfg.where(key) + ": must be >= 1");
  return v;
}

std::vector<double> cost_values(const ExperimentConfig& cfg, const std::string& key) {
  std::vector<double> cs = cfg.numbers(key);
  for (double c : cs) {
    if (!(c >= 0.0) || std::isinf(c)) {
      throw std::invalid_argument(cfg.where(key) + ": every c must be finite and >= 0");
    }
  }
  return cs;
}

std::vector<double> threshold_grid(const ExperimentConfig& cfg) {
  const double t0 = cfg.number("theta_start"), t1 = cfg.number("theta_stop"),
               dt = cfg.number("theta_step");
  if (!(t0 >= 0.0 && t1 >= t0 && dt > 0.0) || std::isinf(t1)) {
    throw std::invalid_argument(cfg.where("theta_start") +
                                ": need 0 <= theta_start <= theta_stop (finite), theta_step > 0");
  }
  // Points t0 + k dt up to t1: their number is bounded, and each must differ from the
  // previous one (a step below the spacing of doubles near t0 would repeat one theta).
  const double count = std::floor((t1 - t0) / dt + 1e-9) + 1.0;
  try {
    require_run_count("theta_step", count);
  } catch (const ParamError& e) {
    throw ResourceError(cfg.where("theta_step") + " (theta grid)", e.message());
  }
  std::vector<double> thetas;
  for (std::int64_t k = 0; static_cast<double>(k) < count; ++k) {
    const double theta = t0 + static_cast<double>(k) * dt;
    if (!thetas.empty() && !(theta > thetas.back())) {
      throw std::invalid_argument(cfg.where("theta_step") +
                                  ": too small for theta_start (consecutive thetas are equal)");
    }
    thetas.push_back(theta);
  }
  return thetas;
}

PerceptronConfig cached_perceptron_base(const ExperimentConfig& cfg) {
  PerceptronConfig base = perceptron_base(cfg);
  base.cache.rule = caching_rule(cfg);
  return base;
}

std::vector<PerceptronConfig> with_seeds(const PerceptronConfig& base,
                                         const std::vector<std::uint64_t>& seeds) {
  std::vector<PerceptronConfig> out;
  out.reserve(seeds.size());
  for (auto s : seeds) {
    PerceptronConfig c = base;
    c.seed = s;
    out.push_back(c);
  }
  return out;
}

std::vector<double> result_values(const std::vector<json>& runs,
                                  std::initializer_list<const char*> path) {
  std::vector<double> v;
  v.reserve(runs.size());
  for (const auto& r : runs) {
    const json* node = &r;
    for (const char* key : path) node = &(*node)[key];
    v.push_back(node->is_null() ? std::numeric_limits<double>::quiet_NaN() : node->get<double>());
  }
  return v;
}

// ---- Sweeps ----

std::string run_sweep(const ExperimentConfig& config, const ExperimentEnv& env_in) {
  config.check_keys({"name", "description", "repeats", "master_seed", "fixed", "grid"});
  if (config.has_scales()) {
    throw std::invalid_argument(config.source() +
                                ": [quick] and [full] tables are for figures; a sweep has one "
                                "scale (give its values at the top level)");
  }
  const std::string name = config.has("name") ? config.text("name") : "sweep";
  const std::int64_t repeats = config.has("repeats") ? config.integer("repeats") : 1;
  if (repeats < 1) throw std::invalid_argument(config.where("repeats") + ": must be >= 1");
  ExperimentEnv env = env_in;
  if (config.has("master_seed")) {
    env.master_seed = static_cast<std::uint64_t>(config.integer("master_seed"));
  }
  json fixed = config.has("fixed") ? config.table("fixed") : json::object();
  json grid = config.has("grid") ? config.table("grid") : json::object();
  if (config.has("grid") && grid.empty()) {
    throw std::invalid_argument(config.where("grid") +
                                ": empty; give at least one key with an array of values");
  }
  double grid_points = 1.0;
  for (const auto& [key, v] : grid.items()) {
    if (v.is_array()) grid_points *= static_cast<double>(v.size());
  }
  try {
    require_run_count("grid", grid_points * static_cast<double>(repeats));
  } catch (const ParamError& e) {
    throw ResourceError(config.where("grid") + " x repeats", e.message());
  }
  std::vector<std::string> keys;
  std::vector<std::vector<json>> values;
  for (const auto& [key, v] : grid.items()) {
    if (!v.is_array()) {
      throw std::invalid_argument(config.where("grid") + ": grid key '" + key +
                                  "' must be an array of values");
    }
    if (v.empty()) {
      throw std::invalid_argument(config.where("grid") + ": grid key '" + key + "' is empty");
    }
    if (fixed.contains(key)) {
      throw std::invalid_argument(config.where("grid") + ": key '" + key +
                                  "' is both fixed and in the grid");
    }
    keys.push_back(key);
    values.emplace_back(v.begin(), v.end());
  }
  // The product of the grid, in row-major order of the keys as written (sorted by TOML).
  std::vector<json> points(1, fixed);
  for (std::size_t k = 0; k < keys.size(); ++k) {
    std::vector<json> next;
    for (const auto& p : points) {
      for (const auto& v : values[k]) {
        json q = p;
        q[keys[k]] = v;
        next.push_back(q);
      }
    }
    points = std::move(next);
  }
  const auto seeds = repeat_seeds(env.master_seed, repeats);
  std::vector<PerceptronConfig> configs;
  for (const auto& p : points) {
    PerceptronConfig c;
    try {
      c = perceptron_config_from_json(p);
    } catch (const ParamError& e) {
      // At the line of the offending key.
      std::string at = config.source();
      if (fixed.contains(e.key())) at = config.where_in("fixed", e.key());
      if (grid.contains(e.key())) at = config.where_in("grid", e.key());
      throw std::invalid_argument(at + ": grid point " + shown(p.dump(), 200) + ": key '" +
                                  e.key() + "': " + e.message());
    } catch (const std::exception& e) {
      throw std::invalid_argument(config.source() + ": grid point " + shown(p.dump(), 200) + ": " +
                                  e.what());
    }
    for (auto s : seeds) {
      c.seed = s;
      configs.push_back(c);
    }
  }
  // Pattern files are read (and refused, naming the file and line) before any run starts.
  std::set<std::string> files;
  for (const auto& c : configs) {
    if (!c.patterns_file.empty() && files.insert(c.patterns_file).second) {
      (void)read_patterns_csv(c.patterns_file);
    }
  }
  const auto results = run_perceptrons(configs, env, name);
  std::ostringstream out;
  out << "# sweep " << comment_text(name) << " from " << comment_text(config.source()) << "; "
      << repeats << " repeats; master_seed " << env.master_seed << "\n";
  for (const auto& k : keys) out << quote(k) << ',';
  out << "quantity,mean,se,n\n";
  const std::vector<std::pair<std::string, std::vector<std::string>>> quantities = {
      {"converged", {"converged"}},
      {"epochs", {"epochs"}},
      {"presentations", {"presentations"}},
      {"updates", {"updates"}},
      {"energy_classic", {"energy", "classic"}},
      {"energy_consolidation", {"energy", "consolidation"}},
      {"energy_maintenance", {"energy", "maintenance"}},
      {"energy_change", {"energy", "change"}},
      {"energy_total", {"energy", "total"}},
      {"energy_minimal", {"energy", "minimal"}},
      {"inefficiency", {"inefficiency"}}};
  // The epoch-cap policy (docs/guide/results.md): a run that stopped at the cap has not learnt, so
  // it enters only `converged` (the fraction over every run); the other quantities are means over
  // the converged runs, and their n says how many.
  for (std::size_t p = 0; p < points.size(); ++p) {
    for (const auto& [qname, path] : quantities) {
      std::vector<double> v;
      for (std::size_t s = 0; s < seeds.size(); ++s) {
        const json& run = results[p * seeds.size() + s];
        if (qname != "converged" && !run["converged"].get<bool>()) continue;
        const json* node = &run;
        for (const auto& part : path) node = &(*node)[part];
        v.push_back(node->is_null()      ? std::numeric_limits<double>::quiet_NaN()
                    : node->is_boolean() ? (node->get<bool>() ? 1.0 : 0.0)
                                         : node->get<double>());
      }
      const MeanSe m = mean_se(v);
      for (const auto& k : keys) {
        const json& val = points[p][k];
        out << quote(val.is_string() ? val.get<std::string>() : val.dump()) << ',';
      }
      out << qname << ',' << fmt(m.mean) << ',' << fmt(m.se) << ',' << m.n << "\n";
    }
  }
  return out.str();
}

}  // namespace syncache
