"""All database access of the web app (数据存储): one SQLite file via sqlite-utils.

Every connection turns foreign keys on and waits on a busy database; every
write runs in ``BEGIN IMMEDIATE`` (sqlite-utils' ``atomic()`` would use a plain
BEGIN, which fails at once under concurrent writers). A ``Database`` never
crosses threads: the app opens one per request.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import sqlite3
from pathlib import Path
from typing import Mapping

import sqlite_utils

from ..engine import rulebook_version

SCHEMA_VERSION = 5
BUSY_TIMEOUT_MS = 5000
# Failed log-ins are counted per (user name, source address): after
# FREE_FAILURES the next attempt waits BACKOFF_SECONDS, doubling per failure
# up to BACKOFF_MAX_SECONDS. Nobody can lock an account for another address.
FREE_FAILURES = 5
BACKOFF_SECONDS = 30
BACKOFF_MAX_SECONDS = 15 * 60
ROLES = ("clerk", "finance", "policy", "admin")
CASE_STATUSES = ("eligible", "undetermined", "ineligible")
INTERRUPTED_ZH = "服务器在测算完成前重启，测算已中断，请重新提交"
NOT_KEPT_ZH = "规则文件未保存，无法重放"


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class DuplicateCase(Exception):
    """This person already has a case in this county (one per ID number per county)."""

    def __init__(self, case_id: int):
        super().__init__(case_id)
        self.case_id = case_id


class StoreError(Exception):
    """The database cannot be used as it is (Chinese message)."""


def private_folder(path: str | Path) -> Path:
    """A folder beside the database for files the web writes (estimates/,
    scorecards/, policy/<run>/): made, or made again, owner-only (0700), as
    the database is owner-only; they hold workbooks with names."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def private_file(path: str | Path) -> Path:
    """A file the web wrote (an upload, a chart, a workbook): owner-only (0600)."""
    path = Path(path)
    path.chmod(0o600)
    return path


def connect(path: str | Path) -> sqlite_utils.Database:
    # The file holds full ID numbers: create it owner-only. SQLite gives the
    # -wal and -shm files the database file's permissions.
    if str(path) != ":memory:" and not os.path.exists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
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


