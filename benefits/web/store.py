"""All database access of the web app (数据存储): one SQLite file via sqlite-utils.

Every connection turns foreign keys on and waits on a busy database; every
write runs in ``BEGIN IMMEDIATE`` (sqlite-utils' ``atomic()`` would use a plain
BEGIN, which fails at once under concurrent writers). A ``Database`` never
crosses threads: the app opens one per request.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

import sqlite_utils

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 5000
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15
ROLES = ("clerk", "finance", "policy", "admin")
CASE_STATUSES = ("eligible", "undetermined", "ineligible")
INTERRUPTED_ZH = "服务器在测算完成前重启，测算已中断，请重新提交"


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def connect(path: str | Path) -> sqlite_utils.Database:
    # isolation_level=None: no implicit transactions, so ours are explicit.
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return sqlite_utils.Database(conn)


@contextlib.contextmanager
def write(db: sqlite_utils.Database):
    """One write transaction, taken with BEGIN IMMEDIATE (写事务)."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def migrate(db: sqlite_utils.Database) -> bool:
    """Create or upgrade the schema (建表); True if the database was new."""
    db.conn.execute("PRAGMA journal_mode=WAL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        return False
    with write(db):
        if version < 1:
            _schema_1(db)
        if version < 2:
            _schema_2(db)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    return version == 0


def _schema_1(db) -> None:
    """Users, cases, determinations and the audit log."""
    db["users"].create({
        "id": int, "username": str, "password_hash": str, "role": str, "county": str,
        "display_name": str, "failed_logins": int, "locked_until": str, "created_at": str,
    }, pk="id", not_null={"username", "password_hash", "role", "failed_logins"},
        defaults={"failed_logins": 0})
    db["users"].create_index(["username"], unique=True)
    db["cases"].create({
        "id": int, "county": str, "name": str, "id_number": str, "record_json": str,
        "status": str, "created_at": str, "created_by": int, "updated_at": str,
    }, pk="id", not_null={"county", "name", "id_number", "record_json", "status"},
        foreign_keys=[("created_by", "users", "id")])
    db["cases"].create_index(["county", "status"])
    db["determinations"].create({
        "id": int, "case_id": int, "created_at": str, "created_by": int,
        "rulebook_version": str, "evaluation_date": str, "record_json": str, "result_json": str,
    }, pk="id", not_null={"case_id", "rulebook_version", "record_json", "result_json"},
        foreign_keys=[("case_id", "cases", "id"), ("created_by", "users", "id")])
    db["determinations"].create_index(["case_id"])
    db["audit"].create({
        "id": int, "at": str, "user_id": int, "username": str, "case_id": int,
        "action": str, "detail": str,
    }, pk="id", not_null={"at", "action"})
    db["audit"].create_index(["case_id"])
    # The audit log is append-only (审计日志只增不改): SQLite itself refuses.
    for verb in ("UPDATE", "DELETE"):
        db.execute(f"CREATE TRIGGER audit_no_{verb.lower()} BEFORE {verb} ON audit "
                   f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END")


def _schema_2(db) -> None:
    """Finance cost-estimate jobs (测算任务)."""
    db["estimates"].create({
        "id": int, "user_id": int, "username": str, "year": int, "file_name": str, "format": str,
        "status": str, "processed": int, "total": int, "created_at": str, "started_at": str,
        "finished_at": str, "result_json": str, "error": str, "pid": int,
    }, pk="id", not_null={"year", "file_name", "format", "status", "processed", "created_at"},
        defaults={"processed": 0}, foreign_keys=[("user_id", "users", "id")])


# --- users ---------------------------------------------------------------

def add_user(db, username: str, password_hash: str, role: str, county: str | None,
             display_name: str) -> int:
    if role not in ROLES:
        raise ValueError(f"unknown role {role}")
    if (role == "clerk") != (county is not None):
        raise ValueError("a clerk, and only a clerk, is bound to one county")
    with write(db):
        return db["users"].insert({
            "username": username, "password_hash": password_hash, "role": role,
            "county": county, "display_name": display_name, "failed_logins": 0,
            "created_at": now()}).last_pk


def user_by_name(db, username: str) -> dict | None:
    rows = list(db["users"].rows_where("username = ?", [username]))
    return rows[0] if rows else None


def user_by_id(db, user_id: int) -> dict | None:
    rows = list(db["users"].rows_where("id = ?", [user_id]))
    return rows[0] if rows else None


def users(db) -> list[dict]:
    return list(db["users"].rows_where(order_by="role, county, username"))


def locked_until(user: dict, at: dt.datetime) -> dt.datetime | None:
    """When a locked account opens again, or None if it is not locked."""
    if user["locked_until"]:
        until = dt.datetime.fromisoformat(user["locked_until"])
        if until > at:
            return until
    return None


def record_login_failure(db, user_id: int, at: dt.datetime) -> dt.datetime | None:
    """Count a failed password; lock the account at the limit. Returns the lock end."""
    with write(db):
        failures = db.execute("SELECT failed_logins FROM users WHERE id = ?", [user_id]).fetchone()[0] + 1
        until = None
        if failures >= LOCK_AFTER_FAILURES:
            until = at + dt.timedelta(minutes=LOCK_MINUTES)
            failures = 0
        db.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
                   [failures, until.isoformat() if until else None, user_id])
    return until


def record_login_success(db, user_id: int, new_hash: str | None = None) -> None:
    with write(db):
        db.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", [user_id])
        if new_hash:
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [new_hash, user_id])


