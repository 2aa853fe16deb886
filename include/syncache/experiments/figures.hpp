// The paper's figures: each is a function from its experiment file to a tidy table
// (src/experiments/figures/<name>.cpp, experiments/<name>.toml, scripts/plots/<name>.py).
#pragma once

#include <string>

#include "syncache/experiments/experiment.hpp"

namespace syncache {

// Declared weak: a figure whose source file is not in this build is simply absent from
// the registry (figure_registry() lists only the ones present).
#define SYNCACHE_FIGURE(name) __attribute__((weak)) FigureData figure_##name(FigureContext& ctx);
SYNCACHE_FIGURE(fig1)
SYNCACHE_FIGURE(fig1s1)
SYNCACHE_FIGURE(fig2a)
SYNCACHE_FIGURE(fig2b)
SYNCACHE_FIGURE(fig2c)
SYNCACHE_FIGURE(fig3)
SYNCACHE_FIGURE(fig3s1a)
SYNCACHE_FIGURE(fig3s1b)
SYNCACHE_FIGURE(fig4b)
SYNCACHE_FIGURE(fig6)
SYNCACHE_FIGURE(fig5a)
SYNCACHE_FIGURE(fig5b)
SYNCACHE_FIGURE(fig5c)
SYNCACHE_FIGURE(fig2s1)
SYNCACHE_FIGURE(efficiency)
#undef SYNCACHE_FIGURE

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
