#!/usr/bin/env bash
# Command-line contract tests for syncache.
#   SYNCACHE=/path/to/syncache bash tests/cli_test.sh
# Every check is a function; a failed check prints "FAIL <check>: <reason>", and the script
# exits 1 after running all checks.
set -u -o pipefail

: "${SYNCACHE:?set SYNCACHE to the syncache executable}"
if [[ ! -x "$SYNCACHE" ]]; then
  echo "FAIL setup: SYNCACHE='$SYNCACHE' is not an executable" >&2
  exit 1
fi
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# shellcheck source=helpers/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/helpers/checks.sh"

# run ARGS...: runs the program; stdout -> $OUT, stderr -> $ERR, exit code -> $RC.
OUT="$TMP/stdout"
ERR="$TMP/stderr"
RC=0
run() {
  "$SYNCACHE" "$@" </dev/null >"$OUT" 2>"$ERR"
  RC=$?
}
cmdline() { printf 'syncache %s' "$*"; }

# run_ok ARGS...: run; exit 0 and an empty stderr are required (returns 1 after fail).
run_ok() {
  run "$@"
  if [[ $RC -ne 0 ]]; then
    fail "$(cmdline "$@") exited $RC: $(head -c 300 "$ERR")"
    return 1
  fi
  if [[ -s "$ERR" ]]; then
    fail "$(cmdline "$@") wrote to stderr: $(head -c 300 "$ERR")"
    return 1
  fi
}

# jcheck FILE [EXTRA...] <<CODE: runs the Python CODE (stdin) with j = the JSON object in
# FILE, close(a, b, rel) and the extras as args[0], args[1], ...; on failure prints the
# assertion message (or the parse error) and exits 1.
JCHECK="$TMP/jcheck.py"
cat >"$JCHECK" <<'EOF'
import json, math, sys


def close(a, b, rel=1e-9):
    return (isinstance(a, (int, float)) and not isinstance(a, bool)
            and math.isclose(a, b, rel_tol=rel, abs_tol=0.0))


code = sys.stdin.read()
args = sys.argv[2:]
try:
    with open(sys.argv[1]) as f:
        j = json.load(f)  # exactly one JSON value, nothing after it
    assert isinstance(j, dict), "output is not a JSON object"
    exec(code)
except AssertionError as e:
    print(str(e) or "assertion failed")
    sys.exit(1)
except Exception as e:
    print(f"{type(e).__name__}: {e}")
    sys.exit(1)
EOF
jcheck() { "$PY" "$JCHECK" "$@"; }

# figcheck FILE <<CODE: runs the Python CODE (stdin) on a figure CSV with rows (the table
# without its '#' notes), get(panel, series) -> {x: mean} and counted(panel, series) ->
# {x: (mean, n)}; on failure prints the assertion message and exits 1.
FIGCHECK="$TMP/figcheck.py"
cat >"$FIGCHECK" <<'EOF'
import csv, sys

rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#")))


def counted(panel, series):
    return {float(r["x"]): (float(r["mean"]), int(r["n"])) for r in rows
            if r["panel"] == panel and r["series"] == series}


def get(panel, series):
    return {x: m for x, (m, _) in counted(panel, series).items()}


try:
    exec(sys.stdin.read())
except AssertionError as e:
    print(str(e) or "assertion failed")
    sys.exit(1)
EOF
figcheck() { "$PY" "$FIGCHECK" "$@"; }

# check_json ARGS... <<CODE: run_ok ARGS, then jcheck the output with CODE.
check_json() {
  local code msg
  code=$(cat)
  run_ok "$@" || return 1
  if ! msg=$(jcheck "$OUT" <<<"$code"); then
    fail "$(cmdline "$@"): $msg"
    return 1
  fi
}

# usage_error NEEDLE ARGS...: exit code 2, nothing on stdout, exactly one non-blank stderr
# line, and that line contains NEEDLE (normally the option's name).
usage_error() {
  local needle=$1 what lines
  shift
  run "$@"
  what=$(cmdline "$@")
  if [[ $RC -ne 2 ]]; then fail "$what: exit code $RC, expected 2 (stderr: $(head -c 200 "$ERR"))"; return; fi
  if [[ -s "$OUT" ]]; then fail "$what: stdout not empty: $(head -c 200 "$OUT")"; return; fi
  lines=$(grep -c '' "$ERR")
  if [[ $lines -ne 1 ]]; then fail "$what: $lines stderr lines, expected 1: $(head -c 300 "$ERR")"; return; fi
  if ! grep -q '[^[:space:]]' "$ERR"; then fail "$what: the stderr line is blank"; return; fi
  if ! grep -qF -- "$needle" "$ERR"; then fail "$what: stderr does not contain '$needle': $(cat "$ERR")"; fi
}

# ----------------------------------------------------------------------------- checks

check_help() {
  local -a cases=(
    "|perceptron theory --version"
    "perceptron|--N --P --patterns --seed --rule --theta --tau --c --b --alpha --potentiation-only --eta --max-epochs --zero-mean"
    "theory|perceptron transient"
    "theory perceptron|--N --P --c --eta"
    "theory transient|--theta --tau --p --eta --N --c"
  )
  local entry sub words w
  local -a subargs
  for entry in "${cases[@]}"; do
    IFS='|' read -r sub words <<<"$entry"
    read -r -a subargs <<<"$sub"
    run "${subargs[@]}" --help
    if [[ $RC -ne 0 ]]; then fail "$(cmdline "${subargs[@]}" --help) exited $RC"; continue; fi
    for w in $words; do
      # Whole word, so that --c is not satisfied by a longer option.
      if ! grep -qE -- "(^|[^[:alnum:]-])${w}([^[:alnum:]-]|$)" "$OUT"; then
        fail "$(cmdline "${subargs[@]}" --help) does not mention $w"
      fi
    done
  done
}

