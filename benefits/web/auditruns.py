"""Roll audits for the web (名册核对任务): the audit and its 动态管理 re-check
list run in one background thread, each result kept for the user who ran it.

No HTTP here: benefits/web/audit.py (pages) and api.py (POST /audit) call it.
Nothing is decided here: the findings, the summary, the workbook and the
chart are benefits.audit's (``run_audit``, ``write_audit_workbook``,
``audit_chart``), the re-check list is ``run_recheck``'s. This module only
reads the uploads' headers before a job is queued (a bad header is an error
at the form's field), runs the job with progress, writes its files (0600 in
a 0700 folder beside the database; the uploads are deleted as soon as they
are read) and turns the results into plain data for a page or the API, ID
numbers masked (lists never show whole ones; only a county's clerk gets
them, in the workbook of their own county).

Like the policy what-if (whatif.py) the runs live in memory (a restart
forgets them); they run in the app's "audit" pool (workers.BoundedPool:
one at a time, a bounded queue, ``workers.Full`` past it), not behind a
three-minute estimate or a what-if.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import polars as pl

from ..audit import (MAX_MONTHS, KINDS, Audit, MappingError, RecheckError, Roll, load_names, read_roll, run_audit,
                     run_recheck, validate_roll, write_audit_workbook, write_recheck_workbook)
from ..audit.recheck import check_window
from ..audit.roll import ALIASES, ROW, roll_header
from ..caseload import CaseloadError, LayoutError, xlsx_rows
from ..caseload.columns import check_header
from ..caseload.readers import csv_rows, text_stream
from ..engine import RulebookError
from ..engine import CURRENT_COUNTIES, Rulebook, county_name
from . import store
from .workers import BoundedPool, RunState, queued_zh

log = logging.getLogger(__name__)

CASELOAD_FORMATS = ("csv", "xlsx", "jsonl", "parquet")
ROLL_FORMATS = ("csv", "xlsx", "parquet")
SHOWN_FINDINGS = 200       # findings of each kind on the page (all of them in the workbook)
SHOWN_RECHECKS = 200       # re-check rows on the page
SHOWN_REJECTS = 100        # rejected rows of each file on the page
RUNS_PER_USER = 5          # older results of a user are forgotten (and their files removed)
CHART, WORKBOOK, RECHECK_BOOK = "chart.png", "audit.xlsx", "recheck.xlsx"
INTERNAL_ZH = "核对失败：服务器内部错误，请联系系统管理员"
FILE_ZH = {"caseload": "台账", "roll": "名册"}
# stages of a run, as the progress line names them (run_audit's own names, then ours)
STAGES = ("读取名册", "读取台账", "核对", "动态复核", "写出工作簿")


class InputError(ValueError):
    """An upload that cannot be read: ``field`` (caseload / roll) and a Chinese message."""

    def __init__(self, field_: str, message: str):
        super().__init__(message)
        self.field = field_


# -- checks before a job is queued ----------------------------------------------------


def probe(path: Path, fmt: str, field_: str) -> None:
    """Read only the header of an upload (the caseload's or the roll's
    layout); InputError with the reader's Chinese message for a file that
    cannot be opened or a bad header. A JSON Lines caseload has no header:
    its rows are checked by the job."""
    check = roll_header if field_ == "roll" else check_header
    try:
        if fmt == "csv":
            with text_stream(open(path, "rb"), newline="") as stream:
                csv_rows(stream, check)
        elif fmt == "xlsx":
            _, rows, _ = xlsx_rows(path, check)
            rows.close()
        elif fmt == "parquet":
            try:
                columns = list(pl.read_parquet_schema(path))
            except (OSError, pl.exceptions.PolarsError) as exc:
                raise CaseloadError(f"无法读取Parquet文件：{exc}") from None
            check(columns)
    except (CaseloadError, LayoutError) as exc:
        raise InputError(field_, str(exc)) from None
    except (UnicodeError, ValueError) as exc:     # what a reader did not word in Chinese
        raise InputError(field_, f"无法读取{FILE_ZH[field_]}文件：{type(exc).__name__}") from None


def as_of_error(as_of: Optional[dt.date], months: Optional[int]) -> dict[str, str]:
    """The window's problems by field (as_of / months), in Chinese, from the re-check's own check."""
    errors = {}
    if as_of is None:
        errors["as_of"] = "核对日应为日期 YYYY-MM-DD（如 2013-07-01）"
    if months is None or not 1 <= months <= MAX_MONTHS:
        errors["months"] = f"复核期应为 1 到 {MAX_MONTHS} 之间的整数（月）"
    if not errors:
        try:
            check_window(as_of, months)
        except RecheckError as exc:
            errors["as_of"] = str(exc)
    return errors


# -- runs ------------------------------------------------------------------------------


@dataclass
class Run(RunState):
    id: str
    owner: tuple                   # (database, user id)
    as_of: dt.date
    months: int
    county: Optional[str]          # the one county audited (a clerk's), None: every county
    full_ids: bool                 # the workbook shows whole ID numbers (a county's own clerk)
    files: dict                    # field → the uploaded file's name
    folder: Optional[Path]         # the run's files (None: the API's, which writes none)
    error_field: Optional[str] = None
    stages: dict = field(default_factory=dict)      # stage → [first, last] progress time (perf_counter)

    @property
    def shown_zh(self) -> str:
        """The stage in Chinese, with the place in the queue while it waits."""
        place = self.pool.position(self.id) if self.pool is not None and self.status == "queued" else 0
        return queued_zh(place) if place else self.stage_zh

    def as_json(self) -> dict:
        return {"id": self.id, "status": self.status, "status_zh": self.shown_zh, "processed": self.processed,
                "total": self.total, "error": self.error, "error_field": self.error_field, "seconds": self.seconds,
                "ready": self.result is not None,
                "timings": {k: round(last - first, 2) for k, (first, last) in self.stages.items()}}


_runs: dict[str, Run] = {}
_runs_lock = threading.Lock()


def new_folder(base: Path) -> tuple[str, Path]:
    """A fresh run id and its folder (0700; the base folder too)."""
    store.private_folder(base)
    run_id = secrets.token_urlsafe(12)
    return run_id, store.private_folder(Path(base) / run_id)


def save_upload(folder: Path, field_: str, fmt: str, stream) -> Path:
    """An upload (a binary stream) as ``<field>.<fmt>`` in the run's folder, readable by the owner only."""
    path = folder / f"{field_}.{fmt}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(stream, out)
    return path


