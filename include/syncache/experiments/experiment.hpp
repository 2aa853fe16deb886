// Experiments: one per paper figure, plus free sweeps. An experiment file (TOML) states
// the parameters, seeds and repeats; [quick] and [full] tables override the top-level
// values for the two scales. Every run goes through the results store, so re-running a
// command computes only what is missing.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "syncache/experiments/runner.hpp"
#include "syncache/io/results.hpp"
#include "syncache/models/perceptron.hpp"

namespace syncache {

// ---- Experiment files ----

/// A TOML experiment file, with the chosen scale's table merged over the top level.
/// Accessors throw std::invalid_argument naming the file, the line and the key.
class ExperimentConfig {
 public:
  ExperimentConfig();
  ~ExperimentConfig();
  ExperimentConfig(ExperimentConfig&&) noexcept;
  ExperimentConfig& operator=(ExperimentConfig&&) noexcept;

  // scale: "quick" or "full" (a missing table means the top level only).
  static ExperimentConfig load(const std::string& path, const std::string& scale);
  static ExperimentConfig parse(const std::string& text, const std::string& source,
                                const std::string& scale);

  const std::string& source() const;
  bool has(const std::string& key) const;
  bool has_scales() const;                      // the file has a [quick] or a [full] table
  double number(const std::string& key) const;  // integer or float; "inf" allowed
  std::int64_t integer(const std::string& key) const;
  std::string text(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::vector<double> numbers(const std::string& key) const;  // a non-empty array
  std::vector<std::string> texts(const std::string& key) const;
  // A sub-table (e.g. [grid]) as JSON; values keep their TOML types; arrays stay arrays.
  nlohmann::json table(const std::string& key) const;
  // Every key of the merged top level, and every key of the [quick] and [full] tables
  // (whichever scale was chosen), must be in `allowed` (tables included).
  void check_keys(const std::vector<std::string>& allowed) const;
  // "file:line: key 'k'"
  std::string where(const std::string& key) const;
  // "file:line: key 't.k'" for key k of the sub-table t (the line of k itself).
  std::string where_in(const std::string& table, const std::string& key) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- Figure data: a tidy table, one row per point and quantity ----

/// One row of a figure's tidy table: a point of one curve, with mean, standard error and count.
struct FigureRow {
  std::string panel;   // the quantity / sub-plot, e.g. "energy", "inefficiency"
  std::string series;  // one curve, e.g. "classic", "minimal", "theory"
  double x = 0.0;
  double mean = 0.0;
  double se = 0.0;     // standard error of the mean over seeds (0 for theory)
  std::int64_t n = 0;  // number of seeds (0 for theory rows)
};

/// A figure's tidy table and its notes, as written to NAME.csv.
struct FigureData {
  std::vector<FigureRow> rows;
  std::vector<std::string> notes;  // written as '#' lines at the top of the CSV

  // Adds mean, SE and count of `values` (NaN entries are skipped and not counted).
  void add(const std::string& panel, const std::string& series, double x,
           const std::vector<double>& values);
  void add_theory(const std::string& panel, const std::string& series, double x, double value);
  std::string csv() const;
};

/// A mean over seeds with its standard error and count.
struct MeanSe {
  double mean = 0.0, se = 0.0;
  std::int64_t n = 0;
};
MeanSe mean_se(const std::vector<double>& values);  // NaNs skipped

// ---- Running ----

/// Where an experiment's runs go: the results store, the runner's options and the master seed.
struct ExperimentEnv {
  ResultsStore* store = nullptr;  // may be null (nothing cached)
  RunnerOptions runner;
  std::uint64_t master_seed = 1;
};

// Seeds of repeat k: derive_seed(master, k), the same for every point of an experiment.
std::vector<std::uint64_t> repeat_seeds(std::uint64_t master, std::int64_t repeats);

// Runs perceptron configurations (seed inside each) through the runner and the store
// (experiment key "perceptron", so figures share runs). Results in input order.
std::vector<nlohmann::json> run_perceptrons(const std::vector<PerceptronConfig>& configs,
                                            const ExperimentEnv& env, const std::string& label);

/// Watches the runs of run_perceptrons; every member may be empty. Called from the worker
/// threads, concurrently, with the run's index in `configs`: start(i) before run i begins
/// (false: skip it); epoch(i, record) after each of its epochs (false: stop it there);
/// done(i, result) when it has run to its end (converged or at the epoch cap). A skipped or
/// stopped run's result is {"abandoned": true} and is not stored (runner.hpp). Runs found in
/// the store are returned without being watched.
struct RunWatch {
  std::function<bool(std::size_t)> start;
  std::function<bool(std::size_t, const EpochRecord&)> epoch;
  std::function<void(std::size_t, const nlohmann::json&)> done;
};
std::vector<nlohmann::json> run_perceptrons(const std::vector<PerceptronConfig>& configs,
                                            const ExperimentEnv& env, const std::string& label,
                                            const RunWatch& watch);

// ---- Helpers shared by the figures ----

// %.6g: numbers in notes and series names.
std::string short_number(double v);
// Rethrows a library's ParamError located in the experiment file, in its spelling:
// "file:line: key 'theta': message".
[[noreturn]] void throw_located(const ExperimentConfig& cfg, const ParamError& e);
// An error of OptimiserOptions::validate() under the keys of an experiment file: lo and hi
// are theta_lo and theta_hi (with `suffix`), seeds is repeats.
ParamError optimiser_error_in_file(const ParamError& e, const std::string& suffix);
// The perceptron settings every figure file states: N and P (required, >= 1), eta
// (default 1) and max_epochs (default 10 000); errors name the file, line and key.
PerceptronConfig perceptron_base(const ExperimentConfig& cfg);
// The caching rule named by `key` among those `model` (a ModelBit) accepts: the
// perceptron's synapse, neuron, sum; the MNIST network's also layer. Classic or unknown is
// an error naming the file, line and key.
Rule caching_rule(const ExperimentConfig& cfg, const std::string& key = "rule",
                  unsigned model = kPerceptron);
// The same for one of several names given under `key` (a list of rules).
Rule caching_rule_named(const ExperimentConfig& cfg, const std::string& key,
                        const std::string& name, unsigned model = kPerceptron);
// An integer >= 1 (repeats, points), with the error naming file, line and key.
std::int64_t positive_integer(const ExperimentConfig& cfg, const std::string& key);
// An array of maintenance costs, each finite and >= 0.
std::vector<double> cost_values(const ExperimentConfig& cfg, const std::string& key);
// theta_start, theta_start + theta_step, ... up to theta_stop (inclusive, within a
// rounding margin): 0 <= theta_start <= theta_stop finite, theta_step > 0, else an error
// naming the file, line and key.
std::vector<double> threshold_grid(const ExperimentConfig& cfg);
// perceptron_base plus the caching rule named by "rule" (caching_rule).
PerceptronConfig cached_perceptron_base(const ExperimentConfig& cfg);
// One copy of `base` per seed.
std::vector<PerceptronConfig> with_seeds(const PerceptronConfig& base,
                                         const std::vector<std::uint64_t>& seeds);
// One quantity (a path of JSON keys, e.g. {"energy", "total"}) over the runs; NaN where
// it is null.
std::vector<double> result_values(const std::vector<nlohmann::json>& runs,
                                  std::initializer_list<const char*> path);

// ---- Figures ----

/// What a figure's function receives: its name, experiment file, environment and scale.
struct FigureContext {
  std::string name;
  ExperimentConfig config;
  ExperimentEnv env;
  bool full = false;
};

/// A registered figure: its name, one line of description, its function and its place in the list.
struct FigureSpec {
  std::string name;
  std::string description;
  FigureData (*run)(FigureContext&);
  int order = 0;  // place in the list of figures and in `figure all` (the paper's order)
};
/// A figure registers itself in its own source file (`src/experiments/figures/<name>.cpp`):
///   namespace {
///   const FigureRegistration kRegistration{{"fig1", "what it shows", figure_fig1, 10}};
///   }
struct FigureRegistration {
  explicit FigureRegistration(FigureSpec spec);
};
const std::vector<FigureSpec>& figure_registry();
const FigureSpec* find_figure(const std::string& name);

// ---- Sweeps ----

// A free grid over the perceptron's options: top-level name, repeats, master_seed,
// [fixed] (single values) and [grid] (arrays; the product is run). Writes one row per
// grid point and quantity: the grid keys, then quantity, mean, se, n.
std::string run_sweep(const ExperimentConfig& config, const ExperimentEnv& env);

}  // namespace syncache
