#!/usr/bin/env bash
# Error contract of every option of every command: a bad value ends the program with exit
# code 2, nothing on stdout, and exactly one stderr line that names the offending option
# (or, for a file, the file and its line).
#   SYNCACHE=/path/to/syncache bash tests/cli_errors_test.sh
set -u -o pipefail

: "${SYNCACHE:?set SYNCACHE to the syncache executable}"
if [[ ! -x "$SYNCACHE" ]]; then
  echo "FAIL setup: SYNCACHE='$SYNCACHE' is not an executable" >&2
  exit 1
fi
SYNCACHE=$(realpath "$SYNCACHE")
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1  # nothing (a default results store) lands in the caller's directory

# shellcheck source=helpers/checks.sh
source "$HERE/helpers/checks.sh"

OUT="$TMP/stdout"
ERR="$TMP/stderr"
RC=0
run() {
  "$SYNCACHE" "$@" </dev/null >"$OUT" 2>"$ERR"
  RC=$?
}

# names NEEDLE ARGS...: exit code 2, nothing on stdout, one non-blank stderr line, and the
# line contains NEEDLE as the option's name: at the start of the message ("--eta: ..."),
# or quoted by the parser ("--eta" / "--eta:"), never as a substring of another option
# (the character after the name is not a letter, digit or '-').
names() {
  local needle=$1 what
  local -a lines
  shift
  run "$@"
  what="syncache $*"
  if [[ $RC -ne 2 ]]; then fail "$what: exit code $RC, expected 2 (stderr: $(head -c 200 "$ERR"))"; return; fi
  if [[ -s "$OUT" ]]; then fail "$what: stdout not empty: $(head -c 200 "$OUT")"; return; fi
  mapfile -t lines <"$ERR"  # bash built-ins only: about 110 calls, no extra processes
  if [[ ${#lines[@]} -ne 1 ]]; then fail "$what: ${#lines[@]} stderr lines, expected 1: $(head -c 300 "$ERR")"; return; fi
  if ! [[ ${lines[0]} =~ (^|[^[:alnum:]-])"$needle"([^[:alnum:]-]|$) ]]; then
    fail "$what: the message does not name '$needle': ${lines[0]}"
  fi
}

# ---------------------------------------------------------------- perceptron

check_perceptron() {
  local p="perceptron --N 20 --P 10"
  # shellcheck disable=SC2086
  {
    names --N perceptron --N 0
    names --N perceptron --N 1.5
    names --P perceptron --P 0
    names --P perceptron --P x
    names --seed perceptron --seed -1
    names --seed perceptron --seed 1x
    names --seed perceptron --seed ""
    names --rule $p --rule layer
    names --rule $p --rule bogus
    names --theta $p --rule neuron
    names --theta $p --rule neuron --theta -1
    names --theta $p --rule neuron --theta abc
    names --tau $p --tau 0.5
    names --tau $p --tau nan
    names --c $p --c -1
    names --c $p --c inf
    names --b $p --b -0.1
    names --b $p --b two
    names --alpha $p --alpha 4.01
    names --alpha $p --alpha -1
    names --eta $p --eta 0
    names --eta $p --eta -1
    names --eta $p --eta x
    names --eta $p --eta inf
    names --eta $p --eta 1e308
    names --max-epochs $p --max-epochs 0
    names --max-epochs $p --max-epochs -3
    names --max-epochs $p --max-epochs 2.5
    names --potentiation-only $p --potentiation-only=maybe
    names --zero-mean $p --zero-mean=maybe
  }
}

check_perceptron_patterns_file() {
  local f="$TMP/hand.csv"
  printf '1,-1,1\n-1,1,-1\n' >"$f"
  names --patterns perceptron --patterns "$TMP/missing.csv"
  # N, P and the random patterns' options do not combine with a pattern file.
  names --N perceptron --patterns "$f" --N 5
  names --P perceptron --patterns "$f" --P 5
  names --seed perceptron --patterns "$f" --seed 3
  names --zero-mean perceptron --patterns "$f" --zero-mean
  # A bad line: the message names the file and the line.
  printf '1,-1,1\n1,2\n' >"$f"
  names --patterns perceptron --patterns "$f"
  grep -qF -- "$f:2:" "$ERR" || fail "bad pattern line: the message lacks '$f:2:': $(cat "$ERR")"
}

# ---------------------------------------------------------------- theory

check_theory() {
  names --N theory perceptron --P 10
  names --P theory perceptron --N 10
  names --N theory perceptron --N 0 --P 10
  names --P theory perceptron --N 10 --P 20
  names --P theory perceptron --N 10 --P 0
  names --c theory perceptron --N 10 --P 5 --c -1
  names --eta theory perceptron --N 10 --P 5 --eta 0
  names --eta theory perceptron --N 10 --P 5 --eta x
  local t="theory transient --theta 1 --tau 10 --p 0.5"
  # shellcheck disable=SC2086
  {
    names --theta theory transient --tau 10 --p 0.5
    names --theta theory transient --theta 0 --tau 10 --p 0.5
    names --tau theory transient --theta 1 --tau 0 --p 0.5
    names --p theory transient --theta 1 --tau 10 --p 1.5
    names --p theory transient --theta 1 --tau 10 --p -0.1
    names --p theory transient --theta 1 --tau 10 --p x
    names --eta $t --eta 0
    names --eta $t --eta -2
    names --N $t --N 0
    names --c $t --c -1
  }
}

# ---------------------------------------------------------------- spiking

check_spiking() {
  names --patterns spiking --patterns 0
  names --patterns spiking --patterns 100001
  names --seed spiking --seed -1
  names --max-rounds spiking --max-rounds 0
  names --max-rounds spiking --max-rounds 1000001
  names --record spiking --max-rounds 1 --patterns 1 --record /nonexistent/dir/x.csv
  names --background spiking --background loud
  names --rule spiking --rule layer --theta 1
  names --theta spiking --rule neuron
  names --theta spiking --rule synapse --theta -1
  names --tau spiking --rule neuron --theta 1 --tau 0
  names --c spiking --rule neuron --theta 1 --c -1
}

# ---------------------------------------------------------------- mlp

check_mlp() {
  local m="mlp --train-limit 10 --test-limit 10 --epochs 1"
  # shellcheck disable=SC2086
  {
    names --hidden $m --hidden 0
    names --eta $m --eta -1
    names --epochs mlp --epochs 0
    names --epochs mlp --epochs x
    names --target-accuracy $m --target-accuracy 2
    names --target-accuracy $m --target-accuracy 0
    names --patience mlp --patience -1
    names --patience mlp --patience x
    names --eval-every mlp --eval-every -5
    names --eval-every mlp --eval-every 1.5
    names --train-limit mlp --train-limit -1
    names --train-limit mlp --train-limit many
    names --test-limit mlp --test-limit -1
    names --seed mlp --seed -1
    names --data $m --data /nonexistent
    names --backprop $m --backprop sideways
    names --rule $m --rule bogus
    names --theta $m --rule neuron
    names --tau $m --rule neuron --theta 1 --tau 0
    names --c $m --rule neuron --theta 1 --c -1
    # Keep fractions per layer and their rounding.
    names --keep $m --restrict synapse --keep 0.3,1,1
    names --keep $m --restrict synapse --keep 0.3,0
    names --keep $m --restrict synapse --keep 0.3,
    names --keep $m --restrict synapse --keep ,1
    names --keep $m --restrict synapse --keep 0.3,x
    names --keep $m --restrict path --keep 0.3,1
    names --keep $m --keep 0.3,1
    names --keep-rounding $m --restrict synapse --keep 0.3 --keep-rounding floor
    names --keep-rounding $m --restrict path --keep 0.3 --keep-rounding authors
    names --keep-rounding $m --keep-rounding authors
    # The authors' input preprocessing.
    names --inputs $m --inputs bogus
    names --input-noise $m --input-noise 0.01
    names --input-noise $m --inputs centred-noise --input-noise -1
    names --input-noise $m --inputs centred-noise --input-noise x
  }
}

# ---------------------------------------------------------------- figure, sweep, results

check_figure() {
  names --threads figure fig1 --threads -1 --out "$TMP/f"
  names --threads figure fig1 --threads x --out "$TMP/f"
  names --quick/--full figure fig1 --quick --full --out "$TMP/f"
  # A missing experiment file: the message names the file.
  names "$TMP/no-such-dir/fig1.toml" figure fig1 --experiments "$TMP/no-such-dir" --out "$TMP/f" \
    --no-plot
  names figure figure --out "$TMP/f"
  names nosuchfigure figure nosuchfigure --out "$TMP/f"
  printf 'x' >"$TMP/afile"
  names --out figure fig1 --out "$TMP/afile/sub" --no-plot
  names --store figure fig1 --out "$TMP/f" --store "$TMP/afile/db.sqlite" --no-plot
  # An experiment file with a bad key: the file and the line.
  mkdir -p "$TMP/exp"
  printf 'N = 60\nP_start = 20\nP_stop = 40\nP_step = 10\nrepeats = 1\nmax_epochs = -1\n' \
    >"$TMP/exp/fig1.toml"
  names fig1.toml:6 figure fig1 --experiments "$TMP/exp" --out "$TMP/f" --no-plot
}

check_sweep() {
  names "$TMP/none.toml" sweep "$TMP/none.toml" --store none
  printf 'name = "t"\nrepeats = 1\nbogus = 1\n[fixed]\nN = 20\n[grid]\nP = [10]\n' >"$TMP/s.toml"
  names s.toml:3 sweep "$TMP/s.toml" --store none
  printf 'name = "t"\nrepeats = 1\n[fixed]\nN = 20\n[grid]\nP = [10]\n' >"$TMP/s.toml"
  names --threads sweep "$TMP/s.toml" --threads -2 --store none
  printf 'x' >"$TMP/afile"
  names --store sweep "$TMP/s.toml" --store "$TMP/afile/db.sqlite"
  names --out sweep "$TMP/s.toml" --store none --out "$TMP/afile/out.csv"
}

check_results() {
  names --store results export --store "$TMP/missing.sqlite" --experiment x
  # A store that exists but lacks the experiment.
  printf 'name = "t"\nrepeats = 1\n[fixed]\nN = 20\n[grid]\nP = [10]\n' >"$TMP/s.toml"
  run sweep "$TMP/s.toml" --store "$TMP/r.sqlite" --out "$TMP/s.csv"
  [[ $RC -eq 0 ]] || fail "setup sweep failed: $(cat "$ERR")"
  names --experiment results export --store "$TMP/r.sqlite" --experiment nosuchkey
  printf 'x' >"$TMP/afile"
  names --out results export --store "$TMP/r.sqlite" --experiment perceptron --out "$TMP/afile/o"
}

CHECKS=(
  check_perceptron
  check_perceptron_patterns_file
  check_theory
  check_spiking
  check_mlp
  check_figure
  check_sweep
  check_results
)
# The checks are independent: each runs in its own subshell and directory, all at once
# (the program's start-up, not the CPU, bounds the time), and they report in order.
ROOT=$TMP
for c in "${CHECKS[@]}"; do
  (
    CHECK=$c
    TMP=$ROOT/$c
    mkdir -p "$TMP" && cd "$TMP" || exit 1
    OUT="$TMP/stdout"
    ERR="$TMP/stderr"
    FAILURES=0
    "$c"
    [[ $FAILURES -eq 0 ]] && echo "ok   $c"
    exit "$FAILURES"
  ) >"$ROOT/$c.log" 2>&1 &
done
wait
failed=()
for c in "${CHECKS[@]}"; do
  cat "$ROOT/$c.log"
  grep -q "^ok   $c\$" "$ROOT/$c.log" || failed+=("$c")
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "failure(s) in: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#CHECKS[@]} checks passed"
