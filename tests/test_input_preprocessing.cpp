// The authors' input preprocessing (centre_and_add_noise; van Rossum & Pache's runnet.py):
// the statistics of the result on synthetic images, with tolerances from the sample size.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "syncache/models/input_preprocessing.hpp"

namespace syncache {
namespace {

// count images of 784 pixels, about 80 % of them 0 and the rest in (0, 1], like MNIST.
mnist::Dataset images(std::size_t count) {
  mnist::Dataset d;
  d.count = count;
  d.images.resize(count * d.pixels());
  d.labels.assign(count, 0);
  std::uint32_t state = 12345u;
  for (float& v : d.images) {
    state = state * 1664525u + 1013904223u;
    const std::uint32_t r = state >> 8;
    v = r % 5 == 0 ? static_cast<float>((r % 255) + 1) / 255.0f : 0.0f;
  }
  return d;
}

double mean(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

TEST(InputPreprocessing, CentringAloneGivesZeroMean) {
  mnist::Dataset d = images(100);
  const mnist::Dataset raw = d;
  centre_and_add_noise(d, 0.0, 1, 1);
  const std::vector<double> x(d.images.begin(), d.images.end());
  // Each stored value is rounded to float (relative 2^-24 of values below 1).
  EXPECT_LT(std::fabs(mean(x)), 1e-7);
  // A shift by one number: the differences between pixels are kept (to float rounding).
  const double shift = static_cast<double>(raw.images[0]) - x[0];
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(raw.images[i]) - x[i], shift, 1e-7);
  }
}

TEST(InputPreprocessing, NoiseHasTheGivenStandardDeviation) {
  const double sigma = 0.001;
  mnist::Dataset d = images(200), centred = d;
  centre_and_add_noise(d, sigma, 7, 3);
  centre_and_add_noise(centred, 0.0, 7, 3);
  std::vector<double> z(d.images.size());
  for (std::size_t i = 0; i < z.size(); ++i) {
    z[i] = static_cast<double>(d.images[i]) - static_cast<double>(centred.images[i]);
  }
  const double n = static_cast<double>(z.size());  // 156 800 values
  const double m = mean(z);
  double ss = 0.0;
  for (double v : z) ss += (v - m) * (v - m);
  const double sd = std::sqrt(ss / (n - 1.0));
  // Five standard errors: of the mean sigma / sqrt(n); of the standard deviation about
  // sigma / sqrt(2 n); plus float rounding of the stored values (below 1e-7 each).
  EXPECT_LT(std::fabs(m), 5.0 * sigma / std::sqrt(n) + 1e-7);
  EXPECT_NEAR(sd, sigma, 5.0 * sigma / std::sqrt(2.0 * n) + 1e-7);
  // The whole set still has mean 0 (centring) plus the noise's mean.
  const std::vector<double> x(d.images.begin(), d.images.end());
  EXPECT_LT(std::fabs(mean(x)), 5.0 * sigma / std::sqrt(n) + 1e-7);
  // No input is 0 any more: every synapse changes on every sample.
  for (float v : d.images) EXPECT_NE(v, 0.0f);
}

TEST(InputPreprocessing, DeterministicFromSeedAndStream) {
  mnist::Dataset a = images(10), b = a, c = a, e = a;
  centre_and_add_noise(a, 0.001, 5, 1);
  centre_and_add_noise(b, 0.001, 5, 1);
  centre_and_add_noise(c, 0.001, 6, 1);
  centre_and_add_noise(e, 0.001, 5, 2);
  EXPECT_EQ(a.images, b.images);
  EXPECT_NE(a.images, c.images);
  EXPECT_NE(a.images, e.images);
  EXPECT_THROW(centre_and_add_noise(a, -1.0, 5, 1), std::invalid_argument);
}

}  // namespace
}  // namespace syncache
