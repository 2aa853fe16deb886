// A synthetic data set for the MLP tests: inputs uniform in [0, 1) (24 bits of raw pcg32
// output), a fraction of them set to 0 (like MNIST's blank pixels), labels uniform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <pcg_random.hpp>
#include <vector>

namespace syncache::testing {

struct Data {
  std::size_t n = 0, count = 0;
  std::vector<float> x;
  std::vector<std::uint8_t> y;
  const float* row(std::size_t i) const { return x.data() + i * n; }
};

inline Data random_data(std::size_t n, std::size_t count, std::size_t classes, std::uint64_t seed,
                        double zero_fraction = 0.0) {
  pcg32 rng(seed);
  auto uniform = [&] { return static_cast<float>(rng() >> 8) * 0x1p-24f; };
  Data d{n, count, std::vector<float>(n * count), std::vector<std::uint8_t>(count)};
  for (float& v : d.x) {
    v = uniform();
    if (uniform() < zero_fraction) v = 0.0f;
  }
  for (auto& l : d.y) l = static_cast<std::uint8_t>(rng() % classes);
  return d;
}

}  // namespace syncache::testing
