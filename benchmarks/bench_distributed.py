"""Benchmark of the estimate on Dask distributed (benefits estimate --scheduler)
against the streamed single-process estimate of the same partitioned caseload.

The caseload: ``--base`` applicants generated once (``benefits generate
--seed 1``) as partitions of ``--rows`` records, cached in
benchmarks/.cache/; a caseload of SIZE applicants is a folder of SIZE/rows
partitions that are hard links to those, in turn (the same applicants again:
the work per row does not depend on who they are, and no generated member
has an ID number, so no household joins two partitions). Its manifest says so.

For each SIZE, printed:
- local: ``estimate(folder)`` in this process, the partitions read one at a
  time (the streamed single-process run): wall time, peak RSS;
- distributed: a LocalCluster of ``--workers`` worker processes (one thread
  each) started first (its start-up printed apart), then
  ``estimate(folder, scheduler=…)``: wall time, each worker's peak RSS, the
  client's peak RSS, the tasks' compute time (Dask's task stream) and the
  overhead per partition = (wall × workers − Σ task compute) / partitions:
  the time a partition costs beyond its own work (scheduling, transfer of
  the tally, the client's merge, idle workers at the end);
- whether both give the same estimate (the whole summary, to the fen).

Worker CPU seconds (summed over the workers, all their threads) are printed
too: CPU per applicant does not depend on what else the machine runs, and
is what sizing a cluster rests on.

Usage: python benchmarks/bench_distributed.py [SIZE ...] [--workers 2] [--rows 200000] [--base 1000000]
       [--skip-local] [--polars-threads N]
Default sizes: 2000000 5000000 10000000. Prints figures, asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path

from benefits.caseload import synthetic
from benefits.caseload.partitions import MANIFEST, read_partitions, write_partitioned
from benefits.finance.estimate import estimate

CACHE = Path(__file__).resolve().parent / ".cache"
YEAR = 2013


def _base(size: int, rows: int) -> list:
    folder = CACHE / f"partitioned-{size}-{rows}"
    if not (folder / MANIFEST).is_file():
        CACHE.mkdir(exist_ok=True)
        started = time.perf_counter()
        write_partitioned(synthetic.caseload(size, seed=1), size, size // rows, folder,
                          {"generator": "benefits generate", "seed": 1, "bad": 0, "year": YEAR})
        print(f"generated {size:,} applicants in {size // rows} partitions: {time.perf_counter() - started:.1f} s")
    return read_partitions(folder)


def _caseload(size: int, base: list, rows: int) -> Path:
    """SIZE applicants: the base partitions in turn, hard-linked."""
    folder = CACHE / f"distributed-{size}-{rows}"
    if (folder / MANIFEST).is_file():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    listed = []
    for index in range(size // rows):
        source = base[index % len(base)]
        name = f"part-{index:05d}.parquet"
        os.link(source.path, folder / name)
        listed.append({"file": name, "rows": source.rows})
    manifest = {"kind": "benefits-partitioned-caseload", "rows": size, "seed": 1,
                "note": f"the {len(base)} partitions of {base[0].path.parent.name} repeated", "partitions": listed}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return folder


def _rss_mb() -> float:
    """This process's peak RSS (VmHWM: its own, where ru_maxrss would carry
    the parent's peak across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _distributed(folder: Path, workers: int, threads: str | None) -> tuple[dict, dict]:
    from distributed import Client, LocalCluster, get_task_stream
    started = time.perf_counter()
    env = {"POLARS_MAX_THREADS": threads} if threads else {}
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50, env=env) as cluster, Client(cluster) as client:
        start_up = time.perf_counter() - started
        cpu_before = client.run(time.process_time)
        with get_task_stream(client) as stream:
            began = time.perf_counter()
            result = estimate(folder, YEAR, scheduler=cluster.scheduler_address)
            wall = time.perf_counter() - began
        cpu = sum(client.run(time.process_time)[w] - c for w, c in cpu_before.items())
        peaks = client.run(_rss_mb)
        compute = [sum(s["stop"] - s["start"] for s in t["startstops"] if s["action"] == "compute")
                   for t in stream.data if str(t["key"]).startswith("benefits-")]
    return result, {"start_up": start_up, "wall": wall, "peaks": sorted(peaks.values()), "compute": compute,
                    "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[2_000_000, 5_000_000, 10_000_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=200_000, help="records per partition")
    parser.add_argument("--base", type=int, default=1_000_000, help="applicants generated (then repeated)")
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--polars-threads", default=None, help="POLARS_MAX_THREADS of each worker (default: Polars' own)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS', '(default)')}")
    base = _base(args.base, args.rows)
    for size in args.sizes:
        folder = _caseload(size, base, args.rows)
        parts = len(read_partitions(folder))
        print(f"\n{size:,} applicants, {parts} partitions of {args.rows:,}")
        local = None
        if not args.skip_local:
            began, cpu = time.perf_counter(), time.process_time()
            local = estimate(folder, YEAR)
            wall, cpu = time.perf_counter() - began, time.process_time() - cpu
            print(f"  local, streamed, one process: {wall:.1f} s = {size / wall:,.0f} applicants/s; "
                  f"CPU {cpu:.1f} s = {cpu / size * 1e6:.1f} CPU-µs per applicant; "
                  f"peak RSS {_rss_mb():,.0f} MB (this process so far)")
        result, d = _distributed(folder, args.workers, args.polars_threads)
        work = sum(d["compute"])
        overhead = (d["wall"] * args.workers - work) / parts
        print(f"  distributed, LocalCluster of {args.workers} (start-up {d['start_up']:.1f} s, not counted): "
              f"{d['wall']:.1f} s = {size / d['wall']:,.0f} applicants/s")
        print(f"    worker peak RSS: {', '.join(f'{p:,.0f} MB' for p in d['peaks'])}")
        print(f"    worker CPU: {d['cpu']:.1f} s = {d['cpu'] / size * 1e6:.1f} CPU-µs per applicant")
        print(f"    task compute: {work:.1f} s over {len(d['compute'])} tasks "
              f"(mean {work / max(1, len(d['compute'])):.2f} s, max {max(d['compute'], default=0):.2f} s); "
              f"overhead per partition {overhead:.2f} s")
        if local is not None:
            print(f"    speed-up over the local run: {wall / d['wall']:.2f}×; "
                  f"same estimate to the fen: {'yes' if result == local else 'NO'}")
        print(f"  client peak RSS so far: {_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
