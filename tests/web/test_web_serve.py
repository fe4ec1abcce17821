"""`benefits serve` and the web package's boundary to the engine."""
from __future__ import annotations

import ast
import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

from benefits.cli import main

serve_module = importlib.import_module("benefits.web.serve")

WEB = Path(__file__).resolve().parents[2] / "benefits" / "web"
PUBLIC = {"default_engine", "DAY_BEFORE_BIRTH", "parse_applicant", "InvalidApplicant", "FieldError", "mask_id", "Applicant",
          "RulebookError", "CURRENT_COUNTIES", "ALWAYS", "covers", "services", "service_paths",
          "rulebook_version", "EngineCache", "rank_questions", "GATES", "gate_no",
          "value_problem", "county_name", "Rulebook",
          # the determination's vocabulary (engine/vocabulary.py)
          "Determination", "PAYERS", "PAYER_ZH", "PERIOD_ZH", "STATUS_ZH", "ELIGIBLE", "INELIGIBLE", "UNDETERMINED"}


def test_first_start_creates_the_database_and_prints_the_logins(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(serve_module, "run_server", lambda app, **kw: started.append(kw))
    db = tmp_path / "instance" / "benefits.sqlite"
    runner = CliRunner()
    first = runner.invoke(main, ["serve", "--db", str(db), "--port", "5099", "--demo-password", "pw-1234567"])
    assert first.exit_code == 0, first.output
    assert db.exists() and (db.parent / "secret_key").exists()
    assert "clerk_hubin" in first.output and "pw-1234567" in first.output
    assert "http://127.0.0.1:5099/" in first.output
    assert started[0]["port"] == 5099 and started[0]["host"] == "127.0.0.1"
    again = runner.invoke(main, ["serve", "--db", str(db), "--demo-password", "pw-1234567"])
    assert again.exit_code == 0 and "pw-1234567" not in again.output   # printed once only


def test_bad_rules_dir_is_a_chinese_error(tmp_path, monkeypatch):
    monkeypatch.setattr(serve_module, "run_server", lambda app, **kw: None)
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "x.sqlite"),
                                       "--rules", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "规则文件错误" in result.output


@contextmanager
def served_command(tmp_path):
    """`benefits serve` as a process on a free port: yields (process, base URL, database)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = tmp_path / "served.sqlite"
    # faulthandler: if the server ever hangs on SIGTERM, SIGABRT dumps every thread's stack into the failure
    server = subprocess.Popen([sys.executable, "-m", "benefits.cli", "serve", "--db", str(db), "--port", str(port),
                               "--no-demo", "--threads", "4"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                    response.read()
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read().decode()
                time.sleep(0.3)
        yield server, f"http://127.0.0.1:{port}", db
    finally:
        server.terminate()
        try:
            server.output = server.communicate(timeout=30)[0].decode()   # reads as it waits: a full pipe cannot block it
        except subprocess.TimeoutExpired:
            server.send_signal(signal.SIGABRT)
            raise AssertionError("服务器收到 SIGTERM 后 30 秒未退出：\n" + server.communicate(timeout=30)[0].decode())


def test_serve_runs_a_production_server_with_threads(tmp_path):
    """The real command: waitress answers, not Werkzeug's development
    server, the database is owner-only, and SIGTERM ends it with 143."""
    with served_command(tmp_path) as (server, base, db):
        with urllib.request.urlopen(base + "/login", timeout=5) as response:
            page = response.read().decode()
        assert response.status == 200 and response.headers["Server"] == "benefits"
        assert "登录" in page
        assert oct(os.stat(db).st_mode & 0o777) == "0o600"
    assert server.returncode == 143, server.output
    assert "Serving on" in server.output and "development server" not in server.output


def test_sigterm_during_requests_ends_the_server(tmp_path):
    """The signal lands while connections are read and written (where a
    raised exception used to be swallowed by waitress): it still ends the
    server, within the 30 s the fixture allows, with 143."""
    stop = threading.Event()
    answered = []

    def hammer(base):
        while not stop.is_set():
            try:
                with urllib.request.urlopen(base + "/login", timeout=5) as response:
                    answered.append(len(response.read()))
            except OSError:
                pass

    with served_command(tmp_path) as (server, base, _db):
        clients = [threading.Thread(target=hammer, args=(base,), daemon=True) for _ in range(6)]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 30
        while len(answered) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(answered) >= 60, "服务器 30 秒内未答满 60 个请求"
        started = time.monotonic()
    stop.set()
    assert server.returncode == 143, server.output
    assert time.monotonic() - started < 10, "服务器收到 SIGTERM 后超过 10 秒才退出"


def test_make_run_passes_port_and_db_to_serve():
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k not in ("PORT", "DB")}

    def dry_run(*variables):
        out = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "run", *variables],
                             cwd=root, capture_output=True, text=True, check=True, env=env).stdout
        return [line for line in out.splitlines() if "benefits serve" in line]

    assert dry_run("PORT=8123", "DB=/tmp/x.sqlite") == [".venv/bin/benefits serve --port 8123 --db /tmp/x.sqlite"]
    assert dry_run() == [".venv/bin/benefits serve"]


def test_web_uses_only_the_engines_public_api():
    for path in WEB.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any("durable" in a.name or "benefits.engine." in a.name for a in node.names), path
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert "durable" not in module, path
                assert not module.startswith(("engine.", "benefits.engine.")), (path, module)
                if module in ("engine", "benefits.engine"):
                    assert {a.name for a in node.names} <= PUBLIC, (path, module)


def test_a_kept_connection_serves_the_next_request_without_a_half_done_transaction(seeded_db, tmp_path):
    """benefits serve keeps one connection per request thread
    (REUSE_DB_CONNECTIONS): a request that fails inside a transaction
    must not leave it open for the next one."""
    import shutil
    from benefits.web import create_app
    from web_helpers import login
    path = tmp_path / "benefits.sqlite"
    shutil.copy(seeded_db, path)
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "s", "REUSE_DB_CONNECTIONS": True})

    def fails_mid_write():
        from flask import g
        g.db.conn.execute("BEGIN IMMEDIATE")
        raise RuntimeError("half-done")

    app.add_url_rule("/fails", view_func=fails_mid_write)
    client = app.test_client()
    assert client.get("/fails").status_code == 500
    kept = app.extensions["benefits_db_threads"].db
    assert not kept.conn.in_transaction
    assert login(client, "clerk_hubin").status_code == 302         # writes a session: no "within a transaction"
    assert client.get("/cases").status_code == 200
    assert app.extensions["benefits_db_threads"].db is kept        # the same connection, kept
