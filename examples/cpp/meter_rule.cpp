// Meters a learning rule of one's own with syncache's weight stores: the same random walk
// of weight changes, once stored classically (every change persistent) and once cached
// (transient weights that consolidate when one exceeds theta). Prints both energies and the
// minimal energy |w(T) - w(0)| summed over synapses.
#include <cstdio>
#include <random>
#include <vector>

#include "syncache/core/cached_store.hpp"
#include "syncache/core/plain_store.hpp"

int main() {
  constexpr std::size_t kSynapses = 100;
  constexpr int kSteps = 1000;
  const syncache::ChangeCost cost(1.0);  // |dw|, Eq. 1 with alpha = 1

  syncache::CacheParams cache;
  cache.rule = syncache::Rule::synapse;
  cache.theta = 2.0;
  syncache::CachedStore cached(1, kSynapses, cache, cost);
  syncache::PlainStore<double> plain(1, kSynapses, cost);

  std::mt19937_64 rng(1);
  std::normal_distribution<double> step(0.0, 0.1);
  std::vector<double> dw(kSynapses);
  for (int t = 0; t < kSteps; ++t) {
    for (double& d : dw) d = step(rng) + 0.01;  // a drift the rule learns
    cached.begin_step();
    cached.add(0, dw.data());
    cached.apply_rule();
    plain.add(0, dw.data());
  }
  cached.finish();
  double minimal = 0.0;
  for (std::size_t i = 0; i < kSynapses; ++i) minimal += cost(cached.weight(0, i));
  std::printf("classic %.6g\ncached %.6g\nminimal %.6g\n", plain.energy().total(),
              cached.energy().total(), minimal);
  // The two stores learnt the same weights: every change ends up persistent either way.
  double gap = 0.0;
  for (std::size_t i = 0; i < kSynapses; ++i) {
    const double d = cached.weight(0, i) - plain.weight(0, i);
    gap = d > gap ? d : (-d > gap ? -d : gap);
  }
  std::printf("max weight difference %.3g\n", gap);
  return gap < 1e-9 ? 0 : 1;
}
