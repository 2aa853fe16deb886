#include "priced_search.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace syncache::figopt {

double energy_at(const nlohmann::json& run, double c) {
  const auto& e = run["energy"];
  return e["consolidation"].get<double>() + e["change"].get<double>() +
         c / kCRef * e["maintenance"].get<double>();
}

double unreachable_threshold(const PerceptronConfig& cfg, double tau) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  if (!cfg.patterns_file.empty() || cfg.zero_mean) return kInfinity;
  CacheParams p = cfg.cache;
  p.tau = tau;
  const double f = p.decay_factor();
  if (!(f < 1.0)) return kInfinity;
  double reach = cfg.eta / (1.0 - f);
  switch (cfg.cache.rule) {
    case Rule::synapse:
    case Rule::neuron:
      break;
    case Rule::sum:
      reach *= static_cast<double>(cfg.N + 1);
      break;
    default:
      return kInfinity;
  }
  return reach * (1.0 + 1e-6);
}

void report_stats(const std::string& figure, const PricedStats& stats) {
  std::fprintf(stderr,
               "%s: threshold searches asked for %ld runs: %ld ran to the end, %ld stopped "
               "early or skipped\n",
               figure.c_str(), stats.requested, stats.finished, stats.abandoned);
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Relative slack of the stopping test (far above rounding, far below any energy difference
// that matters).
constexpr double kSlack = 1e-9;

// What one search asks for: its grid's (theta, seed) points and its bound.
struct Request {
  double tau = 0.0, c = 0.0, bound = kInf;
  std::vector<std::pair<double, int>> points;
};

// The runs of one threshold (tau, theta), over the seeds.
struct Point {
  std::vector<nlohmann::json> runs;  // per seed: null (not run), a result, or abandoned
  bool capped = false;               // some seed hit the epoch cap: excluded for every c
  // When its runs were stopped by the bound: the (c, S * bound) pairs the stop proved
  // exceeded; another request is answered by them if one of its c has a bound <= one proved.
  std::vector<std::pair<double, double>> proved;
};

using PointKey = std::pair<double, double>;  // (tau, theta)

class RunTable {
 public:
  RunTable(PerceptronConfig base, const std::vector<std::uint64_t>& seeds, const ExperimentEnv& env,
           std::string label, PricedStats& stats)
      : base_(std::move(base)), seeds_(seeds), env_(env), label_(std::move(label)), stats_(stats) {}

  // The point whose runs serve (tau, theta): theta = +inf for every threshold that no
  // transient weight reaches (unreachable_threshold).
  PointKey key(double tau, double theta) const {
    return {tau, theta >= unreachable_threshold(base_, tau) ? kInf : theta};
  }

  // Makes every request answerable: runs what is missing in one parallel batch.
  void serve(const std::vector<Request>& requests) {
    const int S = static_cast<int>(seeds_.size());
    // Per threshold: the seeds asked for and the (c, S * bound) of every search asking.
    std::map<PointKey, std::pair<std::vector<bool>, std::vector<std::pair<double, double>>>> asks;
    for (const auto& r : requests) {
      for (const auto& [theta, k] : r.points) {
        auto& a = asks[key(r.tau, theta)];
        if (a.first.empty()) a.first.assign(static_cast<std::size_t>(S), false);
        a.first.at(static_cast<std::size_t>(k)) = true;
        a.second.emplace_back(r.c, S * r.bound);
      }
    }
    struct Active {
      PointKey key;
      std::vector<std::pair<double, double>> bounds;  // empty: cannot stop by energy
      double fixed = 0.0, maintenance = 0.0;          // of the finished seeds, at kCRef
      bool dead = false;
    };
    std::vector<Active> active;
    std::vector<PerceptronConfig> configs;
    std::vector<std::pair<std::size_t, int>> owner;  // per config: (active index, seed)
    for (auto& [key, a] : asks) {
      Point& p = points_[key];
      if (p.runs.empty()) p.runs.assign(static_cast<std::size_t>(S), nullptr);
      if (p.capped) continue;
      const bool answered =
          std::all_of(a.second.begin(), a.second.end(), [&p](const std::pair<double, double>& d) {
            return std::any_of(p.proved.begin(), p.proved.end(),
                               [&d](const std::pair<double, double>& q) {
                                 return q.first == d.first && q.second >= d.second;
                               });
          });
      std::vector<int> missing;
      for (int k = 0; k < S; ++k) {
        const auto& run = p.runs[static_cast<std::size_t>(k)];
        const bool complete = !run.is_null() && !is_abandoned(run);
        if (!a.first[static_cast<std::size_t>(k)] || complete) continue;
        if (!run.is_null() && answered) continue;  // stopped under a bound that answers
        missing.push_back(k);
      }
      if (missing.empty()) continue;
      p.proved.clear();
      Active act;
      act.key = key;
      const bool unbounded =
          std::any_of(a.second.begin(), a.second.end(),
                      [](const std::pair<double, double>& d) { return !std::isfinite(d.second); });
      if (!unbounded) act.bounds = a.second;
      for (const auto& run : p.runs) {
        if (run.is_null() || is_abandoned(run)) continue;
        act.fixed +=
            run["energy"]["consolidation"].get<double>() + run["energy"]["change"].get<double>();
        act.maintenance += run["energy"]["maintenance"].get<double>();
      }
      active.push_back(std::move(act));
      for (int k : missing) owner.emplace_back(active.size() - 1, k);
    }
    if (owner.empty()) return;
    // Seed-major: every threshold's first missing seed before any threshold's second, so a
    // threshold whose first run hits the cap skips its other seeds (and the finished seeds'
    // energies tighten the bound of the later ones).
    std::stable_sort(owner.begin(), owner.end(),
                     [](const auto& a, const auto& b) { return a.second < b.second; });
    for (const auto& [ai, k] : owner) {
      PerceptronConfig c = base_;
      c.cache.tau = active[ai].key.first;
      c.cache.theta = active[ai].key.second;
      c.cache.c = kCRef;
      c.seed = seeds_[static_cast<std::size_t>(k)];
      configs.push_back(c);
    }

    // Every decision below only shortens work: a stopped threshold's mean provably exceeds
    // the bound of every search that asked for it (or a seed hit the cap).
    std::mutex m;
    RunWatch watch;
    watch.start = [&](std::size_t i) {
      std::lock_guard lock(m);
      return !active[owner[i].first].dead;
    };
    watch.epoch = [&](std::size_t i, const EpochRecord& rec) {
      std::lock_guard lock(m);
      Active& a = active[owner[i].first];
      if (a.dead) return false;
      if (a.bounds.empty()) return true;
      const double fixed = a.fixed + rec.energy.consolidation + rec.energy.change;
      const double maint = a.maintenance + rec.energy.maintenance;
      for (const auto& [c, bound] : a.bounds) {
        // The slack keeps rounding (the order in which seeds finished, S x mean against the
        // sum) from stopping a threshold whose mean equals the bound: a tie must stay.
        if (!(fixed + c / kCRef * maint > bound * (1.0 + kSlack))) return true;
      }
      a.dead = true;
      return false;
    };
    watch.done = [&](std::size_t i, const nlohmann::json& r) {
      std::lock_guard lock(m);
      Active& a = active[owner[i].first];
      if (!r["converged"].get<bool>()) {
        a.dead = true;
        return;
      }
      a.fixed += r["energy"]["consolidation"].get<double>() + r["energy"]["change"].get<double>();
      a.maintenance += r["energy"]["maintenance"].get<double>();
    };
    const auto results = run_perceptrons(configs, env_, label_, watch);
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& [ai, k] = owner[i];
      Point& p = points_[active[ai].key];
      p.runs[static_cast<std::size_t>(k)] = results[i];
      if (is_abandoned(results[i])) {
        ++stats_.abandoned;
      } else {
        ++stats_.finished;
        if (!results[i]["converged"].get<bool>()) p.capped = true;
      }
    }
    // A stopped seed of a threshold without a capped one was stopped by the bound (on this
    // rank or, under MPI, another: every rank has the same results and bounds).
    for (std::size_t ai = 0; ai < active.size(); ++ai) {
      Point& p = points_[active[ai].key];
      const bool stopped = std::any_of(p.runs.begin(), p.runs.end(),
                                       [](const nlohmann::json& r) { return is_abandoned(r); });
      if (!p.capped && stopped) p.proved = active[ai].bounds;
    }
  }

  // The value of (tau, theta, seed k) for the search at c: +inf when the threshold is
  // excluded (a seed capped, or its runs were stopped by a bound this search shares).
  double value(double tau, double theta, int k, double c) const {
    const Point& p = points_.at(key(tau, theta));
    if (p.capped) return kInf;
    const auto& run = p.runs.at(static_cast<std::size_t>(k));
    if (run.is_null()) throw std::logic_error("priced_searches: a run was not made");
    if (is_abandoned(run)) return kInf;
    return energy_at(run, c);
  }
  const nlohmann::json& run(double tau, double theta, int k) const {
    return points_.at(key(tau, theta)).runs.at(static_cast<std::size_t>(k));
  }
  long distinct_runs() const {
    long n = 0;
    for (const auto& [key, p] : points_) {
      for (const auto& r : p.runs) n += r.is_null() ? 0 : 1;
    }
    return n;
  }

 private:
  PerceptronConfig base_;
  const std::vector<std::uint64_t>& seeds_;
  const ExperimentEnv& env_;
  std::string label_;
  PricedStats& stats_;
  std::map<PointKey, Point> points_;
};

// Runs one search per thread and serves their grids in lockstep: once every live search
// waits, the union of their requests runs as one batch.
class Lockstep {
 public:
  struct Aborted {};
  explicit Lockstep(int searches) : live_(searches) {}

  // From a search thread: queue a request, block until it has been served.
  void request(Request r) {
    std::unique_lock<std::mutex> lk(m_);
    pending_.push_back(std::move(r));
    ++waiting_;
    const long gen = generation_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return generation_ != gen || abort_; });
    if (abort_) throw Aborted{};
  }
  void finished() {
    std::lock_guard<std::mutex> lk(m_);
    --live_;
    cv_.notify_all();
  }
  // From the calling thread, until every search has finished.
  void serve(RunTable& table) {
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      cv_.wait(lk, [&] { return waiting_ == live_; });
      if (live_ == 0) return;
      const auto requests = std::move(pending_);
      pending_.clear();
      lk.unlock();
      try {
        table.serve(requests);
      } catch (...) {
        lk.lock();
        abort_ = true;
        cv_.notify_all();
        throw;
      }
      lk.lock();
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
    }
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int live_, waiting_ = 0;
  long generation_ = 0;
  bool abort_ = false;
  std::vector<Request> pending_;
};

}  // namespace

