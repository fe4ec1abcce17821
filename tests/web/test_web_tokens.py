"""API tokens (issue 20 item 12): a default and a chosen expiry, revocation
of one token on the admin page, and a read-only scope."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from benefits.cli import main
from benefits.web import store
from benefits.web import users as users_module

from web_helpers import login, token

RECORD = {"id_number": "11010519491231002X", "name": "令牌测试", "hukou_county": "411202",
          "certificate": {"number": "11010519491231002X42", "category": 4, "grade": 2},
          "status": {"dibao": True}, "evaluation_date": "2013-03-01"}


def issue(app, monkeypatch, clock, *args) -> str:
    monkeypatch.setattr(users_module, "utc_now", clock)     # the command and the app share one clock
    result = CliRunner().invoke(main, ["users", "token", "clerk_hubin", *args, "--db", app.config["DATABASE"]])
    assert result.exit_code == 0, result.output
    return next(w for w in result.output.split() if w.startswith("bt_"))


def bearer(issued: str) -> dict:
    return {"Authorization": f"Bearer {issued}"}


def test_a_token_expires_after_the_default_90_days(app, client, clock, monkeypatch):
    issued = issue(app, monkeypatch, clock, "--label", "对接系统")
    clock.advance(days=store.TOKEN_DAYS, seconds=-1)
    assert client.get("/api/v1/cases", headers=bearer(issued)).status_code == 200
    clock.advance(seconds=1)
    response = client.get("/api/v1/cases", headers=bearer(issued))
    assert response.status_code == 401 and response.get_json()["code"] == "bad_token"
    assert "过期" in response.get_json()["message"] and "2013-05-30" in response.get_json()["message"]


def test_a_token_expires_on_the_day_chosen(app, client, clock, monkeypatch):
    issued = issue(app, monkeypatch, clock, "--days", "7")
    clock.advance(days=6)
    assert client.get("/api/v1/rules", headers=bearer(issued)).status_code == 200
    clock.advance(days=1)
    assert "过期" in client.get("/api/v1/rules", headers=bearer(issued)).get_json()["message"]
    for days in ("0", "367", "x"):
        result = CliRunner().invoke(main, ["users", "token", "clerk_hubin", "--days", days,
                                           "--db", app.config["DATABASE"]])
        assert result.exit_code == 2 and "--days" in result.output


def test_an_admin_revokes_one_token_and_the_other_keeps_working(app, client, clock, monkeypatch):
    kept, revoked = issue(app, monkeypatch, clock, "--label", "甲"), issue(app, monkeypatch, clock, "--label", "乙")
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "API 令牌" in page and page.count("有效") == 2 and kept not in page and revoked not in page
    token_id = store.connect(app.config["DATABASE"]).execute(
        "SELECT id FROM api_tokens WHERE label = '乙'").fetchone()[0]
    response = admin.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": token(admin, "/admin/users")})
    assert response.status_code == 302
    refused = client.get("/api/v1/cases", headers=bearer(revoked))
    assert refused.status_code == 401 and "作废" in refused.get_json()["message"]
    assert client.get("/api/v1/cases", headers=bearer(kept)).status_code == 200
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "已作废" in page and page.count(">作废</button>") == 1
    again = admin.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": token(admin, "/admin/users")})
    assert again.status_code == 404
    rows = store.connect(app.config["DATABASE"])["audit"].rows_where("action = ?", ["token.revoke"])
    assert [r["detail"] for r in rows] == [f"token {token_id}"]


def test_only_an_admin_revokes_and_only_with_the_form_token(app, client, clock, monkeypatch):
    issued = issue(app, monkeypatch, clock)
    login(client, "clerk_hubin")
    assert client.post("/admin/tokens/1/revoke", data={"csrf_token": token(client)}).status_code == 403
    admin = app.test_client()
    login(admin, "admin")
    assert admin.post("/admin/tokens/1/revoke").status_code == 400          # no CSRF token
    assert app.test_client().get("/api/v1/rules", headers=bearer(issued)).status_code == 200


def test_a_read_only_token_reads_and_evaluates_but_cannot_save(app, client, clock, monkeypatch):
    issued = issue(app, monkeypatch, clock, "--read-only")
    headers = bearer(issued)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    assert client.post("/api/v1/evaluate", json=RECORD, headers=headers).status_code == 200
    for method, path in (("POST", "/api/v1/cases"), ("PUT", "/api/v1/cases/1")):
        response = client.open(path, method=method, json=RECORD, headers=headers)
        assert response.status_code == 403 and response.get_json()["code"] == "read_only_token", path
        assert "只读" in response.get_json()["message"]
    db = store.connect(app.config["DATABASE"])
    assert db.execute("SELECT count(*) FROM cases WHERE name = '令牌测试'").fetchone()[0] == 0
    full = issue(app, monkeypatch, clock)
    assert client.post("/api/v1/cases", json=RECORD, headers=bearer(full)).status_code == 201


def test_an_old_database_gives_its_tokens_the_default_lifetime(tmp_path):
    path = tmp_path / "old.sqlite"
    db = store.connect(path)
    store.migrate(db)
    db.execute("PRAGMA user_version=4")
    for column in ("expires_at", "revoked_at", "scope"):
        db.execute(f"ALTER TABLE api_tokens DROP COLUMN {column}")
    db.execute("INSERT INTO users (username, password_hash, role, display_name) VALUES ('u', 'h', 'finance', 'u')")
    db.execute("INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES (1, 'x', '', '2013-01-01')")
    db.conn.commit()
    store.migrate(db)
    expires, scope = db.execute("SELECT expires_at, scope FROM api_tokens").fetchone()
    assert scope == "full" and re.match(r"\d{4}-\d\d-\d\dT", expires)
    assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    with pytest.raises(ValueError):
        store.new_api_token(db, 1, days=0)
