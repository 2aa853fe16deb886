// Time per presentation x synapse of perceptron training (classic and cached with
// decay), single thread. Each iteration trains one perceptron to convergence on fixed
// patterns; the counter ns_per_pres_syn = wall time / (presentations * (N + 1)).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <pcg_random.hpp>

#include "syncache/core/plain_store.hpp"
#include "syncache/models/patterns.hpp"
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

// Drawing the random patterns of one run (N = P = arg): random_patterns, which unpacks
// each 32-bit output of the generator at once, against the same stream read one bit at a
// time into the same set (the former implementation); the two sets are checked equal.
syncache::PatternSet<std::int8_t> patterns_bit_by_bit(std::size_t N, std::size_t P,
                                                      std::uint64_t seed) {
  syncache::PatternSet<std::int8_t> set(N, P);
  pcg32 rng(seed, 0);
  std::uint32_t word = 0;
  int left = 0;
  auto next = [&] {
    if (left == 0) {
      word = rng();
      left = 32;
    }
    const bool bit = word & 1u;
    word >>= 1;
    --left;
    return bit;
  };
  for (std::size_t p = 0; p < P; ++p) {
    std::int8_t* x = set.row(p);
    for (std::size_t i = 0; i < N; ++i) x[i] = next() ? 1 : -1;
    x[N] = 1;
    set.set_target(p, next() ? 1 : -1);
  }
  set.finalise();
  return set;
}

void BM_RandomPatterns(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::uint64_t seed = 1;
  for (auto _ : state) benchmark::DoNotOptimize(syncache::random_patterns(n, n, seed++));
}

void BM_RandomPatternsBitByBit(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto a = syncache::random_patterns(n, n, 5), b = patterns_bit_by_bit(n, n, 5);
  for (std::size_t p = 0; p < n; ++p) {
    if (a.target(p) != b.target(p) || !std::equal(a.row(p), a.row(p) + a.stride(), b.row(p))) {
      state.SkipWithError("the two pattern sets differ");
      return;
    }
  }
  std::uint64_t seed = 1;
  for (auto _ : state) benchmark::DoNotOptimize(patterns_bit_by_bit(n, n, seed++));
}

BENCHMARK(BM_RandomPatterns)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RandomPatternsBitByBit)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Classic)->Arg(1000)->Arg(1500)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ClassicDouble)->Arg(1000)->Arg(1500)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CachedDecay)->Arg(1000)->Arg(1500)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
