// Seeded random streams. Bits are taken from raw pcg32 output (never through std::
// distributions), so the same seed gives the same patterns on every platform.
#pragma once

#include <cstdint>

namespace syncache {

// SplitMix64 finaliser: the documented hash that derives the seed of a sub-run from
// (master seed, run key): derive_seed(m, k) = mix(mix(m) ^ k).
std::uint64_t mix64(std::uint64_t x);
std::uint64_t derive_seed(std::uint64_t master, std::uint64_t key);

}  // namespace syncache
