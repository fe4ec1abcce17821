"""`benefits users`: real accounts from the command line."""
from __future__ import annotations

from click.testing import CliRunner

from benefits.cli import main
from benefits.web import store

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


def test_a_new_password_lifts_a_lock_out(app, client):
    for _ in range(5):
        login(client, "clerk_hubin", "wrong")
    assert "已锁定" in users(app, "list").output
    result = users(app, "password", "clerk_hubin", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert login(client, "clerk_hubin", NEW_PASSWORD).status_code == 302
    assert "已锁定" not in users(app, "list").output
    assert users(app, "password", "nobody", "--password", NEW_PASSWORD).exit_code == 1
