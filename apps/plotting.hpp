// Where the installed command finds its experiment files and plotting program, and how it
// runs the plotter: the front end's business, never the library's.
#pragma once

#include <filesystem>
#include <string>

namespace syncache_cli {

// <prefix>/share/syncache beside <prefix>/bin/syncache (the build tree has the same layout).
std::filesystem::path share_dir();

// --experiments if given, else $SYNCACHE_EXPERIMENTS, else share_dir()/experiments.
std::string experiments_dir(const std::string& option);

// Draws <base>.png and .svg from <base>.csv: runs `PYTHON PLOT NAME CSV BASE SCALE` without a
// shell, where PLOT is $SYNCACHE_PLOT or share_dir()/plot (the Python package's
// syncache/plot folder) and PYTHON is $SYNCACHE_PYTHON, else the first python3 along the
// PATH that has matplotlib. The plotter's output goes to <base>.plot.log, removed on
// success. Throws std::runtime_error with one line (the plotter's last line and the log,
// or the interpreters tried).
void plot_figure(const std::string& name, const std::string& base, const std::string& scale);

}  // namespace syncache_cli
