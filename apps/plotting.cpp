#include "plotting.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "syncache/io/text_input.hpp"

extern char** environ;

namespace syncache_cli {

namespace fs = std::filesystem;

namespace {
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// The last non-blank line of a log, trimmed ("no message" if none).
std::string last_line(const std::string& path) {
  std::string last, line;
  std::ifstream in(path);
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t") != std::string::npos) last = line;
  }
  const auto first = last.find_first_not_of(" \t");
  return first == std::string::npos ? "no message" : last.substr(first);
}
}  // namespace

fs::path share_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return fs::path("share") / "syncache";
  return exe.parent_path().parent_path() / "share" / "syncache";
}

std::string experiments_dir(const std::string& option) {
  if (!option.empty()) return option;
  return env_or("SYNCACHE_EXPERIMENTS", (share_dir() / "experiments").string());
}

namespace {
constexpr int kNoMatplotlib = 3;  // syncache.plot's exit code when matplotlib is missing

// $SYNCACHE_PYTHON alone if set; else every distinct python3 along $PATH, in order (the
// first one with matplotlib draws: a virtual environment first on the PATH wins, and a
// python3 without matplotlib before the system one is passed over).
std::vector<std::string> interpreters() {
  const char* chosen = std::getenv("SYNCACHE_PYTHON");
  if (chosen != nullptr && *chosen != '\0') return {chosen};
  std::vector<std::string> found;
  const std::string path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = std::min(path.find(':', start), path.size());
    const fs::path candidate = fs::path(path.substr(start, end - start)) / "python3";
    std::error_code ec;
    if (end > start && fs::exists(candidate, ec) && access(candidate.c_str(), X_OK) == 0) {
      const fs::path real = fs::weakly_canonical(candidate, ec);
      const std::string key = ec ? candidate.string() : real.string();
      if (std::find(found.begin(), found.end(), key) == found.end()) found.push_back(key);
    }
    start = end + 1;
  }
  return found;
}

// Runs `python plot name csv base scale` with its output in `log`; the exit status, or -1
// when the interpreter could not be started (errno-style code in `spawn_error`).
int run_plotter(const std::string& python, const std::vector<std::string>& rest,
                const std::string& log, int& spawn_error) {
  std::vector<std::string> args = {python};
  args.insert(args.end(), rest.begin(), rest.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  spawn_error = posix_spawnp(&pid, python.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("plotting: waitpid failed");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

void plot_figure(const std::string& name, const std::string& base, const std::string& scale) {
  const std::string plot = env_or("SYNCACHE_PLOT", (share_dir() / "plot").string());
  const std::string log = base + ".plot.log";
  const std::vector<std::string> rest = {plot, name, base + ".csv", base, scale};
  const auto pythons = interpreters();
  std::string tried;
  for (const auto& python : pythons) {
    int spawn_error = 0;
    const int rc = run_plotter(python, rest, log, spawn_error);
    if (rc == 0) {
      std::remove(log.c_str());
      return;
    }
    tried += (tried.empty() ? "" : ", ") + syncache::shown(python, 80);
    if (rc == -1) {
      tried += std::string(" (") + std::strerror(spawn_error) + ")";
      continue;
    }
    if (rc != kNoMatplotlib) {
      throw std::runtime_error(name + ": plotting failed: " + syncache::shown(last_line(log), 120) +
                               " (see " + log + "); the CSV was written");
    }
  }
  std::remove(log.c_str());
  throw std::runtime_error(name + ": no Python 3 with matplotlib to plot (tried: " +
                           (tried.empty() ? std::string("no python3 on the PATH") : tried) +
                           "; set $SYNCACHE_PYTHON); the CSV was written");
}

}  // namespace syncache_cli
