"""`benefits serve` and the web package's boundary to the engine."""
from __future__ import annotations

import ast
from pathlib import Path

import flask
from click.testing import CliRunner

from benefits.cli import main

WEB = Path(__file__).resolve().parents[2] / "benefits" / "web"
PUBLIC = {"default_engine", "parse_applicant", "InvalidApplicant", "mask_id", "Applicant", "RulebookError",
          "CURRENT_COUNTIES"}


def test_first_start_creates_the_database_and_prints_the_logins(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(flask.Flask, "run", lambda self, **kw: started.append(kw))
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
    monkeypatch.setattr(flask.Flask, "run", lambda self, **kw: None)
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "x.sqlite"),
                                       "--rules", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "规则文件错误" in result.output


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
