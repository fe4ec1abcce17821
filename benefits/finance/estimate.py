"""The finance office's caseload cost estimate (年度救助资金测算): a pure
function from a caseload to a dict that the CLI, a workbook or a web page
can show (costing/summary.py). Nothing here prints or writes files.
"""
from __future__ import annotations

import sys
from typing import Callable, Optional

from tqdm import tqdm

from ..caseload import chunks, open_caseload
from ..costing import ColumnarEstimate, Tally, applicant_frames, summarise
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


def _columnar_parts(source, fmt, rulebook, year):
    """Applicant frames of the caseload, each tallied at once on the columnar plan."""
    total, frames = applicant_frames(source, fmt)
    estimate = ColumnarEstimate(rulebook, year)

    def parts():
        for chunk in frames:
            tally, late = estimate.tally(chunk.frame)
            yield tally, sorted(chunk.rejects + late, key=lambda r: r["row"]), chunk.rows
    return total, parts()


def estimate(source, year: int, rules_dir: Optional[str] = None, workers: Optional[int] = None,
             fmt: Optional[str] = None, progress: bool = False,
             on_reject: Optional[Callable[[dict], None]] = None,
             on_progress: Optional[Callable[[int, Optional[int]], None]] = None,
             engine: str = "columnar") -> dict:
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
    """
    if engine not in BACK_ENDS:
        raise ValueError(f"engine must be one of {BACK_ENDS}")
    reference = default_engine(rules_dir)
    kept: Optional[list] = None if on_reject else []
    sink = on_reject or kept.append
    total, parts = (_durable_parts(source, fmt, rules_dir, year, workers) if engine == "durable"
                    else _columnar_parts(source, fmt, reference.rulebook, year))
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
