# The check harness of the shell tests (cli_test.sh, mpi_test.sh), sourced by them.
# Every check is a function; fail prints "FAIL <check>: <reason>"; run_checks runs the
# functions named in CHECKS and exits 1 after all of them when one failed.

CHECK=setup
FAILURES=0
FAILED_CHECKS=()

fail() {
  echo "FAIL $CHECK: $*" >&2
  FAILURES=$((FAILURES + 1))
  FAILED_CHECKS+=("$CHECK")
}

run_checks() {
  local before
  for CHECK in "${CHECKS[@]}"; do
    before=$FAILURES
    "$CHECK"
    [[ $FAILURES -eq $before ]] && echo "ok   $CHECK"
  done
  if [[ $FAILURES -gt 0 ]]; then
    echo "$FAILURES failure(s) in: $(printf '%s\n' "${FAILED_CHECKS[@]}" | sort -u | tr '\n' ' ')" >&2
    exit 1
  fi
  echo "all ${#CHECKS[@]} checks passed"
}
