#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "helpers/temp_dir.hpp"
#include "syncache/core/random.hpp"
#include "syncache/experiments/runner.hpp"

namespace syncache {
namespace {

using nlohmann::json;
using syncache::testing::TempDir;

std::vector<RunSpec> make_specs(const std::string& experiment, int n, std::uint64_t master) {
  std::vector<RunSpec> specs;
  for (int i = 0; i < n; ++i)
    specs.push_back({experiment, json{{"i", i}, {"eta", 0.1 * i}},
                     derive_seed(master, static_cast<std::uint64_t>(i))});
  return specs;
}

// A deterministic result that depends only on the spec.
json pure_work(const RunSpec& s) {
  const double u = static_cast<double>(mix64(s.seed) >> 11) * 0x1p-53;
  return json{{"i", s.params.at("i")}, {"u", u}, {"v", {u / 3.0, 1e-300 * u}}, {"seed", s.seed}};
}

RunnerOptions quiet(int threads) {
  RunnerOptions o;
  o.threads = threads;
  o.progress = false;
  return o;
}

TEST(Runner, SameResultsInSpecOrderForOneAndTwoThreads) {
  const auto specs = make_specs("order", 60, 5);
  // Uneven costs so that the runs finish out of order with two threads.
  auto work = [](const RunSpec& s) {
    if (s.params.at("i").get<int>() % 7 == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    return pure_work(s);
  };
  const auto one = run_all(specs, work, nullptr, quiet(1));
  const auto two = run_all(specs, work, nullptr, quiet(2));
  const auto all = run_all(specs, work, nullptr, quiet(0));
  ASSERT_EQ(one.size(), specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) EXPECT_EQ(one[i], pure_work(specs[i])) << i;
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, all);
  EXPECT_TRUE(run_all({}, work, nullptr, quiet(2)).empty());
}

TEST(Runner, StoredRunsAreReused) {
  TempDir dir;
  ResultsStore store(dir.file("r.db"));
  const auto specs = make_specs("reuse", 30, 9);
  std::atomic<int> calls{0};
  auto work = [&](const RunSpec& s) {
    ++calls;
    return pure_work(s);
  };
  const auto first = run_all(specs, work, &store, quiet(2));
  EXPECT_EQ(calls.load(), 30);
  EXPECT_EQ(store.count("reuse"), 30u);
  calls = 0;
  const auto second = run_all(specs, work, &store, quiet(2));
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(first, second);
  // One new spec: only it is computed.
  auto more = specs;
  more.push_back({"reuse", json{{"i", 99}, {"eta", 0.5}}, 1});
  const auto third = run_all(more, work, &store, quiet(2));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(third.back(), pure_work(more.back()));
}

// A result marked abandoned (a run an optimiser stopped early) is returned but not stored:
// the next call computes it again.
TEST(Runner, AbandonedResultsAreNotStored) {
  TempDir dir;
  ResultsStore store(dir.file("r.db"));
  const auto specs = make_specs("abandon", 12, 4);
  std::atomic<int> calls{0};
  auto work = [&](const RunSpec& s) {
    ++calls;
    return s.params.at("i").get<int>() % 3 == 0 ? json{{"abandoned", true}} : pure_work(s);
  };
  const auto first = run_all(specs, work, &store, quiet(2));
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(is_abandoned(first[i]), i % 3 == 0) << i;
  }
  EXPECT_EQ(store.count("abandon"), 8u);
  calls = 0;
  const auto second = run_all(specs, work, &store, quiet(1));
  EXPECT_EQ(calls.load(), 4);  // only the four abandoned ones again
  EXPECT_EQ(first, second);
  EXPECT_FALSE(is_abandoned(json{{"abandoned", false}}));
  EXPECT_FALSE(is_abandoned(json::array()));
  EXPECT_FALSE(is_abandoned(json{{"energy", 1.0}}));
}

TEST(Runner, EqualSpecsAreComputedOnce) {
  std::atomic<int> calls{0};
  auto work = [&](const RunSpec& s) {
    ++calls;
    return pure_work(s);
  };
  const RunSpec a{"dup", json{{"i", 1}}, 3};
  const RunSpec b{"dup", json{{"i", 2}}, 3};
  const auto r = run_all({a, b, a, a}, work, nullptr, quiet(2));
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(r[0], r[2]);
  EXPECT_EQ(r[0], r[3]);
  EXPECT_EQ(r[1], pure_work(b));
}

TEST(Runner, ExceptionFromWorkPropagates) {
  TempDir dir;
  ResultsStore store(dir.file("r.db"));
  const auto specs = make_specs("fail", 40, 1);
  auto work = [](const RunSpec& s) {
    if (s.params.at("i").get<int>() == 17) throw std::domain_error("bad eta");
    return pure_work(s);
  };
  for (int threads : {1, 2}) {
    try {
      run_all(specs, work, &store, quiet(threads));
      FAIL() << "no exception";
    } catch (const RunError& e) {
      EXPECT_EQ(e.index, 17u);
      EXPECT_EQ(e.spec.params.at("i"), 17);
      const std::string what = e.what();
      EXPECT_NE(what.find("bad eta"), std::string::npos) << what;
      EXPECT_NE(what.find("\"i\":17"), std::string::npos) << what;
      EXPECT_NE(what.find(std::to_string(specs[17].seed)), std::string::npos) << what;
      EXPECT_THROW(std::rethrow_if_nested(e), std::domain_error);
    }
  }
  // Whatever finished before the failure was stored, and is correct.
  for (const Row& row : store.rows("fail"))
    EXPECT_EQ(row.result, pure_work(specs.at(row.spec.params.at("i").get<std::size_t>())));
  EXPECT_FALSE(store.find(specs[17]).has_value());
}

TEST(Runner, RejectsNegativeThreadCount) {
  EXPECT_THROW(run_all(make_specs("x", 2, 1), pure_work, nullptr, quiet(-1)),
               std::invalid_argument);
}

TEST(Runner, ProgressLine) {
  EXPECT_EQ(format_progress("fig2", 37, 200, 12.5, 3725.0),
            "fig2: 37/200, 12.5 runs/s, ETA 1:02:05");
  EXPECT_EQ(format_progress("", 0, 10, 0.0, -1.0), "runs: 0/10, 0 runs/s, ETA --");
}

// A child process runs a sweep into a store and is killed with SIGKILL part-way; the
// store must be intact and a resumed sweep must compute exactly the missing runs.
TEST(RunnerKill, ResumesAfterSigkill) {
  TempDir dir;
  const std::string path = dir.file("kill.db");
  const int total = 200;
  const auto specs = make_specs("kill", total, 2024);
  const auto expected = run_all(specs, pure_work, nullptr, quiet(2));
  { ResultsStore create(path); }  // no connection is open across fork()

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    try {
      ResultsStore store(path);
      auto slow = [](const RunSpec& s) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return pure_work(s);
      };
      run_all(specs, slow, &store, quiet(2));
    } catch (...) {
      code = 1;
    }
    ::_exit(code);
  }

  bool child_exited = false;
  {
    ResultsStore watch(path);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (watch.count("kill") < 30 && std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        child_exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ASSERT_FALSE(child_exited) << "the child ended before it was killed";
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  ResultsStore store(path);
  EXPECT_EQ(store.integrity_check(), "ok");
  const auto rows = store.rows("kill");
  const std::size_t stored = rows.size();
  EXPECT_GE(stored, 30u);
  EXPECT_LT(stored, static_cast<std::size_t>(total)) << "killed too late to test resuming";
  for (const Row& row : rows) {
    const auto i = row.spec.params.at("i").get<std::size_t>();
    ASSERT_LT(i, specs.size());
    EXPECT_EQ(row.spec.params, specs[i].params);
    EXPECT_EQ(row.spec.seed, specs[i].seed);
    EXPECT_EQ(row.result, expected[i]) << i;
  }

  std::atomic<std::size_t> calls{0};
  auto counted = [&](const RunSpec& s) {
    ++calls;
    return pure_work(s);
  };
  const auto resumed = run_all(specs, counted, &store, quiet(2));
  EXPECT_EQ(calls.load(), total - stored);
  EXPECT_EQ(resumed, expected);
  EXPECT_EQ(store.count("kill"), static_cast<std::size_t>(total));
  EXPECT_EQ(store.integrity_check(), "ok");
}

}  // namespace
}  // namespace syncache
