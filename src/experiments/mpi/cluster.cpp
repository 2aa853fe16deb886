// The cluster over MPI (built with SYNCACHE_MPI).
//
// Inside run_all with more than one rank (run_all_cluster below), the root (rank 0) plans
// the runs exactly as a single process does (equal specs once, stored runs reused) and
// hands the missing runs out one at a time, to whichever worker asks:
//   worker -> root  kHello  {threads, number of specs, hash of the specs}: opens two
//                           requests per thread (kSlotsPerThread)
//   root -> worker  kTask   {index}, or kStop {} (this request gets no more work)
//   worker -> root  kResult {index, result text} or kFail {index, message}: a finished
//                           run, which also opens a new request
// Every request gets exactly one answer (the root may hold it back near the end, see
// run_root), and a worker leaves the call once all its requests have been stopped, so no
// message of one call can reach the next. The root computes with its own threads from the
// same queue, stores results as they arrive (what arrived while the previous batch was
// being committed goes in one transaction) and at the end broadcasts either every result
// text or the first failure, so that all ranks return the same results or throw the same
// error. Only each rank's main thread calls MPI (MPI_THREAD_FUNNELED); waiting ranks test
// for messages with short sleeps in between rather than spinning in a blocking call, to
// leave the cores to the threads that compute.
#include "syncache/experiments/cluster.hpp"

#include <mpi.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../runner_internal.hpp"

namespace syncache {
namespace {

bool g_active = false;  // MPI_Init_thread was called by init
bool g_finalized = false;
int g_rank = 0, g_size = 1, g_node_ranks = 1;

// mpirun (Open MPI) and srun (Slurm, PMI-2 or PMIx) set these in each rank's environment.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

// Sleeps between tests for a message, growing from 20 us to `cap` while nothing happens.
// Where an answer is expected the cap stays short: two ranks that both let their sleeps
// grow would each see the other's message late and answer late in turn, and the delay of
// every exchange would build up to the cap.
class Backoff {
 public:
  explicit Backoff(std::chrono::microseconds cap) : cap_(cap) {}
  std::chrono::microseconds step() {
    const auto d = delay_;
    delay_ = std::min(delay_ * 2, cap_);
    return d;
  }
  void reset() { delay_ = kFirst; }

 private:
  static constexpr std::chrono::microseconds kFirst{20};
  std::chrono::microseconds cap_;
  std::chrono::microseconds delay_ = kFirst;
};
constexpr std::chrono::microseconds kCollectivePoll{2000};  // waiting for every rank
constexpr std::chrono::microseconds kRootPoll{1000};        // the root, for any worker
constexpr std::chrono::microseconds kWorkerPoll{100};       // a worker awaiting answers

void wait(MPI_Request& request) {
  Backoff backoff(kCollectivePoll);
  for (;;) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done != 0) return;
    std::this_thread::sleep_for(backoff.step());
  }
}

// The root's status and text, on every rank. Large texts go in pieces of 1 GiB.
void broadcast(std::uint64_t& status, std::string& text) {
  std::uint64_t head[2] = {status, text.size()};
  MPI_Request r;
  MPI_Ibcast(head, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD, &r);
  wait(r);
  status = head[0];
  text.resize(head[1]);
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  for (std::size_t at = 0; at < text.size(); at += kPiece) {
    const int count = static_cast<int>(std::min(kPiece, text.size() - at));
    MPI_Ibcast(text.data() + at, count, MPI_CHAR, 0, MPI_COMM_WORLD, &r);
    wait(r);
  }
}

// Outcome codes shared by broadcast(): what an exception becomes on the other ranks.
constexpr std::uint64_t kOk = 0, kInvalid = 1, kFailed = 2;

std::uint64_t outcome_of(const std::exception_ptr& e, std::string& message) {
  try {
    std::rethrow_exception(e);
  } catch (const std::invalid_argument& x) {
    message = x.what();
    return kInvalid;
  } catch (const std::exception& x) {
    message = x.what();
  } catch (...) {
    message = "unknown exception";
  }
  return kFailed;
}

