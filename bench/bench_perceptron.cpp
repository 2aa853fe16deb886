// Time per presentation x synapse of perceptron training (classic and cached with
// decay), single thread. Each iteration trains one perceptron to convergence on fixed
// patterns; the counter ns_per_pres_syn = wall time / (presentations * (N + 1)).
#include <benchmark/benchmark.h>

#include <cstdint>

#include "syncache/core/plain_store.hpp"
#include "syncache/models/perceptron.hpp"

namespace {

using syncache::CachedStore;
using syncache::ChangeCost;
using syncache::PatternSet;
using syncache::PlainStore;

template <class MakeStore, class Eta>
void run(benchmark::State& state, MakeStore make, Eta eta) {
  const std::size_t N = 1000, P = static_cast<std::size_t>(state.range(0));
  const PatternSet<std::int8_t> patterns = syncache::random_patterns(N, P, 1);
  std::int64_t presentations = 0;
  for (auto _ : state) {
    auto store = make(patterns.stride());
    auto res = syncache::train_perceptron(patterns, store, eta, 10000);
    presentations += res.presentations;
    benchmark::DoNotOptimize(res.energy);
  }
  const double per = static_cast<double>(presentations) * static_cast<double>(N + 1);
  state.counters["presentations"] =
      benchmark::Counter(static_cast<double>(presentations), benchmark::Counter::kAvgIterations);
  state.counters["ns_per_pres_syn"] =
      benchmark::Counter(per * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Classic(benchmark::State& state) {
  run(
      state, [](std::size_t cols) { return PlainStore<std::int32_t>(1, cols, ChangeCost()); },
      std::int32_t{1});
}

void BM_ClassicDouble(benchmark::State& state) {
  run(
      state, [](std::size_t cols) { return PlainStore<double>(1, cols, ChangeCost()); }, 1.0);
}

void BM_CachedDecay(benchmark::State& state) {
  syncache::CacheParams p;
  p.rule = syncache::Rule::neuron;
  p.theta = 5.0;
  p.tau = 1000.0;
  run(
      state, [p](std::size_t cols) { return CachedStore(1, cols, p, ChangeCost()); }, 1.0);
}

BENCHMARK(BM_Classic)->Arg(1000)->Arg(1500)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ClassicDouble)->Arg(1000)->Arg(1500)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CachedDecay)->Arg(1000)->Arg(1500)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