def get(run_id: str) -> Optional[Run]:
    with _runs_lock:
        return _runs.get(run_id)


def runs_of(owner: tuple) -> list[Run]:
    with _runs_lock:
        return sorted((r for r in _runs.values() if r.owner == owner), key=lambda r: -r.created)


def submit(pool: BoundedPool, run: Run, work: Callable[[Run], None], keep: bool = True) -> Run:
    """Queue ``work(run)`` on ``pool`` (it sets run.result or raises);
    workers.Full when the pool's queue is full. ``keep``: listed among the
    owner's runs (the page's); the API waits for its run instead."""
    run.pool = pool
    pool.submit(run.id, lambda: _work(run, work))
    if keep:
        with _runs_lock:
            _runs[run.id] = run
            mine = sorted((r for r in _runs.values() if r.owner == run.owner), key=lambda r: -r.created)
            for old in mine[RUNS_PER_USER:]:
                if old.status in ("done", "failed"):
                    del _runs[old.id]
                    shutil.rmtree(old.folder, ignore_errors=True)
    return run


def _work(run: Run, work: Callable[[Run], None]) -> None:
    """One run, in a pool worker: to done or failed (a Chinese message, never a traceback)."""
    started = time.perf_counter()
    try:
        run.status, run.stage_zh = "running", "核对中"
        work(run)
        run.status = "done"
    except InputError as exc:
        run.status, run.error, run.error_field = "failed", f"{FILE_ZH[exc.field]}：{exc}", exc.field
    except (RulebookError, MappingError) as exc:
        run.status, run.error = "failed", f"规则或项目名称文件错误：{exc}"
    except Exception:
        log.exception("roll audit %s failed", run.id)
        run.status, run.error = "failed", INTERNAL_ZH
    finally:
        if run.folder is not None:
            for upload in [*run.folder.glob("caseload.*"), *run.folder.glob("roll.*")]:
                upload.unlink(missing_ok=True)
        run.seconds = round(time.perf_counter() - started, 2)
        run.stage_zh = {"done": "已完成", "failed": "失败"}.get(run.status, run.stage_zh)
        run.finished.set()


