"""Columnar against durable_rules on the same generated caseload, side by side.

Prints (figures, never assertions):
1. in-memory evaluation of N applicants (default 1,000,000), every line and
   every condition's status: applicants/s, and where the time goes (facts,
   parameters, rules, outputs);
2. the durable_rules engine on a sample of the same applicants: applicants/s
   and the columnar / durable ratio;
3. ``benefits estimate`` end to end on the N-row CSV (read, validate,
   change points, evaluate, tally, workbook): wall time and peak RSS, and the
   evaluation time on 140,000 rows;
4. 10,000,000 applicants streamed in chunks of 1,000,000 (resampled from the
   generated caseload, each chunk with its own seed): time and peak RSS;
5. the estimate's stages, in this process, as ``benefits estimate`` runs
   them (``--stages``, on by default): waiting for the next chunk of the CSV
   (read and validated), change points, facts, the plan, the fold, merging
   the tallies, the summary; CPU seconds of all threads, and the load.

The caseload CSV is generated once into benchmarks/.cache/ (``benefits
generate``, seed 1). Usage: python benchmarks/bench_batch.py [--size N]
[--stream N] [--durable-sample N] [--skip-stream] [--only-stages [--sequential]]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from benefits.engine import default_engine
from benefits.engine.columnar import ColumnarEngine
from benefits.engine.columnar.facts import DAY, with_facts
from benefits.engine.columnar.params import parameter_expressions
from benefits.engine.columns import fact_column
from benefits.engine.columnar.readers import read_csv_frame
from benefits.engine.columnar.validate import validate_frame

CACHE = Path(__file__).resolve().parent / ".cache"
AS_OF = dt.date(2013, 7, 1)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def caseload_csv(size: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"caseload-{size}.csv"
    if not path.exists():
        print(f"generating {size:,} applicants into {path} …", flush=True)
        subprocess.run([sys.executable, "-m", "benefits.cli", "generate", "--size", str(size), "--seed", "1",
                        "--out", str(path)], check=True)
    return path


def timed(label: str, work):
    """Wall seconds (returned) and CPU seconds of all threads (printed too:
    on the shared machine the CPU seconds depend far less on the load)."""
    started, cpu = time.perf_counter(), time.process_time()
    value = work()
    elapsed = time.perf_counter() - started
    print(f"  {label:<46} {elapsed:7.2f} s   CPU {time.process_time() - cpu:6.2f} s", flush=True)
    return value, elapsed


def in_memory(columnar: ColumnarEngine, frame: pl.DataFrame) -> float:
    size = frame.height
    print(f"\n1. in-memory evaluation, {size:,} applicants, all {len(columnar.rulebook.benefits)} lines and "
          f"{sum(len(r.conditions) for r in columnar.plan.rules)} condition statuses (as of {AS_OF})")
    columnar.evaluate_frame(frame.head(1000), AS_OF)       # warm up
    (result, _), elapsed = timed("evaluate_frame", lambda: columnar.evaluate_frame(frame, AS_OF))
    print(f"  → {size / elapsed:,.0f} applicants/s  ({result.width} columns out)")
    # where the time goes: the plan's stages one after another
    lazy = frame.lazy().with_columns(pl.lit(AS_OF).alias(DAY))
    facts = with_facts(lazy, columnar.rulebook.event_days())
    params = {}
    for spec in columnar.rulebook.parameters.values():
        params.update(parameter_expressions(spec))
    _, t_facts = timed("stage: facts only", lambda: facts.collect())
    _, t_params = timed("stage: facts + parameters", lambda: facts.with_columns(**params).collect())
    print(f"  rules, amounts, payers, duplicates, missing facts: ≈ {elapsed - t_params:.2f} s; "
          f"parameters ≈ {t_params - t_facts:.2f} s; facts ≈ {t_facts:.2f} s")
    return size / elapsed


def parameters_once(columnar: ColumnarEngine, frame: pl.DataFrame) -> None:
    """Parameters per row (the plan's way: each parameter's chain of dated
    entries on every row) against once per distinct (day, county, 城镇/农村)
    and joined onto the rows (issue 22's proposal), on the estimate's long
    frame (a row per person and change point); CPU seconds of all threads."""
    from benefits.costing import ColumnarEstimate
    from benefits.costing.columnar import PERSON
    est = ColumnarEstimate(columnar.rulebook, AS_OF.year)
    part = frame.head(200_000).with_row_index(PERSON)
    facts = est.facts(part, est.points(part))
    params = {}
    for spec in columnar.rulebook.parameters.values():
        params.update(parameter_expressions(spec))
    keys = [DAY, fact_column("hukou_county"), fact_column("residence")]

    def per_row():
        return facts.lazy().with_columns(**params).collect()

    def once_per_key():
        table = facts.lazy().select(keys).unique().with_columns(**params)
        return facts.lazy().join(table, on=keys, how="left", nulls_equal=True, maintain_order="left").collect()

    print(f"\n   parameters on the estimate's long frame ({facts.height:,} rows, {len(params)} columns, "
          f"{facts.select(keys).n_unique()} distinct (day, county, 城镇/农村)), best of 3, CPU s:")
    for label, work in (("per row (the plan)", per_row), ("once per distinct key, joined", once_per_key)):
        best = min(_cpu(work) for _ in range(3))
        print(f"  {label:<46} {best:7.3f} s CPU", flush=True)


def _cpu(work) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def durable(engine, frame_path: Path, sample: int, columnar_rate: float) -> None:
    print(f"\n2. durable_rules on the first {sample:,} applicants of the same caseload (one process)")
    from benefits.caseload import open_caseload, parse_row
    caseload = open_caseload(str(frame_path))
    records = []
    for number, payload in caseload.rows:
        try:
            records.append(parse_row(caseload.names, payload))
        except Exception:
            continue
        if len(records) == sample:
            break
    _, elapsed = timed("determine (explain=True)", lambda: [engine.determine(r, AS_OF) for r in records])
    rate = len(records) / elapsed
    print(f"  → {rate:,.0f} applicants/s; columnar / durable = {columnar_rate / rate:,.0f}×")


def estimate_end_to_end(path: Path, size: int) -> None:
    print(f"\n3. benefits estimate end to end, {size:,}-row CSV, year 2013 (separate process)")
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "benefits.cli", "estimate", str(path), "--year", "2013",
                   "--out", str(Path(tmp) / "out.xlsx"), "--quiet"]
        started = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-v", *command] if Path("/usr/bin/time").exists() else command,
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        peak = next((line.split(":")[1].strip() for line in proc.stderr.splitlines()
                     if "Maximum resident set size" in line), None)
        print(f"  wall {elapsed:.2f} s, exit {proc.returncode}" +
              (f", peak RSS {int(peak) / 1024:.0f} MB" if peak else " (install `time` for the peak RSS)"))
        if proc.returncode:
            print(proc.stderr[-2000:])


def streamed(columnar: ColumnarEngine, pool: pl.DataFrame, total: int, chunk: int) -> None:
    print(f"\n4. {total:,} applicants streamed in chunks of {chunk:,} (resampled from the caseload)")
    started = time.perf_counter()
    eligible = 0
    for i in range(total // chunk):
        frame = pool.sample(chunk, with_replacement=True, seed=i)
        result, _ = columnar.evaluate_frame(frame, AS_OF)
        eligible += result.select(pl.col("rule.dibao_inclusion").sum()).item()
    elapsed = time.perf_counter() - started
    print(f"  {elapsed:.1f} s, {total / elapsed:,.0f} applicants/s, peak RSS of this process {peak_mb():,.0f} MB "
          f"(纳入低保 eligible: {eligible:,})")


def estimate_stages(path: Path, size: int, year: int = 2013, sequential: bool = False) -> None:
    """The estimate's chunks one after another, each stage timed: wall, and
    CPU seconds of the whole process (with the read-ahead thread on, its
    reading and validating run during the other stages and their CPU is
    counted there: ``sequential`` reads each chunk only when it is due)."""
    from benefits.costing import ColumnarEstimate, Tally, applicant_frames, summarise
    from benefits.costing.columnar import PERSON
    how = "each chunk read when due" if sequential else "the next chunk read while this one is evaluated"
    print(f"\n5. the estimate's stages, {size:,}-row CSV, year {year}, {how} (this process; load "
          f"{os.getloadavg()[0]:.1f})", flush=True)
    engine = default_engine()
    est = ColumnarEstimate(engine.rulebook, year)
    stages = {k: [0.0, 0.0] for k in ("read + validate (waited for)", "change points", "facts", "plan", "fold",
                                      "merge", "summary")}

    def clock(stage, work, *args):
        started, cpu = time.perf_counter(), time.process_time()
        value = work(*args)
        stages[stage][0] += time.perf_counter() - started
        stages[stage][1] += time.process_time() - cpu
        return value

    fold = est._fold
    est._fold = lambda *a: clock("fold", fold, *a)
    started, cpu = time.perf_counter(), time.process_time()
    if sequential:
        try:
            from benefits.costing.frames import _columnwise
            from benefits.costing.frames import chunk_rows
            from benefits.engine.columnar.readers import csv_frames
            chunks = _columnwise(csv_frames(path, chunk_rows)[1])
        except ImportError:          # before issue 22: the file read whole, then validated a chunk at a time
            _, chunks = applicant_frames(str(path))
    else:
        _, chunks = applicant_frames(str(path))
    chunks = iter(chunks)
    tally = Tally()
    rows = 0
    while True:
        chunk = clock("read + validate (waited for)", next, chunks, None)
        if chunk is None:
            break
        frame = chunk.frame.with_row_index(PERSON)
        points = clock("change points", est.points, frame)
        facts = clock("facts", est.facts, frame, points)
        before = list(stages["fold"])
        part, _, _, _, _ = clock("plan", est.run, frame, points, facts)
        stages["plan"][0] -= stages["fold"][0] - before[0]
        stages["plan"][1] -= stages["fold"][1] - before[1]
        clock("merge", tally.merge, part)
        rows += chunk.rows
    clock("summary", summarise, tally, engine, year, [], rows, 0)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    for stage, (seconds, cpu_seconds) in stages.items():
        print(f"  {stage:<46} {seconds:7.2f} s   CPU {cpu_seconds:6.2f} s", flush=True)
    print(f"  all stages: wall {wall:.2f} s, CPU {cpu:.2f} s (all threads), peak RSS {peak_mb():,.0f} MB, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--durable-sample", type=int, default=5_000)
    parser.add_argument("--stream", type=int, default=10_000_000)
    parser.add_argument("--skip-stream", action="store_true")
    parser.add_argument("--only-stages", action="store_true", help="section 5 alone")
    parser.add_argument("--sequential", action="store_true",
                        help="section 5 without the read-ahead thread (each stage's CPU alone)")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}, polars {pl.__version__}, "
          f"threads {pl.thread_pool_size()}")
    path = caseload_csv(args.size)
    if args.only_stages:
        estimate_stages(path, args.size, sequential=args.sequential)
        return
    engine = default_engine()
    columnar = ColumnarEngine(engine.rulebook)
    raw, _ = timed("read CSV into the raw frame", lambda: read_csv_frame(path))
    (frame, rejects), t_valid = timed("validate column-wise", lambda: validate_frame(raw))
    print(f"  {frame.height:,} valid, {len(rejects)} rejected: {raw.height / t_valid:,.0f} rows/s validated")
    rate = in_memory(columnar, frame)
    parameters_once(columnar, frame)
    durable(engine, path, args.durable_sample, rate)
    small = frame.head(140_000)
    print("\n   140,000 applicants:")
    timed("evaluate_frame (140,000)", lambda: columnar.evaluate_frame(small, AS_OF))
    estimate_end_to_end(path, args.size)
    if not args.skip_stream:
        streamed(columnar, frame, args.stream, 1_000_000)
    del raw, frame, small
    estimate_stages(path, args.size)
    print(f"\npeak RSS of this process: {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
