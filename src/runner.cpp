#include "syncache/runner.hpp"

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

namespace syncache {

RunError::RunError(std::size_t index_, RunSpec spec_, const std::string& what)
    : std::runtime_error("run " + std::to_string(index_) + " (experiment " + spec_.experiment +
                         ", params " + spec_.params.dump() + ", seed " +
                         std::to_string(spec_.seed) + ") failed: " + what),
      index(index_),
      spec(std::move(spec_)) {}

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

namespace {

using Clock = std::chrono::steady_clock;

// One status line on a terminal, redrawn with \r at most every 200 ms.
class Progress {
 public:
  Progress(bool on, std::string label, std::size_t total, std::size_t already)
      : on_(on), label_(std::move(label)), total_(total), already_(already), start_(Clock::now()) {}

  void update(std::size_t computed, std::size_t to_compute, bool force) {
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

  void finish() {
    if (shown_) {
      std::fputc('\n', stderr);
      std::fflush(stderr);
    }
    shown_ = false;
  }

 private:
  bool on_;
  std::string label_;
  std::size_t total_, already_;
  Clock::time_point start_, last_{};
  std::size_t width_ = 0;
  bool shown_ = false;
};

std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

std::vector<nlohmann::json> run_all(const std::vector<RunSpec>& specs,
                                    const std::function<nlohmann::json(const RunSpec&)>& work,
                                    ResultsStore* store, const RunnerOptions& opt) {
  if (opt.threads < 0)
    throw std::invalid_argument("threads: " + std::to_string(opt.threads) +
                                " is not allowed; use 0 (all hardware threads) or a positive "
                                "count");
  const std::size_t n = specs.size();
  std::vector<nlohmann::json> results(n);

  // Equal specs share one computation; stored runs are reused.
  std::vector<std::size_t> same(n);
  std::vector<std::size_t> pending;
  {
    std::unordered_map<std::string, std::size_t> first;
    for (std::size_t i = 0; i < n; ++i) {
      const RunSpec& s = specs[i];
      std::string key =
          s.experiment + '\n' + canonical_json(s.params) + '\n' + std::to_string(s.seed);
      const auto [it, fresh] = first.emplace(std::move(key), i);
      same[i] = it->second;
      if (!fresh) continue;
      if (store != nullptr) {
        if (auto r = store->find(s)) {
          results[i] = std::move(*r);
          continue;
        }
      }
      pending.push_back(i);
    }
  }

  if (!pending.empty()) {
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t nthreads = std::min(
        pending.size(), opt.threads == 0 ? std::size_t{hw} : static_cast<std::size_t>(opt.threads));

    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::size_t> finished;  // indices computed but not yet stored
    std::size_t active = nthreads;
    std::exception_ptr error;

    auto worker = [&] {
      while (!stop.load()) {
        const std::size_t k = next.fetch_add(1);
        if (k >= pending.size()) break;
        const std::size_t i = pending[k];
        try {
          // Normalise through the text form, exactly as a stored run reads back.
          results[i] = nlohmann::json::parse(work(specs[i]).dump());
          std::lock_guard lock(m);
          finished.push_back(i);
        } catch (...) {
          const std::string what = message_of(std::current_exception());
          std::exception_ptr wrapped;
          try {
            std::throw_with_nested(RunError(i, specs[i], what));
          } catch (...) {
            wrapped = std::current_exception();
          }
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

    const bool show = opt.progress && ::isatty(STDERR_FILENO) == 1;
    Progress progress(show, opt.label, n, n - pending.size());
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
            for (std::size_t i : batch) rows.emplace_back(specs[i], results[i]);
            store->put_many(rows);
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

  for (std::size_t i = 0; i < n; ++i)
    if (same[i] != i) results[i] = results[same[i]];
  return results;
}

}  // namespace syncache
