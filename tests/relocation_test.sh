#!/usr/bin/env bash
# An installed syncache refers to neither its source nor its build folder. The checkout is
# copied to a temporary folder and built there; from the copy, the Python package is
# installed into a fresh venv (from a wheel) and the C++ side into a prefix
# (cmake --install); then the copy and its build are deleted, and from another folder:
#   - syncache.figure("fig2b") draws its PNG with the venv's interpreter;
#   - the installed CLI draws the same figure (its experiment files and plotting folder
#     come from <prefix>/share/syncache);
#   - syncache.mlp() without data= finds MNIST in the user cache, and with no cache fails
#     naming the three places looked in;
#   - neither the prefix nor the venv contains the copy's path, and the installed library
#     imports none of system, popen, exec*.
# Usage: relocation_test.sh SOURCE_DIR PYTHON
set -euo pipefail
src=$1 python=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
copy="$work/syncache-copy"
mkdir "$copy"
# The files of the checkout as they are (tracked and new, not ignored), without its builds.
(cd "$src" && git ls-files -z --cached --others --exclude-standard) |
  (cd "$src" && xargs -0 cp --parents -t "$copy" 2>/dev/null || true)
test -f "$copy/CMakeLists.txt"
cmake -S "$copy" -B "$copy/build" -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$python" \
  -DSYNCACHE_TESTS=OFF -DSYNCACHE_BENCH=OFF >"$work/cmake.log" 2>&1 || {
  tail -n 20 "$work/cmake.log" >&2
  exit 1
}
SECONDS=0
cmake --build "$copy/build" -j "$(nproc)" >>"$work/cmake.log" 2>&1 || {
  tail -n 20 "$work/cmake.log" >&2
  exit 1
}
echo "relocation: the copy built in $SECONDS s"
cmake --install "$copy/build" --prefix "$work/prefix" >/dev/null
"$python" -m venv --system-site-packages "$work/venv"
(cd "$copy" && SYNCACHE_BUILD_DIR="$copy/build" "$work/venv/bin/python" -m pip wheel -q \
  --no-build-isolation --no-deps --no-index -w "$work/wheel" . >"$work/pip.log" 2>&1 &&
  "$work/venv/bin/python" -m pip install -q --no-deps --no-index "$work/wheel"/*.whl \
    >>"$work/pip.log" 2>&1) || {
  tail -n 30 "$work/pip.log" >&2
  exit 1
}
rm -rf "$copy" "$work/wheel"

fails=0
fail() {
  echo "FAIL relocation: $*" >&2
  fails=$((fails + 1))
}
mkdir "$work/elsewhere"
cd "$work/elsewhere"
env -u SYNCACHE_EXPERIMENTS -u SYNCACHE_PLOT -u SYNCACHE_PYTHON -u PYTHONPATH \
  "$work/venv/bin/python" - "$work/py-fig" <<'PY' || fail "syncache.figure from the venv"
import os, sys, syncache
assert "site-packages" in syncache.__file__, syncache.__file__
csv = syncache.figure("fig2b", out=sys.argv[1], store=None)
assert os.path.getsize(csv) > 0 and os.path.getsize(sys.argv[1] + "/fig2b.png") > 0
PY
env -u SYNCACHE_EXPERIMENTS -u SYNCACHE_PLOT -u SYNCACHE_PYTHON \
  "$work/prefix/bin/syncache" figure fig2b --out "$work/cli-fig" --store none 2>/dev/null ||
  fail "the installed CLI's figure"
[[ -s "$work/cli-fig/fig2b.png" ]] || fail "the installed CLI drew no PNG"
# The same data (the notes name each its own experiment file).
cmp -s <(grep -v '^#' "$work/py-fig/fig2b.csv") <(grep -v '^#' "$work/cli-fig/fig2b.csv") ||
  fail "the two fig2b.csv differ"

# MNIST: the user cache (a folder that links to the MNIST files, if this machine has them),
# then no cache at all.
cache=${XDG_CACHE_HOME:-}
[[ $cache == /* ]] || cache=$HOME/.cache
mnist=${SYNCACHE_MNIST_DIR:-$cache/syncache/mnist}
if [[ -f $mnist/t10k-labels-idx1-ubyte ]]; then
  mkdir -p "$work/cache/syncache"
  ln -s "$mnist" "$work/cache/syncache/mnist"
  env -u SYNCACHE_MNIST_DIR XDG_CACHE_HOME="$work/cache" "$work/venv/bin/python" -c "
import syncache
c = syncache.mlp(hidden=5, epochs=1, train_limit=100, test_limit=50, eval_every=100)
assert len(c['accuracy']) >= 1, c" || fail "syncache.mlp() did not find MNIST in the user cache"
else
  echo "relocation: no MNIST on this machine; the user-cache case is not run" >&2
fi
env -u SYNCACHE_MNIST_DIR XDG_CACHE_HOME="$work/no-cache" "$work/venv/bin/python" -c "
import syncache
try:
    syncache.mlp(hidden=5, epochs=1, train_limit=100, test_limit=50)
except ValueError as e:
    m = str(e)
    assert m.startswith('data:') and 'SYNCACHE_MNIST_DIR' in m and '$work/no-cache/syncache/mnist' in m, m
else:
    raise SystemExit('no error without MNIST')" || fail "the missing-MNIST message"

# Nothing installed names the copy it was built from.
if grep -rl -- "$copy" "$work/prefix" "$work/venv" 2>/dev/null | head -3 | grep -q .; then
  fail "installed files name the source/build folder: $(grep -rl -- "$copy" "$work/prefix" "$work/venv" | head -3 | tr '\n' ' ')"
fi
if nm -D --undefined-only "$work/prefix/lib/libsyncache.so" | grep -Eq ' (system|popen|exec[lv]p?e?|posix_spawnp?)(@|$)'; then
  fail "libsyncache.so imports a way to run programs"
fi
[[ $fails -eq 0 ]] && echo "relocation: ok"
[[ $fails -eq 0 ]]
