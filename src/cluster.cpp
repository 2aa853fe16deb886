// The single-process cluster (a build without MPI): one rank, no communication.
#include "syncache/cluster.hpp"

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace syncache::cluster {

bool built_with_mpi() {
  return false;
}
void init(int& /*argc*/, char**& /*argv*/) {}
void finalize() {}
int rank() {
  return 0;
}
int size() {
  return 1;
}
void exit(int code) {
  std::exit(code);
}
void abort(int code) {
  std::exit(code);
}
void on_root(const std::function<void()>& f) {
  f();
}
int default_threads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace syncache::cluster
