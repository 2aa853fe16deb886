#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "helpers/temp_dir.hpp"
#include "syncache/io/results.hpp"

namespace syncache {
namespace {

using nlohmann::json;
using syncache::testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

TEST(ResultsCanonical, SortedKeysWhateverTheInsertionOrder) {
  nlohmann::ordered_json a;
  a["zeta"] = 1;
  a["alpha"] = {{"y", 2}, {"x", 3}};
  a["mid"] = "s";
  nlohmann::ordered_json b;
  b["mid"] = "s";
  b["alpha"] = {{"x", 3}, {"y", 2}};
  b["zeta"] = 1;
  EXPECT_EQ(canonical_json(a), canonical_json(b));
  EXPECT_EQ(canonical_json(a), R"({"alpha":{"x":3,"y":2},"mid":"s","zeta":1})");
  EXPECT_EQ(canonical_json(json::parse(R"({"b":1,"a":2})")),
            canonical_json(json::parse(R"({"a":2,"b":1})")));
}

TEST(ResultsCanonical, DoublesAreExact) {
  const double third = 1.0 / 3.0;
  const double values[] = {0.1,  1e-300, third, 5e-324, std::numeric_limits<double>::max(),
                           -2.5, 1.0};
  for (double v : values) {
    const std::string text = canonical_json(json{{"v", v}});
    const double back = json::parse(text)["v"].get<double>();
    EXPECT_EQ(bits(back), bits(v)) << text;
  }
  EXPECT_EQ(canonical_json(json{{"v", 0.1}}), R"({"v":0.1})");
  EXPECT_EQ(canonical_json(json{{"v", 1e-300}}), R"({"v":1e-300})");
  // Integers and doubles are different parameters.
  EXPECT_NE(canonical_json(json{{"v", 1}}), canonical_json(json{{"v", 1.0}}));
}

TEST(ResultsCanonical, RejectsNonFinite) {
  EXPECT_THROW(canonical_json(json{{"v", std::numeric_limits<double>::quiet_NaN()}}),
               std::invalid_argument);
  EXPECT_THROW(canonical_json(json{{"v", {1.0, std::numeric_limits<double>::infinity()}}}),
               std::invalid_argument);
}

TEST(ResultsStore, RoundTrip) {
  TempDir dir;
  ResultsStore store(dir.file("r.db"), "1.2.3");
  const json params = {{"N", 100}, {"eta", 0.1}, {"rule", "synapse"}};
  const json result = {{"energy", 1.0 / 3.0}, {"weights", {1, -2, 3}}, {"ok", true}};
  store.put("fig2", params, 7, result);
  const auto got = store.find("fig2", params, 7);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, result);
  EXPECT_EQ(bits((*got)["energy"].get<double>()), bits(1.0 / 3.0));

  const auto rows = store.rows("fig2");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].spec.experiment, "fig2");
  EXPECT_EQ(rows[0].spec.params, params);
  EXPECT_EQ(rows[0].spec.seed, 7u);
  EXPECT_EQ(rows[0].result, result);
  EXPECT_EQ(rows[0].version, "1.2.3");
  EXPECT_EQ(rows[0].created.size(), 24u) << rows[0].created;  // 2024-05-01T12:00:00.000Z
  EXPECT_EQ(store.experiments(), std::vector<std::string>{"fig2"});
  EXPECT_EQ(store.count("fig2"), 1u);
  EXPECT_EQ(store.count("other"), 0u);
  EXPECT_EQ(store.integrity_check(), "ok");
}

TEST(ResultsStore, MissingKeyIsNullopt) {
  TempDir dir;
  ResultsStore store(dir.file("r.db"));
  EXPECT_FALSE(store.find("fig2", json{{"N", 1}}, 1).has_value());
  store.put("fig2", json{{"N", 1}}, 1, json{{"x", 1}});
  EXPECT_FALSE(store.find("fig2", json{{"N", 1}}, 2).has_value());
  EXPECT_FALSE(store.find("fig2", json{{"N", 2}}, 1).has_value());
  EXPECT_FALSE(store.find("fig3", json{{"N", 1}}, 1).has_value());
  EXPECT_FALSE(store.find("fig2", json{{"N", 1.0}}, 1).has_value());
  EXPECT_TRUE(store.find("fig2", json{{"N", 1}}, 1).has_value());
}

