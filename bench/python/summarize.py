#!/usr/bin/python3
"""Summarizes bench/compare.sh's raw results: medians per variant and speed ratios.

Input lines: ``workload threads round variant wall_steps_per_s cpu_steps_per_s load1`` (space
separated; variant is ``metaforge-<backend>`` or ``torch-<impl>``; a failed run has ``nan``).
Speed ratio = Metaforge rate / PyTorch rate at the same thread count, as a ratio of the medians
and as the median of the per-round ratios (> 1: Metaforge is faster), with a distribution-free 90%
confidence interval for that median from the per-round ratios' order statistics (each round's pair runs
back to back, so the pairing cancels the host's slow drift in speed; 5 rounds give [min, max] at 93.75%). Rates per CPU-second are
shown for one thread only: there the stepping thread does all the work, while with more threads
its CPU time leaves out the other workers.

A run whose load average (the higher of before and after it) exceeded ``--max-load`` is *loaded*.
The tables are printed twice: over every run, and over quiet runs only (a per-round ratio needs both
runs of the pair quiet). Only the quiet table is fit to quote. ``--require-quiet 1`` exits with 3 when
some ratio has no quiet pair. Last, issue 15's performance goals that the results cover are judged
(``goals``).
"""
import argparse
import math
import statistics
import sys
from collections import defaultdict


def median(values):
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else float('nan')


