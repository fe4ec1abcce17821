"""Log-in, lock-out, CSRF, cookies and roles."""
from __future__ import annotations

import datetime as dt

from benefits.web import store

from web_helpers import PASSWORD, csrf_from, login, token


def test_login_and_logout(client):
    assert client.get("/cases").status_code == 302          # not logged in: to the log-in page
    response = login(client, "clerk_hubin")
    assert response.status_code == 302
    assert client.get("/cases").status_code == 200
    client.post("/logout", data={"csrf_token": token(client, "/cases")})
    assert client.get("/cases").status_code == 302


def test_an_idle_session_must_log_in_again(app, client):
    login(client, "clerk_hubin")
    assert client.get("/cases").status_code == 200
    with client.session_transaction() as session:
        session["seen"] -= app.config["SESSION_IDLE_MINUTES"] * 60 + 1
    response = client.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "长时间未操作" in client.get(response.headers["Location"]).get_data(as_text=True)
    rows = store.connect(app.config["DATABASE"])["audit"].rows_where("action = ?", ["session_expired"])
    assert [r["username"] for r in rows] == ["clerk_hubin"]


def test_activity_keeps_a_session_alive(app, client):
    login(client, "clerk_hubin")
    with client.session_transaction() as session:
        session["seen"] -= app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    assert client.get("/cases").status_code == 200
    assert client.get("/cases").status_code == 200


def test_wrong_password_is_refused_in_chinese(client):
    response = login(client, "clerk_hubin", "wrong")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert login(client, "nobody", "wrong").status_code == 401


def test_five_failures_lock_the_account_in_the_database(app, client):
    for _ in range(store.LOCK_AFTER_FAILURES):
        login(client, "clerk_lingbao", "wrong")
    response = login(client, "clerk_lingbao", PASSWORD)     # right password, still locked
    assert response.status_code == 401
    assert "已锁定" in response.get_data(as_text=True)
    db = store.connect(app.config["DATABASE"])
    user = store.user_by_name(db, "clerk_lingbao")
    until = dt.datetime.fromisoformat(user["locked_until"])
    now = dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(minutes=14) < until - now <= dt.timedelta(minutes=store.LOCK_MINUTES)
    actions = [r["action"] for r in db["audit"].rows_where("username = ?", ["clerk_lingbao"])]
    assert actions.count("login.fail") == 5 and "login.locked" in actions
    # once the lock has run out, the right password works again
    db.execute("UPDATE users SET locked_until = ? WHERE id = ?",
               [(now - dt.timedelta(seconds=1)).isoformat(), user["id"]])
    db.close()
    assert login(client, "clerk_lingbao", PASSWORD).status_code == 302


def test_admin_unlocks_a_locked_account(app, client):
    for _ in range(store.LOCK_AFTER_FAILURES):
        login(client, "finance", "wrong")
    login(client, "admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "已锁定至" in page
    db = store.connect(app.config["DATABASE"])
    finance = store.user_by_name(db, "finance")
    db.close()
    client.post(f"/admin/users/{finance['id']}/unlock", data={"csrf_token": csrf_from(page)})
    assert login(client, "finance").status_code == 302


def test_failures_below_the_limit_do_not_lock(client):
    for _ in range(store.LOCK_AFTER_FAILURES - 1):
        login(client, "policy", "wrong")
    assert login(client, "policy").status_code == 302


def test_post_without_csrf_token_is_rejected(client):
    response = client.post("/login", data={"username": "clerk_hubin", "password": PASSWORD})
    assert response.status_code == 400
    login(client, "clerk_hubin")
    response = client.post("/intake", data={"name": "x", "id_number": "11010519491231002X",
                                            "action": "evaluate"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.post("/cases/1/reevaluate").status_code == 400
    assert client.post("/intake", data={"name": "x", "id_number": "11010519491231002X",
                                        "csrf_token": "forged"}).status_code == 400


def test_session_cookie_flags(seeded_db, tmp_path):
    import shutil

    from benefits.web import create_app
    for secure in (False, True):
        path = tmp_path / f"{secure}.sqlite"
        shutil.copy(seeded_db, path)
        client = create_app({"DATABASE": str(path), "SECRET_KEY": "k",
                             "SESSION_COOKIE_SECURE": secure}).test_client()
        cookie = client.get("/login").headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_roles(as_user):
    client = as_user("finance")
    assert client.get("/cases").status_code == 200
    assert client.get("/intake").status_code == 403
    assert client.get("/admin/users").status_code == 403
    client = as_user("policy")
    assert client.get("/intake").status_code == 200
    assert client.get("/cases").status_code == 403
    assert client.get("/rules").status_code == 200
    client = as_user("admin")
    assert client.get("/admin/users").status_code == 200
    assert client.get("/admin/audit").status_code == 200
    assert client.get("/cases").status_code == 403
    assert client.get("/cases/1").status_code == 403
    client = as_user("clerk_hubin")
    assert client.get("/admin/audit").status_code == 403


def test_finance_sees_every_county_but_cannot_change(app, as_user):
    client = as_user("finance")
    db = store.connect(app.config["DATABASE"])
    counties = {r["county"] for r in db["cases"].rows}
    case_id = next(db["cases"].rows)["id"]
    db.close()
    assert len(counties) > 1
    assert client.get(f"/cases/{case_id}").status_code == 200
    assert client.post(f"/cases/{case_id}/reevaluate",
                       data={"csrf_token": token(client, "/cases")}).status_code == 403


def test_policy_may_evaluate_but_not_save(as_user):
    client = as_user("policy")
    data = {"csrf_token": token(client), "name": "测试", "id_number": "11010519491231002X",
            "hukou_county": "411202"}
    assert client.post("/intake", data={**data, "action": "evaluate"}).status_code == 200
    assert client.post("/intake", data={**data, "action": "save"}).status_code == 403


def test_next_parameter_cannot_leave_the_site(client):
    page = client.get("/login?next=//evil.example/x")
    response = client.post("/login?next=//evil.example/x", data={
        "username": "clerk_hubin", "password": PASSWORD,
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/"
