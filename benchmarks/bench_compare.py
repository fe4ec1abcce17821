"""Baseline against reform (issue 9) on generated caseloads: prints figures,
never asserts.

For each size (default 140,000 and 1,000,000) the generated caseload CSV
(``benefits generate --seed 1``, cached in benchmarks/.cache/) is read and
validated column-wise once (timed apart: not part of the target), then
``benefits.policy.compare`` runs baseline + reform + per-person diff on the
applicant frame, for the 2013 budget year, without examples and again with
the durable engine's examples. Targets (issue 9, 2 cores): 140,000 ≤ 2 s,
1,000,000 ≤ 10 s, without the XLSX. The load average is printed: figures
taken while other work runs on the machine are provisional.

Usage: python benchmarks/bench_compare.py [SIZE ...] [--reform reforms/X.yaml]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import caseload_csv  # noqa: E402

from benefits.engine import load_rulebook  # noqa: E402
from benefits.engine.columnar.readers import read_csv_frame  # noqa: E402
from benefits.engine.columnar.validate import validate_frame  # noqa: E402
from benefits.policy import apply_reform, compare, load_reform  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {140_000: 2.0, 1_000_000: 10.0}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[140_000, 1_000_000])
    parser.add_argument("--reform", default=str(ROOT / "reforms" / "severe-grade-1.yaml"))
    parser.add_argument("--year", type=int, default=2013)
    args = parser.parse_args()
    baseline = load_rulebook()
    reform = apply_reform(baseline, load_reform(args.reform))
    print(f"reform: {reform.reform.label} ({args.reform}); year {args.year}; "
          f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for size in args.sizes:
        path = caseload_csv(size)
        started = time.perf_counter()
        frame, rejects = validate_frame(read_csv_frame(path))
        print(f"\n{size:,} applicants: read + validate {time.perf_counter() - started:.2f} s "
              f"({frame.height:,} valid, {len(rejects):,} rejected; not part of the target)")
        compare(frame.head(2000), baseline, reform, args.year, examples=0)        # warm up
        started = time.perf_counter()
        result = compare(frame, baseline, reform, args.year, examples=0)
        elapsed = time.perf_counter() - started
        target = TARGETS.get(size)
        verdict = "" if target is None else f"  target ≤ {target:.0f} s: {'met' if elapsed <= target else 'NOT met'}"
        print(f"  baseline + reform + per-person diff       {elapsed:7.2f} s  "
              f"= {size / elapsed:,.0f} applicants/s{verdict}")
        print(f"  persons changed: {result.changes.get_column('row').n_unique():,}; "
              f"cost difference {result.cost.get_column('difference').sum():,.2f} 元")
        started = time.perf_counter()
        result = compare(frame, baseline, reform, args.year)
        print(f"  the same with {len(result.examples)} examples explained by durable_rules "
              f"{time.perf_counter() - started:7.2f} s")
        print(f"  peak RSS so far {peak_mb():,.0f} MB; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
