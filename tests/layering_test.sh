#!/usr/bin/env bash
# The library's layers, lowest first: io, core, models, experiments. Every header and
# source of a layer may include only its own layer and those below it (an include that
# runs upwards fails), and the headers' include graph has no cycle (tsort finds loops).
# The library speaks the parameters' names, never the command line's spelling: no
# option such as "--theta" in a string or a quoted comment of src/ or include/.
#   tests/layering_test.sh SOURCE_DIR
set -euo pipefail
root=${1:-$(dirname "$0")/..}
cd "$root"
declare -A rank=([io]=0 [core]=1 [models]=2 [experiments]=3)
fail=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for layer in "${!rank[@]}"; do
  while IFS= read -r file; do
    while IFS= read -r inc; do
      target=${inc%%/*}
      if [[ -z ${rank[$target]+x} ]]; then
        echo "layering: $file includes syncache/$inc, which is in no layer" >&2
        fail=1
      elif ((rank[$target] > rank[$layer])); then
        echo "layering: $file ($layer) includes syncache/$inc ($target, a higher layer)" >&2
        fail=1
      fi
      [[ $file == *.hpp ]] && echo "syncache/${file#include/syncache/} syncache/$inc" >>"$edges"
    done < <(sed -n 's|^#include "syncache/\(.*\)"$|\1|p' "$file")
  done < <(find "include/syncache/$layer" "src/$layer" -name '*.[ch]pp' | sort)
done
loose=$(find include/syncache -maxdepth 1 -name '*.hpp'; find src -maxdepth 1 -name '*.[ch]pp')
if [[ -n $loose ]]; then
  echo "layering: files outside every layer: $loose" >&2
  fail=1
fi
spelled=$(grep -rnE "[\"\`(]--[A-Za-z]" include src || true)
if [[ -n $spelled ]]; then
  echo "layering: command-line spelling in the library: $spelled" >&2
  fail=1
fi
# tsort reads "a b" as "b before a"; a loop is reported on stderr.
if ! tsort "$edges" >/dev/null 2>"$edges.err" || [[ -s $edges.err ]]; then
  echo "layering: include cycle: $(tr '\n' ' ' <"$edges.err")" >&2
  fail=1
fi
rm -f "$edges.err"
[[ $fail == 0 ]] && echo "layering: $(wc -l <"$edges") header includes, all downward, no cycle"
exit "$fail"