def job(caseload: Path, caseload_fmt: str, roll: Path, roll_fmt: str, rulebook: Rulebook,
        write_files: bool = True) -> Callable[[Run], None]:
    """The background part: the audit and the re-check list (``run.result``
    is set as soon as they are known), then the chart and the workbooks
    (``write_files``); the uploads are deleted once read."""
    def work(run: Run) -> None:
        audit, recheck = audit_files(run, caseload, caseload_fmt, roll, roll_fmt, rulebook)
        # the result shows at once; the workbooks (openpyxl: a few thousand rows a second) follow
        run.result = result(audit, recheck)
        if write_files:
            _stage(run, "写出工作簿", 0, 3)
            from ..audit.chart import audit_chart      # matplotlib: only when a job runs
            chart = run.folder / CHART
            audit_chart(audit, chart)
            store.private_file(chart)
            _stage(run, "写出工作簿", 1, 3)
            write_audit_workbook(audit, run.folder / WORKBOOK, full_ids=run.full_ids, chart_png=str(chart))
            store.private_file(run.folder / WORKBOOK)
            _stage(run, "写出工作簿", 2, 3)
            write_recheck_workbook(recheck, run.folder / RECHECK_BOOK, full_ids=run.full_ids)
            store.private_file(run.folder / RECHECK_BOOK)
            _stage(run, "写出工作簿", 3, 3)
    return work


def audit_files(run: Run, caseload, caseload_fmt: Optional[str], roll, roll_fmt: Optional[str],
                rulebook: Rulebook):
    """(Audit, Recheck) of a caseload (path or records) and a roll (an
    uploaded file, deleted once read, or a validated ``Roll``); InputError
    names the file that cannot be read."""
    names = load_names(rulebook)
    reading = ["roll"]

    def on_stage(stage: str, done: int, total: int) -> None:
        reading[0] = {"读取台账": "caseload", "读取名册": "roll"}.get(stage, "")
        _stage(run, stage, done, total)
    try:
        if not isinstance(roll, Roll):
            _stage(run, "读取名册", 0, 1)
            path, roll = roll, read_roll(roll, names, run.as_of, roll_fmt)
            Path(path).unlink(missing_ok=True)       # an upload: personal data, read once
        reading[0] = "caseload"
        audit = run_audit(caseload, roll, run.as_of, rulebook=rulebook, county=run.county, names=names,
                          fmt=caseload_fmt, on_stage=on_stage)
        reading[0] = "caseload"
        _stage(run, "动态复核", 0, None)
        recheck = run_recheck(caseload, run.as_of, run.months, rulebook=rulebook, county=run.county,
                              fmt=caseload_fmt, on_progress=lambda done, total: _stage(run, "动态复核", done, total))
    except (CaseloadError, LayoutError) as exc:
        raise InputError(reading[0] or "caseload", str(exc)) from None
    return audit, recheck


def _stage(run: Run, stage: str, done: int, total: Optional[int]) -> None:
    now = time.perf_counter()
    run.stages.setdefault(stage, [now, now])[1] = now
    run.stage_zh, run.processed, run.total = stage, done, total


# -- results as plain data (page, API) --------------------------------------------------

FINDING_FIELDS = ("kind", "county", "county_zh", "id_masked", "name", "line", "line_zh", "written", "roll_row",
                  "caseload_row", "since", "household", "owed_month", "paid_month", "diff_month", "diff_year",
                  "clause", "quote", "condition", "missing")
RECHECK_FIELDS = ("day", "county", "county_zh", "id_masked", "name", "row", "line", "line_zh", "clause",
                  "status_before", "status_after", "amount_before", "amount_after", "amount_max_before",
                  "amount_max_after", "period_zh", "payee_zh", "payer_before", "payer_after", "reason")


def _plain(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 2)
    return value


def _records(frame: pl.DataFrame, fields: tuple, limit: int) -> list[dict]:
    present = [f for f in fields if f in frame.columns]
    return [{k: _plain(v) for k, v in row.items()} for row in frame.head(limit).select(present).iter_rows(named=True)]


