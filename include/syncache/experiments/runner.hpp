// The runner: spreads independent runs over threads, reusing runs already in the
// results store and storing each new one as soon as it finishes, so an interrupted
// sweep resumes where it stopped.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "syncache/io/results.hpp"

namespace syncache {

/// How the runner runs: threads, progress line and its label.
struct RunnerOptions {
  int threads = 0;       // 0 = all hardware threads; must not be negative
  bool progress = true;  // shown only when stderr is a terminal
  std::string label;     // progress prefix ("runs" when empty)
  // Checks the shape of a result read from the store (throws std::invalid_argument
  // saying what is wrong); a bad one is a ResultsStoreError naming the store and the run.
  std::function<void(const nlohmann::json&)> check_stored;
};

/// Thrown by run_all when a run fails; names the run and nests the original exception
/// (std::rethrow_if_nested gives it back).
class RunError : public std::runtime_error {
 public:
  RunError(std::size_t index, RunSpec spec, const std::string& what);
  std::size_t index;  // position in the specs passed to run_all
  RunSpec spec;
};

// Returns one result per spec, in the order of `specs`, whatever the thread count.
// Runs found in `store` (may be null) are reused; the others are computed by `work` on
// worker threads, taken one at a time from a shared counter (run costs differ by orders
// of magnitude), and written to the store from the calling thread as they finish.
// Equal specs are computed once. Every result, computed or reused, is the parse of its
// JSON text, so a resumed sweep returns exactly what an uninterrupted one does.
// `work` must be safe to call concurrently and should depend only on its spec: its
// seed comes from the spec (experiments set it with derive_seed(master, key),
// random.hpp), never from the thread or the order of runs.
// A result whose member "abandoned" is true (a run an optimiser stopped early: it holds no
// complete result, see figures/priced_search.hpp) is returned but never stored.
// When `work` throws, no new runs start; runs in flight finish and are stored; then the
// first failure is thrown as a RunError.
std::vector<nlohmann::json> run_all(const std::vector<RunSpec>& specs,
                                    const std::function<nlohmann::json(const RunSpec&)>& work,
                                    ResultsStore* store, const RunnerOptions& opt = {});

// True for a result that `run_all` returns but does not store (member "abandoned": true).
bool is_abandoned(const nlohmann::json& result);

// The progress line: "label: done/total, rate runs/s, ETA h:mm:ss" (ETA "--" while the
// rate is unknown).
std::string format_progress(const std::string& label, std::size_t done, std::size_t total,
                            double rate, double eta_seconds);

}  // namespace syncache
