// BM_Evaluate: one evaluation of the MNIST test set (below). The others: time per 1000
// samples of the MNIST network's per-sample training (784-100-10, docs/model.md section 3), the
// dense reference path (MlpConfig::dense_reference) against the sparse one, alternating in one
// process: each iteration trains the next 1000 samples of the first 10 000 training images
// (cycling) on the dense network, then the same 1000 on the sparse one. The two networks start
// alike and stay bit-identical (checked at the end), so both paths always work on the same state.
// Counters: dense_ms and sparse_ms (CPU time of the thread per 1000 samples, mean over the
// iterations) and their ratio speedup. Needs data/mnist (scripts/fetch-mnist) or
// $SYNCACHE_MNIST_DIR.
#include <benchmark/benchmark.h>

#include <ctime>
#include <exception>
#include <string>

#include "syncache/io/mnist.hpp"
#include "syncache/models/mlp.hpp"

namespace {

using syncache::Mlp;
using syncache::MlpConfig;
using syncache::Rule;

constexpr std::size_t kTrain = 10000, kChunk = 1000;

const syncache::mnist::Dataset* training_set(std::string& error) {
  static syncache::mnist::Dataset data;
  static std::string failure;
  static const bool loaded = [] {
    try {
      data = syncache::mnist::load("", kTrain, 1).train;
      return true;
    } catch (const std::exception& e) {
      failure = e.what();
      return false;
    }
  }();
  error = failure;
  return loaded ? &data : nullptr;
}

double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Trains `count` samples from `start` (cycling); returns the thread's CPU seconds.
double train_chunk(Mlp& net, const syncache::mnist::Dataset& d, std::size_t start,
                   std::size_t count) {
  const double t0 = thread_seconds();
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t k = (start + i) % d.count;
    d.prefetch((k + 1) % d.count);  // as the training loop does (train_mlp)
    net.train_sample(d.image(k), d.labels[k]);
  }
  return thread_seconds() - t0;
}

void alternate(benchmark::State& state, MlpConfig cfg) {
  std::string error;
  const syncache::mnist::Dataset* d = training_set(error);
  if (d == nullptr) {
    state.SkipWithError(("no MNIST data: " + error).c_str());
    return;
  }
  cfg.dense_reference = true;
  Mlp dense(cfg);
  cfg.dense_reference = false;
  Mlp sparse(cfg);
  double dense_s = 0.0, sparse_s = 0.0;
  std::size_t start = 0;
  for (auto _ : state) {
    dense_s += train_chunk(dense, *d, start, kChunk);
    sparse_s += train_chunk(sparse, *d, start, kChunk);
    start += kChunk;
  }
  if (dense.weights(0) != sparse.weights(0) || dense.weights(1) != sparse.weights(1) ||
      dense.energy().total() != sparse.energy().total()) {
    state.SkipWithError("the dense and the sparse network differ");
    return;
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["dense_ms"] = 1e3 * dense_s / n;
  state.counters["sparse_ms"] = 1e3 * sparse_s / n;
  state.counters["speedup"] = dense_s / sparse_s;
}

MlpConfig network() {
  MlpConfig cfg;
  cfg.hidden = 100;
  cfg.eta = 0.1;
  return cfg;
}

void BM_Classic(benchmark::State& state) {
  alternate(state, network());
}

// The neuron rule, theta = 0.1, no decay, c = 0.
void BM_CachedNeuron(benchmark::State& state) {
  MlpConfig cfg = network();
  cfg.cache.rule = Rule::neuron;
  cfg.cache.theta = 0.1;
  alternate(state, cfg);
}

// Figure 5B's caching (theta = 0.05, tau = 1000, c = 0.001): with c > 0 the store sums
// every row's |s| after each change, which the sparse path cannot skip.
void BM_CachedNeuronDecayCost(benchmark::State& state) {
  MlpConfig cfg = network();
  cfg.cache.rule = Rule::neuron;
  cfg.cache.theta = 0.05;
  cfg.cache.tau = 1000.0;
  cfg.cache.c = 0.001;
  alternate(state, cfg);
}

// One evaluation of the whole MNIST test set (10 000 images) by a 784-100-10 network
// trained on 2000 samples: what train_mlp does every eval_every samples (prebuilt:1, on
// the test set's non-zero pixels found once per run), and the same from the float images
// (prebuilt:0, the non-zero pixels found at every call). Needs the MNIST test set too.
void BM_Evaluate(benchmark::State& state) {
  std::string error;
  const syncache::mnist::Dataset* d = training_set(error);
  if (d == nullptr) {
    state.SkipWithError(("no MNIST data: " + error).c_str());
    return;
  }
  static const syncache::mnist::Dataset test = syncache::mnist::load("", 1, 0).test;
  Mlp net(network());
  train_chunk(net, *d, 0, 2000);
  double acc = 0.0;
  const auto sparse = syncache::SparseImages::from_dense(test.images.data(), test.count, 784);
  for (auto _ : state) {
    acc = state.range(0) ? net.accuracy(sparse, test.labels.data())
                         : net.accuracy(test.images.data(), test.labels.data(), test.count);
    benchmark::DoNotOptimize(acc);
  }
  state.counters["accuracy"] = acc;
}

BENCHMARK(BM_Evaluate)->ArgName("prebuilt")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Classic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CachedNeuron)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CachedNeuronDecayCost)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
