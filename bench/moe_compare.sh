#!/usr/bin/env bash
# One mixture-of-experts layer, forward + backward: Metaforge (each backend) against PyTorch eager,
# interleaved (A B A B ...), each run in a fresh process.
#
#   bench/moe_compare.sh                                  # 3 rounds, experts 8 16 32 64, djl + dl4j, naive + einsum
#   ROUNDS=5 EXPERTS=8 BACKENDS=djl bench/moe_compare.sh
#
# The layer (dev.metaforge.bench.MoeLayerMain / bench/python/moe_layer.py): 4,096 tokens, d 256,
# E experts each a 256-1024-256 ReLU MLP, softmax top-2 router, capacity factor 1.25 with GShard
# priority, load-balancing loss 0.01; loss = mean(y²) + aux; gradients of every parameter; loss
# read back. PyTorch baselines: "naive" (a loop over experts: gather, run, index_add) and "einsum"
# (dense [N, E, C] dispatch/combine tensors). One thread (THREADS, default 1), OMP_WAIT_POLICY=PASSIVE.
# Prints medians over rounds (steps/s of wall time and of the stepping thread's CPU time) and speed
# ratios Metaforge / PyTorch (bench/python/summarize.py); tokens/s = steps/s × 4096.
#
# Environment: ROUNDS (3), EXPERTS ("8 16 32 64"), BACKENDS ("djl dl4j"), DL4J_EXPERTS (experts
# for which dl4j runs, default "8"), IMPLS ("naive einsum"), DROPLESS (1: also Metaforge dropless),
# WARMUP (3 s), MEASURE (6 s), RESULTS (raw lines file).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "PyTorch is not importable by $PY; install with: apt-get install -y python3-torch python3-numpy libopenblas0-openmp" >&2
  exit 2
fi
# shellcheck source=jar.sh
source "$ROOT/bench/jar.sh"  # builds the jar with -Pbench when missing
ROUNDS="${ROUNDS:-3}"
EXPERTS="${EXPERTS:-8 16 32 64}"
BACKENDS="${BACKENDS:-djl dl4j}"
DL4J_EXPERTS="${DL4J_EXPERTS:-8}"
IMPLS="${IMPLS:-naive einsum}"
DROPLESS="${DROPLESS:-0}"
WARMUP="${WARMUP:-3}"
MEASURE="${MEASURE:-6}"
THREADS="${THREADS:-1}"
RESULTS="${RESULTS:-$(mktemp -t metaforge-moe.XXXXXX)}"
: > "$RESULTS"
export OMP_WAIT_POLICY=PASSIVE

load1() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo nan; }

record() { # WORKLOAD ROUND VARIANT OUTPUT
  local wall cpu
  wall="$(printf '%s\n' "$4" | sed -n 's/^RESULT .*steps_per_s=\([0-9.]*\).*/\1/p' | tail -1)"
  cpu="$(printf '%s\n' "$4" | sed -n 's/^RESULT .*steps_per_cpu_s=\([0-9.]*\).*/\1/p' | tail -1)"
  if [[ -z "$wall" || -z "$cpu" ]]; then
    wall=nan; cpu=nan
    echo "  $3 failed; last lines:" >&2
    printf '%s\n' "$4" | tail -5 | sed 's/^/    /' >&2
  fi
  echo "$1 $THREADS $2 $3 $wall $cpu $(load1)" >> "$RESULTS"
  echo "  round $2  $1  $3: $wall steps/s, $cpu steps per CPU-second  (load $(load1))"
}

echo "MoE layer: rounds $ROUNDS, experts [$EXPERTS], backends [$BACKENDS] (dl4j at [$DL4J_EXPERTS]), torch [$IMPLS],"
echo "threads $THREADS, warm-up ${WARMUP}s, measured ${MEASURE}s, $(nproc) CPUs, $(date -u +%FT%TZ)"
for round in $(seq 1 "$ROUNDS"); do
  for e in $EXPERTS; do
    for backend in $BACKENDS; do
      if [[ "$backend" == dl4j && " $DL4J_EXPERTS " != *" $e "* ]]; then continue; fi
      out="$(THREADS="$THREADS" "$ROOT/bench/run.sh" MoeLayerMain --backend "$backend" --experts "$e" \
        --warmup "$WARMUP" --seconds "$MEASURE" 2>&1)"
      record "moe-E$e" "$round" "metaforge-$backend" "$out"
      if [[ "$DROPLESS" == 1 ]]; then
        out="$(THREADS="$THREADS" "$ROOT/bench/run.sh" MoeLayerMain --backend "$backend" --experts "$e" --dropless \
          --warmup "$WARMUP" --seconds "$MEASURE" 2>&1)"
        record "moe-E$e" "$round" "metaforge-$backend-dropless" "$out"
      fi
    done
    for impl in $IMPLS; do
      out="$(OMP_NUM_THREADS="$THREADS" "$PY" "$ROOT/bench/python/moe_layer.py" --impl "$impl" --experts "$e" \
        --threads "$THREADS" --warmup "$WARMUP" --seconds "$MEASURE" 2>&1)"
      record "moe-E$e" "$round" "torch-$impl" "$out"
    done
  done
done
echo
echo "raw results: $RESULTS"
"$PY" "$ROOT/bench/python/summarize.py" "$RESULTS"
echo "tokens per second = steps per second × 4096"