check_default_classic() {
  check_json perceptron <<'PY'
for k in ["N", "P", "rule", "seed", "converged", "epochs", "presentations", "updates",
          "energy", "inefficiency"]:
    assert k in j, f"missing key {k}"
e = j["energy"]
for k in ["classic", "consolidation", "maintenance", "change", "total", "minimal"]:
    assert k in e, f"missing key energy.{k}"
assert (j["N"], j["P"]) == (1000, 1000), f"(N, P) = {(j['N'], j['P'])}, expected (1000, 1000)"
assert j["rule"] == "classic", f"rule = {j['rule']!r}"
assert j["seed"] == 1, f"seed = {j['seed']}"
assert j["converged"] is True, f"converged = {j['converged']!r}, expected true"
assert 1 <= j["epochs"] <= 10000, f"epochs = {j['epochs']}"
assert j["presentations"] == j["epochs"] * j["P"], \
    f"presentations {j['presentations']} != epochs * P = {j['epochs'] * j['P']}"
assert e["total"] == e["classic"] == e["consolidation"], \
    f"total {e['total']}, classic {e['classic']}, consolidation {e['consolidation']} differ"
assert e["maintenance"] == 0 and e["change"] == 0, "a classic run has maintenance or change energy"
# +-1 inputs and eta = 1: every update changes all N + 1 weights by exactly 1.
assert e["classic"] == j["updates"] * (j["N"] + 1), \
    f"energy.classic {e['classic']} != updates * (N + 1) = {j['updates'] * (j['N'] + 1)}"
assert 0 < e["minimal"] <= e["total"], f"minimal {e['minimal']} not in (0, total]"
assert close(j["inefficiency"], e["total"] / e["minimal"], 1e-12), \
    f"inefficiency {j['inefficiency']} != total/minimal = {e['total'] / e['minimal']}"
PY
}

check_epoch_cap() {
  check_json perceptron --N 300 --P 300 --max-epochs 1 <<'PY'
assert j["converged"] is False, f"converged = {j['converged']!r} after 1 epoch with P = N = 300"
got = (j["epochs"], j["presentations"])
assert got == (1, 300), f"(epochs, presentations) = {got}, expected (1, 300)"
PY
}

# Hand-trained file: N = 2, P = 3; the bias input +1 is appended as the last weight.
#   x1 = (0.5, 0, 1) d = +1;  x2 = (0, 1, 1) d = -1;  x3 = (1, 1, 1) d = +1;  w = (0, 0, 0)
#   epoch 1: x1 h = 0     error  w = (0.5,  0, 1)   |dw| = 1.5
#            x2 h = 1     error  w = (0.5, -1, 0)   |dw| = 2
#            x3 h = -0.5  error  w = (1.5,  0, 1)   |dw| = 3
#   epoch 2: x1 h = 1.75  ok
#            x2 h = 1     error  w = (1.5, -1, 0)   |dw| = 2
#            x3 h = 0.5   ok
#   epoch 3: x1 h = 0.75, x2 h = -1, x3 h = 0.5: no error, stop (this epoch counts).
#   epochs 3, presentations 9, updates 4, classic = 1.5 + 2 + 3 + 2 = 8.5,
#   minimal = 1.5 + 1 + 0 = 2.5, inefficiency = 8.5 / 2.5 = 3.4.
HAND="$TMP/hand.csv"
write_hand_file() {
  printf '# N = 2 inputs, then the desired output\n0.5,0,1\n0,1,-1\n\n1,1,1\n' >"$HAND"
}

check_hand_classic() {
  write_hand_file
  check_json perceptron --patterns "$HAND" <<'PY'
assert (j["N"], j["P"]) == (2, 3), f"(N, P) = {(j['N'], j['P'])}, expected (2, 3)"
assert j["converged"] is True, "not converged"
got = (j["epochs"], j["presentations"], j["updates"])
assert got == (3, 9, 4), f"(epochs, presentations, updates) = {got}, expected (3, 9, 4)"
e = j["energy"]
got = (e["classic"], e["consolidation"], e["maintenance"], e["change"], e["total"], e["minimal"])
assert got == (8.5, 8.5, 0, 0, 8.5, 2.5), \
    f"(classic, consolidation, maintenance, change, total, minimal) = {got}, " \
    "expected (8.5, 8.5, 0, 0, 8.5, 2.5)"
assert close(j["inefficiency"], 3.4, 1e-12), f"inefficiency {j['inefficiency']}, expected 3.4"
PY
}

check_hand_crlf() {
  write_hand_file
  local crlf="$TMP/hand_crlf.csv"
  sed 's/$/\r/' "$HAND" >"$crlf"
  run_ok perceptron --patterns "$HAND" || return
  cp "$OUT" "$TMP/lf.json"
  run_ok perceptron --patterns "$crlf" || return
  cmp -s "$OUT" "$TMP/lf.json" || fail "the hand file with CRLF line endings gives different output"
}

check_hand_synapse_large_theta() {
  write_hand_file
  # No |s| reaches 1000: everything is consolidated once at the end, total = sum |w| = minimal.
  check_json perceptron --patterns "$HAND" --rule synapse --theta 1000 <<'PY'
e = j["energy"]
assert j["rule"] == "synapse", f"rule = {j['rule']!r}"
got = (j["epochs"], j["updates"])
assert got == (3, 4), f"(epochs, updates) = {got}, expected (3, 4) as for classic"
assert e["total"] == e["minimal"] == 2.5, \
    f"total {e['total']}, minimal {e['minimal']}, expected both 2.5"
assert close(j["inefficiency"], 1.0, 1e-12), f"inefficiency {j['inefficiency']}, expected 1"
PY
}