def set_password(db, user_id: int, password_hash: str) -> None:
    """A new password; it also lifts a lock-out."""
    with write(db):
        db.execute("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
                   [password_hash, user_id])


def unlock_user(db, user_id: int) -> None:
    with write(db):
        db.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", [user_id])


# --- cases and determinations ----------------------------------------------

def case_status(result: dict) -> str:
    """A case's list status: any grant, else open questions, else nothing."""
    summary = result["summary"]
    if summary["eligible"]:
        return "eligible"
    return "undetermined" if summary["undetermined"] else "ineligible"


def create_case(db, county: str, record: dict, result: dict, user_id: int) -> int:
    stamp = now()
    with write(db):
        case_id = db["cases"].insert({
            "county": county, "name": record["name"], "id_number": record["id_number"],
            "record_json": json.dumps(record, ensure_ascii=False), "status": case_status(result),
            "created_at": stamp, "created_by": user_id, "updated_at": stamp}).last_pk
        _add_determination(db, case_id, record, result, user_id, stamp)
    return case_id


def add_determination(db, case_id: int, record: dict, result: dict, user_id: int) -> int:
    """Append a determination (never replace one) and update the case."""
    stamp = now()
    with write(db):
        db["cases"].update(case_id, {
            "name": record["name"], "id_number": record["id_number"],
            "record_json": json.dumps(record, ensure_ascii=False),
            "status": case_status(result), "updated_at": stamp})
        return _add_determination(db, case_id, record, result, user_id, stamp)


def _add_determination(db, case_id, record, result, user_id, stamp) -> int:
    return db["determinations"].insert({
        "case_id": case_id, "created_at": stamp, "created_by": user_id,
        "rulebook_version": result["rulebook_version"], "evaluation_date": result["evaluation_date"],
        "record_json": json.dumps(record, ensure_ascii=False),
        "result_json": json.dumps(result, ensure_ascii=False)}).last_pk


def get_case(db, case_id: int) -> dict | None:
    rows = list(db["cases"].rows_where("id = ?", [case_id]))
    if not rows:
        return None
    case = rows[0]
    case["record"] = json.loads(case["record_json"])
    return case


def case_with_id_number(db, county: str, id_number: str) -> int | None:
    """An existing case of this person in this county, if any."""
    row = db.execute("SELECT id FROM cases WHERE county = ? AND id_number = ? ORDER BY id LIMIT 1",
                     [county, id_number]).fetchone()
    return row[0] if row else None


