#!/usr/bin/env bash
# cmake --install of the build tree into a fresh prefix, then examples/cpp configured with
# find_package(syncache) against that prefix only, built and run: the installed headers,
# library and package files are complete. Usage: cpp_consumer_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/lib/cmake/syncache/syncacheConfig.cmake"
test -f "$work/prefix/include/syncache/core/cached_store.hpp"
cmake -S "$src/examples/cpp" -B "$work/example" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/example" >/dev/null
out=$(LD_LIBRARY_PATH="$work/prefix/lib" "$work/example/meter_rule")
echo "$out"
# Caching is cheaper than classic learning here and never below the minimal energy.
awk '/^classic/ {c = $2} /^cached/ {k = $2} /^minimal/ {m = $2}
     END {exit !(k < c && k >= m && m > 0)}' <<<"$out" || {
  echo "cpp_consumer: unexpected energies" >&2
  exit 1
}
echo "cpp_consumer: ok"