check_bad_perceptron_options() {
  usage_error --N perceptron --N 0
  usage_error --N perceptron --N -5
  usage_error --N perceptron --N abc
  usage_error --P perceptron --P 0
  usage_error --P perceptron --P -3
  usage_error --tau perceptron --tau 0
  usage_error --tau perceptron --tau -1
  usage_error --tau perceptron --rule neuron --theta 1 --tau 0
  usage_error --theta perceptron --rule synapse --theta -1
  usage_error --theta perceptron --rule synapse
  usage_error --theta perceptron --rule neuron
  usage_error --theta perceptron --rule sum
  usage_error --c perceptron --c -1
  usage_error --c perceptron --rule sum --theta 1 --c -0.5
  usage_error --b perceptron --b -1
  usage_error --alpha perceptron --alpha -0.1
  usage_error --alpha perceptron --alpha 4.5
  usage_error --rule perceptron --rule foo
  local r
  for r in classic synapse neuron sum; do  # the allowed values are listed
    grep -qw -- "$r" "$ERR" || fail "syncache perceptron --rule foo: message does not list '$r': $(cat "$ERR")"
  done
}

check_bad_pattern_files() {
  local f="$TMP/bad.csv"
  usage_error --patterns perceptron --patterns "$TMP/does-not-exist.csv"
  printf '' >"$f"
  usage_error --patterns perceptron --patterns "$f"
  printf '# comment only\n\n' >"$f"
  usage_error --patterns perceptron --patterns "$f"
  # name|content (printf format)|expected line tag after the path
  local -a cases=(
    "ragged|1,2,1\n0,1,-1\n3,1\n|:3:"
    "non-numeric|1,2,1\n1,x,-1\n|:2:"
    "empty field|1,,1\n|:1:"
    "one column|1\n|:1:"
    "semicolons|1;2;1\n|:1:"
    "target 0|1,2,1\n1,2,0\n|:2:"
    "target 2|# c\n1,2,2\n|:2:"
  )
  local entry name content where
  for entry in "${cases[@]}"; do
    IFS='|' read -r name content where <<<"$entry"
    # shellcheck disable=SC2059
    printf "$content" >"$f"
    usage_error --patterns perceptron --patterns "$f"
    grep -qF -- "$f$where" "$ERR" || fail "$name file: message lacks '$f$where': $(cat "$ERR")"
  done
}

check_unknown_options() {
  usage_error --bogus perceptron --bogus 3
  usage_error --bogus perceptron --bogus
  usage_error --zzz theory transient --theta 1 --tau 1 --p 0.5 --zzz
  usage_error "" frobnicate
  usage_error "" theory
}

check_bad_theory_options() {
  usage_error --P theory perceptron --N 100
  usage_error --N theory perceptron --N 0 --P 10
  usage_error --P theory perceptron --N 100 --P -1
  usage_error --c theory perceptron --N 100 --P 10 --c -1
  usage_error --theta theory transient --tau 10 --p 0.5
  usage_error --tau theory transient --theta 1 --tau 0 --p 0.5
  usage_error --tau theory transient --theta 1 --tau -2 --p 0.5
  usage_error --c theory transient --theta 1 --tau inf --p 0.5 --c -1
}

check_theory_perceptron() {
  # "N P c eta": the first point takes the caching branch of the min, the second the
  # sqrt(pi K / 2) cap and the default --c 0 --eta 1.
  local spec msg
  local -a p args
  for spec in "1000 500 0.01 0.5" "50 2 0 1"; do
    read -r -a p <<<"$spec"
    args=(theory perceptron --N "${p[0]}" --P "${p[1]}")
    [[ ${p[2]} != 0 ]] && args+=(--c "${p[2]}")
    [[ ${p[3]} != 1 ]] && args+=(--eta "${p[3]}")
    run_ok "${args[@]}" || continue
    if ! msg=$(jcheck "$OUT" "${p[@]}" <<'PY'
N, P, c, eta = map(float, args)
d = 2 - P / N
K = 2 * P / d**2
T = P**1.5 / d**2
want = {
    "inefficiency": math.sqrt(math.pi * P) / d,
    "updates": K,
    "presentations": T,
    "theta_opt": math.sqrt(3 * K * eta**2 / (1 + c * T)),
    "caching_inefficiency": min(math.sqrt(2 * math.pi / 3 * (1 + c * T)),
                                math.sqrt(math.pi * K / 2)),
}
for k, v in want.items():
    assert k in j, f"missing key {k}"
    assert close(j[k], v, 1e-9), f"{k} = {j[k]}, expected {v!r}"
PY
    ); then
      fail "$(cmdline "${args[@]}"): $msg"
    fi
  done
}

check_theory_transient_no_decay() {
  # tau = inf: <|s|> = theta/3, r = p eta^2/theta^2, m_trans = c N theta/3, m_cons = N theta r.
  check_json theory transient --theta 2 --tau inf --p 0.3 --eta 0.5 --N 100 --c 0.1 <<'PY'
theta, p, eta, N, c = 2.0, 0.3, 0.5, 100.0, 0.1
r = p * eta**2 / theta**2
assert str(j["sigma"]).lower() in ("inf", "infinity"), f"sigma = {j['sigma']!r}, expected inf"
for k, v in {"mean_abs_s": theta / 3, "consolidation_rate": r,
             "maintenance_power": c * N * theta / 3, "consolidation_power": N * theta * r}.items():
    assert close(j[k], v, 1e-9), f"{k} = {j[k]}, expected {v!r}"
PY
  # Defaults --eta 1 --N 1 --c 0.
  check_json theory transient --theta 3 --tau inf --p 1 <<'PY'
for k, v in {"mean_abs_s": 1.0, "consolidation_rate": 1 / 9, "consolidation_power": 1 / 3}.items():
    assert close(j[k], v, 1e-9), f"{k} = {j[k]}, expected {v!r}"
assert j["maintenance_power"] == 0, f"maintenance_power = {j['maintenance_power']} with c = 0"
PY
}

