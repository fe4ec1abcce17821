"""Policy what-if runs for the web (政策测算任务): caseloads held in memory
as validated applicant frames, compares run in the app's bounded compare pool (workers.py), and
each result kept for the user who ran it.

No HTTP here: benefits/web/policy.py (pages) and api.py (POST /compare)
call it. A caseload is read and validated once per server and content (the
generated one once, lazily; an upload keyed by its SHA-256), so a
parameter change costs one ``compare`` on a frame already in memory.

Runs have their own bounded pool (workers.py: ``COMPARE_WORKERS`` at once,
``COMPARE_QUEUE`` waiting, one more refused with ``workers.Full``) rather
than the finance estimates' one: a what-if answer must not wait behind a
three-minute estimate, and a burst of compares cannot hold every caseload's
frames in memory at once.
Results live in memory (and their workbook in a folder beside the
database): a restart forgets them, which is fine for a drafting tool.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import polars as pl

from ..caseload import CaseloadError, LayoutError, synthetic, write_caseload
from ..costing import applicant_frames, county_name
from ..engine import PAYER_ZH, PAYERS, RulebookError
from ..policy import Comparison, compare
from ..policy.compare import STATUS_ZH
from ..policy.reform import ADDED_MARK, CHANGED_MARK
from ..costing.fen import to_fen, yuan
from ..policy.workbook import line_zh, persons_only, totals, write_comparison
from . import store
from .workers import BoundedPool, RunState, queued_zh

log = logging.getLogger(__name__)

PROGRESS_EVERY = 0.2       # seconds between progress updates a poll can see
RUNS_PER_USER = 5          # older results of a user are forgotten
COMPARISONS_PER_USER = 2   # runs whose workbook can still be written (memory: frames of every person)
UPLOADS_KEPT = 3           # uploaded caseload frames kept in memory
SHOWN_REJECTS = 20
WORKBOOK = "compare.xlsx"
INTERNAL_ZH = "测算失败：服务器内部错误，请联系系统管理员"


@dataclass
class Caseload:
    """A validated applicant frame and the rows its reading rejected."""
    key: str
    label_zh: str
    frame: pl.DataFrame
    rejects: list[dict]
    rows: int
    cases: Optional[list] = None     # saved cases: row n (from 1) is cases[n - 1] = {id, name, county}


_frames: "OrderedDict[str, Caseload]" = OrderedDict()
_frames_lock = threading.Lock()
_generating = threading.Lock()      # one generation at a time; others wait for it


def generated(size: int, year: int = 2013) -> Caseload:
    """The synthetic caseload of the city (benefits generate, seed 1), made
    once per server and size, then kept."""
    key = f"generated:{size}"
    with _generating:
        with _frames_lock:
            if key in _frames:
                return _frames[key]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "generated.csv"
            write_caseload(synthetic.caseload(size, year=year), path)
            frame, rejects, rows = _gather(applicant_frames(str(path))[1])   # read and validated column-wise
        found = Caseload(key, f"模拟台账（{size:,} 人，全市六县区，非真实人员）", frame, rejects, rows)
        with _frames_lock:
            _frames[key] = found
        return found


def cached(key: str) -> Optional[Caseload]:
    with _frames_lock:
        return _frames.get(key)


def upload_key(data: bytes) -> str:
    return "upload:" + hashlib.sha256(data).hexdigest()


def read_upload(path: Path, fmt: str, name: str) -> Caseload:
    """An uploaded caseload file, read and validated as ``benefits estimate``
    reads it (CaseloadError / LayoutError in Chinese); kept by content."""
    key = upload_key(path.read_bytes())
    with _frames_lock:
        if key in _frames:
            _frames.move_to_end(key)
            return _frames[key]
    frame, rejects, rows = _gather(applicant_frames(str(path), fmt)[1])
    found = Caseload(key, f"上传的台账 {name}（{rows:,} 行）", frame, rejects, rows)
    keep(found)
    return found


def keep(found: Caseload) -> None:
    with _frames_lock:
        _frames[found.key] = found
        uploads = [k for k in _frames if k.startswith("upload:")]
        for old in uploads[:-UPLOADS_KEPT]:
            del _frames[old]


def from_records(records: list[dict], label_zh: str, key: str) -> Caseload:
    """A small caseload of records (API inline records, saved cases): row by
    row through the single-applicant validation, as the estimate does."""
    frame, rejects, rows = _gather(applicant_frames(records)[1])
    return Caseload(key, label_zh, frame, rejects, rows)


def _gather(chunks) -> tuple[pl.DataFrame, list[dict], int]:
    """One frame of all chunks, their rejects, the rows read."""
    frames, rejects, rows = [], [], 0
    for chunk in chunks:
        frames.append(chunk.frame)
        rejects += chunk.rejects
        rows += chunk.rows
    return (pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()), rejects, rows


# -- the comparison as plain data (page, JSON, API) ------------------------------------


def changed_parameters(book) -> list[dict]:
    """Parameters a reform changed or added: never 已核实."""
    return [{"name": name, "label_zh": p.label_zh, "unit": p.unit, "verified": p.verified, "source": p.source,
             "added": p.source.startswith(ADDED_MARK),
             "values": [v.model_dump(mode="json", by_alias=True, exclude_none=True) for v in p.values]}
            for name, p in book.parameters.items() if p.source.startswith((CHANGED_MARK, ADDED_MARK))]


def _rows(frame: pl.DataFrame) -> list[dict]:
    return [{k: (v if not isinstance(v, float) else round(v, 2)) for k, v in row.items()}
            for row in frame.iter_rows(named=True)]


def _example(e: dict, caseload: Caseload) -> dict:
    status_b, shown_b, reasons_b = line_zh(e.get("baseline_line"))
    status_r, shown_r, reasons_r = line_zh(e.get("reform_line"))
    return {"benefit": e["benefit"], "label_zh": e["label_zh"], "clause": e["clause"], "kind_zh": e["kind_zh"],
            "row": e["row"], "id_number_masked": e["id_number_masked"], "county": e["county"],
            "county_zh": county_name(e["county"], int(e["day"][:4])) if e["county"] else "", "day": e["day"],
            "case_id": caseload.cases[e["row"] - 1]["id"] if caseload.cases else None,
            "baseline": {"status_zh": status_b, "amount": str(shown_b), "reasons": reasons_b},
            "reform": {"status_zh": status_r, "amount": str(shown_r), "reasons": reasons_r}}


SHOWN_CASES = 500


def changed_cases(result: Comparison, caseload: Caseload) -> list[dict]:
    """Saved cases whose lines change: case id, name, masked ID, the lines
    (old → new) and the yearly difference; at most SHOWN_CASES."""
    if not caseload.cases or not result.changes.height:
        return []
    labels = {r["benefit"]: r["label_zh"] for r in result.by_benefit.iter_rows(named=True)}
    persons = {r["row"]: r for r in result.persons.iter_rows(named=True)}
    out: dict[int, dict] = {}
    for c in result.changes.sort("row").iter_rows(named=True):
        if c["row"] not in out:
            if len(out) == SHOWN_CASES:
                break
            case = caseload.cases[c["row"] - 1]
            out[c["row"]] = {"case_id": case["id"], "name": case["name"], "county": case["county"],
                             "id_number_masked": c["id_number_masked"],
                             "difference": persons[c["row"]]["difference"], "lines": []}
        before, after = STATUS_ZH[c["status_baseline"]], STATUS_ZH[c["status_reform"]]
        out[c["row"]]["lines"].append(f"{labels.get(c['benefit'], c['benefit'])}：{before}→{after}"
                                      + (f"（{c['difference']:+,.2f} 元）" if c["difference"] else ""))
    return list(out.values())


def summary(result: Comparison, reform, caseload: Caseload) -> dict:
    """Everything the page and the API show, as JSON-ready data (no full ID numbers)."""
    counts = dict(result.counts)
    counts["total"] += caseload.rows - caseload.frame.height   # rows the reading rejected
    counts["rejected"] += len({r["row"] for r in caseload.rejects})
    rejects = sorted(caseload.rejects + result.rejects, key=lambda r: r["row"])
    total_b = float(result.baseline_estimate["total"]["mid"])
    total_r = float(result.reform_estimate["total"]["mid"])
    return {
        "label": result.label, "reason": result.reason, "year": result.year,
        "baseline_version": result.baseline_version, "reform_version": result.reform_version,
        "caseload": caseload.label_zh, "counts": counts,
        "totals": {"baseline": round(total_b, 2), "reform": round(total_r, 2),
                   "difference": round(total_r - total_b, 2)},
        "cost": _rows(result.cost.select("benefit", "label_zh", "clause", "county", "county_zh", "payer",
                                         "payer_zh", "baseline", "reform", "difference")),
        "by_benefit": _rows(result.by_benefit), "by_county": _rows(result.by_county),
        "transitions": _rows(result.transitions.with_columns(pl.col("status_baseline", "status_reform",
                                                                    "from_zh", "to_zh").cast(pl.String))),
        "distribution": _rows(result.distribution),
        "floors": [c.as_dict() for c in result.floors], "floor_violations": len(result.floor_violations),
        "changed_parameters": changed_parameters(reform), "reform_changes": list(result.reform_changes),
        "examples": [_example(e, caseload) for e in result.examples],
        "changed_cases": changed_cases(result, caseload),
        "changed_persons": result.changes.get_column("row").n_unique() if result.changes.height else 0,
        "rejects": rejects[:SHOWN_REJECTS],
        # what the officer decides on, as the estimates and the workbook's 合计 rows give it
        "payers": [{"payer": p, "payer_zh": PAYER_ZH[p],
                    "baseline": float(result.baseline_estimate["payers"][p]["mid"]),
                    "reform": float(result.reform_estimate["payers"][p]["mid"]),
                    "difference": yuan(to_fen(result.reform_estimate["payers"][p]["mid"])
                                       - to_fen(result.baseline_estimate["payers"][p]["mid"]))} for p in PAYERS],
        "sums": totals(result), "persons_only": persons_only(result),
    }


def run_compare(caseload: Caseload, baseline, reform, year: int, examples: int = 3,
                progress: Optional[Callable] = None) -> tuple[Comparison, dict]:
    """compare() on the kept frame; (Comparison, summary)."""
    result = compare(caseload.frame, baseline, reform, year, progress=progress, examples=examples)
    return result, summary(result, reform, caseload)


# -- background runs -------------------------------------------------------------


@dataclass
class Run(RunState):
    id: str
    owner: int
    year: int
    label: str
    caseload_zh: str
    folder: Path
    timings: dict = field(default_factory=dict)        # stage → seconds, for the benchmark
    # the workbook is written by the job right after the result (the page
    # shows the result first), so a download finds it on disk; the
    # comparison is kept until then
    comparison: Optional[Comparison] = field(default=None, repr=False)
    workbook_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    workbook_state: str = "pending"      # pending → ready | failed
    error_input: bool = False         # failed on what was sent (caseload, reform, version), not the server

    @property
    def position(self) -> int:
        """Its place in the queue while it waits (1 = next), else 0."""
        return self.pool.position(self.id) if self.pool is not None and self.status == "queued" else 0

    @property
    def shown_zh(self) -> str:
        """The stage in Chinese, with the place in the queue while it waits."""
        place = self.position
        return queued_zh(place) if place else self.stage_zh

    def as_json(self) -> dict:
        shown = self.shown_zh
        return {"id": self.id, "status": self.status, "status_zh": shown, "stage_zh": shown,
                "position": self.position, "processed": self.processed, "total": self.total, "error": self.error,
                "seconds": self.seconds, "timings": self.timings, "workbook": self.workbook_state}


_runs: dict[str, Run] = {}
_runs_lock = threading.Lock()


def get(run_id: str) -> Optional[Run]:
    with _runs_lock:
        return _runs.get(run_id)


def runs_of(owner: int) -> list[Run]:
    with _runs_lock:
        return sorted((r for r in _runs.values() if r.owner == owner), key=lambda r: -r.created)


def submit(pool: BoundedPool, owner: int, year: int, label: str, caseload_zh: str, base_folder: Path,
           work: Callable[["Run"], None], keep: bool = True) -> Run:
    """Queue ``work(run)`` on ``pool``; it sets run.result (the summary) and
    run.comparison, or raises. ``keep``: listed among the owner's runs (the
    page's); the API waits for its run instead. Raises workers.Full."""
    run_id = secrets.token_urlsafe(12)
    run = Run(run_id, owner, year, label, caseload_zh, Path(base_folder) / run_id, pool=pool)
    pool.submit(run_id, lambda: _work(run, work))
    if keep:
        with _runs_lock:
            _runs[run_id] = run
            for old in sorted((r for r in _runs.values() if r.owner == owner),
                              key=lambda r: -r.created)[RUNS_PER_USER:]:
                if old.status in ("done", "failed"):
                    del _runs[old.id]
                    shutil.rmtree(old.folder, ignore_errors=True)
    return run


