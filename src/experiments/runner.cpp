#include "syncache/experiments/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "runner_internal.hpp"
#include "syncache/experiments/cluster.hpp"
#include "syncache/io/interrupt.hpp"
#include "syncache/io/text_input.hpp"

namespace syncache {

RunError::RunError(std::size_t index_, RunSpec spec_, const std::string& what)
    : std::runtime_error("run " + std::to_string(index_) + " (experiment " + spec_.experiment +
                         ", params " + spec_.params.dump() + ", seed " +
                         std::to_string(spec_.seed) + ") failed: " + what),
      index(index_),
      spec(std::move(spec_)) {}

bool is_abandoned(const nlohmann::json& result) {
  if (!result.is_object()) return false;
  const auto it = result.find("abandoned");
  return it != result.end() && it->is_boolean() && it->get<bool>();
}

std::string format_progress(const std::string& label, std::size_t done, std::size_t total,
                            double rate, double eta_seconds) {
  char buf[64];
  std::string s = (label.empty() ? std::string("runs") : label) + ": " + std::to_string(done) +
                  "/" + std::to_string(total) + ", ";
  std::snprintf(buf, sizeof buf, "%.3g runs/s, ETA ", rate);
  s += buf;
  if (!(eta_seconds >= 0.0) || !std::isfinite(eta_seconds)) return s + "--";
  const auto t = static_cast<long long>(std::llround(eta_seconds));
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  return s + buf;
}

namespace detail {

Progress::Progress(bool on, std::string label, std::size_t total, std::size_t already)
    : on_(on), label_(std::move(label)), total_(total), already_(already), start_(Clock::now()) {}

void Progress::update(std::size_t computed, std::size_t to_compute, bool force) {
  if (!on_) return;
  const auto now = Clock::now();
  if (!force && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0.0 ? static_cast<double>(computed) / secs : 0.0;
  const double eta = rate > 0.0 ? static_cast<double>(to_compute - computed) / rate : -1.0;
  std::string line = format_progress(label_, already_ + computed, total_, rate, eta);
  const std::size_t len = line.size();
  if (len < width_) line.append(width_ - len, ' ');
  width_ = len;
  std::fputs(("\r" + line).c_str(), stderr);
  std::fflush(stderr);
  shown_ = true;
}

void Progress::finish() {
  if (shown_) {
    std::fputc('\n', stderr);
    std::fflush(stderr);
  }
  shown_ = false;
}

bool show_progress(const RunnerOptions& opt) {
  return opt.progress && ::isatty(STDERR_FILENO) == 1;
}

std::string run_key(const RunSpec& s) {
  return s.experiment + '\n' + canonical_json(s.params) + '\n' + std::to_string(s.seed);
}

RunPlan plan_runs(const std::vector<RunSpec>& specs, ResultsStore* store,
                  std::vector<nlohmann::json>& results, const RunnerOptions& opt) {
  const std::size_t n = specs.size();
  RunPlan plan;
  plan.same.resize(n);
  std::unordered_map<std::string, std::size_t> first;
  for (std::size_t i = 0; i < n; ++i) {
    const auto [it, fresh] = first.emplace(run_key(specs[i]), i);
    plan.same[i] = it->second;
    if (!fresh) continue;
    if (store != nullptr) {
      if (auto r = store->find(specs[i])) {
        if (opt.check_stored) {
          try {
            opt.check_stored(*r);
          } catch (const std::invalid_argument& e) {
            throw ResultsStoreError(store->path(), "stored run " + specs[i].experiment + " " +
                                                       shown(canonical_json(specs[i].params), 200) +
                                                       " seed " + std::to_string(specs[i].seed) +
                                                       ": " + e.what());
          }
        }
        results[i] = std::move(*r);
        continue;
      }
    }
    plan.pending.push_back(i);
  }
  return plan;
}

void fill_duplicates(const RunPlan& plan, std::vector<nlohmann::json>& results) {
  for (std::size_t i = 0; i < results.size(); ++i)
    if (plan.same[i] != i) results[i] = results[plan.same[i]];
}

std::string run_text(const RunWork& work, const RunSpec& spec) {
  // Through the text form, exactly as a stored run reads back.
  return work(spec).dump();
}

std::exception_ptr current_run_error(std::size_t index, const RunSpec& spec) {
  std::string what;
  try {
    throw;
  } catch (const Interrupted&) {
    return std::current_exception();  // not a failure of the run: passed on as it is
  } catch (const std::exception& x) {
    what = x.what();
  } catch (...) {
    what = "unknown exception";
  }
  try {
    std::throw_with_nested(RunError(index, spec, what));
  } catch (...) {
    return std::current_exception();
  }
}

std::size_t thread_count(int threads, std::size_t hardware, std::size_t pending) {
  const std::size_t want = threads == 0 ? hardware : static_cast<std::size_t>(threads);
  return std::max<std::size_t>(1, std::min(pending, want));
}

}  // namespace detail

std::vector<nlohmann::json> run_all(const std::vector<RunSpec>& specs,
                                    const std::function<nlohmann::json(const RunSpec&)>& work,
                                    ResultsStore* store, const RunnerOptions& opt) {
  if (opt.threads < 0)
    throw std::invalid_argument("threads: " + std::to_string(opt.threads) +
                                " is not allowed; use 0 (all hardware threads) or a positive "
                                "count");
#if SYNCACHE_MPI
  if (cluster::size() > 1) return detail::run_all_cluster(specs, work, store, opt);
#endif
  const std::size_t n = specs.size();
  std::vector<nlohmann::json> results(n);
  const detail::RunPlan plan = detail::plan_runs(specs, store, results, opt);
  const std::vector<std::size_t>& pending = plan.pending;

  if (!pending.empty()) {
    const std::size_t nthreads = detail::thread_count(
        opt.threads, std::max(1u, std::thread::hardware_concurrency()), pending.size());

    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::size_t> finished;  // indices computed but not yet stored
    std::size_t active = nthreads;
    std::exception_ptr error;

    auto worker = [&] {
      while (!stop.load()) {
        if (interrupt_requested()) {  // no new run starts; finished ones are stored
          std::lock_guard lock(m);
          if (!error) error = std::make_exception_ptr(Interrupted());
          stop = true;
          break;
        }
        const std::size_t k = next.fetch_add(1);
        if (k >= pending.size()) break;
        const std::size_t i = pending[k];
        try {
          results[i] = nlohmann::json::parse(detail::run_text(work, specs[i]));
          std::lock_guard lock(m);
          finished.push_back(i);
        } catch (...) {
          std::exception_ptr wrapped = detail::current_run_error(i, specs[i]);
          std::lock_guard lock(m);
          if (!error) error = wrapped;
          stop = true;
        }
        cv.notify_one();
      }
      std::lock_guard lock(m);
      --active;
      cv.notify_one();
    };

    detail::Progress progress(detail::show_progress(opt), opt.label, n, n - pending.size());
    std::size_t computed = 0;
    {
      std::vector<std::jthread> pool;
      pool.reserve(nthreads);
      for (std::size_t t = 0; t < nthreads; ++t) pool.emplace_back(worker);

      // The calling thread writes finished runs to the store, in batches.
      std::vector<std::size_t> batch;
      std::vector<std::pair<RunSpec, nlohmann::json>> rows;
      std::unique_lock lock(m);
      for (;;) {
        cv.wait_for(lock, std::chrono::milliseconds(200),
                    [&] { return !finished.empty() || active == 0; });
        batch.swap(finished);
        const bool all_exited = active == 0;
        lock.unlock();
        if (store != nullptr && !batch.empty()) {
          // Also after a failure: runs that did finish are kept.
          try {
            rows.clear();
            for (std::size_t i : batch) {
              if (!is_abandoned(results[i])) rows.emplace_back(specs[i], results[i]);
            }
            if (!rows.empty()) store->put_many(rows);
          } catch (...) {
            std::lock_guard g(m);
            if (!error) error = std::current_exception();
            stop = true;
          }
        }
        computed += batch.size();
        batch.clear();
        progress.update(computed, pending.size(), all_exited);
        lock.lock();
        if (all_exited && finished.empty()) break;
      }
    }  // joins the workers
    progress.finish();
    if (error) std::rethrow_exception(error);
  }

  detail::fill_duplicates(plan, results);
  return results;
}

}  // namespace syncache
