#include "syncache/models/perceptron.hpp"

#include <cstdio>
#include <stdexcept>

#include "syncache/core/plain_store.hpp"
#include "syncache/io/limits.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache {

double perceptron_memory_bytes(std::size_t N, std::size_t P, bool zero_mean, bool cached) {
  const double n = static_cast<double>(N), p = static_cast<double>(P);
  const double stride = n + 64.0;                       // N + 1 inputs padded to 64 (PatternSet)
  double bytes = p * stride * (zero_mean ? 9.0 : 1.0);  // int8 patterns (+ double copy)
  bytes += p * stride / 4.0;                            // sign bits (DecisionFields)
  bytes += p * 64.0;                                    // targets, counts, input views
  bytes += stride * 128.0;                              // weights, mirrors, scratch
  if (cached) {
    const double q = std::min(p, 8192.0);  // DecisionFields::attach_inputs: at most 8192
    bytes += 2.0 * q * q;                  // int16 overlap matrix
  }
  return bytes;
}

std::span<const ParamSpec> perceptron_parameters() {
  static const std::string rules = rule_names(kPerceptron, "|");
  static const std::vector<ParamSpec> specs = [] {
    const double size_cap = static_cast<double>(kMaxPerceptronSize);
    std::vector<ParamSpec> v = {
        ParamSpec("N", ParamKind::integer, "number of inputs (a bias input is added)")
            .with_default("1000")
            .in(1, size_cap),
        ParamSpec("P", ParamKind::integer, "number of random patterns")
            .with_default("1000")
            .in(1, size_cap),
        ParamSpec("patterns", ParamKind::text,
                  "CSV file, one pattern per line: N inputs then the desired output (+-1)"),
        ParamSpec("seed", ParamKind::seed, "random seed for patterns and targets")
            .with_default("1"),
        ParamSpec("zero_mean", ParamKind::flag, "subtract the overall pattern mean (authors' code)")
            .with_default("false"),
        ParamSpec("rule", ParamKind::text, "consolidation rule (classic = no caching)")
            .with_default("classic")
            .one_of(rules),
    };
    // theta, tau, c and b as the cached store checks them; tau counts presentations.
    for (const ParamSpec& s : caching_parameters(
             DecayForm::linear, {.weight_unit = "",
                                .time_unit = "presentations",
                                .tau_doc = "decay time constant of the transient weights: s <- s "
                                           "(1 - 1/tau) per presentation",
                                .c_doc = "maintenance cost per unit of transient weight per "
                                         "presentation",
                                .with_b = true})) {
      v.push_back(s);
    }
    v.push_back(ParamSpec("alpha", ParamKind::real,
                          "energy exponent: a change Delta costs |Delta|^alpha (Eq. 1)")
                    .with_default("1")
                    .in(0.0, kMaxAlpha));
    v.push_back(ParamSpec("potentiation_only", ParamKind::flag, "only weight increases cost energy")
                    .with_default("false"));
    v.push_back(ParamSpec("eta", ParamKind::real, "learning rate")
                    .with_default("1")
                    .in(0.0, kUnbounded, true, true));
    v.push_back(
        ParamSpec("max_epochs", ParamKind::integer, "epoch cap").with_default("10000").in(1, 1e12));
    return v;
  }();
  return specs;
}

void PerceptronConfig::validate() const {
  if (patterns_file.empty()) {
    if (N == 0) throw ParamError("N", "must be a positive integer");
    if (P == 0) throw ParamError("P", "must be a positive integer");
    // Bounds that keep every size computation far from overflow; the memory check below
    // refuses much smaller problems on any real machine.
    if (N > kMaxPerceptronSize) {
      throw ResourceError("N", "at most " + std::to_string(kMaxPerceptronSize) + " (got " +
                                   std::to_string(N) + ")");
    }
    if (P > kMaxPerceptronSize) {
      throw ResourceError("P", "at most " + std::to_string(kMaxPerceptronSize) + " (got " +
                                   std::to_string(P) + ")");
    }
    require_memory("N/P", perceptron_memory_bytes(N, P, zero_mean, cache.rule != Rule::classic));
  }
  if (!(eta > 0.0) || std::isinf(eta)) {
    throw ParamError("eta", "must be a finite number > 0 (got " + std::to_string(eta) + ")");
  }
  if (max_epochs <= 0) throw ParamError("max_epochs", "must be a positive integer");
  ChangeCost check(alpha, potentiation_only);  // validates alpha
  (void)check;
  require_rule(cache.rule, kPerceptron, "the perceptron (one neuron)");
  cache.validate(perceptron_parameters());
}

