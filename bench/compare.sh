#!/usr/bin/env bash
# Side-by-side training speed: Metaforge (each backend) against PyTorch eager, interleaved.
#
#   bench/compare.sh                       # 3 rounds, workloads hyper mlp maml fomaml, threads 1 and 2
#   ROUNDS=5 WORKLOADS="maml fomaml" BACKENDS=djl THREAD_COUNTS=1 bench/compare.sh
#   WORKLOADS="mip moe" THREAD_COUNTS=1 bench/compare.sh   # the MIP toy and one MoE layer
#   BURNER=1 WORKLOADS=maml THREAD_COUNTS=1 bench/compare.sh  # also under a busy loop on one core
#
# Each round runs, for every workload and thread count, Metaforge on every backend (through
# bench/run.sh: THREADS sets PyTorch's intra-op threads and OMP_NUM_THREADS) and then
# PyTorch (A B A B ...), each in a fresh process: --warmup seconds untimed, --seconds timed,
# every step reading its loss. Each run reports steps per second of wall time and, for one
# thread, steps per second of the stepping thread's CPU time, which leaves out the time a loaded
# machine gives to other processes. Prints medians over the rounds and speed ratios
# (Metaforge steps/s / PyTorch steps/s at the same thread count), with a distribution-free 90%
# interval for the median of the per-round ratios (bench/python/summarize.py; 5 rounds or more). Installs nothing.
#
# Environment: ROUNDS (3), WORKLOADS ("hyper mlp maml fomaml"; also "gemm": the five matrix products of a hyper step alone, "adam", "cnn", "transformer", "ghn", "mip": the MIP
# loss-weighting toy of examples/mip-loss-weighting.json, "maml-captured"/"fomaml-captured": MAML with step capture
# ("capture": true) against the same PyTorch MAML, "moe": one MoE layer as bench/moe_compare.sh runs it, with
# MOE_EXPERTS experts (8) against PyTorch's naive loop over experts), BACKENDS
# ("djl dl4j"), THREAD_COUNTS ("1 2"), WARMUP (3 s: the least warm-up; it goes on until two one-second
# windows agree within 5%), MEASURE (5 s), MAML_LOOP (1: also time the per-task-loop PyTorch MAML),
# LOAD_MAX or MAX_LOAD (2.0: a run during which the 1-minute load average exceeded it is flagged "loaded" and left
# out of the quiet ratios; with the burner running the limit is one more), BURNER (0; 1: every round runs the set
# twice, the second time ("<workload>+burner") with a busy loop on one core, and the summary states each variant's
# rate drop under it), BURNER_CPU (unset: the busy loop runs where the scheduler puts it; a CPU number: it is pinned
# there with taskset, "one core taken" to the letter, while the measured processes stay free), REQUIRE_QUIET (0; 1: exit 3 when a ratio has no quiet pair of runs), TORCH_FTZ (0; 1: also
# run PyTorch with torch.set_flush_denormal(True), as variant "torch-<impl>-ftz": Metaforge's Adam flushes subnormal
# moments (spi AdamStep), PyTorch's default does not, and this shows how much of a ratio that is), TORCH_AVX512 (0; 1:
# also run PyTorch with OPENBLAS_CORETYPE=SkylakeX, as variant "torch-<impl>-avx512": Debian's OpenBLAS picks its
# AVX2 (Haswell) kernels on AMD CPUs of family 0x1A even where they have AVX-512, as libtorch's oneMKL does, while
# Metaforge's djl backend computes float32 products with oneDNN's AVX-512 kernels; this is PyTorch with AVX-512
# products too, the baseline that leaves the instruction set out of the ratio), RESULTS (file
# for the raw lines; default a temporary file).
#
# Quote only ratios from the "quiet" table, with the date, the load and this command.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=/usr/bin/python3

if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
  echo "PyTorch is not importable by $PY (Debian's own python, which the apt packages serve)." >&2
  echo "Install it with (as root):  apt-get install -y python3-torch python3-numpy libopenblas0-openmp" >&2
  echo "(libopenblas0-openmp matters: without it torch uses the reference BLAS, about 30x slower matmul.)" >&2
  exit 2
