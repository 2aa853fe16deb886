#!/usr/bin/env bash
# MPI tests for syncache: the same sweep and figure with one process and with two MPI
# ranks must give byte-identical CSV files and stores (as exported), also when the MPI job
# resumes a partial store; a failing run, a killed rank and a stopped job end the job with
# a message, and the next job finishes the work.
#   SYNCACHE=/path/to/syncache MPIEXEC=/usr/bin/mpiexec bash tests/mpi_test.sh
set -u -o pipefail

: "${SYNCACHE:?set SYNCACHE to the syncache executable}"
if [[ ! -x "$SYNCACHE" ]]; then
  echo "FAIL setup: SYNCACHE='$SYNCACHE' is not an executable" >&2
  exit 1
fi
SYNCACHE=$(realpath "$SYNCACHE")
MPIEXEC=${MPIEXEC:-mpirun}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA="$HERE/mpi"
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1

# shellcheck source=helpers/checks.sh
source "$HERE/helpers/checks.sh"

# --allow-run-as-root: CI runs as root; --oversubscribe: more ranks than cores is fine.
MPI=("$MPIEXEC" --allow-run-as-root --oversubscribe -np 2)

# single NAME ARGS... / ranks2 NAME ARGS...: run with one process or two ranks; stdout ->
# NAME.out, stderr -> NAME.err; the exit code is in RC.
RC=0
single() {
  local name=$1
  shift
  "$SYNCACHE" "$@" </dev/null >"$name.out" 2>"$name.err"
  RC=$?
}
ranks2() {
  local name=$1
  shift
  "${MPI[@]}" "$SYNCACHE" "$@" </dev/null >"$name.out" 2>"$name.err"
  RC=$?
}
ok() {  # ok NAME: the last run exited 0
  [[ $RC -eq 0 ]] || fail "$1 exited $RC: $(head -c 400 "$1.err")"
  [[ $RC -eq 0 ]]
}
export_store() { "$SYNCACHE" results export --store "$1" --experiment "${2:-perceptron}"; }
same_file() {  # same_file A B WHAT
  cmp -s "$1" "$2" || fail "$3: $1 and $2 differ: $(diff "$1" "$2" | head -5)"
}
same_store() {  # same_store A.sqlite B.sqlite: every stored run, byte for byte
  export_store "$1" >"$1.csv" && export_store "$2" >"$2.csv" || {
    fail "results export failed"
    return
  }
  [[ $(grep -c '' "$1.csv") -gt 1 ]] || fail "$1 holds no runs"
  same_file "$1.csv" "$2.csv" "stores"
}
rows() {  # rows STORE: the number of stored runs (0 while the file does not exist)
  "$PY" - "$1" <<'EOF'
import sqlite3, sys, os
if not os.path.exists(sys.argv[1]):
    print(0)
else:
    con = sqlite3.connect(sys.argv[1], timeout=10)
    print(con.execute("select count(*) from runs").fetchone()[0])
EOF
}

# ----------------------------------------------------------------------------- checks

check_sweep() {
  single one sweep "$DATA/sweep.toml" --store one.sqlite --out one.csv --threads 2
  ok one || return
  ranks2 two sweep "$DATA/sweep.toml" --store two.sqlite --out two.csv
  ok two || return
  [[ -s two.out ]] && fail "stdout not empty with --out: $(head -c 200 two.out)"
  same_file one.csv two.csv "sweep CSV"
  same_store one.sqlite two.sqlite
  # Standard output comes from rank 0 only: one copy of the CSV.
  ranks2 stdout sweep "$DATA/sweep.toml" --store two.sqlite
  ok stdout && same_file one.csv stdout.out "sweep CSV on standard output"
}

check_resume() {
  # A partial store (what an interrupted sweep leaves), finished by an MPI job.
  single part sweep "$DATA/sweep_part.toml" --store resume.sqlite --out part.csv
  ok part || return
  local before
  before=$(rows resume.sqlite)
  [[ $before -gt 0 ]] || fail "the partial sweep stored nothing"
  ranks2 rest sweep "$DATA/sweep.toml" --store resume.sqlite --out rest.csv
  ok rest || return
  [[ -s one.csv ]] || return
  same_file one.csv rest.csv "resumed sweep CSV"
  same_store one.sqlite resume.sqlite
}

