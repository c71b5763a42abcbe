#!/usr/bin/env bash
# Runs a main class of bench/target/metaforge-bench.jar with the benchmark JVM settings:
#
#   bench/run.sh PairedMain --group mlp            # dev.metaforge.bench.<Class> [args...]
#   THREADS=2 bench/run.sh StepRateMain --workload hyper --backend djl
#
# THREADS (default 1) sets PyTorch's intra-op threads (-Dai.djl.pytorch.num_threads, the option
# backend-djl's tests use) and OMP_NUM_THREADS (ND4J's OpenMP and OpenBLAS threads);
# OMP_WAIT_POLICY=PASSIVE keeps idle OpenMP threads from spinning on a shared machine. Natives
# are extracted once under .cache/ of the repository; nothing is downloaded (ai.djl.offline).
# Extra JVM options: BENCH_JVM_ARGS.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -lt 1 ]]; then
  echo "usage: bench/run.sh CLASS [args...]   (CLASS in dev.metaforge.bench, e.g. PairedMain)" >&2
  exit 2
fi
# shellcheck source=jar.sh
source "$ROOT/bench/jar.sh"  # builds the jar with -Pbench when missing
CLASS="$1"
shift
[[ "$CLASS" == *.* ]] || CLASS="dev.metaforge.bench.$CLASS"
THREADS="${THREADS:-1}"
export OMP_WAIT_POLICY=PASSIVE
export OMP_NUM_THREADS="$THREADS"
# shellcheck disable=SC2086 # BENCH_JVM_ARGS is a list of options
exec java -Xmx3g \
  -Dai.djl.offline=true \
  -DENGINE_CACHE_DIR="$ROOT/.cache/djl" -DDJL_CACHE_DIR="$ROOT/.cache/djl" \
  -Dorg.bytedeco.javacpp.cachedir="$ROOT/.cache/javacpp" \
  -Dai.djl.pytorch.num_threads="$THREADS" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel="${BENCH_LOG_LEVEL:-warn}" \
  ${BENCH_JVM_ARGS:-} \
  -cp "$JAR" "$CLASS" "$@"
