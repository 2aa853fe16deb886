// The input preprocessing of van Rossum & Pache's competitive-plasticity code
// (vanrossumlab/frugal_24, runnet.py: zeromeandataQ, then noise siin = 0.001), as the MLP
// parameters inputs = centred-noise and input_noise (docs/beyond.md). With it
// no input is 0, so every synapse changes on every sample, as in their update counts.
#pragma once

#include <cstdint>

#include "syncache/io/mnist.hpp"

namespace syncache {

// x <- x - mean + sigma z for every pixel of every image: mean is the mean over all pixels
// of all images of `set` (one number; each set is centred by its own mean, as the authors
// do), z standard normal (Normal, pcg32 seeded with `seed` on stream `stream`), drawn once
// (the same noise on every presentation), image by image, pixel by pixel. The sum is
// formed in double and stored as float. sigma >= 0 (0: centring only).
void centre_and_add_noise(mnist::Dataset& set, double sigma, std::uint64_t seed,
                          std::uint64_t stream);

}  // namespace syncache