check_theory_transient_decay() {
  # Finite tau: sigma = sqrt(tau p) eta, and the powers follow from <|s|> and r.
  check_json theory transient --theta 2 --tau 50 --p 0.3 --eta 0.5 --N 10 --c 0.2 <<'PY'
assert close(j["sigma"], math.sqrt(50 * 0.3) * 0.5, 1e-12), f"sigma = {j['sigma']}"
assert 0 < j["mean_abs_s"] < 2 / 3, f"mean_abs_s = {j['mean_abs_s']} not in (0, theta/3)"
assert close(j["maintenance_power"], 0.2 * 10 * j["mean_abs_s"], 1e-12), \
    f"maintenance_power {j['maintenance_power']} != c N <|s|>"
assert close(j["consolidation_power"], 10 * 2 * j["consolidation_rate"], 1e-12), \
    f"consolidation_power {j['consolidation_power']} != N theta r"
PY
  # A very long tau approaches the no-decay limit.
  check_json theory transient --theta 2 --tau 1e12 --p 0.3 <<'PY'
for k, v in {"mean_abs_s": 2 / 3, "consolidation_rate": 0.3 / 4}.items():
    assert close(j[k], v, 1e-6), f"{k} = {j[k]}, expected about {v!r} (tau -> inf)"
PY
}

check_seeds() {
  local a="$TMP/seed_a.json" msg
  run_ok perceptron --N 200 --P 200 --seed 7 || return
  cp "$OUT" "$a"
  run_ok perceptron --N 200 --P 200 --seed 7 || return
  cmp -s "$OUT" "$a" || fail "the same seed (7) twice gives different output"
  run_ok perceptron --N 200 --P 200 --seed 8 || return
  if ! msg=$(jcheck "$OUT" "$a" <<'PY'
a = json.load(open(args[0]))
key = lambda r: (r["epochs"], r["updates"], r["energy"]["classic"], r["energy"]["minimal"])
assert (a["seed"], j["seed"]) == (7, 8), "seed not echoed"
assert key(a) != key(j), f"seeds 7 and 8 give the same (epochs, updates, classic, minimal) = {key(j)}"
PY
  ); then
    fail "$msg"
  fi
}


# --------------------------------------------------------------- figures and sweeps

# A tiny Figure 1 experiment: CSV, PNG and SVG written; a re-run is served by the store
# and writes the identical CSV; the store exports as CSV.
check_figure_pipeline() {
  local exp="$TMP/exp" out="$TMP/figout"
  mkdir -p "$exp"
  cat >"$exp/fig1.toml" <<'TOML'
description = "tiny"
master_seed = 3
N = 60
max_epochs = 500
[quick]
P_start = 20
P_stop = 80
P_step = 30
repeats = 2
TOML
  run figure fig1 --experiments "$exp" --out "$out" --threads 2
  if [[ $RC -ne 0 ]]; then fail "figure fig1 exited $RC: $(head -c 300 "$ERR")"; return; fi
  [[ -s "$out/fig1.csv" && -s "$out/fig1.svg" ]] || { fail "fig1.csv or fig1.svg missing"; return; }
  [[ "$(head -c 4 "$out/fig1.png" | od -An -c | tr -d ' ')" == "211PNG" ]] || fail "fig1.png is not a PNG"
  grep -q '^panel,series,x,mean,se,n$' "$out/fig1.csv" || fail "fig1.csv lacks the tidy header"
  # 3 loads x (energy classic/minimal, inefficiency, epochs, updates) simulation rows
  local sim
  sim=$(grep -c ',2$' "$out/fig1.csv")
  [[ "$sim" -eq 15 ]] || fail "expected 15 simulation rows with n = 2, got $sim"
  cp "$out/fig1.csv" "$TMP/first.csv"
  run figure fig1 --experiments "$exp" --out "$out" --threads 1 --no-plot
  [[ $RC -eq 0 ]] || { fail "re-run exited $RC"; return; }
  cmp -s "$out/fig1.csv" "$TMP/first.csv" || fail "re-run (1 thread, from the store) changed fig1.csv"
  run_ok results export --store "$out/results.sqlite" || return
  local rows
  rows=$(($(wc -l <"$OUT") - 1))
  [[ "$rows" -eq 6 ]] || fail "export: expected 6 stored runs, got $rows"
  head -1 "$OUT" | grep -q 'seed' || fail "export header lacks seed: $(head -1 "$OUT")"
}

check_figure_errors() {
  local exp="$TMP/badexp"
  mkdir -p "$exp"
  printf 'N = 60\nP_start = 20\nP_stop = 40\nP_step = 10\nrepeats = 1\nmax_epochs = 10\nbogus = 1\n' >"$exp/fig1.toml"
  run figure fig1 --experiments "$exp" --out "$TMP/badout" --no-plot
  [[ $RC -eq 2 && ! -s "$OUT" ]] || fail "unknown key: expected exit 2 and no output, got $RC"
  grep -q "fig1.toml:7: key 'bogus'" "$ERR" || fail "unknown key: message lacks file:line:key: $(cat "$ERR")"
  printf 'N = "many"\nP_start = 20\nP_stop = 40\nP_step = 10\nrepeats = 1\nmax_epochs = 10\n' >"$exp/fig1.toml"
  run figure fig1 --experiments "$exp" --out "$TMP/badout" --no-plot
  [[ $RC -eq 2 ]] && grep -q "fig1.toml:1: key 'N': expected an integer" "$ERR" ||
    fail "wrong type: got $RC: $(cat "$ERR")"
  run figure nosuchfigure
  [[ $RC -eq 2 ]] && grep -q "unknown figure 'nosuchfigure'" "$ERR" || fail "unknown figure: got $RC: $(cat "$ERR")"
}