std::vector<PricedOutcome> priced_searches(const PerceptronConfig& base,
                                           const std::vector<std::uint64_t>& seeds,
                                           const std::vector<PricedSpec>& specs,
                                           const OptimiserOptions& opt, double margin,
                                           const ExperimentEnv& env, const std::string& label,
                                           PricedStats* stats) {
  if (static_cast<std::size_t>(opt.seeds) != seeds.size()) {
    throw std::invalid_argument("priced_searches: opt.seeds must equal the number of seeds");
  }
  PricedStats local;
  PricedStats& st = stats != nullptr ? *stats : local;
  RunTable table(base, seeds, env, label, st);
  std::vector<PricedOutcome> out(specs.size());
  std::vector<std::exception_ptr> errors(specs.size());
  Lockstep lockstep(static_cast<int>(specs.size()));
  std::vector<std::thread> threads;
  threads.reserve(specs.size());
  for (std::size_t j = 0; j < specs.size(); ++j) {
    threads.emplace_back([&, j] {
      const PricedSpec spec = specs[j];
      PricedOutcome& o = out[j];
      try {
        auto evaluate = [&](const std::vector<std::pair<double, int>>& grid, double bound) {
          lockstep.request(Request{spec.tau, spec.c, bound, grid});
          std::vector<double> v;
          v.reserve(grid.size());
          for (const auto& [theta, k] : grid) v.push_back(table.value(spec.tau, theta, k, spec.c));
          return v;
        };
        o.opt = minimise_threshold_bounded(evaluate, opt, margin);
        for (int k = 0; k < opt.seeds; ++k) {
          const auto& r = table.run(spec.tau, o.opt.theta_hat, k);
          o.at_best.push_back(r);
          o.total.push_back(energy_at(r, spec.c));
          o.consolidation.push_back(r["energy"]["consolidation"].get<double>());
          o.maintenance.push_back(spec.c / kCRef * r["energy"]["maintenance"].get<double>());
        }
        const double limit = o.opt.mean * (1.0 + margin);
        o.flat_lo = kInf;
        o.flat_hi = -kInf;
        for (const auto& p : o.opt.curve) {
          if (p.mean <= limit) {
            o.flat_lo = std::min(o.flat_lo, p.theta);
            o.flat_hi = std::max(o.flat_hi, p.theta);
          }
        }
      } catch (const Lockstep::Aborted&) {
      } catch (...) {
        errors[j] = std::current_exception();
      }
      lockstep.finished();
    });
  }
  std::exception_ptr failure;
  try {
    lockstep.serve(table);
  } catch (...) {
    failure = std::current_exception();
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  st.requested += table.distinct_runs();
  return out;
}

}  // namespace syncache::figopt
