// Resource limits, checked before anything large is allocated or started: a command that
// would need more memory than the machine allows, or more runs than the documented cap,
// is refused up front with the estimate, instead of failing midway with bad_alloc.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "syncache/io/params.hpp"

namespace syncache {

/// Thrown (as a ParamError keyed by the parameter that asks for too much) by the checks
/// below.
class ResourceError : public ParamError {
 public:
  using ParamError::ParamError;
};

// The memory one command may use: the smaller of the physical memory and the process's
// address-space and data limits (setrlimit / ulimit -v), lowered further by the
// environment variable SYNCACHE_MEMORY_LIMIT_MB when it is set to a positive integer.
double memory_budget_bytes();

// Throws ResourceError(key, "needs about X of memory, more than the Y this machine
// allows (...)") when `bytes` exceeds memory_budget_bytes(). `key` names the parameter(s).
void require_memory(const std::string& key, double bytes);

// The documented cap on the runs of one figure or sweep (runs are queued and stored one
// by one; 10 million runs are weeks of work even at 100 runs per second).
inline constexpr double kMaxRuns = 1e7;

// Throws ResourceError(key, "asks for N runs, more than the cap of 10000000 ...") when
// runs > kMaxRuns (runs is a double so that products of large counts cannot overflow).
void require_run_count(const std::string& key, double runs);

// "1.5 GB", "730 MB", "12 kB": decimal units, two or three significant digits.
std::string human_bytes(double bytes);

}  // namespace syncache