def determinations(db, case_id: int) -> list[dict]:
    """A case's determinations, oldest first, with the clerk's username."""
    rows = db.query(
        "SELECT d.*, u.username FROM determinations d LEFT JOIN users u ON u.id = d.created_by "
        "WHERE d.case_id = ? ORDER BY d.id", [case_id])
    out = []
    for row in rows:
        row["result"] = json.loads(row["result_json"])
        row["record"] = json.loads(row["record_json"])
        out.append(row)
    return out


def search_cases(db, county: str | None, name: str = "", status: str = "",
                 page: int = 1, per_page: int = 20) -> tuple[list[dict], int]:
    """One page of cases (newest first) and the total count. ``county`` None = all."""
    where, params = [], []
    if county is not None:
        where.append("county = ?")
        params.append(county)
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("name LIKE ? ESCAPE '\\'")
        params.append(f"%{escaped}%")
    if status:
        where.append("status = ?")
        params.append(status)
    clause = " AND ".join(where) or None
    total = db["cases"].count_where(clause or "1", params)
    rows = list(db["cases"].rows_where(clause, params, order_by="id DESC",
                                       limit=per_page, offset=(page - 1) * per_page))
    return rows, total


# --- audit log ------------------------------------------------------------

def audit(db, user: dict | None, action: str, case_id: int | None = None, detail: str = "") -> None:
    """Append one row to the audit log (审计日志)."""
    with write(db):
        db["audit"].insert({
            "at": now(), "user_id": user["id"] if user else None,
            "username": user["username"] if user else None, "case_id": case_id,
            "action": action, "detail": detail})


def audit_rows(db, case_id: int | None = None, limit: int = 200) -> list[dict]:
    if case_id is None:
        return list(db["audit"].rows_where(order_by="id DESC", limit=limit))
    return list(db["audit"].rows_where("case_id = ?", [case_id], order_by="id DESC", limit=limit))


# --- finance cost estimates -------------------------------------------------

def create_estimate(db, user: dict, year: int, file_name: str, fmt: str) -> int:
    with write(db):
        return db["estimates"].insert({
            "user_id": user["id"], "username": user["username"], "year": year,
            "file_name": file_name, "format": fmt, "status": "queued", "processed": 0,
            "created_at": now(), "pid": os.getpid()}).last_pk


def estimate_started(db, job_id: int) -> None:
    with write(db):
        db["estimates"].update(job_id, {"status": "running", "started_at": now()})


def estimate_progress(db, job_id: int, processed: int, total: int | None) -> None:
    with write(db):
        db["estimates"].update(job_id, {"processed": processed, "total": total})


def estimate_done(db, job_id: int, result: dict) -> None:
    counts = result["counts"]
    with write(db):
        db["estimates"].update(job_id, {
            "status": "done", "processed": counts["total"], "total": counts["total"],
            "finished_at": now(), "result_json": json.dumps(result, ensure_ascii=False)})


def estimate_failed(db, job_id: int, message: str) -> None:
    with write(db):
        db["estimates"].update(job_id, {"status": "failed", "finished_at": now(), "error": message})


def interrupt_estimates(db) -> list[int]:
    """Jobs whose server process has stopped fail (they would never finish);
    those of a live process (another server on this file) are left alone."""
    with write(db):
        ids = [job_id for job_id, pid in db.execute(
            "SELECT id, pid FROM estimates WHERE status IN ('queued', 'running')").fetchall()
            if not _alive(pid)]
        for job_id in ids:
            db["estimates"].update(job_id, {"status": "failed", "finished_at": now(),
                                            "error": INTERRUPTED_ZH})
    return ids


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process
        return True
    return True


def get_estimate(db, job_id: int) -> dict | None:
    rows = list(db["estimates"].rows_where("id = ?", [job_id]))
    if not rows:
        return None
    job = rows[0]
    job["result"] = json.loads(job["result_json"]) if job["result_json"] else None
    return job


def estimates(db, limit: int = 50) -> list[dict]:
    """Recent jobs, newest first, without their results."""
    return list(db["estimates"].rows_where(
        select="id, username, year, file_name, status, processed, total, created_at, finished_at, error",
        order_by="id DESC", limit=limit))