// Every rank learns the root's outcome; the root rethrows its own exception, the others
// throw one of the same kind and message.
void share_outcome(const std::exception_ptr& root_error) {
  std::uint64_t status = kOk;
  std::string message;
  if (g_rank == 0 && root_error) status = outcome_of(root_error, message);
  broadcast(status, message);
  if (status == kOk) return;
  if (g_rank == 0) std::rethrow_exception(root_error);
  if (status == kInvalid) throw std::invalid_argument(message);
  throw std::runtime_error(message);
}

// A job that is killed (scancel, a time limit, Ctrl-C on mpirun) gets SIGTERM or SIGINT
// on every rank: rank 0 says so before the default action ends the process.
void on_signal(int sig) {
  if (g_rank == 0) {
    const char* text =
        sig == SIGINT ? "syncache: interrupted (SIGINT)" : "syncache: terminated (SIGTERM)";
    const char tail[] =
        "; runs in flight are lost, the stored ones are kept: run the same command again to "
        "resume\n";
    (void)!::write(STDERR_FILENO, text, std::strlen(text));
    (void)!::write(STDERR_FILENO, tail, sizeof tail - 1);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// A broken exchange between ranks (not a failing run): nothing more can be agreed on, so
// the whole job stops.
[[noreturn]] void protocol_failure(const char* what) {
  std::fprintf(stderr, "syncache: error: rank %d: %s; stopping every rank\n", g_rank, what);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

}  // namespace
}  // namespace syncache

namespace syncache::cluster {

void init(int& argc, char**& argv) {
  if (g_active || !launched_by_mpi()) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  g_active = true;
  // The main thread polls with short sleeps (Backoff): let them end on time rather than
  // up to 50 us late (the default timer slack; threads started later inherit it).
  ::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &g_node_ranks);
  MPI_Comm_free(&node);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  if (g_rank != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) {
    std::fprintf(stderr, "syncache: error: rank %d cannot silence its standard output\n", g_rank);
    abort(1);
  }
}

void finalize() {
  if (!g_active || g_finalized) return;
  g_finalized = true;
  std::fflush(stdout);
  MPI_Request r;
  MPI_Ibarrier(MPI_COMM_WORLD, &r);
  wait(r);
  MPI_Finalize();
}

int rank() {
  return g_rank;
}
int size() {
  return g_size;
}

void exit(int code) {
  finalize();
  std::exit(code);
}

void abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (g_active && !g_finalized) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

void on_root(const std::function<void()>& f) {
  if (g_size == 1) {
    f();
    return;
  }
  std::exception_ptr error;
  if (g_rank == 0) {
    try {
      f();
    } catch (...) {
      error = std::current_exception();
    }
  }
  share_outcome(error);
}

int default_threads() {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, hw / std::max(1, g_node_ranks));
}

}  // namespace syncache::cluster

