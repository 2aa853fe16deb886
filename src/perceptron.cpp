#include "syncache/perceptron.hpp"

#include <stdexcept>

#include "syncache/plain_store.hpp"

namespace syncache {

void PerceptronConfig::validate() const {
  if (patterns_file.empty()) {
    if (N == 0) throw std::invalid_argument("--N: must be a positive integer");
    if (P == 0) throw std::invalid_argument("--P: must be a positive integer");
  }
  if (!(eta > 0.0) || std::isinf(eta)) {
    throw std::invalid_argument("--eta: must be a finite number > 0 (got " + std::to_string(eta) +
                                ")");
  }
  if (max_epochs <= 0) throw std::invalid_argument("--max-epochs: must be a positive integer");
  ChangeCost check(alpha, potentiation_only);  // validates alpha
  (void)check;
  if (rule != Rule::classic) {
    if (rule == Rule::layer) {
      throw std::invalid_argument("--rule: the perceptron has one neuron; allowed: classic, "
                                  "synapse, neuron, sum");
    }
    CacheParams p = cache;
    p.rule = rule;
    p.validate();
  }
}

namespace {

template <class X>
PerceptronResult train_any(const PatternSet<X>& patterns, const PerceptronConfig& cfg,
                           const EpochObserver* observer) {
  const ChangeCost cost(cfg.alpha, cfg.potentiation_only);
  const std::size_t cols = patterns.stride();
  if (cfg.rule != Rule::classic) {
    CacheParams p = cfg.cache;
    p.rule = cfg.rule;
    CachedStore store(1, cols, p, cost);
    return train_perceptron(patterns, store, cfg.eta, cfg.max_epochs, observer,
                            cfg.projection_epoch);
  }
  if constexpr (std::is_same_v<X, std::int8_t>) {
    // Exact integer weights: eta an integer and |w_i| <= eta * updates stays < 2^31.
    const double bound = cfg.eta * static_cast<double>(cfg.max_epochs) *
                         static_cast<double>(patterns.P());
    if (cfg.eta == std::floor(cfg.eta) && bound < 2147483647.0) {
      PlainStore<std::int32_t> store(1, cols, cost);
      return train_perceptron(patterns, store, static_cast<std::int32_t>(cfg.eta),
                              cfg.max_epochs, observer);
    }
  }
  PlainStore<double> store(1, cols, cost);
  return train_perceptron(patterns, store, cfg.eta, cfg.max_epochs, observer);
}

}  // namespace

PerceptronResult run_perceptron(const PerceptronConfig& cfg, std::size_t* N_out,
                                std::size_t* P_out, const EpochObserver* observer) {
  cfg.validate();
  if (!cfg.patterns_file.empty()) {
    const PatternSet<double> patterns = read_patterns_csv(cfg.patterns_file);
    if (N_out) *N_out = patterns.N();
    if (P_out) *P_out = patterns.P();
    return train_any(patterns, cfg, observer);
  }
  if (N_out) *N_out = cfg.N;
  if (P_out) *P_out = cfg.P;
  const PatternSet<std::int8_t> patterns = random_patterns(cfg.N, cfg.P, cfg.seed);
  if (cfg.zero_mean) return train_any(zero_mean(patterns), cfg, observer);
  return train_any(patterns, cfg, observer);
}

}  // namespace syncache
