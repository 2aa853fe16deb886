// The single-process cluster (a build without MPI): one rank, no communication.
#include "syncache/experiments/cluster.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace syncache::cluster {

void init(int& /*argc*/, char**& /*argv*/) {
  // Started by mpirun with several processes: each would run the whole command alone.
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    const char* n = std::getenv(v);
    if (n != nullptr && std::atoi(n) > 1) {
      std::fprintf(stderr,
                   "syncache: warning: built without MPI (-DSYNCACHE_MPI=OFF): each of the %s "
                   "processes runs the whole command\n",
                   n);
      return;
    }
  }
}
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