namespace syncache::detail {

namespace {

using nlohmann::json;
enum Tag : int { kHello = 1, kResult, kFail, kTask, kStop };
// Requests a worker keeps open per thread: one for the run it computes, one for the run
// queued behind it, so that a thread starts its next run without waiting for the root.
constexpr std::size_t kSlotsPerThread = 2;

// FNV-1a over the run keys: ranks that disagree on the runs are caught at once.
std::uint64_t specs_hash(const std::vector<RunSpec>& specs) {
  std::uint64_t h = 1469598103934665603ull;
  for (const auto& s : specs) {
    for (unsigned char ch : run_key(s) + '\0') h = (h ^ ch) * 1099511628211ull;
  }
  return h;
}

// A message: an index (8 bytes, host order: all ranks run the same program) then text.
std::string pack(std::uint64_t index, const std::string& text) {
  std::string out(sizeof index, '\0');
  std::memcpy(out.data(), &index, sizeof index);
  return out + text;
}

std::uint64_t index_of(const std::string& message) {
  std::uint64_t index = 0;
  if (message.size() < sizeof index) throw std::runtime_error("cluster: short message");
  std::memcpy(&index, message.data(), sizeof index);
  return index;
}

void send(const std::string& bytes, int dest, int tag) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw std::runtime_error("cluster: a result of " + std::to_string(bytes.size()) +
                             " bytes is too large to send");
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

// The next message from `source` (MPI_ANY_SOURCE for any), if one has arrived.
std::optional<std::string> try_receive(int source, MPI_Status& status) {
  int flag = 0;
  MPI_Iprobe(source, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status);
  if (flag == 0) return std::nullopt;
  int count = 0;
  MPI_Get_count(&status, MPI_CHAR, &count);
  std::string bytes(static_cast<std::size_t>(count), '\0');
  MPI_Recv(bytes.data(), count, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  return bytes;
}

std::exception_ptr remote_run_error(std::size_t index, const RunSpec& spec, int rank,
                                    const std::string& what) {
  try {
    throw std::runtime_error("on rank " + std::to_string(rank) + ": " + what);
  } catch (...) {
    return current_run_error(index, spec);
  }
}

// Every result as text, one per line (a JSON dump holds no raw newline).
std::string join_results(const std::vector<json>& results) {
  std::string out;
  for (const auto& r : results) out += r.dump() + '\n';
  return out;
}

std::vector<json> split_results(const std::string& text, std::size_t n) {
  std::vector<json> results;
  results.reserve(n);
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    results.push_back(json::parse(text.substr(at, end - at)));
    at = end + 1;
  }
  if (results.size() != n)
    throw std::runtime_error("cluster: result count differs from the root's");
  return results;
}

std::size_t worker_slots(const RunnerOptions& opt) {
  return static_cast<std::size_t>(opt.threads == 0 ? cluster::default_threads() : opt.threads);
}

std::vector<json> run_root(const std::vector<RunSpec>& specs, const RunWork& work,
                           ResultsStore* store, const RunnerOptions& opt) {
  const std::size_t n = specs.size();
  const std::uint64_t hash = specs_hash(specs);
  std::vector<json> results(n);
  const RunPlan plan = plan_runs(specs, store, results, opt);
  const std::vector<std::size_t>& pending = plan.pending;

  std::mutex m;
  std::condition_variable cv;
  std::size_t next = 0;  // into pending; with stop and error, guarded by m
  bool stop = false;
  std::exception_ptr error;
  std::vector<std::size_t> finished;  // computed by the root's threads, not yet stored
  const auto take = [&]() -> std::optional<std::size_t> {
    std::lock_guard lock(m);
    if (stop || next >= pending.size()) return std::nullopt;
    return pending[next++];
  };
  const auto remaining = [&]() -> std::size_t {
    std::lock_guard lock(m);
    return stop ? 0 : pending.size() - next;
  };
  const auto fail = [&](std::exception_ptr e) {
    std::lock_guard lock(m);
    if (!error) error = std::move(e);
    stop = true;
  };

  const std::size_t nthreads =
      pending.empty() ? 0 : thread_count(opt.threads, cluster::default_threads(), pending.size());
  std::size_t active = nthreads;
  auto local = [&] {
    while (const auto i = take()) {
      try {
        results[*i] = json::parse(run_text(work, specs[*i]));
        std::lock_guard lock(m);
        finished.push_back(*i);
      } catch (...) {
        fail(current_run_error(*i, specs[*i]));
      }
      cv.notify_one();
    }
    std::lock_guard lock(m);
    --active;
    cv.notify_one();
  };

  struct Worker {
    bool hello = false;
    std::size_t threads = 0, requests = 0, stopped = 0, in_flight = 0;
  };
  std::size_t all_threads = nthreads;  // the root's and those of every worker heard from
  std::vector<Worker> workers(static_cast<std::size_t>(cluster::size()));
  Progress progress(show_progress(opt), opt.label, n, n - pending.size());
  std::size_t computed = 0;
  {
    std::vector<std::jthread> pool;
    for (std::size_t t = 0; t < nthreads; ++t) pool.emplace_back(local);
    std::vector<std::size_t> batch;
    std::vector<std::pair<RunSpec, json>> rows;
    Backoff backoff(kRootPoll);
    auto exchange = [&] {
      for (;;) {
        bool busy = false;
        MPI_Status st;
        while (const auto msg = try_receive(MPI_ANY_SOURCE, st)) {
          busy = true;
          Worker& w = workers[static_cast<std::size_t>(st.MPI_SOURCE)];
          if (st.MPI_TAG == kHello) {
            std::uint64_t head[3] = {0, 0, 0};
            std::memcpy(head, msg->data(), std::min(msg->size(), sizeof head));
            if (head[1] != n || head[2] != hash)
              fail(std::make_exception_ptr(std::runtime_error(
                  "rank " + std::to_string(st.MPI_SOURCE) + " has other runs than rank 0 (" +
                  std::to_string(head[1]) + " vs " + std::to_string(n) +
                  " specs): every rank must run the same command on the same files")));
            w.hello = true;
            w.threads = head[0];
            w.requests += kSlotsPerThread * head[0];
            all_threads += head[0];
            continue;
          }
          const std::size_t i = index_of(*msg);
          if (i >= n) throw std::runtime_error("cluster: run index out of range");
          if (st.MPI_TAG == kResult) {
            results[i] = json::parse(msg->substr(sizeof(std::uint64_t)));
            batch.push_back(i);
          } else {
            fail(remote_run_error(i, specs[i], st.MPI_SOURCE, msg->substr(sizeof(std::uint64_t))));
          }
          ++w.requests;
          --w.in_flight;
        }
        // Answer open requests: the next run, or stop once none is left. A run to queue
        // behind a busy worker's threads is handed out only while more runs are left than
        // there are threads; near the end such a run would wait for a long run to finish
        // while other ranks stand idle.
        bool remote_done = true;
        for (std::size_t r = 1; r < workers.size(); ++r) {
          Worker& w = workers[r];
          while (w.requests > 0) {
            const std::size_t left = remaining();
            if (left > 0 && w.in_flight >= w.threads && left <= all_threads) break;
            busy = true;
            --w.requests;
            if (const auto i = take()) {
              send(pack(*i, ""), static_cast<int>(r), kTask);
              ++w.in_flight;
            } else {
              send("", static_cast<int>(r), kStop);
              ++w.stopped;
            }
          }
          remote_done = remote_done && w.hello && w.stopped == kSlotsPerThread * w.threads;
        }
        bool local_done = false;
        {
          std::lock_guard lock(m);
          batch.insert(batch.end(), finished.begin(), finished.end());
          finished.clear();
          local_done = active == 0;
        }
        if (!batch.empty()) {
          busy = true;
          if (store != nullptr) {
            // Also after a failure: runs that did finish are kept.
            try {
              rows.clear();
              for (std::size_t i : batch) {
                if (!is_abandoned(results[i])) rows.emplace_back(specs[i], results[i]);
              }
              if (!rows.empty()) store->put_many(rows);
            } catch (...) {
              fail(std::current_exception());
            }
          }
          computed += batch.size();
          batch.clear();
        }
        progress.update(computed, pending.size(), local_done && remote_done);
        if (local_done && remote_done) break;
        if (busy) {
          backoff.reset();
        } else {
          std::unique_lock lock(m);
          // Wakes for the root's own results; messages and its threads' exit are seen
          // after at most one step (kRootPoll).
          cv.wait_for(lock, backoff.step(), [&] { return !finished.empty(); });
        }
      }
    };
    try {
      exchange();
    } catch (const std::exception& e) {
      protocol_failure(e.what());
    }
  }  // joins the root's threads (all have left their loop)
  progress.finish();

  std::uint64_t status = 0;
  std::string text;
  if (!error) {
    fill_duplicates(plan, results);
    text = join_results(results);
    broadcast(status, text);
    return results;
  }
  // The workers throw the root's failure (share_outcome's codes).
  status = outcome_of(error, text);
  broadcast(status, text);
  std::rethrow_exception(error);
}

std::vector<json> run_worker(const std::vector<RunSpec>& specs, const RunWork& work,
                             const RunnerOptions& opt) {
  const std::size_t threads = worker_slots(opt), slots = kSlotsPerThread * threads;
  const std::uint64_t hello[3] = {threads, specs.size(), specs_hash(specs)};
  send(std::string(reinterpret_cast<const char*>(hello), sizeof hello), 0, kHello);

  struct Done {
    std::size_t index;
    bool failed;
    std::string text;
  };
  std::mutex m;
  std::condition_variable task_cv, done_cv;
  std::deque<std::size_t> tasks;
  std::vector<Done> done;
  bool quit = false;
  auto compute = [&] {
    for (;;) {
      std::unique_lock lock(m);
      task_cv.wait(lock, [&] { return quit || !tasks.empty(); });
      if (tasks.empty()) return;
      const std::size_t i = tasks.front();
      tasks.pop_front();
      lock.unlock();
      Done d{i, false, {}};
      try {
        d.text = run_text(work, specs[i]);
      } catch (const std::exception& e) {
        d = Done{i, true, e.what()};
      } catch (...) {
        d = Done{i, true, "unknown exception"};
      }
      lock.lock();
      done.push_back(std::move(d));
      done_cv.notify_one();
    }
  };
  {
    std::vector<std::jthread> pool;
    for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(compute);
    std::size_t stops = 0, running = 0;
    std::vector<Done> outbox;
    std::size_t awaiting = slots;  // requests without an answer yet
    Backoff backoff(kWorkerPoll);
    auto exchange = [&] {
      for (;;) {
        bool busy = false;
        MPI_Status st;
        while (const auto msg = try_receive(0, st)) {
          busy = true;
          --awaiting;
          if (st.MPI_TAG == kStop) {
            ++stops;
            continue;
          }
          std::lock_guard lock(m);
          tasks.push_back(index_of(*msg));
          ++running;
          task_cv.notify_one();
        }
        {
          std::lock_guard lock(m);
          outbox.swap(done);
        }
        for (const auto& d : outbox) {
          send(pack(d.index, d.text), 0, d.failed ? kFail : kResult);
          --running;
          ++awaiting;
          busy = true;
        }
        outbox.clear();
        if (stops == slots && running == 0) break;
        if (busy) {
          backoff.reset();
        } else {
          // With every slot computing, only a finished run can change anything.
          const auto timeout = awaiting > 0 ? backoff.step() : std::chrono::microseconds(50000);
          std::unique_lock lock(m);
          done_cv.wait_for(lock, timeout, [&] { return !done.empty(); });
        }
      }
    };
    try {
      exchange();
    } catch (const std::exception& e) {
      protocol_failure(e.what());
    }
    std::lock_guard lock(m);
    quit = true;
    task_cv.notify_all();
  }  // joins

  std::uint64_t status = 0;
  std::string text;
  broadcast(status, text);
  if (status == kInvalid) throw std::invalid_argument(text);
  if (status != kOk) throw std::runtime_error(text);
  return split_results(text, specs.size());
}

}  // namespace

std::vector<json> run_all_cluster(const std::vector<RunSpec>& specs, const RunWork& work,
                                  ResultsStore* store, const RunnerOptions& opt) {
  return cluster::rank() == 0 ? run_root(specs, work, store, opt) : run_worker(specs, work, opt);
}

}  // namespace syncache::detail
