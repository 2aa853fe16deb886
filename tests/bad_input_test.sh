#!/usr/bin/env bash
# Bad input on every surface (command-line numbers, CSV, TOML, IDX, SQLite, output paths):
# a table of malformed inputs, each with its exact exit code and the name that the one
# line on stderr must contain (the option, key or file). For every case the same
# properties must hold:
#   - the exit code is the expected one (2: the input is refused before any work;
#     1: a failure while running or writing, after which what was computed is kept);
#   - stderr is exactly one line of at most 200 characters, printable ASCII only (no raw
#     bytes of the input echoed), starting "syncache: error: " and naming the culprit;
#   - no "std::", "terminate", "what():" or "bad_alloc" in it, and nothing on stdout.
#   SYNCACHE=/path/to/syncache bash tests/bad_input_test.sh
set -u -o pipefail
: "${SYNCACHE:?set SYNCACHE to the syncache executable}"
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
CASES=0

# expect CODE NAME -- ARGS...: one table row.
expect() {
  local code=$1 name=$2
  shift 3
  CASES=$((CASES + 1))
  (cd "$TMP" && timeout 120 "$SYNCACHE" "$@" </dev/null >"$TMP/out" 2>"$TMP/err")
  local rc=$?
  local shown
  shown=$(printf '%q ' "$@" | head -c 160)
  local why=""
  if [[ $rc -ne $code ]]; then why="exit $rc, expected $code"; fi
  local lines
  lines=$(wc -l <"$TMP/err")
  if [[ -z "$why" && $lines -ne 1 ]]; then why="stderr has $lines lines"; fi
  if [[ -z "$why" ]] && [[ $(wc -c <"$TMP/err") -gt 201 ]]; then
    why="stderr longer than 200 characters"
  fi
  if [[ -z "$why" ]] && LC_ALL=C grep -q '[^[:print:]]' <(tr -d '\n' <"$TMP/err"); then
    why="stderr holds non-printable bytes"
  fi
  if [[ -z "$why" ]] && ! grep -q '^syncache: error: ' "$TMP/err"; then
    why="stderr does not start with 'syncache: error: '"
  fi
  if [[ -z "$why" ]] && ! grep -qF -- "$name" "$TMP/err"; then why="stderr does not name '$name'"; fi
  if [[ -z "$why" ]] && grep -qE 'std::|terminate|what\(\)|bad_alloc' "$TMP/err"; then
    why="raw library message"
  fi
  if [[ -z "$why" && $code -eq 2 && -s "$TMP/out" ]]; then why="wrote to stdout"; fi
  if [[ -n "$why" ]]; then
    echo "FAIL $shown: $why; stderr: $(head -c 300 "$TMP/err" | LC_ALL=C tr -c '[:print:]\n' '?')"
    FAILS=$((FAILS + 1))
  fi
}

# ---- command-line numbers: every bad token for every numeric option ----
BIG=$(head -c 100000 /dev/zero | tr '\0' '7')
BAD_NUMBERS=("" "1e309" "$(printf '\xff\xfe\ta')" "$BIG")
# The other kinds of bad numbers, on one option each (the same parser reads them all).
for v in abc nan 0x10 1,5 --; do
  expect 2 --eta -- perceptron "--eta=$v"
  expect 2 --hidden -- mlp "--hidden=$v"
done
for v in "${BAD_NUMBERS[@]}"; do
  for opt in --N --P --eta --b --alpha --max-epochs --tau --c; do
    expect 2 "$opt" -- perceptron "$opt=$v"
  done
  expect 2 --theta -- perceptron --rule neuron "--theta=$v"
  for opt in --hidden --eta --epochs --patience --eval-every --train-limit --test-limit --seed \
    --target-accuracy; do
    expect 2 "$opt" -- mlp "$opt=$v"
  done
  for opt in --patterns --seed --max-rounds; do expect 2 "$opt" -- spiking "$opt=$v"; done
  for opt in --N --P --c --eta; do expect 2 "$opt" -- theory perceptron --N 10 --P 5 "$opt=$v"; done
  for opt in --theta --tau --p --eta --N --c; do
    expect 2 "$opt" -- theory transient --theta 1 --tau 10 --p 0.5 "$opt=$v"
  done
  expect 2 --threads -- figure fig1 --threads "$v"
