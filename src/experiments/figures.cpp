#include "syncache/experiments/figures.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "syncache/experiments/cluster.hpp"
#include "syncache/io/params.hpp"
#include "syncache/io/results.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache {

namespace {
// Filled by the FigureRegistration objects of the figure files before main() runs.
std::vector<FigureSpec>& registered() {
  static std::vector<FigureSpec> figures;
  return figures;
}
}  // namespace

FigureRegistration::FigureRegistration(FigureSpec spec) {
  registered().push_back(std::move(spec));
}

const std::vector<FigureSpec>& figure_registry() {
  static const std::vector<FigureSpec> ordered = [] {
    std::vector<FigureSpec> v = registered();
    std::stable_sort(v.begin(), v.end(),
                     [](const FigureSpec& x, const FigureSpec& y) { return x.order < y.order; });
    return v;
  }();
  return ordered;
}

const FigureSpec* find_figure(const std::string& name) {
  for (const auto& f : figure_registry()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string default_experiments_dir() {
  const char* e = std::getenv("SYNCACHE_EXPERIMENTS");
  return e != nullptr ? e : "";
}

FigureOutput run_figure(const FigureSpec& spec, const FigureRunOptions& opt,
                        const ExperimentEnv& env) {
  const auto start = std::chrono::steady_clock::now();
  const std::string dir =
      opt.experiments_dir.empty() ? default_experiments_dir() : opt.experiments_dir;
  if (dir.empty()) {
    throw ParamError("experiments",
                     "no folder of experiment files given (and $SYNCACHE_EXPERIMENTS is not set)");
  }
  FigureContext ctx;
  ctx.name = spec.name;
  ctx.full = opt.scale == "full";
  ctx.config = ExperimentConfig::load(dir + "/" + spec.name + ".toml", opt.scale);
  ctx.env = env;
  if (ctx.config.has("master_seed")) {
    ctx.env.master_seed = static_cast<std::uint64_t>(ctx.config.integer("master_seed"));
  }
  FigureData data = spec.run(ctx);
  data.notes.insert(data.notes.begin(), spec.name + ": " + spec.description + " (scale " +
                                            opt.scale + ", experiment " + ctx.config.source() +
                                            ", syncache " + program_version() + ")");
  FigureOutput out;
  out.csv = (std::filesystem::path(opt.out_dir) / (spec.name + ".csv")).string();
  // Under MPI, rank 0 alone writes; every rank then fails or goes on together.
  cluster::on_root([&] {
    std::error_code ec;
    std::filesystem::create_directories(opt.out_dir, ec);
    if (!std::filesystem::is_directory(opt.out_dir)) {
      throw std::runtime_error("cannot create the output directory '" + opt.out_dir + "'" +
                               (ec ? ": " + ec.message() : std::string()));
    }
    write_file_atomic(out.csv, data.csv());
  });
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace syncache
