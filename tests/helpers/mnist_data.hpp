// The first 300 training and 100 test images of MNIST for tests that need real digits;
// false (the test skips) when the MNIST files are not there.
#pragma once

#include <exception>

#include "syncache/io/mnist.hpp"

namespace syncache::testing {

inline bool load_small_mnist(mnist::Mnist& data) {
  try {
    data = mnist::load("", 300, 100);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace syncache::testing