done
# Counts out of range: no wrap-around, the option named with its range.
expect 2 --threads -- figure fig1 --threads 4294967295
expect 2 --threads -- figure fig1 --threads -1
expect 2 --N -- perceptron --N 9223372036854775807
expect 2 --N -- perceptron --N 99999999999999999999
expect 2 --max-epochs -- perceptron --max-epochs 0
expect 2 --patterns -- spiking --patterns 100001
# Resource limits, before anything is allocated.
expect 2 --N -- perceptron --N 99999999999
expect 2 --N/--P -- perceptron --N 1000000 --P 1000000
expect 2 --hidden -- mlp --hidden 99999999999
expect 2 --N/--P -- theory perceptron --N 1e308 --P 1e308
# Words.
expect 2 --rule -- perceptron --rule "$(printf 'neu\x01ron')"
expect 2 --backprop -- mlp --backprop "$BIG"
expect 2 --keep-rounding -- mlp --restrict neuron --keep 0.5 --keep-rounding "$BIG"
for v in "${BAD_NUMBERS[@]}"; do
  expect 2 --keep -- mlp --restrict synapse "--keep=0.5,$v"
  expect 2 --input-noise -- mlp --inputs centred-noise "--input-noise=$v"
done
expect 2 --inputs -- mlp --inputs "$BIG"
expect 2 --background -- spiking --background x
expect 2 figure -- figure "$(printf 'fig\xff')"

# ---- CSV pattern files ----
printf '\xef\xbb\xbf1,-1,1\n-1,1,-1\n' >"$TMP/bom.csv"
printf '1,1,1\n1,1\n' >"$TMP/ragged.csv"
printf '1e308,1e308,1\n-1e308,1e308,-1\n1e308,-1e308,1\n' >"$TMP/huge.csv"
printf '1,\x00\x01\x02,1\n' >"$TMP/binary.csv"
printf '1,%s,1\n' "$(head -c 5000000 /dev/zero | tr '\0' 'x')" >"$TMP/field.csv"
printf '1,2\n' >"$TMP/target.csv"
: >"$TMP/empty.csv"
mkdir -p "$TMP/dir.csv"
expect 2 --patterns -- perceptron --patterns ''
expect 2 ragged.csv:2 -- perceptron --patterns ragged.csv
expect 2 huge.csv -- perceptron --patterns huge.csv
expect 2 binary.csv:1 -- perceptron --patterns binary.csv
expect 2 field.csv:1 -- perceptron --patterns field.csv
expect 2 target.csv:1 -- perceptron --patterns target.csv
expect 2 empty.csv -- perceptron --patterns empty.csv
expect 2 dir.csv -- perceptron --patterns dir.csv
expect 2 missing.csv -- perceptron --patterns missing.csv

# ---- TOML: sweeps and experiment files ----
sweep() { printf 'name = "s"\nrepeats = %s\nmaster_seed = 1\n[fixed]\nN = 20\n%s\n[grid]\nP = [5]\n' "$1" "$2" >"$TMP/$3"; }
sweep 3000000000 '' big_repeats.toml
sweep 1000000000000 '' huge_repeats.toml
sweep 1 'patterns = "ragged.csv"' ragged_sweep.toml
sed -i 's/^N = 20$//; s/^P = \[5\]$/rule = ["classic"]/' "$TMP/ragged_sweep.toml"
printf 'name = "s"\nrepeats = 1\n[grid]\n' >"$TMP/empty_grid.toml"
printf 'name = "s"\nrepeats = 1\n[fixed]\nN = 10\n[grid]\nP = [5]\n[quick]\nrepeat = 3\n' \
  >"$TMP/quick_typo.toml"
printf '\xef\xbb\x9f = 1\n' >"$TMP/unreachable.toml"
printf 'name = "s"\n[fixed]\nN = 9223372036854775807\n[grid]\nP = [5]\n' >"$TMP/n_max.toml"
printf 'name = "s"\n[fixed]\nN = 10\nmax_epochs = 1e30\n[grid]\nP = [5]\n' >"$TMP/epochs_float.toml"
printf 'name = "s"\n[grid]\nP = [%s]\nN = [%s]\n' "$(seq -s, 1 3000)" "$(seq -s, 1 4000)" \
  >"$TMP/many_runs.toml"
