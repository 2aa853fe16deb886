#include "syncache/models/input_preprocessing.hpp"

#include <stdexcept>

#include "syncache/core/normal.hpp"

namespace syncache {

void centre_and_add_noise(mnist::Dataset& set, double sigma, std::uint64_t seed,
                          std::uint64_t stream) {
  if (!(sigma >= 0.0)) throw std::invalid_argument("input_noise: must be >= 0");
  if (set.images.empty()) return;
  double sum = 0.0;
  for (float v : set.images) sum += v;
  const double mean = sum / static_cast<double>(set.images.size());
  Normal normal(seed, stream);
  for (float& v : set.images) {
    double x = static_cast<double>(v) - mean;  // zero mean
    if (sigma > 0.0) x += sigma * normal();    // + N(0, sigma^2)
    v = static_cast<float>(x);
  }
}

}  // namespace syncache