namespace {

// Trains with eta = 1 (see run_perceptron).
template <class X>
PerceptronResult train_unit_eta(const PatternSet<X>& patterns, const PerceptronConfig& cfg,
                                const EpochObserver* observer) {
  const ChangeCost cost(cfg.alpha, cfg.potentiation_only);
  const std::size_t cols = patterns.stride();
  if (cfg.cache.rule != Rule::classic) {
    CachedStore store(1, cols, cfg.cache, cost);
    return train_perceptron(patterns, store, cfg.eta, cfg.max_epochs, observer,
                            cfg.projection_epoch);
  }
  if constexpr (std::is_same_v<X, std::int8_t>) {
    // Exact integer weights: eta an integer and |w_i| <= eta * updates stays < 2^31.
    const double bound =
        cfg.eta * static_cast<double>(cfg.max_epochs) * static_cast<double>(patterns.P());
    if (cfg.eta == std::floor(cfg.eta) && bound < 2147483647.0) {
      PlainStore<std::int32_t> store(1, cols, cost);
      return train_perceptron(patterns, store, static_cast<std::int32_t>(cfg.eta), cfg.max_epochs,
                              observer);
    }
  }
  PlainStore<double> store(1, cols, cost);
  return train_perceptron(patterns, store, cfg.eta, cfg.max_epochs, observer);
}

// The perceptron with caching is homogeneous in (eta, theta, l, s): starting from w = 0,
// the weights learnt with rate eta and threshold theta are eta times those learnt with
// rate 1 and threshold theta / eta, at every step, whatever the decay. So every eta is
// simulated at eta = 1 and the results are scaled: weights by eta, the costs |Delta|^alpha
// (classic, consolidation, minimal) by eta^alpha, the linear costs c sum|s| and
// b sum|Delta s| by eta. This makes the trajectory exactly the same for every eta (a zero
// field stays an exact zero instead of a rounding residue) and keeps the integer paths.
template <class X>
PerceptronResult train_any(const PatternSet<X>& patterns, const PerceptronConfig& cfg,
                           const EpochObserver* observer) {
  const double eta = cfg.eta;
  if (eta == 1.0) return train_unit_eta(patterns, cfg, observer);
  PerceptronConfig unit = cfg;
  unit.eta = 1.0;
  unit.cache.theta = cfg.cache.theta / eta;
  const double power = cfg.alpha == 0.0 ? 1.0 : std::pow(eta, cfg.alpha);
  auto scale = [eta, power](EnergyTally e) {
    e.classic *= power;
    e.consolidation *= power;
    e.pending *= power;
    e.minimal *= power;
    e.maintenance *= eta;
    e.change *= eta;
    return e;
  };
  EpochObserver scaled;
  if (observer != nullptr && *observer) {
    scaled = [&](const EpochRecord& rec) {
      EpochRecord r = rec;
      r.energy = scale(r.energy);
      r.transient_abs_sum *= eta;
      (*observer)(r);
    };
  }
  PerceptronResult r = train_unit_eta(patterns, unit, scaled ? &scaled : nullptr);
  r.energy = scale(r.energy);
  r.minimal *= power;
  for (double& w : r.weights) w *= eta;
  return r;
}

// Every number of a result is finite, or the input that produced it is refused: large
// pattern values or a large eta can overflow the energies (never a NaN or null output).
// `source` names given patterns ("'file.csv'", "the array"); empty for random ones.
PerceptronResult finite_or_refused(PerceptronResult r, const PerceptronConfig& cfg,
                                   const std::string& source) {
  const EnergyTally& e = r.energy;
  bool finite = std::isfinite(e.classic) && std::isfinite(e.consolidation) &&
                std::isfinite(e.maintenance) && std::isfinite(e.change) &&
                std::isfinite(e.total()) && std::isfinite(r.minimal);
  for (double w : r.weights) finite = finite && std::isfinite(w);
  if (finite) return r;
  if (!source.empty()) {
    std::string message = source;
    message += ": values so large that the weights or energies overflow the double range";
    throw ParamError("patterns", message);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", cfg.eta);
  throw ParamError("eta", std::string("") + buf + " makes the energies overflow the double range");
}

}  // namespace

PerceptronResult run_perceptron(const PerceptronConfig& cfg, std::size_t* N_out, std::size_t* P_out,
                                const EpochObserver* observer) {
  cfg.validate();
  if (!cfg.patterns_file.empty()) {
    const PatternSet<double> patterns = read_patterns_csv(cfg.patterns_file);
    if (N_out) *N_out = patterns.N();
    if (P_out) *P_out = patterns.P();
    std::string source = "'";
    source += shown(cfg.patterns_file, 200);
    source += "'";
    return finite_or_refused(train_any(patterns, cfg, observer), cfg, source);
  }
  if (N_out) *N_out = cfg.N;
  if (P_out) *P_out = cfg.P;
  const PatternSet<std::int8_t> patterns = random_patterns(cfg.N, cfg.P, cfg.seed);
  if (cfg.zero_mean)
    return finite_or_refused(train_any(zero_mean(patterns), cfg, observer), cfg, "");
  return finite_or_refused(train_any(patterns, cfg, observer), cfg, "");
}

PerceptronResult run_perceptron(const PerceptronConfig& config, const PatternSet<double>& patterns,
                                const EpochObserver* observer) {
  PerceptronConfig cfg = config;
  cfg.patterns_file = "(given)";  // validated as a pattern file's run: N and P are given
  cfg.zero_mean = false;
  cfg.validate();
  return finite_or_refused(train_any(patterns, cfg, observer), cfg, "the given patterns");
}

}  // namespace syncache