TEST(ResultsStore, ReopenKeepsDataAndLargeSeeds) {
  TempDir dir;
  const std::uint64_t big = std::numeric_limits<std::uint64_t>::max();
  {
    ResultsStore store(dir.file("r.db"));
    store.put("a", json{{"p", 1}}, big, json{{"x", 0.1}});
    store.put("b", json::object(), 0, json::array({1, 2}));
  }
  ResultsStore store(dir.file("r.db"));
  const auto got = store.find("a", json{{"p", 1}}, big);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, (json{{"x", 0.1}}));
  EXPECT_EQ(store.rows("a").at(0).spec.seed, big);
  EXPECT_EQ(store.find("b", json::object(), 0), json::array({1, 2}));
  EXPECT_EQ(store.experiments(), (std::vector<std::string>{"a", "b"}));
}

TEST(ResultsStore, PutReplaces) {
  TempDir dir;
  ResultsStore store(dir.file("r.db"));
  store.put("e", json{{"p", 1}}, 3, json{{"x", 1}});
  store.put("e", json{{"p", 1}}, 3, json{{"x", 2}});
  EXPECT_EQ(store.count("e"), 1u);
  EXPECT_EQ(store.find("e", json{{"p", 1}}, 3), (json{{"x", 2}}));
}

TEST(ResultsStore, PutManyAndSecondConnection) {
  TempDir dir;
  ResultsStore a(dir.file("r.db"));
  ResultsStore b(dir.file("r.db"));
  std::vector<std::pair<RunSpec, json>> runs;
  for (int i = 0; i < 50; ++i)
    runs.push_back({RunSpec{"e", json{{"i", i}}, static_cast<std::uint64_t>(i)}, json{{"y", i}}});
  a.put_many(runs);
  EXPECT_EQ(b.count("e"), 50u);
  EXPECT_EQ(b.find("e", json{{"i", 7}}, 7), (json{{"y", 7}}));
  // One bad entry (NaN parameter) rejects the whole batch.
  runs.push_back({RunSpec{"f", json{{"v", std::numeric_limits<double>::quiet_NaN()}}, 0}, 1});
  EXPECT_THROW(a.put_many(runs), std::invalid_argument);
  EXPECT_EQ(b.count("f"), 0u);
}

TEST(ResultsStore, ErrorsNameThePath) {
  TempDir dir;
  const std::string junk = dir.file("junk.db");
  {
    std::ofstream out(junk, std::ios::binary);
    out << std::string(4096, 'x');
  }
  try {
    ResultsStore store(junk);
    FAIL() << "opened a file that is not a database";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(junk), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a database"), std::string::npos) << e.what();
  }
  const std::string missing = dir.file("no/such/dir/r.db");
  try {
    ResultsStore store(missing);
    FAIL() << "opened a file in a missing directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ResultsWriteFileAtomic, WritesAndReplacesLeavingNoTemporary) {
  TempDir dir;
  const std::string path = dir.file("out.json");
  write_file_atomic(path, "first");
  EXPECT_EQ(slurp(path), "first");
  write_file_atomic(path, "second, longer");
  EXPECT_EQ(slurp(path), "second, longer");
  write_file_atomic(path, "");
  EXPECT_EQ(slurp(path), "");
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"out.json"});
}

TEST(ResultsWriteFileAtomic, FailureLeavesNoFile) {
  TempDir dir;
  EXPECT_THROW(write_file_atomic(dir.file("missing/out.json"), "x"), std::runtime_error);
  std::filesystem::create_directory(dir.path() / "adir");
  std::filesystem::create_directory(dir.path() / "adir" / "sub");
  // rename() cannot replace a non-empty directory: the temporary must be cleaned up.
  EXPECT_THROW(write_file_atomic(dir.file("adir"), "x"), std::runtime_error);
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"adir"});
}

TEST(ResultsWriteFileAtomic, ReadersNeverSeeAPartialFile) {
  TempDir dir;
  const std::string path = dir.file("big.txt");
  const std::string a(256 * 1024, 'a');
  const std::string b(300 * 1024, 'b');
  write_file_atomic(path, a);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      const std::string s = slurp(path);
      if (s != a && s != b) ++bad;
      ++reads;
    }
  });
  for (int i = 0; i < 40; ++i) write_file_atomic(path, i % 2 ? a : b);
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"big.txt"});
}

}  // namespace
}  // namespace syncache
