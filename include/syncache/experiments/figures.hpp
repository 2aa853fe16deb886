// The paper's figures: each is a function from its experiment file to a tidy table
// (src/experiments/figures/<name>.cpp, experiments/<name>.toml, scripts/plots/<name>.py).
#pragma once

#include <string>

#include "syncache/experiments/experiment.hpp"

namespace syncache {

/// Options of run_figure (`syncache figure`): scale, output folder, experiment files, plotting.
struct FigureRunOptions {
  std::string scale = "quick";  // "quick" or "full"
  std::string out_dir = "results";
  std::string experiments_dir;  // default: the source tree's experiments/
  std::string plot_script;      // default: the source tree's scripts/plot.py
  bool plot = true;
};

// Runs one figure: loads experiments/<name>.toml at the chosen scale, computes (through
// env's store), writes <out>/<name>.csv atomically, then draws <out>/<name>.png and .svg
// with /usr/bin/python3. Throws std::invalid_argument / std::runtime_error on failure.
void run_figure(const FigureSpec& spec, const FigureRunOptions& opt, const ExperimentEnv& env);

std::string default_experiments_dir();
std::string default_plot_script();

}  // namespace syncache
