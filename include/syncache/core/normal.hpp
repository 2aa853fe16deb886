// Standard normal deviates from pcg32, the same on every platform (std::normal_distribution
// is not): the MNIST network's initial weights and the authors' input noise.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <pcg_random.hpp>

namespace syncache {

// Uniform double with 53 random bits from two raw pcg32 outputs, k 2^-53 for k in
// [0, 2^53).
inline std::uint64_t bits53(pcg32& rng) {
  const std::uint64_t a = rng() >> 5;  // 27 bits
  const std::uint64_t b = rng() >> 6;  // 26 bits
  return (a << 26) | b;
}

// Standard normal deviates by the Box-Muller transform, two per pair of uniforms:
// u1 in (0, 1], u2 in [0, 1), r = sqrt(-2 ln u1), z = r cos(2 pi u2), r sin(2 pi u2).
class Normal {
 public:
  explicit Normal(std::uint64_t seed) : rng_(seed) {}
  Normal(std::uint64_t seed, std::uint64_t stream) : rng_(seed, stream) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    constexpr double kUnit = 0x1p-53;
    const double u1 = static_cast<double>(bits53(rng_) + 1) * kUnit;
    const double u2 = static_cast<double>(bits53(rng_)) * kUnit;
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double phi = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(phi);
    has_spare_ = true;
    return r * std::cos(phi);
  }

 private:
  pcg32 rng_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace syncache
