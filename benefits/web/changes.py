"""Which saved cases change under today's rules (现行规则下会变化的案件).

For each case, its latest determination (saved under some rulebook version)
against today's rulebook on the same facts and the same evaluation day:
a case is listed when the status or the amount of any benefit line differs.
The saved result is the old version's answer (a replay proves it); only
today's side is evaluated, on the durable engine, a bounded batch at a time.
Each answer is kept in table ``rechecks`` per (determination, today's version),
so the page fills in over a few requests and stays valid until either changes.

No HTTP here. Later this can feed the caseload compare (benefits/policy) with
baseline = the saved versions, reform = today's rules.
"""
from __future__ import annotations

import datetime as dt
import json
import time

from ..engine import InvalidApplicant, parse_applicant
from . import store
from .present import diff

_LATEST = "d.id IN (SELECT max(id) FROM determinations GROUP BY case_id)"


def _scope(county: str | None) -> tuple[str, list]:
    return ("c.county = ?", [county]) if county is not None else ("1", [])


def progress(db, county: str | None, version: str) -> tuple[int, int]:
    """(latest determinations already checked against ``version``, cases in scope)."""
    where, params = _scope(county)
    total = db.execute(f"SELECT count(*) FROM cases c WHERE {where}", params).fetchone()[0]
    checked = db.execute(
        f"SELECT count(*) FROM determinations d JOIN cases c ON c.id = d.case_id "
        f"JOIN rechecks r ON r.determination_id = d.id AND r.rulebook_version = ? WHERE {_LATEST} AND {where}",
        [version, *params]).fetchone()[0]
    return checked, total


def check(db, engine, county: str | None, limit: int = 100, seconds: float = 2.0) -> int:
    """Check up to ``limit`` unchecked cases against ``engine`` (today's),
    stopping after about ``seconds``; returns how many were checked."""
    where, params = _scope(county)
    pending = db.execute(
        f"SELECT d.id, d.record_json, d.evaluation_date, d.result_json FROM determinations d "
        f"JOIN cases c ON c.id = d.case_id WHERE {_LATEST} AND {where} AND NOT EXISTS "
        f"(SELECT 1 FROM rechecks r WHERE r.determination_id = d.id AND r.rulebook_version = ?) "
        f"ORDER BY d.id LIMIT ?", [*params, engine.version, limit]).fetchall()
    rows, stop = [], time.monotonic() + seconds
    for det_id, record_json, day, result_json in pending:
        rows.append((det_id, engine.version, *compare(engine, record_json, day, json.loads(result_json)),
                     store.now()))
        if time.monotonic() > stop:
            break
    if rows:
        with store.write(db):   # a racing request may have checked some: same answer, kept once
            db.conn.executemany("INSERT OR IGNORE INTO rechecks (determination_id, rulebook_version, changed, "
                                "changes_json, at) VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)


def compare(engine, record_json: str, day: str, saved: dict) -> tuple[int, str]:
    """(changed?, the changed lines as JSON) for one saved determination."""
    try:
        today = engine.determine(parse_applicant(record_json), dt.date.fromisoformat(day), explain=False)
    except InvalidApplicant as exc:
        fields = "；".join(f"{e.field}：{e.message}" for e in exc.errors)
        return 1, json.dumps({"error": f"已存记录不能通过现行校验：{fields}"}, ensure_ascii=False)
    lines = diff(saved, today)
    return int(bool(lines)), json.dumps({"lines": lines}, ensure_ascii=False)


def changed(db, county: str | None, version: str, page: int = 1, per_page: int = 20) -> tuple[list[dict], int]:
    """One page of the checked cases that change (by case id) and their total."""
    where, params = _scope(county)
    base = (f"FROM rechecks r JOIN determinations d ON d.id = r.determination_id JOIN cases c ON c.id = d.case_id "
            f"WHERE r.rulebook_version = ? AND r.changed = 1 AND {_LATEST} AND {where}")
    total = db.execute(f"SELECT count(*) {base}", [version, *params]).fetchone()[0]
    rows = db.execute(
        f"SELECT c.id, c.name, c.id_number, c.county, d.id, d.rulebook_version, d.evaluation_date, r.changes_json "
        f"{base} ORDER BY c.id LIMIT ? OFFSET ?", [version, *params, per_page, (page - 1) * per_page]).fetchall()
    keys = ("case_id", "name", "id_number", "county", "determination_id", "rulebook_version", "evaluation_date")
    out = []
    for row in rows:
        item = dict(zip(keys, row))
        item.update(json.loads(row[-1]))
        out.append(item)
    return out, total
