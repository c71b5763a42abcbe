#!/usr/bin/env bash
# Longer fuzzing campaigns than the bounded run of every build.
#
#   fuzz/run.sh [SECONDS] [TARGET ...]      e.g. fuzz/run.sh 600                 (10 minutes per target)
#                                                fuzz/run.sh 120 SpecFuzzTest
#
# TARGET is one of SpecFuzzTest, SafetensorsFuzzTest, CheckpointFuzzTest, IdxFuzzTest (default: all).
# Each target replays its seeds (src/test/resources/dev/metaforge/fuzz/<Target>Inputs/) and the corpus it
# grew before (fuzz/.cifuzz-corpus/, not committed), then fuzzes for SECONDS in its own JVM. A finding is
# saved next to the seeds as crash-<sha1> (commit it with the fix: it becomes a regression input) and
# fails the run. Logs: fuzz/target/fuzz-logs/<Target>.log; a summary per target is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-600}"
shift || true
TARGETS=("$@")
if [[ ${#TARGETS[@]} -eq 0 ]]; then
  TARGETS=(SpecFuzzTest SafetensorsFuzzTest CheckpointFuzzTest IdxFuzzTest)
fi
mkdir -p fuzz/target/fuzz-logs
status=0
for target in "${TARGETS[@]}"; do
  log="fuzz/target/fuzz-logs/$target.log"
  echo "fuzzing $target for ${SECONDS_PER_TARGET}s (log: $log)"
  if ! ./mvnw -o -B verify -pl fuzz -am -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false \
      -Dfuzz.seconds="$SECONDS_PER_TARGET" -Dfuzz.timeout="${FUZZ_TIMEOUT:-30}" >"$log" 2>&1; then
    status=1
    echo "  FAILED: see $log and fuzz/src/test/resources/dev/metaforge/fuzz/${target}Inputs/ for crash-* files"
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs' "$log" | sed 's/^/  /' || true
  corpus="fuzz/.cifuzz-corpus/dev.metaforge.fuzz.$target"
  if [[ -d "$corpus" ]]; then
    echo "  corpus: $(find "$corpus" -type f | wc -l) inputs, $(du -sk "$corpus" | cut -f1) KiB"
  fi
done
exit $status