def migrate(db: sqlite_utils.Database, rulebook_files: Mapping[str, bytes] | None = None) -> bool:
    """Create or upgrade the schema (建表); True if the database was new.
    ``rulebook_files``: today's rule files, kept for determinations saved with
    today's version before files were kept (the upgrade to schema 4)."""
    db.conn.execute("PRAGMA journal_mode=WAL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version < SCHEMA_VERSION:
        with write(db):
            if version < 1:
                _schema_1(db)
            if version < 2:
                _schema_2(db)
            if version < 3:
                _schema_3(db)
            if version < 4:
                _schema_4(db)
            if version < 5:
                _schema_5(db)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    if rulebook_files:
        _adopt(db, rulebook_files)
    return version == 0


def _adopt(db, files: Mapping[str, bytes]) -> None:
    """Determinations saved before their files were kept, whose version is
    today's, gain today's files (they hash to that version: nothing is guessed)."""
    version = rulebook_version(files)
    with write(db):
        if db.execute("SELECT 1 FROM rulebook_versions WHERE version = ? AND kept = 0", [version]).fetchone():
            _keep_rulebook(db, version, files)


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


def _schema_3(db) -> None:
    """One case per ID number per county; server-side sessions; log-in
    throttling per name and address; API tokens."""
    dupes = db.execute("SELECT county, id_number, group_concat(id, '、') FROM cases "
                       "GROUP BY county, id_number HAVING count(*) > 1").fetchall()
    if dupes:
        listed = "；".join(f"#{ids}" for _, _, ids in dupes)
        raise StoreError(f"数据库中同一县区同一身份证号有多个案件（{listed}），请先合并后再启动")
    db["cases"].create_index(["county", "id_number"], unique=True, index_name="cases_one_per_person")
    db["sessions"].create({"id": str, "user_id": int, "created_at": str}, pk="id",
                          not_null={"user_id", "created_at"}, foreign_keys=[("user_id", "users", "id")])
    db["sessions"].create_index(["user_id"])
    db["login_failures"].create({"username": str, "source": str, "failures": int, "last_at": str},
                                pk=("username", "source"), not_null={"failures", "last_at"})
    db["api_tokens"].create({"id": int, "user_id": int, "token_hash": str, "label": str,
                             "created_at": str}, pk="id", not_null={"user_id", "token_hash", "created_at"},
                            foreign_keys=[("user_id", "users", "id")])
    db["api_tokens"].create_index(["token_hash"], unique=True)


def _schema_5(db) -> None:
    """API tokens expire, can be revoked one by one, and may be read-only
    (令牌有效期、作废、只读). Tokens issued before get the default lifetime from
    the upgrade on."""
    db.execute("ALTER TABLE api_tokens ADD COLUMN expires_at TEXT")
    db.execute("ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT")
    db.execute("ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'")
    db.execute("UPDATE api_tokens SET expires_at = ?", [_stamp(_utc_now() + dt.timedelta(days=TOKEN_DAYS))])


def _schema_4(db) -> None:
    """Rulebook versions kept with the determinations they made (规则版本存档),
    content-addressed, so a saved determination can be replayed exactly; and
    the cache of which saved cases today's rules change."""
    db["rulebook_files"].create({"sha256": str, "content": bytes, "size": int}, pk="sha256",
                                not_null={"content", "size"})
    db["rulebook_versions"].create({"version": str, "kept": int, "at": str, "note": str}, pk="version",
                                   not_null={"kept", "at"})
    db["rulebook_version_files"].create({"version": str, "path": str, "sha256": str}, pk=("version", "path"),
                                        not_null={"sha256"},
                                        foreign_keys=[("version", "rulebook_versions", "version"),
                                                      ("sha256", "rulebook_files", "sha256")])
    # Kept files never change: SQLite itself refuses (a version whose files
    # were not kept may still gain them, if they come back).
    for table in ("rulebook_files", "rulebook_version_files"):
        for verb in ("UPDATE", "DELETE"):
            db.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'kept rule files never change'); END")
    db.execute("CREATE TRIGGER rulebook_versions_kept BEFORE UPDATE ON rulebook_versions WHEN OLD.kept = 1 "
               "BEGIN SELECT RAISE(ABORT, 'kept rule files never change'); END")
    db.execute("CREATE TRIGGER rulebook_versions_no_delete BEFORE DELETE ON rulebook_versions "
               "BEGIN SELECT RAISE(ABORT, 'kept rule files never change'); END")
    # A new determination needs its version's files kept first (same transaction).
    db.execute("CREATE TRIGGER determinations_version_kept BEFORE INSERT ON determinations "
               "WHEN NOT EXISTS (SELECT 1 FROM rulebook_versions WHERE version = NEW.rulebook_version AND kept = 1) "
               "BEGIN SELECT RAISE(ABORT, 'rulebook version not kept'); END")
    # saved before files were kept: said so (migrate then adopts today's version)
    for (version,) in db.execute("SELECT DISTINCT rulebook_version FROM determinations").fetchall():
        db["rulebook_versions"].insert({"version": version, "kept": 0, "at": now(), "note": NOT_KEPT_ZH})
    db["rechecks"].create({"determination_id": int, "rulebook_version": str, "changed": int,
                           "changes_json": str, "at": str}, pk=("determination_id", "rulebook_version"),
                          not_null={"changed", "changes_json", "at"},
                          foreign_keys=[("determination_id", "determinations", "id")])


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


def backoff_until(db, username: str, source: str) -> dt.datetime | None:
    """Until when log-ins for this name from this address must wait, or None."""
    row = db.execute("SELECT failures, last_at FROM login_failures WHERE username = ? AND source = ?",
                     [username, source]).fetchone()
    if row is None or row[0] < FREE_FAILURES:
        return None
    wait = min(BACKOFF_SECONDS * 2 ** min(row[0] - FREE_FAILURES, 20), BACKOFF_MAX_SECONDS)
    return dt.datetime.fromisoformat(row[1]) + dt.timedelta(seconds=wait)


