// Stopping a long computation from outside (the Python package's Ctrl-C): a caller sets
// the flag from any thread; the long loops (the runner, a perceptron's epochs, the MNIST
// network's samples, the spiking neuron's rounds) check it and throw Interrupted. A run
// stopped this way is not stored, runs already finished are, so the results store stays
// consistent and a repeated call resumes.
#pragma once

#include <atomic>
#include <stdexcept>

namespace syncache {

/// Thrown by a long loop that found the interrupt flag set.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

inline std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}
inline void request_interrupt() {
  interrupt_flag().store(true, std::memory_order_relaxed);
}
inline void clear_interrupt() {
  interrupt_flag().store(false, std::memory_order_relaxed);
}
inline bool interrupt_requested() {
  return interrupt_flag().load(std::memory_order_relaxed);
}
// Throws Interrupted when an interrupt was requested (one relaxed load otherwise).
inline void check_interrupt() {
  if (interrupt_requested()) throw Interrupted();
}

}  // namespace syncache