check_sweep() {
  cat >"$TMP/sweep.toml" <<'TOML'
name = "tiny"
repeats = 2
master_seed = 5
[fixed]
N = 40
rule = "neuron"
theta = 3.0
[grid]
P = [20, 30]
c = [0.0, 0.01]
TOML
  run_ok sweep "$TMP/sweep.toml" --store none --threads 2 || return
  local rows
  rows=$(grep -vc '^#' "$OUT")
  # header + 4 grid points x 11 quantities
  [[ "$rows" -eq 45 ]] || fail "sweep: expected 45 CSV lines, got $rows"
  head -2 "$OUT" | tail -1 | grep -q '^P,c,quantity,mean,se,n$' || fail "sweep header: $(head -2 "$OUT")"
  cp "$OUT" "$TMP/sweep1.csv"
  run_ok sweep "$TMP/sweep.toml" --store none --threads 1 || return
  cmp -s "$OUT" "$TMP/sweep1.csv" || fail "sweep output differs between 2 threads and 1 thread"
  printf '[grid]\nP = []\n' >"$TMP/empty.toml"
  run sweep "$TMP/empty.toml" --store none
  [[ $RC -eq 2 ]] && grep -q "empty.toml" "$ERR" && grep -q "'P' is empty" "$ERR" ||
    fail "empty grid: got $RC: $(cat "$ERR")"
  printf '[grid]\nP = [10]\n[fixed]\nN = 10\nthetaa = 2\n' >"$TMP/typo.toml"
  run sweep "$TMP/typo.toml" --store none
  [[ $RC -eq 2 ]] && grep -q "key 'thetaa': unknown key" "$ERR" || fail "sweep typo: got $RC: $(cat "$ERR")"
}


check_figure_mnist() {
  local exp="$TMP/exp5" out="$TMP/fig5out" name
  mkdir -p "$exp"
  run_ok figure --list || return
  for name in fig3s1b fig5a fig5b fig5c; do
    grep -q "^ *$name\b" "$OUT" || fail "figure --list lacks $name: $(cat "$OUT")"
  done
  cat >"$exp/fig5b.toml" <<'TOML'
hidden = 20
eta = 0.1
rule = "neuron"
theta = 0.05
tau = 1000.0
c = 0.001
eval_every = 250
max_epochs = 1
repeats = 1
train_limit = 500
test_limit = 200
TOML
  run figure fig5b --experiments "$exp" --out "$out" --no-plot --store none
  [[ $RC -eq 0 ]] || { fail "figure fig5b exited $RC: $(head -c 300 "$ERR")"; return; }
  figcheck "$out/fig5b.csv" <<'PYCODE' || fail "fig5b.csv: $(grep -v '^#' "$out/fig5b.csv" | head -5)"
for series in ("classic", "caching"):
    acc, energy, minimal = get("accuracy", series), get("energy", series), get("minimal", series)
    assert sorted(acc) == [250.0, 500.0], acc
    assert all(0.0 <= a <= 1.0 for a in acc.values()), acc
    # the energy spent is never below the minimal energy of the same weights
    assert all(energy[x] >= minimal[x] > 0 for x in energy), (energy, minimal)
PYCODE
  # Figure 5C on 500 images (eta = 1): 0.2 (twice chance) is reached, 0.999 never; a run
  # that never reaches a target has no energy row and is counted in reached_<target>.
  # Spread over seeds 1-8, classic and neuron rule alike (syncache mlp with these
  # settings): H = 5 first reaches 0.2 at 750 samples and peaks at 0.485-0.64; H = 20
  # reaches it at 250 and peaks at 0.84-0.86. So the sample counts are the same for every
  # seed, and 0.999 lies far above every run.
  cat >"$exp/fig5c.toml" <<'TOML'
eta = 1.0
targets = [0.2, 0.999]
rule = "neuron"
theta = 0.01
tau = 1000.0
c = 0.001
eval_every = 250
hidden_values = [5, 20]
max_epochs = 4
repeats = 1
train_limit = 500
test_limit = 200
TOML
  run figure fig5c --experiments "$exp" --out "$out" --no-plot --store none
  [[ $RC -eq 0 ]] || { fail "figure fig5c exited $RC: $(head -c 300 "$ERR")"; return; }
  figcheck "$out/fig5c.csv" <<'PYCODE' || fail "fig5c.csv: $(grep -v '^#' "$out/fig5c.csv" | head -5)"
for series in ("classic", "caching"):
    assert get("reached_0.2", series) == {5.0: 1.0, 20.0: 1.0}, rows
    assert get("reached_0.999", series) == {5.0: 0.0, 20.0: 0.0}, rows
    assert get("energy_0.999", series) == {}, rows
    assert all(v > 0 for v in get("energy_0.2", series).values())
    assert get("samples_0.2", series) == {5.0: 750.0, 20.0: 250.0}, rows
notes = [l for l in open(sys.argv[1]) if l.startswith("#")]
assert any("0.999: 4" in l for l in notes), notes  # all four runs missed 0.999
PYCODE
}

# --------------------------------------------------------------- the MNIST network

# 5 epochs on the first 2000 training images, tested on the first 2000 test images:
# seeds 1-8 reach 0.830-0.8355 (mean 0.832, SD 0.0017 over seeds). The band 0.82-0.845 is
# the mean +- 7 SD: room for another compiler's summation order (which moves a run like
# another seed does), while a wrong gradient or learning rate falls outside (the authors'
# hidden error, --backprop authors, gives 0.863; eta = 0.05 gives 0.753).
check_mlp() {
  run_ok mlp --train-limit 2000 --test-limit 2000 --epochs 5 --eval-every 2000 || return
  "$PY" - "$OUT" <<'PYCODE' || fail "mlp classic: $(tail -2 "$OUT")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [int(r["samples"]) for r in rows] == [2000, 4000, 6000, 8000, 10000], rows
last = rows[-1]
acc = float(last["accuracy"])
assert 0.82 < acc < 0.845, acc
t, c = float(last["energy_total"]), float(last["energy_consolidation"])
assert t == c and float(last["energy_pending"]) == 0.0, last
assert 0 < float(last["energy_minimal"]) < t, last
PYCODE
  run_ok mlp --train-limit 1000 --test-limit 500 --epochs 1 --eval-every 500 --rule neuron \
    --theta 0.05 --tau 1000 --c 0.001 || return
  "$PY" - "$OUT" <<'PYCODE' || fail "mlp cached: $(tail -2 "$OUT")"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    t = float(r["energy_total"])
    parts = sum(float(r[k]) for k in ("energy_consolidation", "energy_maintenance", "energy_pending"))
    assert math.isclose(t, parts, rel_tol=1e-12), r
    assert float(r["energy_maintenance"]) > 0 and float(r["energy_pending"]) > 0, r
PYCODE
}