def result(audit: Audit, recheck) -> dict:
    """Everything the page and the API show, as JSON-ready data: no whole ID number."""
    c = audit.counts
    rejected_rows = len({r["row"] for r in audit.rejects})
    counts = {**c, "caseload_rejected_rows": rejected_rows,
              # a county's audit leaves out the other counties' rows: counted, never shown
              "caseload_other_counties": (c["caseload_rows"] - c["persons"] - rejected_rows) if audit.county else 0,
              "roll_other_counties": (c["roll_rows"] - c["roll_rejected_rows"] - c["roll_used"])
              if audit.county else 0}
    cells = {}
    for county, line, kind, count, month, year in audit.summary.iter_rows():
        row = cells.setdefault((county or "", line), {
            "county": county or "", "county_zh": county_name(county, audit.as_of) or "（未填县区）" if county else "（未填县区）",
            "line": line, "line_zh": audit.lines.get(line, line), "kinds": {}})
        row["kinds"][kind] = {"count": count, "month": month / 100, "year": year / 100}
    totals = {k: {"count": 0, "month": 0.0, "year": 0.0} for k in KINDS}
    for kind, count, month, year in (audit.summary.group_by("kind").agg(
            pl.col("count").sum(), pl.col("month_fen").sum(), pl.col("year_fen").sum()).iter_rows()):
        totals[kind] = {"count": count, "month": month / 100, "year": year / 100}
    findings, shown = {}, {}
    for kind in KINDS:
        rows = audit.findings.filter(pl.col("kind") == kind)
        findings[kind] = _records(rows, FINDING_FIELDS, SHOWN_FINDINGS)
        shown[kind] = {"total": rows.height, "shown": min(rows.height, SHOWN_FINDINGS)}
    frame = recheck.frame
    return {
        "as_of": audit.as_of.isoformat(), "months": recheck.months, "window_end": recheck.end.isoformat(),
        "county": audit.county, "county_zh": CURRENT_COUNTIES.get(audit.county) if audit.county else None,
        "rulebook_version": audit.rulebook_version, "counts": counts,
        "kinds": list(KINDS), "summary": sorted(cells.values(), key=lambda r: (r["county"] == "", r["county"], r["line"])),
        "totals": totals, "findings": findings, "findings_shown": shown, "findings_limit": SHOWN_FINDINGS,
        "recheck": _records(frame, RECHECK_FIELDS, SHOWN_RECHECKS),
        "recheck_total": frame.height, "recheck_limit": SHOWN_RECHECKS,
        "recheck_persons": frame.select("id_number").n_unique() if frame.height else 0,
        "roll_rejects": audit.roll_rejects[:SHOWN_REJECTS], "roll_rejects_total": len(audit.roll_rejects),
        "rejects": audit.rejects[:SHOWN_REJECTS], "rejects_total": len(audit.rejects),
        "rejects_limit": SHOWN_REJECTS,
        "unverified": [{"name": p["name"], "label_zh": p["label_zh"]} for p in audit.parameters if not p["verified"]],
    }


def records_job(records: list, roll: Roll, rulebook: Rulebook) -> Callable[[Run], None]:
    """The API's audit of the records and roll rows of a body (at most
    1 MB): no files read or written, the result only."""
    def work(run: Run) -> None:
        run.result = result(*audit_files(run, records, None, roll, None, rulebook))
    return work


def roll_from_rows(rows: list[dict], rulebook: Rulebook, as_of: dt.date) -> Roll:
    """Roll rows given as JSON objects (the API) → a validated Roll, rejects
    numbered by their place in the array (1 = first), as the roll reader
    words them."""
    columns = {c: [] for c in ALIASES}
    for row in rows:
        for c in columns:
            value = row.get(c)
            columns[c].append(None if value is None else _cell_text(value))
    raw = pl.DataFrame({ROW: pl.Series(range(1, len(rows) + 1), dtype=pl.Int64),
                        **{c: pl.Series(v, dtype=pl.String) for c, v in columns.items()}})
    return validate_roll(raw, load_names(rulebook), as_of)


def _cell_text(value) -> str:
    """A JSON value as the text a roll's cell would hold (1500 → "1500", 1500.5 → "1500.5")."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


__all__ = ["InputError", "Run", "probe", "as_of_error", "new_folder", "save_upload", "get", "runs_of",
           "submit", "job", "records_job", "result", "roll_from_rows", "CASELOAD_FORMATS", "ROLL_FORMATS"]