def record_login_failure(db, username: str, source: str, at: dt.datetime) -> None:
    """Count a failed log-in for this name (known or not) from this address.
    Counts idle for a day are dropped, so made-up names cannot fill the table
    and an address's back-off starts afresh."""
    with write(db):
        db.execute("DELETE FROM login_failures WHERE last_at < ?", [(at - dt.timedelta(days=1)).isoformat()])
        db.execute("INSERT INTO login_failures (username, source, failures, last_at) VALUES (?, ?, 1, ?) "
                   "ON CONFLICT (username, source) DO UPDATE SET failures = failures + 1, last_at = excluded.last_at",
                   [username, source, at.isoformat()])


def clear_login_failures(db, username: str, source: str | None = None) -> None:
    """A good log-in clears its address; an admin or a new password clears all."""
    with write(db):
        if source is None:
            db.execute("DELETE FROM login_failures WHERE username = ?", [username])
        else:
            db.execute("DELETE FROM login_failures WHERE username = ? AND source = ?", [username, source])


def throttled_names(db, at: dt.datetime) -> dict[str, int]:
    """User name → number of addresses currently waiting (the admin's list)."""
    out: dict[str, int] = {}
    for username, source in db.execute("SELECT username, source FROM login_failures WHERE failures >= ?",
                                       [FREE_FAILURES]).fetchall():
        until = backoff_until(db, username, source)
        if until and until > at:
            out[username] = out.get(username, 0) + 1
    return out


def update_password_hash(db, user_id: int, password_hash: str) -> None:
    """A rehash on log-in (argon2 parameters changed); sessions stay."""
    with write(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])


# --- sessions and API tokens -------------------------------------------------

SESSION_MAX_HOURS = 12   # a log-in lasts a working day at most


def _stamp(at: dt.datetime | None) -> str:
    return (at or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat()


def _session_cutoff(at: dt.datetime | None) -> str:
    return _stamp((at or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(hours=SESSION_MAX_HOURS))


def new_session(db, user_id: int, at: dt.datetime | None = None) -> str:
    """A server-side session id, begun ``at`` (default: now); sessions past
    their lifetime are dropped."""
    sid = secrets.token_urlsafe(32)
    with write(db):
        db.execute("DELETE FROM sessions WHERE created_at < ?", [_session_cutoff(at)])
        db["sessions"].insert({"id": sid, "user_id": user_id, "created_at": _stamp(at)})
    return sid


def session_user(db, sid: str, at: dt.datetime | None = None) -> dict | None:
    """The user of a session still within its lifetime ``at`` (default: now)."""
    row = db.execute("SELECT user_id FROM sessions WHERE id = ? AND created_at >= ?",
                     [sid, _session_cutoff(at)]).fetchone()
    return user_by_id(db, row[0]) if row else None


def end_session(db, sid: str) -> None:
    with write(db):
        db.execute("DELETE FROM sessions WHERE id = ?", [sid])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


TOKEN_DAYS = 90          # an API token's lifetime unless another is chosen
TOKEN_MAX_DAYS = 366     # the longest one may choose
TOKEN_SCOPES = {"full": "完整（随用户角色）", "read": "只读（可查询、评估、测算，不能保存或修改）"}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_api_token(db, user_id: int, label: str = "", days: int = TOKEN_DAYS, scope: str = "full",
                  at: dt.datetime | None = None) -> str:
    """A random token (shown once) that ends ``days`` after ``at`` (default:
    now); only its SHA-256 is stored. ``scope``: "full" (the user's role) or
    "read" (read-only)."""
    if not 1 <= days <= TOKEN_MAX_DAYS or scope not in TOKEN_SCOPES:
        raise ValueError(f"days 1–{TOKEN_MAX_DAYS}, scope in {sorted(TOKEN_SCOPES)}")
    token = "bt_" + secrets.token_urlsafe(32)
    at = at or _utc_now()
    with write(db):
        db["api_tokens"].insert({"user_id": user_id, "token_hash": _token_hash(token), "label": label,
                                 "created_at": _stamp(at), "expires_at": _stamp(at + dt.timedelta(days=days)),
                                 "scope": scope})
    return token


def token_user(db, token: str, at: dt.datetime | None = None) -> tuple[dict | None, str | None]:
    """(the token's user with ``token_scope`` set, None), or (None, why in
    Chinese): unknown, revoked, or past its expiry ``at`` (default: now)."""
    row = db.execute("SELECT user_id, expires_at, revoked_at, scope FROM api_tokens WHERE token_hash = ?",
                     [_token_hash(token)]).fetchone()
    if row is None:
        return None, "API 令牌无效"
    user_id, expires_at, revoked_at, scope = row
    if revoked_at:
        return None, f"API 令牌已于 {revoked_at[:10]} 作废"
    if expires_at is None or expires_at <= _stamp(at):
        return None, f"API 令牌已于 {(expires_at or '')[:10]} 过期，请重新申请"
    user = user_by_id(db, user_id)
    if user is not None:
        user["token_scope"] = scope
    return user, None if user else "API 令牌无效"


def api_tokens(db) -> list[dict]:
    """Every token (never its hash), newest first, with its user's name."""
    rows = db.execute("SELECT t.id, u.username, t.label, t.scope, t.created_at, t.expires_at, t.revoked_at "
                      "FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC").fetchall()
    keys = ("id", "username", "label", "scope", "created_at", "expires_at", "revoked_at")
    return [dict(zip(keys, row)) for row in rows]


def revoke_api_token(db, token_id: int, at: dt.datetime | None = None) -> bool:
    """Revoke one token; False if there is no such token or it was revoked already."""
    with write(db):
        return db.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                          [_stamp(at), token_id]).rowcount == 1


def set_password(db, user_id: int, password_hash: str) -> None:
    """A new password: it ends every session and API token of the user and
    lifts any log-in back-off."""
    with write(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])
        db.execute("DELETE FROM sessions WHERE user_id = ?", [user_id])
        db.execute("DELETE FROM api_tokens WHERE user_id = ?", [user_id])
        db.execute("DELETE FROM login_failures WHERE username = (SELECT username FROM users WHERE id = ?)",
                   [user_id])


