"""Benchmark of the 动态管理 re-check list (benefits/audit/recheck.py).

A generated caseload (``benefits generate --seed 1``, cached as a CSV in
benchmarks/.cache/ by bench_batch.py's helper) is read, validated and
re-checked over a window of N months; prints the wall time of each stage,
the change points evaluated, the changes found and this process's peak RSS
(the re-check is one process: the columnar engine on Polars' threads).

Usage: python benchmarks/bench_audit_recheck.py [--size 200000] [--months 12] [--as-of 2013-03-01]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import time

import polars as pl
from bench_batch import caseload_csv, peak_mb      # the cached generated caseload, this process's peak RSS

from benefits.audit.recheck import Rechecker, check_window, order, summarise
from benefits.costing import PERSON, applicant_frames
from benefits.engine import load_rulebook


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2013, 3, 1))
    args = parser.parse_args()
    path = caseload_csv(args.size)
    end = check_window(args.as_of, args.months)
    print(f"re-check of {args.size:,} applicants, {args.as_of} + {args.months} months (to {end}); "
          f"load average {os.getloadavg()[0]:.1f}, Polars {pl.__version__} on {pl.thread_pool_size()} threads")
    print(f"  peak RSS before reading                        {peak_mb():7.0f} MB")
    started = time.perf_counter()
    checker = Rechecker(load_rulebook(None))
    compiled = time.perf_counter()
    total, frames = applicant_frames(str(path))
    read = changes = counting = 0.0
    points = 0
    found, rows = [], 0
    while True:
        t0 = time.perf_counter()
        chunk = next(frames, None)
        read += time.perf_counter() - t0
        if chunk is None:
            break
        rows += chunk.rows
        t0 = time.perf_counter()
        points += checker.points(chunk.frame.with_row_index(PERSON), args.as_of, end).height
        t1 = time.perf_counter()
        counting += t1 - t0         # counting the evaluations is not part of the run
        found.append(checker.changes(chunk.frame, args.as_of, end))
        changes += time.perf_counter() - t1
    frame = order(pl.concat(found))
    summary = summarise(frame)
    done = time.perf_counter() - counting
    print(f"  compile the rulebook (plans for each year)     {compiled - started:7.2f} s")
    print(f"  read and validate the CSV ({rows:,} rows)       {read:7.2f} s")
    print(f"  re-check (points, evaluation, changes, reasons) {changes:7.2f} s  "
          f"({points:,} (person, day) evaluations, {points / max(rows, 1):.1f} a person)")
    print(f"  end to end                                      {done - started:7.2f} s  "
          f"= {rows / (done - started):,.0f} applicants/s")
    print(f"  changes found: {frame.height:,} ({frame['id_number'].n_unique():,} persons, "
          f"{summary.height:,} county × month × reason rows)")
    print(f"  peak RSS                                        {peak_mb():7.0f} MB")


if __name__ == "__main__":
    main()
