"""The store's SQLite settings: WAL, foreign keys, busy timeout, BEGIN IMMEDIATE."""
from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest

from benefits.web import store

AT = dt.datetime(2013, 3, 1, 1, 30, tzinfo=dt.timezone.utc)   # a fixed instant: these tests need no wall clock


def test_connection_settings(tmp_path):
    db = store.connect(tmp_path / "x.sqlite")
    store.migrate(db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO determinations (case_id, rulebook_version, record_json, result_json) "
                   "VALUES (999, 'v', '{}', '{}')")


def test_writes_take_the_write_lock_at_begin(tmp_path):
    path = tmp_path / "x.sqlite"
    db = store.connect(path)
    store.migrate(db)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with store.write(db):
        # BEGIN IMMEDIATE holds the write lock before any row is written
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")


def test_a_failed_write_rolls_back(tmp_path):
    db = store.connect(tmp_path / "x.sqlite")
    store.migrate(db)
    with pytest.raises(RuntimeError):
        with store.write(db):
            db["audit"].insert({"at": "now", "action": "x"})
            raise RuntimeError
    assert db["audit"].count == 0


def test_concurrent_read_then_write_transactions_neither_fail_nor_lose_updates(tmp_path):
    """Counting failed log-ins reads, then writes: under plain BEGIN two such
    transactions deadlock and one fails at once with "database is locked"."""
    path = tmp_path / "x.sqlite"
    db = store.connect(path)
    store.migrate(db)
    errors = []

    def writer():
        conn = store.connect(path)   # one connection per thread, as per request
        try:
            for _ in range(13):
                store.record_login_failure(conn, "u", "10.0.0.1", AT)
        except Exception as exc:   # noqa: BLE001 (collected for the assertion)
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.execute("SELECT failures FROM login_failures").fetchall() == [(52,)]


def test_login_failure_counts_idle_for_a_day_are_dropped(tmp_path):
    db = store.connect(tmp_path / "x.sqlite")
    store.migrate(db)
    store.record_login_failure(db, "made-up-1", "10.0.0.1", AT - dt.timedelta(days=2))
    store.record_login_failure(db, "made-up-2", "10.0.0.1", AT - dt.timedelta(hours=2))
    store.record_login_failure(db, "clerk", "10.0.0.2", AT)
    assert sorted(r[0] for r in db.execute("SELECT username FROM login_failures")) == ["clerk", "made-up-2"]