# --- cases and determinations ----------------------------------------------

def case_status(result: dict) -> str:
    """A case's list status: any grant, else open questions, else nothing."""
    summary = result["summary"]
    if summary["eligible"]:
        return "eligible"
    return "undetermined" if summary["undetermined"] else "ineligible"


def create_case(db, county: str, record: dict, result: dict, user: dict | None, detail: str = "",
                rulebook_files: Mapping[str, bytes] | None = None) -> int:
    """Save a new case, its determination and its audit row in one transaction,
    keeping the rule files of the result's version (``rulebook_files``) if not
    kept yet. Raises DuplicateCase if the person already has a case in the county."""
    stamp = now()
    try:
        with write(db):
            case_id = db["cases"].insert({
                "county": county, "name": record["name"], "id_number": record["id_number"],
                "record_json": json.dumps(record, ensure_ascii=False), "status": case_status(result),
                "created_at": stamp, "created_by": user and user["id"], "updated_at": stamp}).last_pk
            _add_determination(db, case_id, record, result, user and user["id"], stamp, rulebook_files)
            _audit(db, user, "case.create", case_id, detail)
    except sqlite3.IntegrityError:
        existing = case_with_id_number(db, county, record["id_number"])
        if existing is None:
            raise
        raise DuplicateCase(existing) from None
    return case_id


def add_determination(db, case_id: int, record: dict, result: dict, user: dict, action: str,
                      detail: str = "", rulebook_files: Mapping[str, bytes] | None = None) -> int:
    """Append a determination (never replace one), update the case and audit
    it, in one transaction (with the version's rule files, as create_case)."""
    stamp = now()
    try:
        with write(db):
            db["cases"].update(case_id, {
                "name": record["name"], "id_number": record["id_number"],
                "record_json": json.dumps(record, ensure_ascii=False),
                "status": case_status(result), "updated_at": stamp})
            det_id = _add_determination(db, case_id, record, result, user["id"], stamp, rulebook_files)
            _audit(db, user, action, case_id, detail)
            return det_id
    except sqlite3.IntegrityError:
        existing = db.execute("SELECT id FROM cases WHERE id != ? AND id_number = ? AND county = "
                              "(SELECT county FROM cases WHERE id = ?)",
                              [case_id, record["id_number"], case_id]).fetchone()
        if existing is None:
            raise
        raise DuplicateCase(existing[0]) from None