def progress_of(run: Run, stage_zh: str) -> Callable[[int, Optional[int]], None]:
    last = [float("-inf")]

    def report(done: int, total: Optional[int]) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY or done == total:
            last[0] = time.monotonic()
            run.stage_zh, run.processed, run.total = stage_zh, done, total
    return report


def _work(run: Run, work: Callable[[Run], None]) -> None:
    """One run, in a pool worker: to done or failed (a Chinese message, never a traceback)."""
    started = time.perf_counter()
    try:
        run.status, run.stage_zh = "running", "测算中"
        store.private_folder(run.folder.parent)
        store.private_folder(run.folder)
        work(run)
        run.status, run.stage_zh = "done", "已完成"
        _write_workbook(run)
    except (CaseloadError, LayoutError, store.StoreError) as exc:
        run.status, run.error, run.error_input = "failed", str(exc), True
    except RulebookError as exc:
        run.status, run.error, run.error_input = "failed", f"规则或改革方案错误：{exc}", True
    except Exception:
        log.exception("policy compare %s failed", run.id)
        run.status, run.error = "failed", INTERNAL_ZH
    finally:
        run.seconds = round(time.perf_counter() - started, 2)
        run.stage_zh = {"done": "已完成", "failed": "失败"}.get(run.status, run.stage_zh)
        run.finished.set()
    with _runs_lock:      # only the owner's latest runs keep a comparison for their workbook
        kept = [r for r in _runs.values() if r.owner == run.owner and r.comparison is not None]
        for old in sorted(kept, key=lambda r: -r.created)[COMPARISONS_PER_USER:]:
            old.comparison = None