check_mlp_errors() {
  local args
  for args in "--rule bogus" "--rule neuron" "--hidden 0" "--eta -1" "--tau 0" "--c -1" \
      "--data /nonexistent" "--backprop sideways" "--target-accuracy 2"; do
    # shellcheck disable=SC2086
    run mlp $args --train-limit 10 --test-limit 10 --epochs 1
    if [[ $RC -ne 2 || -s "$OUT" || $(wc -l <"$ERR") -ne 1 ]]; then
      fail "mlp $args: expected exit 2, no output, one error line; got $RC: $(cat "$ERR")"
    fi
  done
}

# Lazy learning and competitive plasticity (docs/beyond.md): the new columns come after the
# old ones, then the same energies and counts per layer (adding up to the totals); the synapse restriction changes at most ceil(F n_l) synapses per layer and
# sample (784 x 20 and 20 x 10 synapses); classic counts every update as persistent.
check_mlp_plasticity() {
  local base="--train-limit 500 --test-limit 200 --epochs 1 --eval-every 250 --hidden 20"
  # shellcheck disable=SC2086
  run_ok mlp $base || return
  cp "$OUT" "$TMP/plain.csv"
  # shellcheck disable=SC2086
  run_ok mlp $base --restrict synapse --keep 0.1 || return
  cp "$OUT" "$TMP/synapse.csv"
  # shellcheck disable=SC2086
  run_ok mlp $base --lazy || return
  cp "$OUT" "$TMP/lazy.csv"
  # shellcheck disable=SC2086
  run_ok mlp $base --restrict path --keep 0.5 --rule neuron --theta 0.05 --tau 1000 --c 0.001 ||
    return
  cp "$OUT" "$TMP/path.csv"
  # shellcheck disable=SC2086
  run_ok mlp $base --restrict neuron --keep 0.3,1 --keep-rounding authors || return
  cp "$OUT" "$TMP/neuron.csv"
  # The figures' derived seeds fill 64 bits: the largest one is accepted.
  run_ok mlp --train-limit 10 --test-limit 10 --epochs 1 --seed 18446744073709551615 || return
  "$PY" - "$TMP" <<'PYCODE' || fail "mlp plasticity: $(head -3 "$TMP/synapse.csv")"
import csv, math, sys
d = sys.argv[1]
def rows(name):
    return list(csv.DictReader(open(d + "/" + name + ".csv")))
header = open(d + "/plain.csv").readline().strip().split(",")
totals = ["energy_total", "energy_consolidation", "energy_maintenance", "energy_pending",
          "energy_minimal", "updates", "consolidation_events"]
assert header[:10] == ["samples", "epoch", "accuracy"] + totals, header
assert header[10:] == [l + "_" + k for l in ("hidden", "output") for k in totals], header
plain, syn, lazy, path = rows("plain"), rows("synapse"), rows("lazy"), rows("path")
for r in plain + syn + lazy + path:  # the layers add up to the totals
    for k in totals:
        h, o, t = (float(r[p + k]) for p in ("hidden_", "output_", ""))
        assert math.isclose(h + o, t, rel_tol=1e-12), (k, r)
for r in plain + syn + lazy:
    assert r["updates"] == r["consolidation_events"], r  # classic: every update persists
per_sample = math.ceil(0.1 * 784 * 20) + math.ceil(0.1 * 20 * 10)
for r in syn:
    assert 0 < int(r["updates"]) <= per_sample * int(r["samples"]), r
    assert int(r["updates"]) < int(plain[syn.index(r)]["updates"]), (r, plain)
for a, b in zip(lazy, plain):
    assert 0 < int(a["updates"]) < int(b["updates"]), (a, b)
    assert float(a["energy_total"]) < float(b["energy_total"]), (a, b)
for r in path:
    assert 0 < int(r["consolidation_events"]) < int(r["updates"]), r
# F = 1 on the output layer: all 10 x 20 output synapses change on every sample; the hidden
# layer's F = 0.3 changes at most 20 - round(0.7 * 19) = 7 units' 784 synapses (and ties).
for r, p in zip(rows("neuron"), plain):
    assert int(r["output_updates"]) == 200 * int(r["samples"]) == int(p["output_updates"]), r
    assert 0 < int(r["hidden_updates"]) < int(p["hidden_updates"]), (r, p)
PYCODE
}

check_mlp_plasticity_errors() {
  local args
  for args in "--restrict bogus" "--restrict synapse" "--keep 0.5" "--restrict neuron --keep 0" \
      "--restrict path --keep 1.5" "--restrict synapse --keep abc" "--restrict synapse --keep inf" \
      "--lazy-margin 0.5" "--lazy --lazy-margin 2" "--lazy --lazy-margin -0.1" \
      "--lazy --lazy-margin x" "--seed -1" "--seed 18446744073709551616" "--seed 1x"; do
    # shellcheck disable=SC2086
    run mlp $args --train-limit 10 --test-limit 10 --epochs 1
    if [[ $RC -ne 2 || -s "$OUT" || $(wc -l <"$ERR") -ne 1 ]]; then
      fail "mlp $args: expected exit 2, no output, one error line; got $RC: $(cat "$ERR")"
    fi
    local opt=${args%% *}
    [[ $args == --lazy\ * ]] && opt="--lazy-margin"
    [[ $args == "--restrict synapse" ]] && opt="--keep"
    [[ $args == --restrict\ *--keep* ]] && opt="--keep"
    [[ $args == --seed* ]] && opt="--seed"
    grep -q -- "$opt" "$ERR" || fail "mlp $args: the error does not name $opt: $(cat "$ERR")"
  done
}

