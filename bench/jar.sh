#!/usr/bin/env bash
# Sourced by the bench/*.sh scripts: makes sure bench/target/metaforge-bench.jar exists and sets JAR.
# The uber-jar is built only under the `bench` Maven profile, never by ./mvnw verify:
#
#   ./mvnw -o -q -Pbench -DskipTests package -pl bench -am
#
# BENCH_REBUILD=1 rebuilds it even when present (after changing code the benchmarks use).
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
JAR="$ROOT/bench/target/metaforge-bench.jar"
if [[ ! -f "$JAR" || "${BENCH_REBUILD:-0}" == 1 ]]; then
  echo "[bench] building $JAR with the bench profile: ./mvnw -o -q -Pbench -DskipTests package -pl bench -am" >&2
  (cd "$ROOT" && ./mvnw -o -q -Pbench -DskipTests package -pl bench -am) || {
    echo "[bench] building the benchmark jar failed; run the command above to see why" >&2
    exit 2
  }
fi
