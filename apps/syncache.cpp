// syncache: the command-line tool. Each subcommand prints one JSON object on success;
// bad input ends with a one-line error on stderr, exit code 2, and no output.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

#include "plotting.hpp"
#include "syncache/experiments/cluster.hpp"
#include "syncache/experiments/commands.hpp"
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
          const auto real = [&spec](std::string_view text) {
            const double v = spec.read_real(text);
            return std::isinf(v) ? json("inf") : json(v);
          };
          const std::string& text = a.text.at(name);
          if (spec.max_values > 1 && text.find(',') != std::string::npos) {
            json values = json::array();  // "a,b": one value each
            for (std::size_t start = 0; start <= text.size();) {
              const std::size_t end = std::min(text.find(',', start), text.size());
              values.push_back(real(std::string_view(text).substr(start, end - start)));
              start = end + 1;
            }
            if (values.size() > spec.max_values) {
              throw syncache::ParamError(name, "at most " + std::to_string(spec.max_values) +
                                                   " comma-separated values (got '" + text + "')");
            }
            p[name] = values;
          } else {
            p[name] = real(text);
          }
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
    const json given = table_values(cmd, syncache::perceptron_parameters(), *args);
    json j;
    try {
      j = syncache::commands::perceptron(nlohmann::json(given));
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
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
                  "write every time step of the last round (voltage, spikes, weights, energies; l "
                  "and s at each trial's start) as CSV")
      ->type_name("FILE");
  cmd->callback([sa, cmd]() {
    const json given = table_values(cmd, syncache::spiking::spiking_parameters(), sa->table);
    try {
      (void)syncache::spiking::config_from_json(nlohmann::json(given));  // before the file
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
    std::ofstream record;
    if (!sa->record.empty()) {
      record.open(sa->record);
      if (!record) fail("--record: cannot write '" + sa->record + "'");
    }
    json out;
    try {
      out = syncache::commands::spiking(nlohmann::json(given),
                                        sa->record.empty() ? nullptr : &record);
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
    if (!sa->record.empty()) {
      record.close();
      if (!record) fail("--record: writing '" + sa->record + "' failed");
    }
    std::cout << out.dump() << "\n";
  });
}

void add_theory(CLI::App& app) {
  auto* theory = app.add_subcommand("theory", "Closed-form predictions of the paper's theory");
  theory->require_subcommand(1);

  // Each calculator's options come from its parameter table (commands.hpp).
  const auto add_calculator = [theory](const char* name, const char* description,
                                       std::span<const syncache::ParamSpec> specs,
                                       syncache::commands::Json (*calc)(const nlohmann::json&)) {
    auto args = std::make_shared<TableArgs>();
    auto* cmd = theory->add_subcommand(name, description);
    add_table_options(cmd, specs, *args);
    cmd->callback([args, cmd, specs, calc]() {
      const json given = table_values(cmd, specs, *args);
      json j;
      try {
        j = calc(nlohmann::json(given));
      } catch (const std::invalid_argument& e) {
        fail(option_message(e));
      }
      std::cout << j.dump(2) << "\n";
    });
  };
  add_calculator(
      "perceptron", "Classic inefficiency (Eq. 3), K, T, optimal threshold and caching gain",
      syncache::commands::theory_perceptron_parameters(), &syncache::commands::theory_perceptron);
  add_calculator(
      "transient",
      "Decaying transient weight: density width, <|s|>, consolidation rate, powers (Eqs. 5-7)",
      syncache::commands::theory_transient_parameters(), &syncache::commands::theory_transient);
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
    std::error_code ec;
    std::filesystem::create_directories(fa->out, ec);
    if (!std::filesystem::is_directory(fa->out)) {
      fail("--out: cannot create the directory '" + shown(fa->out, 200) + "'");
    }
    const auto env = make_env(fa->batch, fa->out + "/results.sqlite", store);
    syncache::FigureRunOptions opt;
    opt.scale = fa->full ? "full" : "quick";
    opt.out_dir = fa->out;
    opt.experiments_dir = syncache_cli::experiments_dir(fa->experiments);
    for (const auto* f : todo) {
      try {
        const auto done = syncache::run_figure(*f, opt, env);
        // Rank 0 alone draws; every rank then fails or goes on together.
        syncache::cluster::on_root([&] {
          if (!fa->no_plot) syncache_cli::plot_figure(f->name, fa->out + "/" + f->name, opt.scale);
          std::fprintf(stderr, "%s: %.1f s, wrote %s%s\n", f->name.c_str(), done.seconds,
                       done.csv.c_str(), fa->no_plot ? "" : " .png .svg");
        });
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
    std::error_code ec;
    const auto kind = std::filesystem::status(ea->store, ec).type();
    if (kind == std::filesystem::file_type::not_found || kind == std::filesystem::file_type::none)
      fail("--store: no such file '" + shown(ea->store, 200) + "'");
    if (kind != std::filesystem::file_type::regular)
      fail("--store: '" + shown(ea->store, 200) + "' is not a file");
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
    TableArgs net, training, data;
  };
  auto ma = std::make_shared<MArgs>();
  auto* cmd = app.add_subcommand(
      "mlp", "Train the 784-H-10 network on MNIST; print a CSV learning curve with energies");
  add_table_options(cmd, syncache::mlp_parameters(), ma->net);
  add_table_options(cmd, syncache::training_parameters(), ma->training);
  add_table_options(cmd, syncache::commands::mlp_data_parameters(), ma->data);
  cmd->callback([ma, cmd]() {
    json given = table_values(cmd, syncache::mlp_parameters(), ma->net);
    given.update(table_values(cmd, syncache::training_parameters(), ma->training));
    given.update(table_values(cmd, syncache::commands::mlp_data_parameters(), ma->data));
    bool header = false;
    try {
      syncache::commands::mlp(nlohmann::json(given), [&](const syncache::LearningPoint& p) {
        if (!header) std::cout << syncache::commands::kMlpColumns << "\n";
        header = true;
        std::cout << syncache::commands::mlp_csv_line(p) << "\n" << std::flush;
      });
    } catch (const std::invalid_argument& e) {
      fail(option_message(e));
    }
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
