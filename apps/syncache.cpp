// syncache: the command-line tool. Each subcommand prints one JSON object on success;
// bad input ends with a one-line error on stderr, exit code 2, and no output.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>

#include "syncache/experiments/cluster.hpp"
#include "syncache/experiments/experiment.hpp"
#include "syncache/experiments/figures.hpp"
#include "syncache/experiments/mlp_training.hpp"
#include "syncache/io/format.hpp"
#include "syncache/io/mnist.hpp"
#include "syncache/io/results.hpp"
#include "syncache/io/text_input.hpp"
#include "syncache/models/mlp.hpp"
#include "syncache/models/perceptron.hpp"
#include "syncache/models/perceptron_json.hpp"
#include "syncache/models/spiking.hpp"
#include "syncache/models/spiking_json.hpp"
#include "syncache/models/theory.hpp"

namespace {

using json = nlohmann::ordered_json;
constexpr int kUsageError = 2;

// Under MPI every rank meets the same failures; rank 0 alone reports them.
[[noreturn]] void fail(const std::string& message, int code = kUsageError) {
  if (syncache::cluster::is_root()) std::cerr << "syncache: error: " << message << "\n";
  syncache::cluster::exit(code);
}

using syncache::shown;

// A library error in the command line's spelling: a ParamError's key becomes its option
// (theta -> --theta, max_epochs -> --max-epochs); other errors are shown as they are.
std::string option_message(const std::exception& e) {
  if (const auto* p = dynamic_cast<const syncache::ParamError*>(&e)) {
    return syncache::option_spelling(p->key()) + ": " + p->message();
  }
  return e.what();
}

// Numbers given as text so that "inf" is accepted and the error names the option.
double parse_real(const std::string& option, const std::string& text, bool allow_inf) {
  const auto v = syncache::read_real(text, allow_inf);
  if (!v) {
    fail(option + ": '" + shown(text) + "' is not a " +
         (allow_inf ? "number or inf" : "finite number"));
  }
  return *v;
}

// The one way to read a count: an integer in [lo, hi], named in the error.
long long parse_count(const std::string& option, const std::string& text, long long lo,
                      long long hi) {
  const auto v = syncache::read_integer(text, lo, hi);
  if (!v) {
    fail(option + ": must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
         "] (got '" + shown(text) + "')");
  }
  return *v;
}

// Refuses an output file that cannot be written, before any work is done ("" = stdout).
void check_output(const std::string& option, const std::string& path) {
  if (path.empty()) return;
  const std::string problem = syncache::output_path_problem(path);
  if (!problem.empty()) fail(option + ": cannot write " + problem);
}

// Writes an output file (atomically) or standard output; a failure (a full disk, a folder
// removed meanwhile) exits 1 with one line that says what was kept (`kept`).
void write_output(const std::string& option, const std::string& path, const std::string& text,
                  const std::string& kept) {
  if (path.empty()) {
    syncache::cluster::on_root([&] { std::cout << text << std::flush; });
    return;
  }
  try {
    syncache::cluster::on_root([&] { syncache::write_file_atomic(path, text); });
  } catch (const std::exception& e) {
    fail(option + ": " + e.what() + "; " + kept, 1);
  }
}

json energy_json(const syncache::EnergyTally& e) {
  json j;
  j["classic"] = e.classic;
  j["consolidation"] = e.consolidation;
  j["maintenance"] = e.maintenance;
  j["change"] = e.change;
  j["total"] = e.total();
  j["minimal"] = e.minimal;
  return j;
}

// The options of a model's parameter table (syncache::ParamSpec): each parameter is the
// option --name (dashes for underscores) with its description, range and default as help;
// values are kept as typed and read by the table (the same reading as sweep files).
struct TableArgs {
  std::map<std::string, std::string> text;
  std::map<std::string, bool> flags;
};

void add_table_options(CLI::App* cmd, std::span<const syncache::ParamSpec> specs, TableArgs& a) {
  using syncache::ParamKind;
  for (const auto& spec : specs) {
    const std::string name(spec.name), option = syncache::option_spelling(spec.name);
    std::string help(spec.doc);
    if (spec.kind == ParamKind::flag) {
      cmd->add_flag(option, a.flags[name], help);
      continue;
    }
    if (spec.kind == ParamKind::real) help += " (" + spec.range_text() + ")";
    auto* opt = cmd->add_option(option, a.text[name], help);
    switch (spec.kind) {
      case ParamKind::integer:
      case ParamKind::seed:
        opt->type_name("INT");
        break;
      case ParamKind::real:
        opt->type_name(spec.allow_inf ? "X|inf" : "X");
        break;
      default:
        opt->type_name(spec.choices.empty() ? "TEXT" : std::string(spec.choices));
    }
    if (!spec.default_text.empty()) opt->default_str(std::string(spec.default_text));
  }
}

// The parameters given on the command line, as the JSON the table reads (a parameter not
// given keeps the model's default); real values are checked here, as typed.
json table_values(const CLI::App* cmd, std::span<const syncache::ParamSpec> specs,
                  const TableArgs& a) {
  using syncache::ParamKind;
  json p = json::object();
  for (const auto& spec : specs) {
    const std::string name(spec.name);
    if (cmd->count(syncache::option_spelling(spec.name)) == 0) continue;
    try {
      switch (spec.kind) {
        case ParamKind::integer:
          p[name] = spec.read_integer(a.text.at(name));
          break;
        case ParamKind::seed:
          p[name] = spec.read_seed(a.text.at(name));
          break;
        case ParamKind::real: {
          const double v = spec.read_real(a.text.at(name));
          p[name] = std::isinf(v) ? json("inf") : json(v);
          break;
        }
        case ParamKind::flag:
          p[name] = a.flags.at(name);
          break;
        case ParamKind::text:
          p[name] = a.text.at(name);
          break;
      }
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
  }
  return p;
}

void add_perceptron(CLI::App& app) {
  auto args = std::make_shared<TableArgs>();
  auto* cmd =
      app.add_subcommand("perceptron", "Train one perceptron and print its energies as JSON");
  add_table_options(cmd, syncache::perceptron_parameters(), *args);
  cmd->callback([args, cmd]() {
    json given = table_values(cmd, syncache::perceptron_parameters(), *args);
    if (given.contains("patterns")) {
      // N, P and the random patterns' options do not apply to a pattern file.
      for (const char* key : {"N", "P", "seed", "zero_mean"}) {
        if (given.contains(key)) {
          fail(syncache::option_spelling(key) +
               ": not allowed with --patterns (N and P come from the file)");
        }
      }
    }
    std::uint64_t seed = 1;
    if (given.contains("seed")) {
      seed = given["seed"].get<std::uint64_t>();
      given.erase("seed");  // a run's own key, not one of its parameters
    }
    syncache::PerceptronConfig cfg;
    syncache::PerceptronResult r;
    std::size_t N = 0, P = 0;
    try {
      cfg = syncache::perceptron_config_from_json(nlohmann::json(given));
      cfg.seed = seed;
      r = syncache::run_perceptron(cfg, &N, &P);
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
    json j;
    j["N"] = N;
    j["P"] = P;
    j["rule"] = std::string(syncache::rule_name(cfg.cache.rule));
    j["seed"] = cfg.seed;
    if (cfg.cache.rule != syncache::Rule::classic) {
      j["theta"] = std::isinf(cfg.cache.theta) ? json("inf") : json(cfg.cache.theta);
      j["tau"] = std::isinf(cfg.cache.tau) ? json("inf") : json(cfg.cache.tau);
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
    j["inefficiency"] = std::isnan(ineff) ? json(nullptr) : json(ineff);
    j["version"] = SYNCACHE_VERSION;
    std::cout << j.dump(2) << "\n";
  });
}

void add_spiking(CLI::App& app) {
  struct SArgs {
    TableArgs table;
    std::string record;
  };
  auto sa = std::make_shared<SArgs>();
  auto* cmd = app.add_subcommand(
      "spiking",
      "Train the spiking neuron (STDP + adaptation) on random patterns; print its energies as "
      "JSON");
  add_table_options(cmd, syncache::spiking::spiking_parameters(), sa->table);
  cmd->add_option("--record", sa->record,
                  "write every time step of the last round (voltage, spikes, weights) as CSV")
      ->type_name("FILE");
  cmd->callback([sa, cmd]() {
    const json given = table_values(cmd, syncache::spiking::spiking_parameters(), sa->table);
    syncache::spiking::LearningConfig cfg;
    std::optional<syncache::spiking::Learner> learner;
    try {
      cfg = syncache::spiking::config_from_json(nlohmann::json(given));
      learner.emplace(cfg);
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
    std::ofstream record;
    if (!sa->record.empty()) {
      record.open(sa->record);
      if (!record) fail("--record: cannot write '" + sa->record + "'");
    }
    std::vector<syncache::spiking::StepRecord> steps;
    const auto res = learner->learn(sa->record.empty() ? nullptr : &steps);
    if (!sa->record.empty()) {
      syncache::spiking::write_record_csv(record, cfg.params, res.patterns, steps);
      record.close();
      if (!record) fail("--record: writing '" + sa->record + "' failed");
    }
    std::cout << syncache::spiking::result_json(cfg, res).dump() << "\n";
  });
}

void add_theory(CLI::App& app) {
  auto* theory = app.add_subcommand("theory", "Closed-form predictions of the paper's theory");
  theory->require_subcommand(1);

  struct PArgs {
    std::string N, P, c = "0", eta = "1";
  };
  auto pa = std::make_shared<PArgs>();
  auto* perc = theory->add_subcommand(
      "perceptron", "Classic inefficiency (Eq. 3), K, T, optimal threshold and caching gain");
  perc->add_option("--N", pa->N, "number of inputs")->type_name("X")->required();
  perc->add_option("--P", pa->P, "number of patterns (0 < P < 2N)")->type_name("X")->required();
  perc->add_option("--c", pa->c, "maintenance cost")->type_name("X")->capture_default_str();
  perc->add_option("--eta", pa->eta, "learning rate")->type_name("X")->capture_default_str();
  perc->callback([pa]() {
    const double N = parse_real("--N", pa->N, false), P = parse_real("--P", pa->P, false);
    const double c = parse_real("--c", pa->c, false), eta = parse_real("--eta", pa->eta, false);
    if (!(N > 0)) fail("--N: must be > 0 (got " + shown(pa->N) + ")");
    if (!(P > 0) || !(P < 2 * N)) fail("--P: must satisfy 0 < P < 2N (got " + shown(pa->P) + ")");
    if (c < 0) fail("--c: must be >= 0 (got " + shown(pa->c) + ")");
    if (!(eta > 0)) fail("--eta: must be > 0 (got " + shown(pa->eta) + ")");
    syncache::theory::PerceptronTheory t{};
    try {
      t = syncache::theory::perceptron(N, P, c, eta);
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
    json j;
    j["N"] = N;
    j["P"] = P;
    j["c"] = c;
    j["eta"] = eta;
    j["inefficiency"] = t.inefficiency;
    j["updates"] = t.updates;
    j["presentations"] = t.presentations;
    j["theta_opt"] = t.theta_opt;
    j["caching_inefficiency"] = t.caching_inefficiency;
    std::cout << j.dump(2) << "\n";
  });

  struct TArgs {
    std::string theta, tau, p, eta = "1", N = "1", c = "0";
  };
  auto ta = std::make_shared<TArgs>();
  auto* tr = theory->add_subcommand(
      "transient",
      "Decaying transient weight: density width, <|s|>, consolidation rate, powers (Eqs. 5-7)");
  tr->add_option("--theta", ta->theta, "consolidation threshold (> 0)")->type_name("X")->required();
  tr->add_option("--tau", ta->tau, "decay time constant in time steps (> 0, or inf)")
      ->type_name("X|inf")
      ->required();
  tr->add_option("--p", ta->p, "update probability per time step, in [0, 1]")
      ->type_name("X")
      ->required();
  tr->add_option("--eta", ta->eta, "update size")->type_name("X")->capture_default_str();
  tr->add_option("--N", ta->N, "number of synapses")->type_name("X")->capture_default_str();
  tr->add_option("--c", ta->c, "maintenance cost")->type_name("X")->capture_default_str();
  tr->callback([ta]() {
    const double theta = parse_real("--theta", ta->theta, false);
    const double tau = parse_real("--tau", ta->tau, true);
    const double p = parse_real("--p", ta->p, false);
    const double eta = parse_real("--eta", ta->eta, false);
    const double N = parse_real("--N", ta->N, false);
    const double c = parse_real("--c", ta->c, false);
    if (!(theta > 0)) fail("--theta: must be > 0 (got " + shown(ta->theta) + ")");
    if (!(tau > 0)) fail("--tau: must be > 0, or inf (got " + shown(ta->tau) + ")");
    if (!(p >= 0 && p <= 1)) fail("--p: must lie in [0, 1] (got " + shown(ta->p) + ")");
    if (!(eta > 0)) fail("--eta: must be > 0 (got " + shown(ta->eta) + ")");
    if (!(N > 0)) fail("--N: must be > 0 (got " + shown(ta->N) + ")");
    if (c < 0) fail("--c: must be >= 0 (got " + shown(ta->c) + ")");
    syncache::theory::TransientTheory t{};
    try {
      t = syncache::theory::transient(theta, tau, p, eta, N, c);
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
    json j;
    j["theta"] = theta;
    j["tau"] = std::isinf(tau) ? json("inf") : json(tau);
    j["p"] = p;
    j["eta"] = eta;
    j["N"] = N;
    j["c"] = c;
    j["sigma"] = std::isinf(t.sigma) ? json("inf") : json(t.sigma);
    j["mean_abs_s"] = t.mean_abs_s;
    j["consolidation_rate"] = t.consolidation_rate;
    j["maintenance_power"] = t.maintenance_power;
    j["consolidation_power"] = t.consolidation_power;
    std::cout << j.dump(2) << "\n";
  });
}

struct BatchArgs {
  std::string threads = "0", store;
};

syncache::ExperimentEnv make_env(const BatchArgs& a, const std::string& default_store,
                                 std::unique_ptr<syncache::ResultsStore>& holder) {
  syncache::ExperimentEnv env;
  // 0 = all hardware threads.
  env.runner.threads = static_cast<int>(parse_count("--threads", a.threads, 0, 1024));
  const std::string path = a.store.empty() ? default_store : a.store;
  if (path != "none") {
    try {
      // Under MPI only rank 0 opens the store; it alone reads and writes it.
      syncache::cluster::on_root([&] { holder = std::make_unique<syncache::ResultsStore>(path); });
    } catch (const std::exception& e) {
      fail(std::string("--store: ") + e.what());
    }
    env.store = holder.get();
  }
  return env;
}

void add_figure(CLI::App& app) {
  struct FArgs {
    std::string name, out = "results", experiments;
    bool quick = false, full = false, no_plot = false, list = false;
    BatchArgs batch;
  };
  auto fa = std::make_shared<FArgs>();
  auto* cmd = app.add_subcommand(
      "figure", "Reproduce a figure of the paper: data (CSV) and picture (PNG, SVG)");
  cmd->add_option("name", fa->name, "figure name, or 'all'")->type_name("NAME|all");
  cmd->add_flag("--quick", fa->quick, "paper's N and shapes, fewer seeds and points (default)");
  cmd->add_flag("--full", fa->full, "the paper's scale");
  cmd->add_option("--out", fa->out, "output directory")->capture_default_str()->type_name("DIR");
  cmd->add_option(
         "--threads", fa->batch.threads,
         "worker threads (per MPI rank), 0 = the hardware threads (shared among a node's ranks)")
      ->capture_default_str()
      ->type_name("INT");
  cmd->add_option("--store", fa->batch.store,
                  "results store (SQLite); default DIR/results.sqlite; 'none' to keep nothing")
      ->type_name("FILE");
  cmd->add_option("--experiments", fa->experiments, "directory of experiment files (TOML)")
      ->type_name("DIR");
  cmd->add_flag("--no-plot", fa->no_plot, "write the CSV only");
  cmd->add_flag("--list", fa->list, "list the figures and exit");
  cmd->callback([fa]() {
    if (fa->list) {
      for (const auto& f : syncache::figure_registry()) {
        std::cout << f.name << "\t" << f.description << "\n";
      }
      return;
    }
    if (fa->name.empty())
      fail("figure: name required (one of the names of 'syncache figure --list', or all)");
    if (fa->quick && fa->full) fail("--quick/--full: choose one");
    std::vector<const syncache::FigureSpec*> todo;
    if (fa->name == "all") {
      for (const auto& f : syncache::figure_registry()) todo.push_back(&f);
    } else if (const auto* f = syncache::find_figure(fa->name)) {
      todo.push_back(f);
    } else {
      std::string names;
      for (const auto& f : syncache::figure_registry())
        names += (names.empty() ? "" : ", ") + f.name;
      fail("figure: unknown figure '" + shown(fa->name) + "' (allowed: " + names + ", all)");
    }
    std::unique_ptr<syncache::ResultsStore> store;
    if (::mkdir(fa->out.c_str(), 0755) != 0) {
      struct stat st {};
      if (::stat(fa->out.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        fail("--out: cannot create the directory '" + shown(fa->out, 200) + "'");
      }
    }
    const auto env = make_env(fa->batch, fa->out + "/results.sqlite", store);
    syncache::FigureRunOptions opt;
    opt.scale = fa->full ? "full" : "quick";
    opt.out_dir = fa->out;
    opt.experiments_dir = fa->experiments;
    opt.plot = !fa->no_plot;
    for (const auto* f : todo) {
      try {
        syncache::run_figure(*f, opt, env);
      } catch (const std::invalid_argument& e) {
        fail(e.what());
      } catch (const std::exception& e) {
        fail(e.what(), 1);
      }
    }
  });
}

void add_sweep(CLI::App& app) {
  struct SArgs {
    std::string file, out;
    BatchArgs batch;
  };
  auto sa = std::make_shared<SArgs>();
  auto* cmd = app.add_subcommand("sweep",
                                 "Run a grid over the perceptron's options with repeats; tidy CSV");
  cmd->add_option("file", sa->file,
                  "sweep file (TOML): name, repeats, master_seed, [fixed], [grid]")
      ->required()
      ->type_name("FILE.toml");
  cmd->add_option("--out", sa->out, "CSV output file (default: standard output)")
      ->type_name("FILE");
  cmd->add_option(
         "--threads", sa->batch.threads,
         "worker threads (per MPI rank), 0 = the hardware threads (shared among a node's ranks)")
      ->capture_default_str()
      ->type_name("INT");
  cmd->add_option("--store", sa->batch.store, "results store (SQLite); 'none' to keep nothing")
      ->capture_default_str()
      ->type_name("FILE");
  cmd->callback([sa]() {
    check_output("--out", sa->out);  // before any run: a bad path wastes no work
    std::unique_ptr<syncache::ResultsStore> store;
    const auto env = make_env(sa->batch, "syncache-results.sqlite", store);
    std::string csv;
    try {
      const auto cfg = syncache::ExperimentConfig::load(sa->file, "");
      csv = syncache::run_sweep(cfg, env);
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    } catch (const std::exception& e) {
      fail(e.what(), 1);
    }
    const std::string again =
        env.store != nullptr
            ? "the runs are kept in the results store '" + shown(env.store->path(), 200) +
                  "': run the same sweep with another --out to write the CSV without recomputing"
            : "the runs were not kept (--store none)";
    write_output("--out", sa->out, csv, again);
  });
}

void flatten(const json& j, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out.emplace_back(prefix, j.is_string() ? j.get<std::string>() : j.dump());
  }
}

void add_results(CLI::App& app) {
  auto* res = app.add_subcommand("results", "Inspect and export the results store");
  res->require_subcommand(1);
  struct EArgs {
    std::string store = "results/results.sqlite", experiment = "perceptron", out;
  };
  auto ea = std::make_shared<EArgs>();
  auto* exp = res->add_subcommand("export", "Write every stored run of an experiment as CSV");
  exp->add_option("--store", ea->store, "results store")->capture_default_str()->type_name("FILE");
  exp->add_option("--experiment", ea->experiment, "experiment key")->capture_default_str();
  exp->add_option("--out", ea->out, "CSV file (default: standard output)")->type_name("FILE");
  exp->callback([ea]() {
    check_output("--out", ea->out);
    std::unique_ptr<syncache::ResultsStore> store;
    struct stat st {};
    if (::stat(ea->store.c_str(), &st) != 0)
      fail("--store: no such file '" + shown(ea->store, 200) + "'");
    if (!S_ISREG(st.st_mode)) fail("--store: '" + shown(ea->store, 200) + "' is not a file");
    std::vector<syncache::Row> rows;
    std::vector<std::string> known;
    try {
      // Read-only: an export never writes to (or creates a schema in) the file it reads.
      store =
          std::make_unique<syncache::ResultsStore>(ea->store, syncache::program_version(), true);
      known = store->experiments();
      rows = store->rows(ea->experiment);
    } catch (const std::exception& e) {
      fail(std::string("--store: ") + e.what());
    }
    if (std::find(known.begin(), known.end(), ea->experiment) == known.end()) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
      fail("--experiment: no runs of '" + shown(ea->experiment) + "' in " + shown(ea->store, 200) +
           " (stored: " + (names.empty() ? "none" : names) + ")");
    }
    std::vector<std::string> columns;
    std::vector<std::vector<std::pair<std::string, std::string>>> flat;
    for (const auto& r : rows) {
      std::vector<std::pair<std::string, std::string>> f;
      flatten(r.spec.params, "", f);
      f.emplace_back("seed", std::to_string(r.spec.seed));
      flatten(r.result, "", f);
      f.emplace_back("version", r.version);
      for (const auto& [k, v] : f) {
        if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
      }
      flat.push_back(std::move(f));
    }
    std::ostringstream out;
    for (std::size_t c = 0; c < columns.size(); ++c) out << (c ? "," : "") << columns[c];
    out << "\n";
    for (const auto& f : flat) {
      for (std::size_t c = 0; c < columns.size(); ++c) {
        std::string v;
        for (const auto& [k, val] : f) {
          if (k == columns[c]) v = val;
        }
        out << (c ? "," : "") << v;
      }
      out << "\n";
    }
    write_output("--out", ea->out, out.str(), "the results store is unchanged");
  });
}

void add_mlp(CLI::App& app) {
  struct MArgs {
    TableArgs net, training;
    std::string train_limit = "0", test_limit = "0", data;
  };
  auto ma = std::make_shared<MArgs>();
  auto* cmd = app.add_subcommand(
      "mlp", "Train the 784-H-10 network on MNIST; print a CSV learning curve with energies");
  add_table_options(cmd, syncache::mlp_parameters(), ma->net);
  add_table_options(cmd, syncache::training_parameters(), ma->training);
  cmd->add_option("--train-limit", ma->train_limit, "use the first n training images (0 = all)")
      ->capture_default_str()
      ->type_name("INT");
  cmd->add_option("--test-limit", ma->test_limit, "use the first n test images (0 = all)")
      ->capture_default_str()
      ->type_name("INT");
  cmd->add_option("--data", ma->data, "directory with the four MNIST IDX files")->type_name("DIR");
  cmd->callback([ma, cmd]() {
    const json net_given = table_values(cmd, syncache::mlp_parameters(), ma->net);
    const json training_given = table_values(cmd, syncache::training_parameters(), ma->training);
    syncache::TrainingOptions training;
    std::optional<syncache::Mlp> net;
    try {
      training = syncache::training_options_from_json(nlohmann::json(training_given));
      net.emplace(syncache::mlp_config_from_json(nlohmann::json(net_given)));
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
    const auto train_limit =
        static_cast<std::size_t>(parse_count("--train-limit", ma->train_limit, 0, 1000000000));
    const auto test_limit =
        static_cast<std::size_t>(parse_count("--test-limit", ma->test_limit, 0, 1000000000));
    syncache::mnist::Mnist data;
    try {
      data = syncache::mnist::load(ma->data, train_limit, test_limit);
    } catch (const std::exception& e) {
      fail(std::string("--data: ") + e.what());  // missing, truncated or corrupt files
    }
    std::cout << "samples,epoch,accuracy,energy_total,energy_consolidation,energy_maintenance,"
                 "energy_pending,energy_minimal,updates,consolidation_events\n";
    // Shortest round-trip forms: full precision (the energies add up exactly), no noise.
    using syncache::round_trip;
    syncache::train_mlp(
        *net, data.train, data.test, training, [&](const syncache::LearningPoint& p) {
          const syncache::EnergyTally& e = p.energy;
          std::cout << p.samples << ',' << p.epoch << ',' << round_trip(p.accuracy) << ','
                    << round_trip(e.total()) << ',' << round_trip(e.consolidation) << ','
                    << round_trip(e.maintenance) << ',' << round_trip(e.pending) << ','
                    << round_trip(e.minimal) << ',' << e.updates << ',' << e.consolidation_events
                    << "\n"
                    << std::flush;
        });
  });
}

}  // namespace

int main(int argc, char** argv) {
  const syncache::cluster::Session mpi(argc, argv);  // MPI when started by mpirun or srun
  CLI::App app{"syncache: metabolic energy of synaptic plasticity, and synaptic caching"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("syncache ") + SYNCACHE_VERSION);
  add_perceptron(app);
  add_theory(app);
  add_figure(app);
  add_sweep(app);
  add_results(app);
  add_mlp(app);
  add_spiking(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (what.empty()) what = e.get_name();
    std::cerr << "syncache: error: " << shown(what, 200) << " (see --help)\n";
    return kUsageError;
  } catch (const std::bad_alloc&) {
    // The commands estimate their memory before allocating (syncache/io/limits.hpp); this
    // is the last line of defence, never a raw message.
    std::cerr << "syncache: error: out of memory; use smaller sizes or fewer runs\n";
    return 1;
  } catch (const syncache::ParamError& e) {
    std::cerr << "syncache: error: " << shown(option_message(e), 200) << "\n";
    return kUsageError;
  } catch (const std::exception& e) {
    std::cerr << "syncache: error: " << shown(e.what(), 200) << "\n";
    return 1;
  }
  return 0;
}
