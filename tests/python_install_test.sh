#!/usr/bin/env bash
# `pip install --no-build-isolation .` into a fresh virtual environment (Debian's python3,
# its packages visible), reusing the CMake build tree BUILD_DIR; then the installed
# package, imported from elsewhere, prints the same numbers as the command line and
# carries the experiment files and plotting scripts. Usage: SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
(cd "$src" && SYNCACHE_BUILD_DIR="$build" "$work/venv/bin/python" -m pip install -q \
  --no-build-isolation --no-deps --no-index . >"$work/pip.log" 2>&1) || {
  tail -n 30 "$work/pip.log" >&2
  exit 1
}
cd "$work"
py=$("$work/venv/bin/python" -c "import syncache; print(syncache.perceptron(N=200, P=200, seed=3))")
cli=$("${SYNCACHE:-$build/bin/syncache}" perceptron --N 200 --P 200 --seed 3)
# The same numbers: the CLI's JSON, read by Python, equals the dict the package printed.
"$work/venv/bin/python" - "$py" "$cli" <<'PY'
import ast, json, sys
py, cli = ast.literal_eval(sys.argv[1]), json.loads(sys.argv[2])
assert py == cli, (py, cli)
PY
"$work/venv/bin/python" - <<'PY'
import os, syncache
where = os.path.dirname(syncache.__file__)
assert "site-packages" in where, where
data = os.path.join(where, "data")
assert os.path.isfile(os.path.join(data, "experiments", "fig1.toml"))
assert os.path.isfile(os.path.join(where, "plot", "__main__.py"))
assert os.path.isfile(os.path.join(where, "plot", "layouts", "fig1.py"))
PY
echo "python_install: ok"
