"""`benefits serve` and the web package's boundary to the engine."""
from __future__ import annotations

import ast
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import waitress
from click.testing import CliRunner

from benefits.cli import main

WEB = Path(__file__).resolve().parents[2] / "benefits" / "web"
PUBLIC = {"default_engine", "DAY_BEFORE_BIRTH", "parse_applicant", "InvalidApplicant", "FieldError", "mask_id", "Applicant",
          "RulebookError", "CURRENT_COUNTIES", "ALWAYS", "covers", "services", "service_paths",
          "rulebook_version", "EngineCache",
          # the determination's vocabulary (engine/vocabulary.py)
          "Determination", "PAYERS", "PAYER_ZH", "PERIOD_ZH", "STATUS_ZH", "ELIGIBLE", "INELIGIBLE", "UNDETERMINED"}


def test_first_start_creates_the_database_and_prints_the_logins(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: started.append(kw))
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
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: None)
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "x.sqlite"),
                                       "--rules", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "规则文件错误" in result.output


def test_serve_runs_a_production_server_with_threads(tmp_path):
    """The real command, on a free port: waitress answers, not Werkzeug's
    development server, and the database is owner-only."""
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
                    page = response.read().decode()
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read().decode()
                time.sleep(0.3)
        assert response.status == 200 and response.headers["Server"] == "benefits"
        assert "登录" in page
        assert oct(os.stat(db).st_mode & 0o777) == "0o600"
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=30)[0].decode()   # reads as it waits: a full pipe cannot block it
        except subprocess.TimeoutExpired:
            server.send_signal(signal.SIGABRT)
            raise AssertionError("服务器收到 SIGTERM 后 30 秒未退出：\n" + server.communicate(timeout=30)[0].decode())
    assert server.returncode == 143, output
    assert "Serving on" in output and "development server" not in output


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
