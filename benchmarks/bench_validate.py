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
from benefits.caseload.readers import open_caseload


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

    def timed(work):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        return result, time.perf_counter() - wall, time.process_time() - cpu

    raw, read, read_cpu = timed(lambda: read_csv_frame(path))
    fast, checks, checks_cpu = timed(lambda: validate._fast(raw, validate.plan())["__fast"].sum())
    (frame, rejects), total, total_cpu = timed(lambda: validate.validate_frame(raw))
    n = len(raw)
    print(f"rows {n:,}: valid {len(frame):,}, rejected rows {len({r['row'] for r in rejects}):,}, "
          f"decided column-wise {fast:,} ({fast / n:.2%}), slow path {n - fast:,}")
    print("                       wall        rows/s (wall)   CPU (all threads)")
    for label, wall, cpu in (("read_csv_frame", read, read_cpu), ("vectorised checks", checks, checks_cpu),
                             ("validate_frame", total, total_cpu),
                             ("read + validate", read + total, read_cpu + total_cpu)):
        print(f"{label:20s} {wall:6.2f} s  {n / wall:14,.0f}   {cpu:6.2f} s")

    caseload = open_caseload(path)
    rows = list(islice(caseload.rows, args.sample))
    _, slow, slow_cpu = timed(lambda: [validate.slow_row(caseload.names, cells) for _, cells in rows])
    print(f"slow path (unflatten + parse_applicant) on {len(rows):,} rows: {slow:6.2f} s, "
          f"{len(rows) / slow:,.0f} rows/s, CPU {slow_cpu:.2f} s")
    print(f"validate_frame / slow path, rows per second: {(n / total) / (len(rows) / slow):.1f}×")


if __name__ == "__main__":
    main()