# The efficiency figure on 500 images (eta = 1, target 0.2, reached by every algorithm
# within 2 epochs): every algorithm has both series, the caching theta scan has a point
# per theta, and the notes state the chosen theta and the keep fractions.
check_figure_efficiency() {
  local exp="$TMP/expeff" out="$TMP/effout"
  mkdir -p "$exp"
  run_ok figure --list || return
  grep -q "^ *efficiency\b" "$OUT" || fail "figure --list lacks efficiency: $(cat "$OUT")"
  cat >"$exp/efficiency.toml" <<'TOML'
eta = 1.0
target = 0.2
rule = "neuron"
thetas = [0.01, 0.05]
tau = 1000.0
c = 0.001
keep_synapse = 0.2
keep_neuron = 0.5
keep_path = 0.5
keep_lazy_synapse = 0.2
eval_every = 250
hidden_values = [10, 20]
max_epochs = 3
repeats = 1
train_limit = 500
test_limit = 200
TOML
  run figure efficiency --experiments "$exp" --out "$out" --no-plot --store none
  [[ $RC -eq 0 ]] || { fail "figure efficiency exited $RC: $(head -c 300 "$ERR")"; return; }
  figcheck "$out/efficiency.csv" <<'PYCODE' || fail "efficiency.csv: $(grep -v '^#' "$out/efficiency.csv" | head -5)"
algos = ["backprop", "lazy", "synapse", "neuron", "path", "lazy+synapse"]
for a in algos:
    assert set(get("theta_scan", a)) == {0.01, 0.05}, (a, rows)
    for s in (a, a + " caching"):
        assert get("reached", s) == {10.0: 1.0, 20.0: 1.0}, (s, rows)
        for panel in ("energy", "updates", "persistent_updates", "samples"):
            assert set(get(panel, s)) == {10.0, 20.0} and min(get(panel, s).values()) > 0, (s, panel)
    # classic: every update is persistent
    assert get("updates", a) == get("persistent_updates", a), a
notes = "".join(l for l in open(sys.argv[1]) if l.startswith("#"))
assert "keep fraction F: synapse 0.2" in notes and "theta scanned over {0.01, 0.05}" in notes, notes
PYCODE
  # A bad keep fraction names the file, line and key.
  sed -i 's/^keep_path = 0.5/keep_path = 0/' "$exp/efficiency.toml"
  run figure efficiency --experiments "$exp" --out "$out" --no-plot --store none
  [[ $RC -eq 2 ]] && grep -q "efficiency.toml:[0-9]*: key 'keep_path'" "$ERR" ||
    fail "efficiency keep_path = 0: got $RC: $(cat "$ERR")"
  # The other MNIST figures take lazy / restrict / keep as `syncache mlp` does.
  local extra needle
  # (In the file's spelling: key 'keep', never the command line's option.)
  for extra in "restrict = \"path\"|key 'keep'" "restrict = \"bogus\"\\nkeep = 0.5|key 'restrict'" \
      "keep = 0.5|key 'keep'" "restrict = \"neuron\"\\nkeep = 1.5|key 'keep'" \
      'lazy_margin = 0.2|lazy_margin' "lazy = true\\nlazy_margin = 3|key 'lazy_margin'"; do
    needle=${extra##*|}
    printf 'eta = 0.1\nrule = "neuron"\ntheta = 0.05\ntau = 1000.0\nc = 0.001\neval_every = 250\nmax_epochs = 1\nrepeats = 1\ntrain_limit = 500\ntest_limit = 200\n%b\n' \
      "${extra%|*}" >"$exp/fig5b.toml"
    run figure fig5b --experiments "$exp" --out "$out" --no-plot --store none
    [[ $RC -eq 2 && $(wc -l <"$ERR") -eq 1 ]] && grep -q -- "fig5b.toml.*$needle" "$ERR" &&
      ! grep -q -- "--" "$ERR" ||
      fail "fig5b with ${extra%|*}: got $RC: $(cat "$ERR")"
  done
  printf 'eta = 0.1\nrule = "neuron"\ntheta = 0.05\ntau = 1000.0\nc = 0.001\neval_every = 250\nmax_epochs = 1\nrepeats = 1\ntrain_limit = 500\ntest_limit = 200\nlazy = true\nrestrict = "synapse"\nkeep = 0.05\n' \
    >"$exp/fig5b.toml"
  run figure fig5b --experiments "$exp" --out "$out" --no-plot --store none
  [[ $RC -eq 0 ]] || { fail "figure fig5b lazy + synapse exited $RC: $(cat "$ERR")"; return; }
  grep -q "^energy,classic,500," "$out/fig5b.csv" || fail "fig5b lazy + synapse: $(cat "$out/fig5b.csv")"
}

# ------------------------------------------------------------------ the spiking neuron

# One run's JSON: the fields of the contract, energies that add up, the caching bounds
# minimal <= total <= classic (no decay, no maintenance), and a record of the last round.
check_spiking() {
  run_ok spiking --patterns 4 --seed 3 --rule neuron --theta 0.5 --record "$TMP/trial.csv" ||
    return
  jcheck "$OUT" <<'PYCODE' || fail "spiking: $(head -c 400 "$OUT")"
for k in ("patterns", "seed", "rule", "theta", "converged", "rounds", "success", "energy"):
    assert k in j, k
assert j["patterns"] == 4 and j["seed"] == 3 and j["rule"] == "neuron" and j["theta"] == 0.5, j
e = j["energy"]
assert close(e["total"], e["consolidation"] + e["maintenance"] + e["pending"], 1e-12), e
# A final result: the final consolidation is counted in consolidation, nothing is pending.
assert e["pending"] == 0 and e["consolidation"] > 0, e
assert e["maintenance"] == 0, e
assert e["minimal"] * (1 - 1e-12) <= e["total"] <= e["classic"] * (1 + 1e-12), e
assert j["converged"] is True and 10 <= j["rounds"] <= 1000, j
assert 1 <= j["counted_rounds"] == j["rounds"] - 9, j
# A success value exactly when both classes occur (single-class sets are left out).
assert (j["success"] is None) == (len(set(j["classes"])) < 2), j
assert len(j["classes"]) == len(j["responses"]) == 4, j
PYCODE
  "$PY" - "$TMP/trial.csv" <<'PYCODE' || fail "spiking --record: $(head -3 "$TMP/trial.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 4 * 1500, len(rows)  # one round: 4 trials of 150 ms at 0.1 ms
assert sorted({int(r["pattern"]) for r in rows}) == [0, 1, 2, 3]
assert all(-80 < float(r["v_mv"]) <= -50 for r in rows), "V outside [E_L - 10, threshold]"
assert all(0 <= float(r["g_1"]) <= 2.5 and 0 <= float(r["g_2"]) <= 2.5 for r in rows)
assert sum(int(r["output_spike"]) for r in rows) > 0
# Input windows (docs/model.md section 4): auditory 0-50 ms, visual 70-120 ms.
aud = [float(r["t_ms"]) for r in rows for k in ("spikes_1", "spikes_2") if int(r[k]) > 0]
vis = [float(r["t_ms"]) for r in rows if int(r["visual_spikes"]) > 0]
assert aud and 0 <= min(aud) < 5 and max(aud) < 50, (min(aud), max(aud))
assert vis and 70 <= min(vis) < 75 and 115 < max(vis) < 120, (min(vis), max(vis))
PYCODE
  # The same run without caching follows the same weights (no decay: caching changes only
  # when they become persistent): same rounds, spikes and responses, and the cached run's
  # classic energy is this run's total.
  cp "$OUT" "$TMP/cached.json"
  run_ok spiking --patterns 4 --seed 3 || return
  jcheck "$OUT" "$TMP/cached.json" <<'PYCODE' || fail "spiking classic: $(head -c 400 "$OUT")"
import json
c = json.load(open(args[0]))
e = j["energy"]
assert j["rule"] == "classic" and j["theta"] is None, j
assert e["total"] == e["consolidation"] == e["classic"] and e["pending"] == 0, e
for k in ("rounds", "output_spikes", "classes", "success"):
    assert j[k] == c[k], (k, j[k], c[k])
assert all(close(a, b, 1e-12) for a, b in zip(j["responses"], c["responses"])), "responses"
assert close(c["energy"]["classic"], e["total"], 1e-12), (c["energy"], e)
PYCODE
}

# Figure 2—supplement 1 end to end on a small grid: every energy row is over successful
# runs only (n <= seeds), the cached energy lies between the minimal and the classic energy,
# and the trial panel holds one 150 ms trial.
check_figure_spiking() {
  local exp="$TMP/exp2s1" out="$TMP/fig2s1out"
  mkdir -p "$exp"
  cat >"$exp/fig2s1.toml" <<'TOML'
patterns = [2, 4]
repeats = 3
rule = "neuron"
theta = 0.5
max_rounds = 300
trial_patterns = 2
trial_seed = 1
TOML
  run figure fig2s1 --experiments "$exp" --out "$out" --no-plot --store none
  [[ $RC -eq 0 ]] || { fail "figure fig2s1 exited $RC: $(head -c 300 "$ERR")"; return; }
  figcheck "$out/fig2s1.csv" <<'PYCODE' || fail "fig2s1.csv: $(grep -v '^#' "$out/fig2s1.csv" | head -5)"
classic, cached = counted("energy", "classic"), counted("energy", "caching")
minimal = counted("energy", "minimal")
assert sorted(cached) == [2.0, 4.0], cached
for x in cached:
    assert 1 <= cached[x][1] <= 3, cached
    assert minimal[x][0] * (1 - 1e-9) <= cached[x][0] <= classic[x][0], (x, minimal, cached, classic)
success = counted("success", "caching")
assert sorted(success) == [2.0, 4.0], success
for x, (rate, n) in success.items():
    assert 0 <= rate <= 1 and 1 <= n <= 3, (x, rate, n)
    assert round(rate * n) == cached[x][1], (x, rate, n, cached)  # energies over successes
v = counted("trial", "v")
assert len(v) == 1500 and min(t for t in v) == 0.0, len(v)
assert all(-80 < m <= -50 for m, _ in v.values()), "membrane potential out of range"
PYCODE
}

check_spiking_errors() {
  local args
  for args in "--patterns 0" "--rule layer --theta 1" "--rule neuron" "--theta -1 --rule synapse" \
      "--max-rounds 0" "--tau 0 --rule neuron --theta 1" "--background loud" "--patterns x"; do
    # shellcheck disable=SC2086
    run spiking $args
    if [[ $RC -ne 2 || -s "$OUT" || $(wc -l <"$ERR") -ne 1 ]]; then
      fail "spiking $args: expected exit 2, no output, one error line; got $RC: $(cat "$ERR")"
    fi
  done
  run spiking --record /nonexistent/dir/x.csv
  if [[ $RC -ne 2 || -s "$OUT" ]]; then
    fail "spiking --record /nonexistent/dir/x.csv: expected exit 2; got $RC"
  fi
}

# ------------------------------------------------------------------------------ main

CHECKS=(
  check_help
  check_default_classic
  check_epoch_cap
  check_hand_classic
  check_hand_crlf
  check_hand_synapse_large_theta
  check_bad_perceptron_options
  check_bad_pattern_files
  check_unknown_options
  check_bad_theory_options
  check_theory_perceptron
  check_theory_transient_no_decay
  check_theory_transient_decay
  check_seeds
  check_figure_pipeline
  check_figure_errors
  check_sweep
  check_mlp
  check_mlp_errors
  check_mlp_plasticity
  check_mlp_plasticity_errors
  check_figure_mnist
  check_figure_efficiency
  check_spiking
  check_spiking_errors
  check_figure_spiking
)
run_checks
