#!/usr/bin/env bash
# Metanetwork benchmarks (bench/README.md, "Metanetworks"):
#   1. parameter-graph construction for a 1M-parameter MLP, a 1M-parameter CNN and 64 small MLPs;
#   2. one gnn metanetwork training step, Metaforge (each backend) against the same message passing
#      written in PyTorch eager (bench/python/gnn_step.py: index_add_ / scatter_reduce), interleaved
#      in fresh processes, medians over ROUNDS of the steps per second of the stepping thread's CPU time.
#
#   bench/metanet.sh                     # ROUNDS=3, BACKENDS="djl dl4j", THREADS=1
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3
ROUNDS="${ROUNDS:-3}"
BACKENDS="${BACKENDS:-djl dl4j}"
WARMUP="${WARMUP:-3}"
MEASURE="${MEASURE:-8}"
export THREADS="${THREADS:-1}"
export OMP_WAIT_POLICY=PASSIVE

for backend in $BACKENDS; do
  echo "== graph construction, $backend"
  "$ROOT/bench/run.sh" MetanetBenchMain graph --backend "$backend" 2>&1 | grep '^GRAPH'
done

RESULTS="$(mktemp -t metaforge-metanet.XXXXXX)"
echo "== gnn training step (32 MLPs 8-32-32-4, hidden 32, 3 layers), $ROUNDS rounds, threads $THREADS, load $(cut -d' ' -f1 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  for backend in $BACKENDS; do
    line="$("$ROOT/bench/run.sh" MetanetBenchMain gnn-step --backend "$backend" --warmup "$WARMUP" --seconds "$MEASURE" 2>&1 | grep '^RESULT')"
    echo "  round $round metaforge-$backend: $line"
    echo "metaforge-$backend $line" >> "$RESULTS"
  done
  if "$PY" -c 'import torch' 2>/dev/null; then
    line="$(OMP_NUM_THREADS="$THREADS" "$PY" "$ROOT/bench/python/gnn_step.py" --threads "$THREADS" --warmup "$WARMUP" --seconds "$MEASURE" 2>/dev/null | grep '^RESULT')"
    echo "  round $round torch-eager: $line"
    echo "torch-eager $line" >> "$RESULTS"
  fi
done
echo "== medians (steps per CPU-second of the stepping thread; wall steps/s in parentheses)"
"$PY" - "$RESULTS" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name = line.split()[0]
    wall = float(re.search(r"steps_per_s=([0-9.]+)", line).group(1))
    cpu = float(re.search(r"steps_per_cpu_s=([0-9.]+)", line).group(1))
    rows.setdefault(name, []).append((cpu, wall))
torch = statistics.median(c for c, _ in rows["torch-eager"]) if "torch-eager" in rows else None
for name, v in rows.items():
    cpu = statistics.median(c for c, _ in v)
    wall = statistics.median(w for _, w in v)
    ratio = f"  speed ratio vs torch-eager {cpu / torch:.2f}" if torch and name != "torch-eager" else ""
    print(f"  {name:18s} {cpu:7.3f} ({wall:.3f}){ratio}")
PY
