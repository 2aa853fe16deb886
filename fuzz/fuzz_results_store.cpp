// libFuzzer harness: the results-store reader, as `results export` opens it (read-only).
// The input is written as the store file; opening it and reading every experiment's rows
// must succeed or end in a std::runtime_error naming the store, and never write the file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "syncache/io/results.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/syncache-fuzz-store-" + std::to_string(::getpid());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const syncache::ResultsStore store(path, "fuzz", true);
    for (const auto& e : store.experiments()) {
      for (const auto& row : store.rows(e)) {
        if (!row.spec.params.is_object() && !row.spec.params.is_array() &&
            !row.spec.params.is_primitive())
          __builtin_trap();
      }
    }
  } catch (const std::runtime_error&) {
  }
  // Read-only: the file holds exactly the input afterwards.
  std::ifstream back(path, std::ios::binary);
  std::stringstream got;
  got << back.rdbuf();
  if (got.str() != std::string(reinterpret_cast<const char*>(data), size)) __builtin_trap();
  return 0;
}
