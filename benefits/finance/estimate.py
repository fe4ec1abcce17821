"""The finance office's caseload cost estimate (年度救助资金测算): a pure
function from a caseload to a dict that the CLI, a workbook or a web page
can show (costing/summary.py). Nothing here prints or writes files.

The columnar names (ColumnarEstimate, applicant_frames, chunk_rows,
partition_frames: Polars and PyArrow) are read from ``costing`` when a
columnar or distributed run needs them, not imported at the top: a worker of
``estimate --engine durable`` imports this package (batch.py) and should
load neither (costing/__init__.py imports them on first use).
"""
from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Optional

from tqdm import tqdm

from ..caseload import CaseloadError, chunks, open_caseload
from ..caseload.partitions import Partition, cluster_partitions, is_partitioned
from .. import costing
from ..costing import Tally, summarise
from ..distributed import Shipment, connect, run_partitions, worker_remember, worker_rulebook
from ..engine import BACK_ENDS, default_engine
from .batch import CHUNK_ROWS, estimate_chunk, run

def _durable_parts(source, fmt, rules_dir, year, workers):
    """The reference path: durable_rules on every core, chunks of rows."""
    caseload = open_caseload(source, fmt)

    def parts():
        tasks = ((caseload.names, chunk) for chunk in chunks(caseload.rows, CHUNK_ROWS))
        for tally, rejects in run(estimate_chunk, tasks, rules_dir, year, workers):
            yield tally, rejects, tally.evaluated + len({r["row"] for r in rejects})
    return caseload.total, parts()


def _tallied(estimate: costing.ColumnarEstimate, frames):
    """(tally, rejects, rows read) of each chunk, on the columnar plan."""
    for chunk in frames:
        tally, late = estimate.tally(chunk.frame)
        yield tally, sorted(chunk.rejects + late, key=lambda r: r["row"]), chunk.rows


def _columnar_parts(source, fmt, rulebook, year):
    """Applicant frames of the caseload, each tallied at once on the columnar plan."""
    total, frames = costing.applicant_frames(source, fmt)
    return total, _tallied(costing.ColumnarEstimate(rulebook, year), frames)


def estimate_partition(partition: Partition, size: int, version: str, year: int) -> list:
    """A distributed task (分区任务): one partition's chunks tallied on the
    worker's plan of ``version`` and ``year``, as the local run tallies them."""
    book = worker_rulebook(version)
    plan = worker_remember(version, ("estimate", year), lambda: costing.ColumnarEstimate(book, year))
    return list(_tallied(plan, costing.partition_frames(partition, size)))


def _distributed_parts(source, rulebook, year, scheduler, progress, on_partition, stack):
    """Each partition a task on the cluster; its chunks' tallies in partition order."""
    partitions = cluster_partitions(source)
    total = sum(p.rows for p in partitions)
    size = costing.chunk_rows(total)
    client = stack.enter_context(connect(scheduler))
    results = run_partitions(client, estimate_partition,
                             [(p, size, rulebook.version, year) for p in partitions], [Shipment.of(rulebook)],
                             progress=progress, desc=f"{year}年测算（分区）", on_progress=on_partition)
    return total, (part for chunk_parts in results for part in chunk_parts)


def estimate(source, year: int, rules_dir: Optional[str] = None, workers: Optional[int] = None,
             fmt: Optional[str] = None, progress: bool = False,
             on_reject: Optional[Callable[[dict], None]] = None,
             on_progress: Optional[Callable[[int, Optional[int]], None]] = None,
             engine: str = "columnar", scheduler: Optional[str] = None,
             on_partition: Optional[Callable[[int, int], None]] = None) -> dict:
    """Estimate a caseload's cost for ``year``.

    ``source``: a path (.csv/.xlsx/.jsonl), a stream with ``fmt``, or an
    iterable of record dicts. Rejected rows go to ``on_reject`` one by one
    ({row, field, message}) when given, else into the result's ``rejects``.
    Raises CaseloadError / LayoutError (Chinese message) if the file cannot
    be read at all; a bad row never stops the run. ``on_progress(done,
    total)`` is called with 0 at the start, after each chunk with the rows
    done so far and the expected rows (None if unknown), and once at the end
    with done == total. ``engine``: "columnar" (Polars, the default) or
    "durable" (durable_rules on every core, the reference).
    ``scheduler``: ``tcp://HOST:PORT`` or ``local:N``: each partition of a
    partitioned caseload (a folder) is a task on Dask distributed, the same
    figures to the fen (ClusterError when the cluster cannot be used);
    the progress bar then counts partitions, and ``on_partition(done,
    total)`` is called as each finishes.
    """
    if engine not in BACK_ENDS:
        raise ValueError(f"engine must be one of {BACK_ENDS}")
    reference = default_engine(rules_dir)
    with ExitStack() as stack:
        if scheduler is not None:
            if engine != "columnar":
                raise ValueError("a distributed estimate runs the columnar engine")
            total, parts = _distributed_parts(source, reference.rulebook, year, scheduler, progress,
                                              on_partition, stack)
        elif engine == "durable":
            if isinstance(source, (str, Path)) and is_partitioned(source):
                raise CaseloadError("分区台账文件夹只能用列式引擎测算（--engine columnar）")
            total, parts = _durable_parts(source, fmt, rules_dir, year, workers)
        else:
            total, parts = _columnar_parts(source, fmt, reference.rulebook, year)
        return _fold(parts, total, reference, year, progress and scheduler is None, on_reject, on_progress)


def _fold(parts, total, reference, year, progress, on_reject, on_progress) -> dict:
    """The chunks' tallies merged in order, rejects passed on, the summary."""
    kept: Optional[list] = None if on_reject else []
    sink = on_reject or kept.append
    if on_progress:
        on_progress(0, total)
    tally = Tally()
    rejected_rows = done = 0
    with tqdm(total=total, unit="人", desc=f"{year}年测算", file=sys.stderr,
              disable=not progress, dynamic_ncols=True) as bar:
        for part, rejects, rows in parts:
            tally.merge(part)
            rejected_rows += len({r["row"] for r in rejects})
            for r in rejects:
                sink(r)
            done += rows
            bar.update(rows)
            if on_progress:
                on_progress(done, total)
    if on_progress:
        on_progress(done, done)   # the file's line count may include blank lines
    return summarise(tally, reference, year, kept, done, rejected_rows)