def result_json(result: dict) -> str:
    """A determination as saved (and as a replay must give it back, byte for byte)."""
    return json.dumps(result, ensure_ascii=False)


def _add_determination(db, case_id, record, result, user_id, stamp, rulebook_files=None) -> int:
    if rulebook_files is not None:
        _keep_rulebook(db, result["rulebook_version"], rulebook_files)
    return db["determinations"].insert({
        "case_id": case_id, "created_at": stamp, "created_by": user_id,
        "rulebook_version": result["rulebook_version"], "evaluation_date": result["evaluation_date"],
        "record_json": json.dumps(record, ensure_ascii=False),
        "result_json": result_json(result)}).last_pk


# --- rulebook versions (规则版本存档) -----------------------------------------

class VersionNotKept(StoreError):
    """A determination's rule files were never kept (saved before schema 4)."""


class KeptFileCorrupt(StoreError):
    """A kept rule file no longer has the hash it is stored under."""


def keep_rulebook(db, version: str, files: Mapping[str, bytes]) -> None:
    """Keep a version's rule files, once (idempotent; safe beside other writers)."""
    with write(db):
        _keep_rulebook(db, version, files)


def _keep_rulebook(db, version: str, files: Mapping[str, bytes]) -> None:
    """Inside the caller's write transaction (BEGIN IMMEDIATE: one writer at a
    time, so a version is written by exactly one of several racing saves)."""
    row = db.execute("SELECT kept FROM rulebook_versions WHERE version = ?", [version]).fetchone()
    if row is not None and row[0]:
        return
    if rulebook_version(files) != version:   # files of another version would replay wrongly
        raise ValueError(f"rule files hash to {rulebook_version(files)}, not {version}")
    db.execute("INSERT INTO rulebook_versions (version, kept, at, note) VALUES (?, 1, ?, NULL) "
               "ON CONFLICT (version) DO UPDATE SET kept = 1, at = excluded.at, note = NULL", [version, now()])
    for path, content in files.items():
        digest = hashlib.sha256(content).hexdigest()
        db.execute("INSERT OR IGNORE INTO rulebook_files (sha256, content, size) VALUES (?, ?, ?)",
                   [digest, content, len(content)])
        db.execute("INSERT INTO rulebook_version_files (version, path, sha256) VALUES (?, ?, ?)",
                   [version, path, digest])


def version_kept(db, version: str) -> tuple[bool, str]:
    """(files kept?, the note saying why not)."""
    row = db.execute("SELECT kept, note FROM rulebook_versions WHERE version = ?", [version]).fetchone()
    if row is None:
        return False, NOT_KEPT_ZH
    return bool(row[0]), row[1] or ""


def version_files(db, version: str) -> dict[str, bytes]:
    """The kept files of a version, by relative path; each checked against its hash."""
    kept, note = version_kept(db, version)
    if not kept:
        raise VersionNotKept(f"规则版本 {version}：{note or NOT_KEPT_ZH}")
    files = {}
    for path, digest, content in db.execute(
            "SELECT vf.path, vf.sha256, f.content FROM rulebook_version_files vf "
            "JOIN rulebook_files f ON f.sha256 = vf.sha256 WHERE vf.version = ? ORDER BY vf.path", [version]):
        if not isinstance(content, bytes) or hashlib.sha256(content).hexdigest() != digest:
            raise KeptFileCorrupt(f"规则版本 {version} 的已存文件 {path} 校验不符，文件可能被改动或损坏，拒绝重放")
        files[path] = bytes(content)
    return files


def determination(db, determination_id: int) -> dict | None:
    """One determination with its case's county (for the county check)."""
    rows = list(db.query("SELECT d.*, c.county FROM determinations d JOIN cases c ON c.id = d.case_id "
                         "WHERE d.id = ?", [determination_id]))
    return rows[0] if rows else None


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
        "SELECT d.*, u.username, u.display_name FROM determinations d LEFT JOIN users u ON u.id = d.created_by "
        "WHERE d.case_id = ? ORDER BY d.id", [case_id])
    out = []
    for row in rows:
        row["result"] = json.loads(row["result_json"])
        row["record"] = json.loads(row["record_json"])
        out.append(row)
    return out


