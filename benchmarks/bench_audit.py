"""The roll audit end to end (名册核对, issue 19): a generated caseload of N
persons (default 1,000,000) and a roll of R rows (default 1,500,000), read,
validated, evaluated, joined, summarised and written; prints the time of
each stage, the peak RSS and the machine's load (figures, never assertions).

The caseload CSV is generated once into benchmarks/.cache/ (``benefits
generate``, seed 1). The roll is the roll the rules call for with planted
errors (``benefits.audit.planted``), padded to R rows with rows paid to
persons found ineligible (错保) and to persons not in the caseload
(名册有台账无), written once as CSV into the cache.
Usage: PYTHONPATH=. python benchmarks/bench_audit.py [--size N] [--roll-rows R]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from benefits.audit import Auditor, load_names, read_roll, summarise, write_audit_workbook
from benefits.audit.workbook import findings_csv
from benefits.audit.api import Audit, caseload_frame, quotes_of
from benefits.audit.chart import audit_chart
from benefits.audit.findings import INELIGIBLE, STATUS, UNIT
from benefits.audit.planted import planted_roll, spec_names, write_roll
from benefits.engine.identity import check_character
from benefits.engine.rulebook import load_rulebook

from bench_batch import AS_OF, CACHE, caseload_csv, peak_mb   # the same cached caseload (benchmarks/ is on sys.path)


def roll_path(size: int, rows: int) -> Path:
    return CACHE / f"roll-{size}-{rows}-v2.csv"


def roll_csv(size: int, rows: int) -> Path:
    """The cached roll, built in a process of its own (the measured run's peak RSS is its own)."""
    path = roll_path(size, rows)
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--size", str(size), "--roll-rows", str(rows), "--build-roll"],
                       check=True)
    return path


def build_roll(caseload: Path, size: int, rows: int) -> None:
    path = roll_path(size, rows)
    print(f"building a {rows:,}-row roll into {path} …", flush=True)
    book = load_rulebook()
    names = load_names(book)
    frame, _, _ = caseload_frame(caseload, None)
    roll, _ = planted_roll(frame, book, names, AS_OF, seed=1)
    rng = random.Random(2)
    auditor = Auditor(book, names)
    people = auditor.person_lines(auditor.evaluate(frame, AS_OF)[0])
    wrong = people.filter((pl.col(STATUS) == INELIGIBLE) & (pl.col(UNIT) == pl.col("id_number"))).select(
        "id_number", "line", "hukou_county").sample(fraction=1.0, shuffle=True, seed=3).rows()
    synonyms = {line: [n for n in spec_names(names, line) if not n.isascii()] for line in names.lines}
    pad = rows - len(roll)
    for id_number, line, county in wrong[:int(pad * 0.9)]:
        roll.append((id_number, rng.choice(synonyms[line]), f"{rng.randrange(50, 500)}.00", "2012-12-01", county))
    while len(roll) < rows:                           # persons the caseload does not have
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(60 * 365))
        first17 = f"411282{born:%Y%m%d}{rng.randrange(1000):03d}"
        roll.append((first17 + check_character(first17), "低保", "300.00", "2012-12-01", "411282"))
    write_roll(roll, path)


def timed(label: str, work, times: dict):
    """Wall time and CPU time (all threads; on a shared machine the CPU time says what the work costs)."""
    started, cpu = time.perf_counter(), time.process_time()
    value = work()
    times[label] = time.perf_counter() - started
    print(f"  {label:<40} {times[label]:7.2f} s wall {time.process_time() - cpu:7.2f} s CPU   "
          f"peak RSS {peak_mb():,.0f} MB", flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--roll-rows", type=int, default=1_500_000)
    parser.add_argument("--build-roll", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    caseload = caseload_csv(args.size)
    if args.build_roll:
        build_roll(caseload, args.size, args.roll_rows)
        return
    roll_file = roll_csv(args.size, args.roll_rows)
    load = os.getloadavg()
    print(f"\nroll audit: {args.size:,} persons, {args.roll_rows:,} roll rows, as of {AS_OF}; "
          f"{os.cpu_count()} cores, Polars {pl.__version__} on {pl.thread_pool_size()} threads; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start", flush=True)
    times: dict = {}
    started, cpu = time.perf_counter(), time.process_time()
    book = timed("load rulebook and names file", lambda: (load_rulebook(),), times)[0]
    names = load_names(book)
    frame, rejects, rows_read = timed("read and validate the caseload CSV", lambda: caseload_frame(caseload, None),
                                      times)
    roll = timed("read and validate the roll CSV", lambda: read_roll(roll_file, names, AS_OF), times)
    auditor = timed("compile the audited lines' plan", lambda: Auditor(book, names), times)
    covers = set(roll.frame["line"].unique().to_list())
    filled = timed("read 已纳入 off the roll (register)", lambda: auditor.registered(frame, roll.frame, covers),
                   times)
    result, late = timed("evaluate (columnar plan)", lambda: auditor.evaluate(filled, AS_OF), times)
    people = timed("per person and line", lambda: auditor.person_lines(result), times)
    raw = timed("join with the roll, findings", lambda: auditor._findings(people, result, roll.frame, AS_OF, True),
                times)
    findings = timed("explain 错保 and 待核 (per distinct pattern)", lambda: auditor.explain(raw, result), times)
    summary = timed("summarise by county × line", lambda: summarise(findings), times)
    audit = Audit(AS_OF, book.version, findings, summary, rejects + late, roll.rejects,
                  {"caseload_rows": rows_read, "persons": frame.height, "roll_rows": roll.rows,
                   "roll_used": roll.frame.height, "roll_rejected_rows": len({r["row"] for r in roll.rejects})},
                  {k: v.label_zh for k, v in names.lines.items()}, needs=dict(auditor.group),
                  quotes=quotes_of(book, names))
    with tempfile.TemporaryDirectory() as folder:
        png = Path(folder) / "audit.png"
        timed("chart (PNG)", lambda: audit_chart(audit, png), times)
        timed("workbook (XLSX, ≤ 10,000 rows a sheet)", lambda: write_audit_workbook(
            audit, Path(folder) / "audit.xlsx", chart_png=str(png)), times)
        timed("every finding (CSV)", lambda: findings_csv(audit, Path(folder) / "audit.findings.csv"), times)
    total = time.perf_counter() - started
    print("\n  findings: " + ", ".join(f"{k} {n:,}" for k, n in findings.group_by("kind").len().sort("kind").rows()))
    print(f"  end to end {total:.2f} s wall, {time.process_time() - cpu:.2f} s CPU (target ≤ 10 s); peak RSS {peak_mb():,.0f} MB (target ≤ 2,048 MB); "
          f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