fi
# shellcheck source=jar.sh
source "$ROOT/bench/jar.sh"  # builds the jar with -Pbench when missing
# BENCH_REBUILD=1 means "rebuild once, now": every bench/run.sh below sources jar.sh again, and would rebuild
# the jar (2 cores for ~40 s) before each measured run.
export BENCH_REBUILD=0

ROUNDS="${ROUNDS:-3}"
WORKLOADS="${WORKLOADS:-hyper mlp maml fomaml}"
BACKENDS="${BACKENDS:-djl dl4j}"
THREAD_COUNTS="${THREAD_COUNTS:-1 2}"
WARMUP="${WARMUP:-3}"
MEASURE="${MEASURE:-5}"
MAML_LOOP="${MAML_LOOP:-1}"
MAX_LOAD="${LOAD_MAX:-${MAX_LOAD:-2.0}}"
BURNER="${BURNER:-0}"
BURNER_CPU="${BURNER_CPU:-}"
MOE_EXPERTS="${MOE_EXPERTS:-8}"
REQUIRE_QUIET="${REQUIRE_QUIET:-0}"
TORCH_FTZ="${TORCH_FTZ:-0}"
TORCH_AVX512="${TORCH_AVX512:-0}"
RESULTS="${RESULTS:-$(mktemp -t metaforge-compare.XXXXXX)}"
: > "$RESULTS"
export OMP_WAIT_POLICY=PASSIVE

load1() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo nan; }

# record WORKLOAD THREADS ROUND VARIANT OUTPUT LOAD_BEFORE: appends the RESULT line's rates (nan when missing)
# and the higher of the load averages before and after the run.
record() {
  local wall cpu
  wall="$(printf '%s\n' "$5" | sed -n 's/^RESULT .*steps_per_s=\([0-9.]*\).*/\1/p' | tail -1)"
  cpu="$(printf '%s\n' "$5" | sed -n 's/^RESULT .*steps_per_cpu_s=\([0-9.]*\).*/\1/p' | tail -1)"
  if [[ -z "$wall" || -z "$cpu" ]]; then
    wall=nan
    cpu=nan
    echo "  $4 failed; last lines:" >&2
    printf '%s\n' "$5" | tail -5 | sed 's/^/    /' >&2
  fi
  local load warm
  load="$(awk -v a="$6" -v b="$(load1)" 'BEGIN { print (a > b ? a : b) }')"
  warm="$(printf '%s\n' "$5" | sed -n 's/^RESULT .*warmup_s=\([0-9.]*\) stable=\([a-z]*\).*/\1s, stable \2/p' | tail -1)"
  echo "$1 $2 $3 $4 $wall $cpu $load" >> "$RESULTS"
  echo "  round $3  $1  threads $2  $4: $wall steps/s, $cpu steps per CPU-second  (load $load, warm-up ${warm:-?})"
}

echo "Metaforge vs PyTorch eager: rounds $ROUNDS, workloads [$WORKLOADS], backends [$BACKENDS], threads [$THREAD_COUNTS],"
if [[ "$BURNER" == 1 ]]; then
  echo "burner: a busy loop $([[ -n "$BURNER_CPU" ]] && echo "pinned to CPU $BURNER_CPU" || echo "where the scheduler puts it") in every round's second half"
fi
echo "max load $MAX_LOAD, warm-up at least ${WARMUP}s, measured ${MEASURE}s per run, OMP_WAIT_POLICY=$OMP_WAIT_POLICY, $(nproc) CPUs, $(date -u +%FT%TZ)"
echo "java: $(java -version 2>&1 | head -1); python: $("$PY" -c 'import torch, sys; print(sys.version.split()[0], "torch", torch.__version__)')"

