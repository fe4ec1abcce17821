"""Column-wise validation of a caseload CSV against the row-by-row path.

    .venv/bin/python benchmarks/bench_validate.py [CSV] [--size N] [--sample N]

CSV defaults to /tmp/x.csv, generated once (``benefits generate``) if it
is not there. Prints rows/s of read_csv_frame + validate_frame on the whole
file and of unflatten + parse_applicant on a sample of it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import polars as pl

from benefits.engine.columnar import validate
from benefits.engine.columnar.readers import read_csv_frame
from benefits.finance.readers import open_caseload


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv", nargs="?", default="/tmp/x.csv")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()
    path = Path(args.csv)
    if not path.exists():
        print(f"generating {args.size:,} rows into {path} (once)…", flush=True)
        subprocess.run([Path(sys.executable).with_name("benefits"), "generate", "--size", str(args.size),
                        "--out", str(path)], check=True)
    print(f"polars {pl.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"fields that fall back: {validate.fallbacks() or 'none'}")

    start = time.perf_counter()
    raw = read_csv_frame(path)
    read = time.perf_counter() - start
    start = time.perf_counter()
    fast = validate._fast(raw, validate.plan())["__fast"].sum()
    checks = time.perf_counter() - start
    start = time.perf_counter()
    frame, rejects = validate.validate_frame(raw)
    total = time.perf_counter() - start
    n = len(raw)
    print(f"rows {n:,}: valid {len(frame):,}, rejected rows {len({r['row'] for r in rejects}):,}, "
          f"decided column-wise {fast:,} ({fast / n:.2%}), slow path {n - fast:,}")
    print(f"read_csv_frame        {read:6.2f} s  {n / read:12,.0f} rows/s")
    print(f"vectorised checks     {checks:6.2f} s  {n / checks:12,.0f} rows/s")
    print(f"validate_frame        {total:6.2f} s  {n / total:12,.0f} rows/s")
    print(f"read + validate       {read + total:6.2f} s  {n / (read + total):12,.0f} rows/s")

    caseload = open_caseload(path)
    rows = list(islice(caseload.rows, args.sample))
    start = time.perf_counter()
    for _, cells in rows:
        validate.slow_row(caseload.names, cells)
    slow = time.perf_counter() - start
    print(f"slow path (unflatten + parse_applicant, {len(rows):,} rows): {slow:6.2f} s  "
          f"{len(rows) / slow:12,.0f} rows/s  → column-wise is {(len(rows) / slow and (n / total) / (len(rows) / slow)):.1f}× faster")


if __name__ == "__main__":
    main()