check_figure() {
  # fig2b runs the threshold optimiser: later rounds depend on earlier results.
  single fone figure fig2b --experiments "$DATA" --no-plot --out fig-one
  ok fone || return
  ranks2 ftwo figure fig2b --experiments "$DATA" --no-plot --out fig-two
  ok ftwo || return
  same_file fig-one/fig2b.csv fig-two/fig2b.csv "figure CSV"
  same_store fig-one/results.sqlite fig-two/results.sqlite
  [[ $(grep -c 'wrote' ftwo.err) -eq 1 ]] || fail "expected one 'wrote' line: $(cat ftwo.err)"
}

check_failing_run() {
  # Every Figure 5B run fails at once without the MNIST files.
  SYNCACHE_MNIST_DIR="$TMP/no-mnist" ranks2 bad figure fig5b --no-plot --out bad
  [[ $RC -eq 1 ]] || fail "exit code $RC, expected 1: $(head -c 300 bad.err)"
  [[ -s bad.out ]] && fail "stdout not empty: $(head -c 200 bad.out)"
  [[ $(grep -c '^syncache: error: run .* failed: .*no-mnist' bad.err) -eq 1 ]] ||
    fail "expected one error line naming the run: $(head -c 600 bad.err)"
  [[ -e bad/fig5b.csv ]] && fail "a CSV was written after a failure"
  return 0
}

