#include "syncache/experiments/figures.hpp"

#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "syncache/experiments/cluster.hpp"
#include "syncache/io/results.hpp"
#include "syncache/io/text_input.hpp"

#ifndef SYNCACHE_SOURCE_DIR
#define SYNCACHE_SOURCE_DIR "."
#endif

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
  if (const char* e = std::getenv("SYNCACHE_EXPERIMENTS")) return e;
  return std::string(SYNCACHE_SOURCE_DIR) + "/experiments";
}

std::string default_plot_script() {
  if (const char* e = std::getenv("SYNCACHE_PLOT")) return e;
  return std::string(SYNCACHE_SOURCE_DIR) + "/scripts/plot.py";
}

namespace {
void make_dirs(const std::string& dir) {
  std::string partial;
  for (std::size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!partial.empty()) ::mkdir(partial.c_str(), 0755);
    }
    if (i < dir.size()) partial += dir[i];
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error("cannot create the output directory '" + dir + "'");
  }
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'') {
      out += "'\\''";
    } else {
      out += ch;
    }
  }
  return out + "'";
}
}  // namespace

void run_figure(const FigureSpec& spec, const FigureRunOptions& opt, const ExperimentEnv& env) {
  const auto start = std::chrono::steady_clock::now();
  const std::string dir =
      opt.experiments_dir.empty() ? default_experiments_dir() : opt.experiments_dir;
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
  // Under MPI, rank 0 alone writes; every rank then fails or goes on together.
  cluster::on_root([&] {
    make_dirs(opt.out_dir);
    const std::string base = opt.out_dir + "/" + spec.name;
    write_file_atomic(base + ".csv", data.csv());
    if (opt.plot) {
      const std::string script = opt.plot_script.empty() ? default_plot_script() : opt.plot_script;
      // The plotter's messages go to a log beside the CSV; a failure is reported in one
      // line (the last line the plotter wrote, e.g. a Python exception) with the log's name.
      const std::string log = base + ".plot.log";
      const std::string cmd = "/usr/bin/python3 " + shell_quote(script) + " " +
                              shell_quote(spec.name) + " " + shell_quote(base + ".csv") + " " +
                              shell_quote(base) + " " + shell_quote(opt.scale) + " >" +
                              shell_quote(log) + " 2>&1";
      const int rc = std::system(cmd.c_str());
      if (rc != 0) {
        std::string last, line;
        std::ifstream in(log);
        while (std::getline(in, line)) {
          if (line.find_first_not_of(" \t") != std::string::npos) last = line;
        }
        const auto first = last.find_first_not_of(" \t");
        last = first == std::string::npos ? "no message" : last.substr(first);
        throw std::runtime_error(spec.name + ": plotting failed: " + shown(last, 120) + " (see " +
                                 log + "); the CSV was written");
      }
      std::remove(log.c_str());
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "%s: %.1f s, wrote %s.csv%s\n", spec.name.c_str(), secs, base.c_str(),
                 opt.plot ? " .png .svg" : "");
  });
}

}  // namespace syncache
