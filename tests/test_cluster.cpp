// The cluster interface in a single process (the test programs never start MPI): one
// rank, the root, and on_root runs its function once and passes its exceptions through.
// tests/mpi_test.sh covers several ranks.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "syncache/experiments/cluster.hpp"

namespace syncache {
namespace {

TEST(Cluster, OneProcessIsTheRoot) {
  EXPECT_EQ(cluster::size(), 1);
  EXPECT_EQ(cluster::rank(), 0);
  EXPECT_TRUE(cluster::is_root());
  // Every hardware thread when nothing shares the node.
  const unsigned hw = std::thread::hardware_concurrency();
  EXPECT_EQ(cluster::default_threads(), hw == 0 ? 1 : static_cast<int>(hw));
}

TEST(Cluster, OnRootRunsOnceAndKeepsTheException) {
  int calls = 0;
  cluster::on_root([&] { ++calls; });
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(cluster::on_root([] { throw std::invalid_argument("--store: bad"); }),
               std::invalid_argument);
  try {
    cluster::on_root([] { throw std::runtime_error("disk full"); });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "disk full");
  }
}

}  // namespace
}  // namespace syncache
