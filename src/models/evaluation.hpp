// The batched evaluation of the MNIST network's hidden layer (Mlp::accuracy, outputs):
// a = sigma(W0 x) in float over images held by their non-zero pixels, with one kernel
// compiled for several instruction sets that all give the same bits.
#pragma once
#include <cstddef>

#include "syncache/models/sparse_images.hpp"

namespace syncache::evaluation {

// sigma(z) = 1 / (1 + e^-z) of count floats in place, as the kernel computes it.
void sigmoid_floats(float* values, std::size_t count);

// a (count x hp) = sigma(images first .. first + count - 1 of x times wt), wt the first
// layer's weights transposed (x.pixels x hp, hp a multiple of 8 >= H, zero padded; the
// padding columns of a hold sigma(0)). cursor holds count values (scratch).
void hidden_activities(const SparseImages& x, std::size_t first, std::size_t count, const float* wt,
                       std::size_t hp, float* a, std::size_t* cursor);

}  // namespace syncache::evaluation
