"""`benefits users`: real accounts from the command line."""
from __future__ import annotations

from click.testing import CliRunner

from benefits.cli import main
from benefits.web import store
from benefits.web import users as users_module

from web_helpers import login

NEW_PASSWORD = "a-long-password-1"


def users(app, *args, input=None):
    return CliRunner().invoke(main, ["users", *args, "--db", app.config["DATABASE"]], input=input)


def test_a_new_clerk_logs_in_and_sees_only_their_county(app, client):
    result = users(app, "add", "李受理", "--role", "clerk", "--county", "411282", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "已创建用户 李受理（县区受理员 · 灵宝市）" in result.output
    assert login(client, "李受理", NEW_PASSWORD).status_code == 302
    page = client.get("/cases").get_data(as_text=True)
    assert "湖滨区" not in page
    rows = store.connect(app.config["DATABASE"])["audit"].rows_where("action = ?", ["user_added"])
    assert ["李受理" in r["detail"] for r in rows] == [True]


def test_bad_accounts_are_refused_in_chinese(app):
    result = users(app, "add", "x", "--role", "clerk", "--password", NEW_PASSWORD)
    assert result.exit_code == 2 and "必须用 --county" in result.output
    result = users(app, "add", "x", "--role", "finance", "--county", "411282", "--password", NEW_PASSWORD)
    assert result.exit_code == 2
    result = users(app, "add", "finance", "--role", "finance", "--password", NEW_PASSWORD)
    assert result.exit_code == 1 and "已存在" in result.output
    result = users(app, "add", "y", "--role", "finance", "--password", "short")
    assert result.exit_code == 2 and "至少10个字符" in result.output


def test_a_new_password_lifts_a_back_off(app, client, clock, monkeypatch):
    monkeypatch.setattr(users_module, "utc_now", clock)     # the command and the app share one clock
    for _ in range(5):
        login(client, "clerk_hubin", "wrong")
    assert "1 个地址登录受限" in users(app, "list").output
    result = users(app, "password", "clerk_hubin", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert login(client, "clerk_hubin", NEW_PASSWORD).status_code == 302
    assert "登录受限" not in users(app, "list").output


def test_an_api_token_is_shown_once_stored_hashed_and_revoked_by_a_new_password(app, client):
    result = users(app, "token", "clerk_hubin", "--label", "对接系统")
    assert result.exit_code == 0, result.output
    issued = next(w for w in result.output.split() if w.startswith("bt_"))
    bearer = {"Authorization": f"Bearer {issued}"}
    assert client.get("/api/v1/cases", headers=bearer).status_code == 200
    db = store.connect(app.config["DATABASE"])
    assert issued not in str(list(db["api_tokens"].rows))
    users(app, "password", "clerk_hubin", "--password", NEW_PASSWORD)
    response = client.get("/api/v1/cases", headers=bearer)
    assert response.status_code == 401 and response.get_json()["code"] == "bad_token"
    assert users(app, "token", "nobody").exit_code == 1
    assert users(app, "password", "nobody", "--password", NEW_PASSWORD).exit_code == 1