# A fault (a killed rank, a SIGTERM) has to land while the job is still working; a job
# that finished first proves nothing about the fault. So each check tries up to
# KILL_ATTEMPTS times (a fresh store each time, the finished job's result still checked),
# sending the fault later on each attempt, and fails when it never landed: a miss is never
# counted as a pass. The waits poll with bash only: a Python start-up per poll takes
# longer than the whole sweep on a loaded machine.
# The delays (s) of the attempts, after rank 1 started.
RANK_DELAYS=(0.4 0.6 0.8 1.0 1.2)
JOB_DELAYS=(0 0.05 0.1 0.15 0.2)
KILL_ATTEMPTS=${#RANK_DELAYS[@]}

# rank1_of JOB: the pid of rank 1 among mpirun's children (OMPI_COMM_WORLD_RANK=1), or "".
rank1_of() {
  local status pid
  for status in $(grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null); do
    pid=${status#/proc/}
    pid=${pid%/status}
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then
      echo "$pid"
      return
    fi
  done
}

# killed_rank_attempt DELAY: kills rank 1 DELAY seconds after it started. Returns 0 when
# the kill landed while the job ran with runs already stored (everything after it
# checked), 1 when it missed (the job had ended: its result checked; or nothing was
# stored yet).
killed_rank_attempt() {
  rm -f killed.sqlite* killed.csv killed.err
  "${MPI[@]}" "$SYNCACHE" sweep "$DATA/slow.toml" --store killed.sqlite --out killed.csv \
    </dev/null >/dev/null 2>killed.err &
  local job=$! victim="" n stored
  for ((n = 0; n < 1000; ++n)); do
    victim=$(rank1_of "$job")
    [[ -n $victim ]] && break
    kill -0 "$job" 2>/dev/null || break
    sleep 0.01
  done
  [[ -n $victim ]] && sleep "$1"
  if [[ -z $victim ]] || ! kill -KILL "$victim" 2>/dev/null; then
    wait "$job"
    local early=$?
    [[ $early -eq 0 ]] || fail "the job failed (exit $early) before rank 1 was killed"
    [[ $early -eq 0 ]] && same_file slow-one.csv killed.csv "sweep CSV of a job that ended before the kill"
    return 1
  fi
  wait "$job"
  local rc=$?
  if [[ $rc -eq 0 && -e killed.csv ]]; then
    # Rank 1 had already finished its share and the job its CSV: the kill came too late.
    same_file slow-one.csv killed.csv "sweep CSV of a job that finished before the kill"
    return 1
  fi
  [[ $rc -ne 0 ]] || fail "mpirun exited 0 after rank 1 was killed"
  grep -q 'rank 1' killed.err && grep -qi 'signal 9\|killed' killed.err ||
    fail "the message does not say that rank 1 was killed: $(head -c 600 killed.err)"
  [[ -e killed.csv ]] && fail "a CSV was written by the killed job"
  stored=$(rows killed.sqlite)
  [[ $stored -gt 0 ]] || return 1  # killed before any run was stored: nothing to resume
  ranks2 revived sweep "$DATA/slow.toml" --store killed.sqlite --out killed.csv
  ok revived || return 0
  same_file slow-one.csv killed.csv "sweep CSV after a killed rank"
  same_store slow-one.sqlite killed.sqlite
  return 0
}

check_killed_rank() {
  # Kill rank 1 while the sweep runs: the job ends with mpirun's message about the rank,
  # the stored runs survive, and a second MPI job finishes exactly what one process gives.
  "$SYNCACHE" sweep "$DATA/slow.toml" --store slow-one.sqlite --out slow-one.csv --threads 2 \
    </dev/null >/dev/null 2>slow-one.err || {
    fail "single-process slow sweep failed: $(head -c 300 slow-one.err)"
    return
  }
  local attempt
  for ((attempt = 1; attempt <= KILL_ATTEMPTS; ++attempt)); do
    killed_rank_attempt "${RANK_DELAYS[attempt - 1]}" && return
    echo "retry $CHECK: attempt $attempt: the kill did not land while the job ran"
  done
  fail "rank 1 was never killed while the job ran ($KILL_ATTEMPTS attempts)"
}

# killed_job_attempt DELAY: SIGTERM to mpirun DELAY seconds after rank 1 started (0, 0.05,
# 0.1, ... s: a SIGTERM that reaches mpirun later than about half a second into the job
# is announced by rank 0 but the job then runs on to its end and writes its CSV, exit 1 --
# seen with Open MPI 4.1.4, not yet explained; that case counts as a miss). Returns
# 0 when it stopped the job while it worked (and the rest was checked), 1 when the job
# had finished first (its result checked).
killed_job_attempt() {
  rm -f term.sqlite* term.csv term.err
  "${MPI[@]}" "$SYNCACHE" sweep "$DATA/slow.toml" --store term.sqlite --out term.csv \
    </dev/null >/dev/null 2>term.err &
  local job=$! n
  for ((n = 0; n < 1000; ++n)); do
    [[ -n $(rank1_of "$job") ]] && break
    kill -0 "$job" 2>/dev/null || break
    sleep 0.01
  done
  sleep "$1"
  if ! kill -TERM "$job" 2>/dev/null; then
    wait "$job"
    same_file slow-one.csv term.csv "sweep CSV of a job that ended before the signal"
    return 1
  fi
  wait "$job"
  local rc=$?
  if [[ $rc -eq 0 ]]; then
    # Exit 0 after SIGTERM is right only for a job that had already finished its work.
    same_file slow-one.csv term.csv "sweep CSV of a job that exited 0 after SIGTERM"
    return 1
  fi
  if [[ -e term.csv ]]; then
    # The signal came after the job had written its CSV (written whole, by a rename, only
    # at the end), or reached mpirun before it forwarded signals: then that CSV must be
    # the complete result.
    same_file slow-one.csv term.csv "sweep CSV of a job stopped after it wrote its CSV"
    return 1
  fi
  grep -q '^syncache: terminated (SIGTERM); .* run the same command again' term.err ||
    fail "no message about the signal: $(head -c 600 term.err)"
  ranks2 term2 sweep "$DATA/slow.toml" --store term.sqlite --out term.csv
  ok term2 || return 0
  same_file slow-one.csv term.csv "sweep CSV after a stopped job"
  same_store slow-one.sqlite term.sqlite
  return 0
}

check_killed_job() {
  # SIGTERM to mpirun (what scancel or a time limit does): rank 0 says what happened, and
  # a second job finishes exactly what one process gives.
  [[ -s slow-one.csv ]] || { fail "no single-process result to compare with"; return; }
  local attempt
  for ((attempt = 1; attempt <= KILL_ATTEMPTS; ++attempt)); do
    killed_job_attempt "${JOB_DELAYS[attempt - 1]}" && return
    echo "retry $CHECK: attempt $attempt: the signal did not land while the job ran"
  done
  fail "SIGTERM never reached the job while it ran ($KILL_ATTEMPTS attempts)"
}

# ------------------------------------------------------------------------------ main

CHECKS=(check_sweep check_resume check_figure check_failing_run check_killed_rank
  check_killed_job)
run_checks