_ID_TAIL = re.compile(r"\d{3}[\dxX]")
_ID_FULL = re.compile(r"\d{17}[\dxX]")
_ID_MASKED = re.compile(r"(\d{6})[*＊]{8}(\d{3}[\dxX])")   # as lists show it: 411202********0305


def masked_query(query: str) -> str:
    """A case search as the audit log keeps it: a whole ID number masked."""
    return query[:6] + "********" + query[-4:] if _ID_FULL.fullmatch(query) else query


def search_cases(db, county: str | None, name: str = "", status: str = "",
                 page: int = 1, per_page: int = 20) -> tuple[list[dict], int]:
    """One page of cases (newest first) and the total count. ``county`` None = all.
    ``name``: part of a name, a whole ID number, its last four characters, or
    the number masked as the lists show it (place code and last four match)."""
    where, params = [], []
    if county is not None:
        where.append("county = ?")
        params.append(county)
    if _ID_TAIL.fullmatch(name):        # the last four characters of an ID number
        where.append("substr(id_number, -4) = ?")
        params.append(name.upper())
    elif _ID_FULL.fullmatch(name):      # a whole ID number
        where.append("id_number = ?")
        params.append(name.upper())
    elif masked := _ID_MASKED.fullmatch(name):   # a masked number copied from a list: place code and last four
        where.append("substr(id_number, 1, 6) = ? AND substr(id_number, -4) = ?")
        params += [masked.group(1), masked.group(2).upper()]
    elif name:
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
        _audit(db, user, action, case_id, detail)


def _audit(db, user, action, case_id=None, detail="") -> None:
    """An audit row inside the caller's transaction."""
    db["audit"].insert({
        "at": now(), "user_id": user["id"] if user else None,
        "username": user["username"] if user else None, "case_id": case_id,
        "action": action, "detail": detail})


def search_audit(db, username: str = "", case_id: int | None = None, action: str = "",
                 since: str | None = None, until: str | None = None, page: int = 1,
                 per_page: int = 50) -> tuple[list[dict], int]:
    """One page of the audit log (newest first) and the total; ``since`` and
    ``until`` are UTC ISO times (inclusive, exclusive)."""
    where, params = [], []
    for clause, value in (("username = ?", username or None), ("case_id = ?", case_id),
                          ("action = ?", action or None), ("at >= ?", since), ("at < ?", until)):
        if value is not None:
            where.append(clause)
            params.append(value)
    clause = " AND ".join(where) or "1"
    total = db["audit"].count_where(clause, params)
    rows = list(db["audit"].rows_where(clause, params, order_by="id DESC", limit=per_page,
                                       offset=(page - 1) * per_page))
    return rows, total


def audit_rows(db, case_id: int | None = None, limit: int = 200) -> list[dict]:
    """The newest audit rows (of one case), each with the user's display name."""
    where, params = ("WHERE a.case_id = ?", [case_id]) if case_id is not None else ("", [])
    return [dict(r) for r in db.query(
        f"SELECT a.*, u.display_name FROM audit a LEFT JOIN users u ON u.id = a.user_id {where} "
        "ORDER BY a.id DESC LIMIT ?", params + [limit])]


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
    rows = [dict(r) for r in db.query("SELECT e.*, u.display_name FROM estimates e "
                                      "LEFT JOIN users u ON u.id = e.user_id WHERE e.id = ?", [job_id])]
    if not rows:
        return None
    job = rows[0]
    job["result"] = json.loads(job["result_json"]) if job["result_json"] else None
    return job


def estimates(db, limit: int = 50) -> list[dict]:
    """Recent jobs, newest first, without their results."""
    return [dict(r) for r in db.query(
        "SELECT e.id, e.username, u.display_name, e.year, e.file_name, e.status, e.processed, e.total, "
        "e.created_at, e.finished_at, e.error FROM estimates e LEFT JOIN users u ON u.id = e.user_id "
        "ORDER BY e.id DESC LIMIT ?", [limit])]