mkdir -p "$TMP/dir.toml"
expect 2 big_repeats.toml:2 -- sweep big_repeats.toml --store none
expect 2 huge_repeats.toml:2 -- sweep huge_repeats.toml --store none
expect 2 ragged.csv:2 -- sweep ragged_sweep.toml --store none
expect 2 "empty_grid.toml:3: key 'grid'" -- sweep empty_grid.toml --store none
expect 2 "quick_typo.toml:8: key 'quick.repeat'" -- sweep quick_typo.toml --store none
printf 'name = "s"\nrepeats = 1\n[fixed]\nN = 10\n[grid]\nP = [5]\n[quick]\nrepeats = 3\n' \
  >"$TMP/quick_sweep.toml"
expect 2 "quick_sweep.toml: [quick] and [full] tables are for figures" -- sweep quick_sweep.toml \
  --store none
expect 2 unreachable.toml:1 -- sweep unreachable.toml --store none
expect 2 "'N'" -- sweep n_max.toml --store none
expect 2 "'max_epochs'" -- sweep epochs_float.toml --store none
expect 2 many_runs.toml -- sweep many_runs.toml --store none
expect 2 dir.toml -- sweep dir.toml --store none
expect 2 missing.toml -- sweep missing.toml --store none
# Figures: a copy of the experiment files with one value changed.
figure_case() {  # FIG KEY VALUE: sets KEY = VALUE everywhere in a copy of FIG.toml
  local dir="$TMP/exp-$1-$2"
  rm -rf "$dir" && cp -r "$SRC/experiments" "$dir"
  $PY - "$dir/$1.toml" "$2" "$3" <<'EOF'
import re, sys
path, key, value = sys.argv[1:]
text = open(path).read()
# Every occurrence (top level, [quick], [full]) gets the value; else it goes on top.
new, n = re.subn(r'(?m)^%s\s*=.*$' % re.escape(key), '%s = %s' % (key, value), text)
open(path, 'w').write(new if n else '%s = %s\n' % (key, value) + text)
EOF
  echo "$dir"
}
expect 2 "fig1.toml:6: key 'N'" -- figure fig1 --no-plot --store none --experiments "$(figure_case fig1 N 0)"
expect 2 "key 'repeats'" -- figure fig4b --no-plot --store none \
  --experiments "$(figure_case fig4b repeats 1000000000000)"
expect 2 "fig3s1a.toml:14: key 'theta_step'" -- figure fig3s1a --no-plot --store none \
  --experiments "$(figure_case fig3s1a theta_step 1e-12)"
d=$(figure_case fig3s1a theta_start 1e20)
sed -i 's/^theta_stop = .*/theta_stop = 2e20/; s/^theta_step = .*/theta_step = 1.0/' "$d/fig3s1a.toml"
expect 2 "key 'theta_step'" -- figure fig3s1a --no-plot --store none --experiments "$d"

# ---- IDX (MNIST) files ----
mk_idx() {  # DIR IMAGES LABELS: IDX files holding the given counts (headers only when 0)
  mkdir -p "$1"
  $PY - "$1" "$2" "$3" <<'EOF'
import struct, sys
d, n_img, n_lab = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for prefix in ("train", "t10k"):
    with open("%s/%s-images-idx3-ubyte" % (d, prefix), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n_img, 28, 28) + bytes(784 * n_img))
    with open("%s/%s-labels-idx1-ubyte" % (d, prefix), "wb") as f:
        f.write(struct.pack(">II", 0x801, n_lab) + bytes(n_lab))
EOF
}
mk_idx "$TMP/idx0" 0 0
mk_idx "$TMP/idx_disagree" 2 1
expect 2 idx0 -- mlp --data "$TMP/idx0"
expect 2 idx_disagree -- mlp --data "$TMP/idx_disagree"
expect 2 --data -- mlp --data "$TMP/nowhere"

# ---- SQLite results stores and output paths ----
: >"$TMP/zero.sqlite"
printf 'not a database at all, but long enough to look like a header.....................' \
  >"$TMP/garbage.sqlite"
