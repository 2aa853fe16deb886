// The cluster runner's cost per run dispatched (docs/benchmarks.md). Under mpirun, one
// run_all over RUNS runs that each busy-wait MICROS microseconds and return the rank
// that computed them; rank 0 prints, per rank, the runs done and the wall time per run
// beyond MICROS (the dispatch overhead: round trip, messages, JSON, and the store's
// commits when STORE is given).
//   mpirun -np K build/bin/bench_cluster [RUNS] [MICROS] [THREADS] [STORE]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "syncache/experiments/cluster.hpp"
#include "syncache/experiments/runner.hpp"
#include "syncache/io/results.hpp"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  const syncache::cluster::Session mpi(argc, argv);
  const long runs = argc > 1 ? std::atol(argv[1]) : 20000;
  const long micros = argc > 2 ? std::atol(argv[2]) : 0;
  syncache::RunnerOptions opt;
  opt.threads = argc > 3 ? std::atoi(argv[3]) : 1;
  opt.progress = false;
  std::unique_ptr<syncache::ResultsStore> store;
  if (argc > 4) {
    syncache::cluster::on_root([&] { store = std::make_unique<syncache::ResultsStore>(argv[4]); });
  }
  std::vector<syncache::RunSpec> specs;
  for (long i = 0; i < runs; ++i)
    specs.push_back(
        {"bench_cluster", {{"i", i}, {"micros", micros}}, static_cast<std::uint64_t>(i)});
  auto work = [micros](const syncache::RunSpec&) {
    const auto until = Clock::now() + std::chrono::microseconds(micros);
    while (Clock::now() < until) {
    }
    return nlohmann::json{{"rank", syncache::cluster::rank()}};
  };
  const auto start = Clock::now();
  const auto results = syncache::run_all(specs, work, store.get(), opt);
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  if (!syncache::cluster::is_root()) return 0;
  std::map<int, long> per_rank;
  for (const auto& r : results) ++per_rank[r.at("rank").get<int>()];
  std::printf("ranks %d, threads %d, runs %ld of %ld us: wall %.3f s\n", syncache::cluster::size(),
              opt.threads, runs, micros, wall);
  for (const auto& [rank, n] : per_rank) {
    // Each of the rank's threads was busy for n / threads runs over the wall time.
    const double per_run = wall * opt.threads / static_cast<double>(n);
    std::printf("  rank %d: %ld runs, %.1f us per run and thread, %.1f us beyond the run\n", rank,
                n, 1e6 * per_run, 1e6 * per_run - static_cast<double>(micros));
  }
  return 0;
}
