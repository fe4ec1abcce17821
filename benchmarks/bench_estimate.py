"""Benchmark of the caseload estimate (benefits estimate), end to end.

For each size, a synthetic caseload is generated on the fly and streamed
straight into ``estimate`` (no file, no list), on all cores. Prints
applicants per second and peak memory:

- per process peak RSS (VmHWM) of this process and every descendant, read
  from /proc while the run goes, summed: an upper bound on the simultaneous
  total, since the peaks need not coincide;
- cross-check: resource.getrusage ru_maxrss of this process and of the
  largest waited-for child.
CPU seconds of the workers are printed too: applicants per worker CPU-second
does not depend on what else the machine is running.

Usage: python benchmarks/bench_estimate.py [SIZE ...] [--workers N] [--year 2013] [--engine durable|columnar]
(durable by default: this benchmark measures the reference path's worker
pool; benchmarks/bench_batch.py measures the columnar engine.)
Default sizes: 140000 1000000. Targets (2-core machine): ≥ 25,000 applicants/s,
≤ 300 MB peak at 1,000,000.
"""
from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from pathlib import Path

from benefits.finance import estimate
from benefits.caseload.synthetic import caseload


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    for child in list(out):
        try:
            out |= _children(child)
        except OSError:
            pass
    return out


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakWatcher(threading.Thread):
    """Keeps the highest VmHWM seen of each descendant process."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peaks: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.25):
            for pid in _children(os.getpid()):
                self.peaks[pid] = max(self.peaks.get(pid, 0), _hwm_kb(pid))


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run(size: int, workers: int | None, year: int, engine: str) -> None:
    load = os.getloadavg()[0]
    cpu_self, cpu_children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    watcher = PeakWatcher()
    watcher.start()
    started = time.perf_counter()
    result = estimate(caseload(size, seed=1), year, workers=workers, engine=engine)
    elapsed = time.perf_counter() - started
    watcher.stop.set()
    watcher.join()
    cpu_self = _cpu(resource.RUSAGE_SELF) - cpu_self
    cpu_children = _cpu(resource.RUSAGE_CHILDREN) - cpu_children
    parent_kb = _hwm_kb(os.getpid())
    children_kb = sum(watcher.peaks.values())
    self_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    counts = result["counts"]
    assert counts["total"] == size == counts["evaluated"] + counts["rejected"]
    print(f"{size:>9,} applicants  engine={engine}  workers={workers or os.cpu_count()}  {elapsed:8.1f} s  "
          f"{size / elapsed:8,.0f} applicants/s  ({counts['evaluations'] / elapsed:,.0f} evaluations/s, "
          f"{counts['evaluations'] / size:.2f} per applicant)")
    print(f"          peak memory: parent {parent_kb / 1024:.0f} MB + {len(watcher.peaks)} child processes "
          f"{children_kb / 1024:.0f} MB = {(parent_kb + children_kb) / 1024:.0f} MB "
          f"(getrusage: self {self_max / 1024:.0f} MB, largest child {child_max / 1024:.0f} MB)")
    print(f"          CPU: workers {cpu_children:.1f} s ({size / cpu_children:,.0f} applicants per worker CPU-second), "
          f"parent {cpu_self:.1f} s; load average before the run {load:.2f} (other processes share the cores)")
    print(f"          estimate {year}: mid {result['total']['mid']:,.2f} yuan", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[140_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--year", type=int, default=2013)
    parser.add_argument("--engine", choices=["columnar", "durable"], default="durable")
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args.workers, args.year, args.engine)


if __name__ == "__main__":
    main()
