// Trials per second of the spiking neuron (150 ms of simulated time at dt = 0.1 ms, one
// neuron, 100 auditory inputs, STDP on the cached store), single thread. Each iteration
// presents one pattern once; the learner keeps learning across iterations, as in a run.
#include <benchmark/benchmark.h>

#include "syncache/models/spiking.hpp"

namespace {

namespace sp = syncache::spiking;

void run(benchmark::State& state, syncache::Rule rule, double theta) {
  sp::LearningConfig cfg;
  cfg.patterns = 10;
  cfg.cache.rule = rule;
  cfg.cache.theta = theta;
  cfg.seed = 1;
  sp::Learner learner(cfg);
  std::size_t q = 0;
  for (auto _ : state) {
    learner.trial(learner.patterns()[q]);
    q = (q + 1) % learner.patterns().size();
  }
  benchmark::DoNotOptimize(learner.store().energy());
  state.counters["trials_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_TrialClassic(benchmark::State& state) {
  run(state, syncache::Rule::classic, 0.0);
}
void BM_TrialCachedNeuron(benchmark::State& state) {
  run(state, syncache::Rule::neuron, 0.5);
}

// A whole learning run at P = 10 (until convergence), for the time per figure point.
void BM_LearnP10(benchmark::State& state) {
  std::int64_t trials = 0;
  std::uint64_t seed = 1;
  for (auto _ : state) {
    sp::LearningConfig cfg;
    cfg.patterns = 10;
    cfg.cache.rule = syncache::Rule::neuron;
    cfg.cache.theta = 0.5;
    cfg.seed = seed++;
    const auto r = sp::Learner(cfg).learn();
    trials += static_cast<std::int64_t>(r.rounds) * cfg.patterns;
    benchmark::DoNotOptimize(r.energy);
  }
  state.counters["trials_per_s"] =
      benchmark::Counter(static_cast<double>(trials), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_TrialClassic);
BENCHMARK(BM_TrialCachedNeuron);
BENCHMARK(BM_LearnP10)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
