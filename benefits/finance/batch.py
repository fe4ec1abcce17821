"""Batch evaluation of a caseload on all cores (批量评估).

One engine per worker process, built by the pool initializer; the parent
only reads rows and sends chunks of them, with a bounded number of chunks in
flight so memory stays flat however long the file. Each chunk comes back as
a small result (a Tally, or a list of determinations) and rejects with their
row numbers; results are consumed in input order.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import threading
from contextlib import contextmanager
from collections import deque
from typing import Callable, Iterator, Optional

from ..caseload import chunks, parse_row, row_rejects
from ..costing import Planner, Tally, household_key
from ..engine import EngineError, InvalidApplicant, default_engine

CHUNK_ROWS = 250
_IN_FLIGHT_PER_WORKER = 3

_worker: dict = {}


def _init(rules_dir: Optional[str], year: Optional[int], worker: bool = False) -> None:
    if worker:
        # Ctrl-C reaches the whole process group: the parent alone handles it
        # and stops the pool; a worker would only print a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = default_engine(rules_dir)
    _worker["engine"] = engine
    _worker["planner"] = Planner(engine, year) if year is not None else None


def estimate_chunk(task) -> tuple[Tally, list[dict]]:
    """Worker: evaluate each row on its change points and fold into a Tally."""
    names, rows = task
    engine, planner = _worker["engine"], _worker["planner"]
    tally, rejects = Tally(), []
    for number, payload in rows:
        try:
            record = parse_row(names, payload)
            points = planner.points(record)
            results = [engine.determine(record, day, explain=False, events_from=planner.start)
                       for day in points]
        except (InvalidApplicant, EngineError) as exc:
            rejects += row_rejects(number, exc)
            continue
        tally.add_person(record.hukou_county or "", results, planner.weights(points), planner.prorated,
                         household_key(record))
    return tally, rejects


def evaluate_chunk(task) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Worker: one determination per row on ``as_of`` (None: the record's own date)."""
    names, rows, as_of, explain = task
    engine = _worker["engine"]
    results, rejects = [], []
    for number, payload in rows:
        try:
            results.append((number, engine.determine(parse_row(names, payload), as_of, explain)))
        except (InvalidApplicant, EngineError) as exc:
            rejects += row_rejects(number, exc)
    return results, rejects


@contextmanager
def _sigint_ignored():
    """Workers start with Ctrl-C ignored (the disposition survives exec), so
    one pressed while they import cannot print their tracebacks."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(work: Callable, tasks: Iterator, rules_dir: Optional[str], year: Optional[int],
        workers: Optional[int] = None) -> Iterator:
    """Apply ``work`` to each task, in order. ``workers`` ≤ 1 runs in this
    process (no pool); otherwise a spawn pool with one engine per process."""
    workers = workers or os.cpu_count() or 1
    if workers <= 1:
        _init(rules_dir, year)
        yield from map(work, tasks)
        return
    default_engine(rules_dir)     # a bad rulebook fails here, not in workers the pool keeps restarting
    context = multiprocessing.get_context("spawn")
    with _sigint_ignored():
        pool = context.Pool(workers, initializer=_init, initargs=(rules_dir, year, True))
    with pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.apply_async(work, (task,)))
            if len(pending) >= workers * _IN_FLIGHT_PER_WORKER:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def evaluate_many(caseload, as_of: Optional[dt.date] = None, explain: bool = False,
                  rules_dir: Optional[str] = None, workers: Optional[int] = None) -> Iterator:
    """Determinations for a caseload (see readers.open_caseload): yields
    ("result", row, determination) and ("reject", row, [{field, message}])
    in row order per chunk."""
    tasks = ((caseload.names, chunk, as_of, explain) for chunk in chunks(caseload.rows, CHUNK_ROWS))
    for results, rejects in run(evaluate_chunk, tasks, rules_dir, None, workers):
        by_row: dict[int, list] = {}
        for r in rejects:
            by_row.setdefault(r["row"], []).append({"field": r["field"], "message": r["message"]})
        items = [(n, "result", res) for n, res in results] + [(n, "reject", e) for n, e in by_row.items()]
        for number, kind, value in sorted(items, key=lambda item: item[0]):
            yield kind, number, value

