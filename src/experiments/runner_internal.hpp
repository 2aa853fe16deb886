// Pieces of the runner (runner.cpp) that the cluster runner (mpi/cluster.cpp) shares.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "syncache/experiments/runner.hpp"
#include "syncache/io/results.hpp"

namespace syncache::detail {

using RunWork = std::function<nlohmann::json(const RunSpec&)>;

// Which runs to compute: equal specs share one computation (same[i] is the first index
// with spec i's key), runs found in `store` (may be null) are copied into `results`,
// `pending` lists the first indices still to compute, in spec order.
struct RunPlan {
  std::vector<std::size_t> same;
  std::vector<std::size_t> pending;
};
RunPlan plan_runs(const std::vector<RunSpec>& specs, ResultsStore* store,
                  std::vector<nlohmann::json>& results, const RunnerOptions& opt);

// The key plan_runs compares: experiment, canonical parameters, seed.
std::string run_key(const RunSpec& spec);

// Copies each result to the later equal specs (RunPlan::same).
void fill_duplicates(const RunPlan& plan, std::vector<nlohmann::json>& results);

// The text of one computed run, as the store keeps it (and as a stored run reads back).
std::string run_text(const RunWork& work, const RunSpec& spec);

// The failure of run `index` as a RunError nesting the exception being handled; call
// from a catch block.
std::exception_ptr current_run_error(std::size_t index, const RunSpec& spec);

// threads = 0: `hardware` threads; never more than `pending` (at least 1).
std::size_t thread_count(int threads, std::size_t hardware, std::size_t pending);

// One status line on a terminal, redrawn with \r at most every 200 ms.
class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  Progress(bool on, std::string label, std::size_t total, std::size_t already);
  void update(std::size_t computed, std::size_t to_compute, bool force);
  void finish();

 private:
  bool on_;
  std::string label_;
  std::size_t total_, already_;
  Clock::time_point start_, last_{};
  std::size_t width_ = 0;
  bool shown_ = false;
};

// True when progress should be drawn (asked for, and stderr is a terminal).
bool show_progress(const RunnerOptions& opt);

// The cluster runner (only with MPI, and only with more than one rank): the same
// contract as run_all (runner.hpp), every rank calling it with the same specs.
std::vector<nlohmann::json> run_all_cluster(const std::vector<RunSpec>& specs, const RunWork& work,
                                            ResultsStore* store, const RunnerOptions& opt);

}  // namespace syncache::detail
