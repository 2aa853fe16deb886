// The paper's figures: each is a function from its experiment file to a tidy table
// (src/experiments/figures/<name>.cpp, experiments/<name>.toml,
// python/syncache/plot/layouts/<name>.py).
#pragma once

#include <string>

#include "syncache/experiments/experiment.hpp"

namespace syncache {

/// Options of run_figure (`syncache figure`): scale, output folder, experiment files, plotting.
struct FigureRunOptions {
  std::string scale = "quick";  // "quick" or "full"
  std::string out_dir = "results";
  std::string experiments_dir;  // default: $SYNCACHE_EXPERIMENTS (the front ends pass theirs)
};

struct FigureOutput {
  std::string csv;       // the CSV written: <out_dir>/<name>.csv
  double seconds = 0.0;  // wall time of the whole figure
};

// Runs one figure: loads <experiments_dir>/<name>.toml at the chosen scale, computes
// (through env's store) and writes <out>/<name>.csv atomically. The picture is drawn by the
// front ends (the Python package's syncache.plot). Throws std::invalid_argument (a ParamError
// keyed "experiments" when no folder is known) / std::runtime_error on failure.
FigureOutput run_figure(const FigureSpec& spec, const FigureRunOptions& opt,
                        const ExperimentEnv& env);

// $SYNCACHE_EXPERIMENTS, or "" when it is not set.
std::string default_experiments_dir();

}  // namespace syncache