def median_interval(values, confidence=0.9):
    """Distribution-free confidence interval for the median of ``values``: the order statistics
    x_(k) and x_(n+1-k) (1-based) with the largest k for which P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2,
    so the interval covers the true median with probability >= confidence whatever the distribution
    (rounds independent). Returns (low, high, coverage), or None when n is too small to reach the confidence
    (n < 5 for 90%)."""
    xs = sorted(v for v in values if not math.isnan(v))
    n = len(xs)
    below = 0.0  # P(Binomial(n, 1/2) < k) for the k being tried
    best = None
    for k in range(1, n // 2 + 1):
        below += math.comb(n, k - 1) / 2 ** n
        if below > (1 - confidence) / 2:
            break
        best = (xs[k - 1], xs[n - k], 1 - 2 * below)
    return best


def table(title, rates, keys, quiet=None):
    """Medians and ratios; with ``quiet`` ((workload, threads, variant) -> {round: bool}) only quiet runs count.
    Returns the ratios that had no quiet pair."""
    missing = []
    if quiet is not None:
        rates = {k: {r: v for r, v in rates[k].items() if quiet[k].get(r, False)} for k in keys}
    print(title)
    print(f'{"workload":8} {"thr":>3} {"variant":18} {"median":>10}  per round')
    for k in keys:
        per_round = [rates[k][r] for r in sorted(rates[k])]
        print(f'{k[0]:8} {k[1]:>3} {k[2]:18} {median(per_round):>10.2f}  ' + ' '.join(f'{v:.2f}' for v in per_round))
    print()
    print(f'{"workload":8} {"thr":>3} {"metaforge":16} {"pytorch":16} {"ratio of medians":>16} {"median of ratios":>17}'
          f'  {"90% interval of the median ratio":>32}')
    for (workload, threads, variant) in keys:
        if not variant.startswith('metaforge'):
            continue
        for (w2, t2, baseline) in keys:
            if w2 != workload or t2 != threads or not baseline.startswith('torch'):
                continue
            a, b = rates[(workload, threads, variant)], rates[(w2, t2, baseline)]
            per_round = [a[r] / b[r] for r in a if r in b and not math.isnan(a[r]) and not math.isnan(b[r])]
            if not per_round:
                missing.append(f'{workload} t{threads} {variant} / {baseline}')
                print(f'{workload:8} {threads:>3} {variant:16} {baseline:16} {"n/a":>16} {"(no quiet pair)":>17}')
                continue
            ratio = median(a.values()) / median(b.values())
            ci = median_interval(per_round)
            interval = f'{ci[0]:.3f} .. {ci[1]:.3f} ({ci[2]:.1%})' if ci else '(needs >= 5 pairs)'
            print(f'{workload:8} {threads:>3} {variant:16} {baseline:16} {ratio:>16.3f} {median(per_round):>17.3f}'
                  f'  {interval:>32}   pairs {len(per_round)}')
    print('(interval: the per-round ratios\' order statistics that cover their median with at least the stated'
          ' probability; a goal inside it is neither met nor missed by this run)')
    print()
    return missing


def burner(wall, cpu, quiet):
    """For BURNER=1 runs: each variant's rate under the busy loop against its rate without, over quiet runs where
    both halves have some (else over every run, and it says so)."""
    pairs = [(k, (k[0] + '+burner',) + k[1:]) for k in sorted(wall) if (k[0] + '+burner',) + k[1:] in wall]
    if not pairs:
        return
    print()
    print('== under the burner (a busy loop on one core): rate with / rate without, medians; 1.00 = no drop ==')
    print(f'{"workload":10} {"thr":>3} {"variant":18} {"wall":>7} {"cpu":>7}  runs')
    for plain, burnt in pairs:
        def drop(rates):
            q = {r: v for r, v in rates[plain].items() if quiet[plain].get(r)}
            qb = {r: v for r, v in rates[burnt].items() if quiet[burnt].get(r)}
            if q and qb:
                return median(qb.values()) / median(q.values()), 'quiet'
            return median(rates[burnt].values()) / median(rates[plain].values()), 'ALL (no quiet pair)'
        w, which = drop(wall)
        c = drop(cpu)[0] if plain in cpu and burnt in cpu else float('nan')
        print(f'{plain[0]:10} {plain[1]:>3} {plain[2]:18} {w:>7.3f} {c:>7.3f}  {which}')


# Issue 15's "done means" (one thread, load <= 2, median of >= 5 rounds): (workload, variant, baseline, at least).
GOALS = [
    ('mlp', 'metaforge-djl', 'torch-eager', 1.0),
    ('mlp', 'metaforge-dl4j', 'torch-eager', 0.8),
    ('maml', 'metaforge-djl', 'torch-batched', 1.3),
    ('maml', 'metaforge-djl', 'torch-loop', 6.0),
    ('maml', 'metaforge-dl4j', 'torch-batched', 1.0),
    ('hyper', 'metaforge-djl', 'torch-eager', 1.2),
    ('hyper', 'metaforge-dl4j', 'torch-eager', 1.0),
]


# Under a busy process the MAML ratio falls no more than PyTorch's own rate falls: (ratio with the burner) / (ratio
# without) at least 1, i.e. our rate keeps at least the fraction of itself that PyTorch's keeps.
BURNER_GOALS = [
    ('maml+burner', 'metaforge-djl', 'torch-batched', 1.0),
    ('maml+burner', 'metaforge-dl4j', 'torch-batched', 1.0),
]


def judge(value, per_round, goal):
    """A goal's verdicts: by the issue's rule (``value`` over >= 5 rounds at least ``goal``) and by the 90% interval of
    the median of ``per_round`` (met when all of it reaches the goal, missed when all of it falls short)."""
    rule = ('met' if value >= goal else 'missed') if len(per_round) >= 5 else f'{len(per_round)} rounds (< 5)'
    ci = median_interval(per_round)
    if ci is None:
        return rule, '(needs >= 5 pairs)', 'not judged'
    verdict = 'met' if ci[0] >= goal else 'missed' if ci[1] < goal else 'not settled'
    return rule, f'{ci[0]:.3f} .. {ci[1]:.3f}', verdict


def burner_goal(cpu, quiet, workload, variant, baseline, goal):
    """The burner goal's row: per round where all four runs are quiet, (ours / PyTorch's with the burner) over
    (ours / PyTorch's without); the issue's rule on the ratios of medians, the interval on the per-round values."""
    keys = [(workload, 1, variant), (workload, 1, baseline), (workload + '+burner', 1, variant),
            (workload + '+burner', 1, baseline)]
    if not all(cpu.get(k) for k in keys):
        return None
    rates = [{r: v for r, v in cpu[k].items() if quiet[k].get(r) and not math.isnan(v)} for k in keys]
    rounds = set(rates[0]) & set(rates[1]) & set(rates[2]) & set(rates[3])
    if not rounds:
        return None
    per_round = [(rates[2][r] / rates[3][r]) / (rates[0][r] / rates[1][r]) for r in sorted(rounds)]
    value = (median(rates[2].values()) / median(rates[3].values())) / (median(rates[0].values()) / median(rates[1].values()))
    rule, interval, verdict = judge(value, per_round, goal)
    return (f'{workload + "+burner":11} {variant:16} {baseline:14} {goal:>5.2f} {value:>8.3f} {rule:>16}  {interval:>16}'
            f' {verdict:>12}')


def goals(cpu, quiet):
    """Issue 15's goals judged on quiet one-thread runs (steps per CPU-second), two ways: the issue's rule (ratio of
    the medians over >= 5 rounds at least the goal) and the interval (met when the whole 90% interval of the median
    per-round ratio is at or above the goal, missed when it is below, else not settled by this run)."""
    rows = []
    for workload, variant, baseline, goal in GOALS + BURNER_GOALS:
        if workload.endswith('+burner'):
            row = burner_goal(cpu, quiet, workload[:-len('+burner')], variant, baseline, goal)
            if row:
                rows.append(row)
            continue
        a, b = cpu.get((workload, 1, variant)), cpu.get((workload, 1, baseline))
        if not a or not b:
            continue
        a = {r: v for r, v in a.items() if quiet[(workload, 1, variant)].get(r) and not math.isnan(v)}
        b = {r: v for r, v in b.items() if quiet[(workload, 1, baseline)].get(r) and not math.isnan(v)}
        pairs = [a[r] / b[r] for r in a if r in b]
        if not pairs:
            continue
        ratio = median(a.values()) / median(b.values())
        rule, interval, verdict = judge(ratio, pairs, goal)
        rows.append(f'{workload:11} {variant:16} {baseline:14} {goal:>5.2f} {ratio:>8.3f} {rule:>16}  {interval:>16} {verdict:>12}')
    if rows:
        print()
        print('== issue 15\'s goals: one thread, quiet runs, steps per CPU-second ==')
        header = ('workload', 'metaforge', 'pytorch', 'goal', 'ratio', "issue's rule", '90% interval', 'by interval')
        print(f'{header[0]:11} {header[1]:16} {header[2]:14} {header[3]:>5} {header[4]:>8} {header[5]:>16}  '
              f'{header[6]:>16} {header[7]:>12}')
        for row in rows:
            print(row)
        print('(issue\'s rule: the ratio of medians over >= 5 rounds at least the goal; by interval: met only when the'
              ' whole interval is at or above the goal, missed when it is below, else this run cannot tell;'
              ' maml+burner: the MAML ratio with the busy loop over the ratio without, 1 = it fell as much as'
              ' PyTorch\'s own rate)')


def main(path, max_load, require_quiet):
    wall = defaultdict(dict)  # (workload, threads, variant) -> {round: rate}
    cpu = defaultdict(dict)
    quiet = defaultdict(dict)  # (workload, threads, variant) -> {round: load <= max_load}
    loads = []
    float_loads = defaultdict(list)  # round -> loads of its runs
    for line in open(path):
        parts = line.split()
        if len(parts) != 7:
            continue
        workload, threads, rnd, variant, w, c, load = parts
        key = (workload, int(threads), variant)
        wall[key][int(rnd)] = float(w)
        # a run under the burner (workload "...+burner") has one busy process more by design
        quiet[key][int(rnd)] = float(load) <= max_load + (1 if workload.endswith('+burner') else 0)
        if int(threads) == 1:
            cpu[key][int(rnd)] = float(c)
        loads.append(float(load))
        float_loads[int(rnd)].append(float(load))
    print('speed ratio = Metaforge rate / PyTorch rate at the same thread count (> 1: Metaforge faster)\n')
    print('######## every run (do not quote: includes loaded runs) ########\n')
    table('== steps per second of wall time ==', wall, sorted(wall))
    table('== steps per second of the stepping thread\'s CPU time (one thread) ==', cpu, sorted(cpu))
    loaded = sum(1 for k in quiet for r in quiet[k] if not quiet[k][r])
    total = sum(len(quiet[k]) for k in quiet)
    print(f'######## quiet runs only: load <= {max_load} ({total - loaded} of {total} runs; quote these) ########\n')
    missing = table('== steps per second of wall time ==', wall, sorted(wall), quiet)
    missing += table('== steps per second of the stepping thread\'s CPU time (one thread) ==', cpu, sorted(cpu), quiet)
    if loads:
        print(f'1-minute load average during the runs: min {min(loads):.2f}, median {median(loads):.2f}, '
              f'max {max(loads):.2f}; {loaded} of {total} runs above {max_load} were flagged and left out above')
    rounds = sorted({r for k in quiet for r in quiet[k]})
    print('rounds: ' + ', '.join(f'{r} {"quiet" if all(quiet[k].get(r, True) for k in quiet) else "LOADED"}'
                                 f' (max load {max(float_loads[r]):.2f})' for r in rounds if float_loads.get(r)))
    burner(wall, cpu, quiet)
    goals(cpu, quiet)
    if missing:
        print('WARNING: no quiet pair of runs for: ' + '; '.join(sorted(set(missing))))
        if require_quiet:
            sys.exit(3)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description='Summarize bench/compare.sh raw results.')
    ap.add_argument('results')
    ap.add_argument('--max-load', type=float, default=2.0)
    ap.add_argument('--require-quiet', type=int, default=0)
    a = ap.parse_args()
    main(a.results, a.max_load, a.require_quiet == 1)
