"""Finance estimates in the background (后台测算任务), one job at a time.

A request never runs an estimate: it stores the upload, adds a queued row to
``estimates`` and calls ``submit``. The app's "estimate" pool (workers.py:
one worker, at most ``ESTIMATE_QUEUE`` waiting; one more is refused with
``workers.Full``, a 503) takes the jobs in order, so at most one estimate
runs per server process (each with ``FINANCE_WORKERS`` processes; 1 = inside
that thread). The worker
has its own database connection (a sqlite-utils Database never crosses
threads) and writes progress at most every PROGRESS_EVERY seconds. A job
that ends writes the result JSON, the chart PNG and the XLSX workbook into
its folder and deletes the upload: the caseload holds personal data, the
result only figures.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..engine import RulebookError
from ..caseload import CaseloadError, LayoutError
from ..finance import estimate
from ..finance.workbook import write_workbook
from . import store
from .workers import BoundedPool, Full

PROGRESS_EVERY = 0.5   # seconds between progress writes
SHOWN_REJECTS = 20     # rejects kept in the result for the page; all go to the workbook
CHART = "chart.png"
WORKBOOK = "estimate.xlsx"
INTERNAL_ZH = "测算失败：服务器内部错误，请联系系统管理员"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: int
    database: str
    folder: Path
    upload: Path
    year: int
    fmt: str
    rules_dir: Optional[str]
    workers: int


def submit(pool: BoundedPool, job: Job) -> None:
    """Queue a job on the app's estimate pool; raises workers.Full when the
    queue is full (the job is then marked failed and its upload deleted)."""
    try:
        pool.submit(job.id, lambda: run(job))
    except Full as exc:
        db = store.connect(job.database)
        try:
            store.estimate_failed(db, job.id, str(exc))
        finally:
            job.upload.unlink(missing_ok=True)
            db.close()
        raise


def run(job: Job) -> None:
    """Run one job to done or failed (with a Chinese message, never a traceback)."""
    db = store.connect(job.database)
    try:
        store.estimate_started(db, job.id)
        try:
            result = _estimate(job, db)
        except (CaseloadError, LayoutError) as exc:
            store.estimate_failed(db, job.id, str(exc))
        except RulebookError as exc:
            store.estimate_failed(db, job.id, f"规则文件错误：{exc}")
        except Exception:
            log.exception("estimate job %s failed", job.id)
            store.estimate_failed(db, job.id, INTERNAL_ZH)
        else:
            store.estimate_done(db, job.id, result)
    finally:
        job.upload.unlink(missing_ok=True)
        db.close()


def _estimate(job: Job, db) -> dict:
    from ..finance.chart import county_chart        # matplotlib: only when a job runs, not when the app starts

    last = [float("-inf")]

    def progress(done: int, total: Optional[int]) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            store.estimate_progress(db, job.id, done, total)

    shown: list[dict] = []
    spool_path = job.folder / "rejects.jsonl"
    with open(os.open(spool_path, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o600), "w+", encoding="utf-8") as spool:
        def keep(reject: dict) -> None:
            spool.write(json.dumps(reject, ensure_ascii=False) + "\n")
            if len(shown) < SHOWN_REJECTS:
                shown.append(reject)

        result = estimate(str(job.upload), job.year, rules_dir=job.rules_dir, workers=job.workers,
                          fmt=job.fmt, on_reject=keep, on_progress=progress)
        result["rejects"] = shown
        chart = job.folder / CHART
        county_chart(result, chart)
        spool.seek(0)
        write_workbook(result, job.folder / WORKBOOK, rejects=(json.loads(line) for line in spool),
                       chart_png=str(chart))
    spool_path.unlink()
    for written in (chart, job.folder / WORKBOOK):
        store.private_file(written)
    return result