$PY - "$TMP/bad_row.sqlite" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE runs (experiment TEXT NOT NULL, params TEXT NOT NULL, seed INTEGER NOT NULL,
  result TEXT NOT NULL, version TEXT NOT NULL, created TEXT NOT NULL,
  PRIMARY KEY (experiment, params, seed)) WITHOUT ROWID;
PRAGMA user_version=1;
INSERT INTO runs VALUES ('perceptron', '{"N":1}', 1, '{"broken', 'x', 'now');
""")
db.commit()
EOF
expect 2 --store -- results export --store zero.sqlite
if [[ -s "$TMP/zero.sqlite" ]]; then
  echo "FAIL results export on a 0-byte file wrote into it"
  FAILS=$((FAILS + 1))
fi
expect 2 --store -- results export --store garbage.sqlite
expect 2 --store -- results export --store bad_row.sqlite
expect 2 --store -- results export --store nowhere.sqlite
expect 2 --out -- results export --store bad_row.sqlite --out /nonexistent/x.csv
printf 'name = "ok"\nrepeats = 1\n[fixed]\nN = 10\n[grid]\nP = [5]\n' >"$TMP/ok.toml"
expect 2 --out -- sweep ok.toml --store none --out /nonexistent/x.csv
expect 2 --out -- sweep ok.toml --store none --out "$TMP"
# An SQLite file of another application is refused (application_id or tables) and left
# byte for byte as it was.
$PY - "$TMP/foreign.sqlite" "$TMP/foreign_id.sqlite" <<'EOF2'
import sqlite3, sys
for path, sql in zip(sys.argv[1:], ["CREATE TABLE people (name TEXT)", "PRAGMA application_id=7"]):
    db = sqlite3.connect(path)
    db.execute(sql)
    db.commit()
    db.close()
EOF2
for f in foreign foreign_id; do
  cp "$TMP/$f.sqlite" "$TMP/$f.before"
  expect 2 "not a syncache results store" -- sweep ok.toml --store $f.sqlite
  expect 2 "not a syncache results store" -- results export --store $f.sqlite
  if ! cmp -s "$TMP/$f.sqlite" "$TMP/$f.before"; then
    echo "FAIL a foreign SQLite file ($f) was modified"
    FAILS=$((FAILS + 1))
  fi
done
# A failing plotter (SYNCACHE_PLOT replaces the plot folder): exit 1, one line naming the
# figure, the Python exception and the log; the CSV is kept.
printf 'import sys\nraise RuntimeError("no display for %%s" %% sys.argv[1])\n' >"$TMP/badplot.py"
SYNCACHE_PLOT="$TMP/badplot.py" expect 1 "fig2a: plotting failed: RuntimeError: no display for fig2a" \
  -- figure fig2a --out fig --store none
if [[ ! -s "$TMP/fig/fig2a.csv" ]]; then
  echo "FAIL failing plotter: the CSV was not kept"
  FAILS=$((FAILS + 1))
fi
# The interpreter: a python3 without matplotlib first on the PATH is passed over for the
# next one; an interpreter without matplotlib or one that does not exist is one line
# naming it and $SYNCACHE_PYTHON (exit 1, the CSV kept).
mkdir -p "$TMP/nompl"
printf '#!/bin/sh\nexit 3\n' >"$TMP/nompl/python3"  # syncache.plot's "no matplotlib" code
chmod +x "$TMP/nompl/python3"
(cd "$TMP" && PATH="$TMP/nompl:$(dirname "$PY"):$PATH" "$SYNCACHE" figure fig2a --out fig-next \
  --store none >/dev/null 2>&1)
if [[ ! -s "$TMP/fig-next/fig2a.png" ]]; then
  echo "FAIL plotting: the python3 with matplotlib after one without it did not draw"
  FAILS=$((FAILS + 1))
fi
SYNCACHE_PYTHON="$TMP/nompl/python3" expect 1 "tried: $TMP/nompl/python3; set \$SYNCACHE_PYTHON" \
  -- figure fig2a --out fig-none --store none
SYNCACHE_PYTHON="$TMP/absent/python3" expect 1 "tried: $TMP/absent/python3 (No such file" \
  -- figure fig2a --out fig-none --store none

echo "bad inputs: $CASES cases, $FAILS failed"
[[ $FAILS -eq 0 ]]