# metaforge_run WORKLOAD THREADS BACKEND / torch_run WORKLOAD THREADS IMPL: one run's output
metaforge_run() {
  if [[ "$1" == moe ]]; then
    THREADS="$2" "$ROOT/bench/run.sh" MoeLayerMain --backend "$3" --experts "$MOE_EXPERTS" --warmup "$WARMUP" --seconds "$MEASURE" 2>&1
  else
    THREADS="$2" "$ROOT/bench/run.sh" StepRateMain --workload "$1" --backend "$3" --warmup "$WARMUP" --seconds "$MEASURE" 2>&1
  fi
}
torch_run() {
  if [[ "$1" == moe ]]; then
    OMP_NUM_THREADS="$2" "$PY" "$ROOT/bench/python/moe_layer.py" --impl naive --experts "$MOE_EXPERTS" --threads "$2" \
      --warmup "$WARMUP" --seconds "$MEASURE" 2>&1
  else
    # maml-captured is Metaforge's MAML with step capture; PyTorch runs the same MAML
    env ${TORCH_CORETYPE:+OPENBLAS_CORETYPE="$TORCH_CORETYPE"} OMP_NUM_THREADS="$2" "$PY" "$ROOT/bench/python/step_rate.py" \
      --workload "${1%-captured}" --impl "$3" --threads "$2" --warmup "$WARMUP" --seconds "$MEASURE" ${4:+"$4"} 2>&1
  fi
}

# BURNER=1: a busy loop on one core during the "+burner" half of every round
burner_pid=""
start_burner() {
  if [[ -n "$BURNER_CPU" ]]; then
    taskset -c "$BURNER_CPU" bash -c 'while :; do :; done' & burner_pid=$!
  else
    ( while :; do :; done ) & burner_pid=$!
  fi
}
stop_burner() { if [[ -n "$burner_pid" ]]; then kill "$burner_pid" 2>/dev/null; wait "$burner_pid" 2>/dev/null; burner_pid=""; fi; }
# The 1-minute load average lags by about a minute: right after the busy loop stops it still counts it, and the
# next round's quiet half would be flagged loaded for the burner's sake. Wait (at most 90 s) until it is a full
# process below the limit again.
settle_after_burner() {
  local waited=0
  while (( waited < 90 )) && awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN { exit !(l > m - 1) }'; do
    sleep 5
    waited=$((waited + 5))
  done
  echo "  (waited ${waited}s after the burner for the load average to settle: $(load1))"
}
trap stop_burner EXIT INT TERM
PHASES=("")
[[ "$BURNER" == 1 ]] && PHASES=("" "+burner")

for round in $(seq 1 "$ROUNDS"); do
  for phase in "${PHASES[@]}"; do
    [[ "$phase" == "+burner" ]] && start_burner
    for workload in $WORKLOADS; do
      name="$workload"
      [[ "$workload" == moe ]] && name="moe-E$MOE_EXPERTS"
      for threads in $THREAD_COUNTS; do
        for backend in $BACKENDS; do
          before="$(load1)"
          out="$(metaforge_run "$workload" "$threads" "$backend")"
          record "$name$phase" "$threads" "$round" "metaforge-$backend" "$out" "$before"
        done
        impl=eager
        [[ "$workload" == maml* || "$workload" == fomaml* ]] && impl=batched
        [[ "$workload" == moe ]] && impl=naive
        before="$(load1)"
        out="$(torch_run "$workload" "$threads" batched)"  # step_rate.py's --impl matters for MAML only
        record "$name$phase" "$threads" "$round" "torch-$impl" "$out" "$before"
        if [[ "$TORCH_FTZ" == 1 && "$workload" != moe ]]; then
          before="$(load1)"
          out="$(torch_run "$workload" "$threads" batched --flush-denormal)"
          record "$name$phase" "$threads" "$round" "torch-$impl-ftz" "$out" "$before"
        fi
        if [[ "$TORCH_AVX512" == 1 && "$workload" != moe ]]; then
          before="$(load1)"
          out="$(TORCH_CORETYPE=SkylakeX torch_run "$workload" "$threads" batched)"
          record "$name$phase" "$threads" "$round" "torch-$impl-avx512" "$out" "$before"
        fi
        if [[ "$MAML_LOOP" == 1 && ( "$workload" == maml* || "$workload" == fomaml* ) ]]; then
          before="$(load1)"
          out="$(torch_run "$workload" "$threads" loop)"
          record "$name$phase" "$threads" "$round" "torch-loop" "$out" "$before"
        fi
      done
    done
    if [[ "$phase" == "+burner" ]]; then
      stop_burner
      settle_after_burner
    fi
  done
done

echo
echo "raw results: $RESULTS"
"$PY" "$ROOT/bench/python/summarize.py" "$RESULTS" --max-load "$MAX_LOAD" --require-quiet "$REQUIRE_QUIET"
