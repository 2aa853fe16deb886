#include "syncache/io/limits.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "syncache/io/text_input.hpp"

namespace syncache {

double memory_budget_bytes() {
  double budget = std::numeric_limits<double>::infinity();
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) budget = static_cast<double>(pages) * static_cast<double>(page);
  for (int resource : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit lim{};
    if (::getrlimit(resource, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
      budget = std::min(budget, static_cast<double>(lim.rlim_cur));
    }
  }
  if (const char* env = std::getenv("SYNCACHE_MEMORY_LIMIT_MB")) {
    if (const auto mb = read_integer(env, 1, std::int64_t{1} << 40)) {
      budget = std::min(budget, static_cast<double>(*mb) * 1e6);
    }
  }
  return budget;
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 6) {
    bytes /= 1000.0;
    ++u;
  }
  char buf[64];
  if (bytes >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.3g %s", bytes, units[u]);  // beyond EB
  } else {
    std::snprintf(buf, sizeof buf, bytes < 10.0 ? "%.2g %s" : "%.0f %s", bytes, units[u]);
  }
  return buf;
}

void require_memory(const std::string& key, double bytes) {
  const double budget = memory_budget_bytes();
  if (!(bytes <= budget)) {
    throw ResourceError(
        key, "needs about " + human_bytes(bytes) + " of memory, more than the " +
                 human_bytes(budget) +
                 " this machine allows (physical memory, ulimit, SYNCACHE_MEMORY_LIMIT_MB)");
  }
}

void require_run_count(const std::string& key, double runs) {
  if (!(runs <= kMaxRuns)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", runs);
    throw ResourceError(key, std::string("asks for ") + buf +
                                 " runs, more than the cap of 10000000 runs " + "of one command");
  }
}

}  // namespace syncache