def _write_workbook(run: Run) -> None:
    """The job's last step: the workbook on disk, so the first download is
    immediate. A failure here leaves the result standing (logged; the
    download says so)."""
    if run.comparison is None:
        return
    try:
        workbook(run)
    except Exception:
        log.exception("policy workbook %s failed", run.id)
        run.workbook_state = "failed"


def workbook(run: Run) -> Optional[Path]:
    """The run's workbook: the job writes it when the run finishes (a
    download arriving meanwhile waits for it); None if it could not be
    written or its comparison was let go."""
    path = run.folder / WORKBOOK
    with run.workbook_lock:
        if not path.is_file():
            if run.comparison is None:
                return None
            started = time.perf_counter()
            write_comparison(run.comparison, path)
            store.private_file(path)
            run.timings["workbook"] = round(time.perf_counter() - started, 2)
            run.comparison = None
            run.workbook_state = "ready"
    return path


def timed(run: Run, stage: str, work: Callable):
    started = time.perf_counter()
    value = work()
    run.timings[stage] = round(time.perf_counter() - started, 2)
    return value


__all__ = ["Caseload", "Run", "generated", "read_upload", "from_records", "summary", "run_compare", "submit",
           "get", "runs_of", "progress_of", "workbook", "timed", "changed_parameters", "cached", "upload_key"]
