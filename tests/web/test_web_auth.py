"""Log-in, lock-out, CSRF, cookies and roles."""
from __future__ import annotations

import datetime as dt
import re

from benefits.web import auth, store

from web_helpers import PASSWORD, csrf_from, login, token


def test_login_and_logout(client):
    assert client.get("/cases").status_code == 302          # not logged in: to the log-in page
    response = login(client, "clerk_hubin")
    assert response.status_code == 302
    assert client.get("/cases").status_code == 200
    client.post("/logout", data={"csrf_token": token(client, "/cases")})
    assert client.get("/cases").status_code == 302


def test_an_idle_session_must_log_in_again(app, client, clock):
    login(client, "clerk_hubin")
    assert client.get("/cases").status_code == 200
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)
    response = client.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "长时间未操作" in client.get(response.headers["Location"]).get_data(as_text=True)
    rows = store.connect(app.config["DATABASE"])["audit"].rows_where("action = ?", ["session_expired"])
    assert [r["username"] for r in rows] == ["clerk_hubin"]


def test_activity_keeps_a_session_alive(app, client, clock):
    login(client, "clerk_hubin")
    for _ in range(3):                  # idle for the whole limit, three times over
        clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"])
        assert client.get("/cases").status_code == 200
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"], seconds=1)
    assert client.get("/cases").status_code == 302


def test_wrong_password_is_refused_in_chinese(client):
    response = login(client, "clerk_hubin", "wrong")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert login(client, "nobody", "wrong").status_code == 401


def login_from(client, address, username, password=PASSWORD):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))},
                       environ_base={"REMOTE_ADDR": address})


def test_failures_back_off_per_name_and_address_not_lock_the_account(app, client, clock):
    for _ in range(store.FREE_FAILURES):
        assert login_from(client, "10.0.0.66", "clerk_lingbao", "wrong").status_code == 401
    response = login_from(client, "10.0.0.66", "clerk_lingbao")   # right password, must wait
    assert response.status_code == 401
    assert "请 30 秒后再试" in response.get_data(as_text=True)
    clock.advance(seconds=29)
    assert "请 1 秒后再试" in login_from(client, "10.0.0.66", "clerk_lingbao").get_data(as_text=True)
    # the clerk at their own desk is not locked out by someone else's failures
    assert login_from(client, "10.0.0.7", "clerk_lingbao").status_code == 302
    client.post("/logout", data={"csrf_token": token(client, "/cases")})
    db = store.connect(app.config["DATABASE"])
    actions = [r["action"] for r in db["audit"].rows_where("detail LIKE ?", ["%10.0.0.66%"])]
    assert actions.count("login.fail") == 5 and "login.throttled" in actions
    # each further failure doubles the wait, up to the cap
    at = clock()
    db.execute("UPDATE login_failures SET failures = 7, last_at = ?", [at.isoformat()])
    assert store.backoff_until(db, "clerk_lingbao", "10.0.0.66") == at + dt.timedelta(seconds=120)
    db.execute("UPDATE login_failures SET failures = 40")
    assert store.backoff_until(db, "clerk_lingbao", "10.0.0.66") == at + dt.timedelta(seconds=store.BACKOFF_MAX_SECONDS)
    db.close()
    clock.advance(seconds=store.BACKOFF_MAX_SECONDS - 1)
    assert "请 1 秒后再试" in login_from(client, "10.0.0.66", "clerk_lingbao").get_data(as_text=True)
    # once the wait has run out, the right password works again
    clock.advance(seconds=1)
    assert login_from(client, "10.0.0.66", "clerk_lingbao").status_code == 302


def test_unknown_and_known_names_answer_alike(client, clock, monkeypatch):
    """No user-name enumeration: same message, same back-off, and the same
    work (one argon2 verification per attempt, throttled or not, known name
    or not), so the answer's timing does not tell either."""
    verified = []

    class CountingHasher:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, *args):
            verified.append(1)
            return real.verify(*args)

    real = auth.hasher
    monkeypatch.setattr(auth, "hasher", CountingHasher())

    def attempt(username):
        verified.clear()
        body = login_from(client, "10.0.0.5", username, "wrong").get_data(as_text=True)
        return re.search(r'class="flash error">([^<]*)<', body).group(1), len(verified)

    answers = {name: [attempt(name) for _ in range(store.FREE_FAILURES + 1)]
               for name in ("clerk_hubin", "no_such_user")}
    assert answers["clerk_hubin"] == answers["no_such_user"]
    assert "后再试" in answers["no_such_user"][-1][0]
    assert [work for _, work in answers["no_such_user"]] == [1] * (store.FREE_FAILURES + 1)


def test_admin_lifts_a_back_off(app, client, clock):
    for _ in range(store.FREE_FAILURES):
        login(client, "finance", "wrong")
    login_from(client, "10.0.0.1", "admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "登录受限的地址数 1" in page
    db = store.connect(app.config["DATABASE"])
    finance = store.user_by_name(db, "finance")
    db.close()
    client.post(f"/admin/users/{finance['id']}/unlock", data={"csrf_token": csrf_from(page)})
    assert login(client, "finance").status_code == 302
    assert client.post("/admin/users/99999999999999999999/unlock").status_code in (400, 404)


def test_failures_below_the_limit_do_not_wait(client):
    for _ in range(store.FREE_FAILURES - 1):
        login(client, "policy", "wrong")
    assert login(client, "policy").status_code == 302


def test_logout_and_a_new_password_end_every_copy_of_the_session(app, client):
    login(client, "clerk_hubin")
    copied = client.get_cookie("session").value
    other = app.test_client()
    other.set_cookie("session", copied)
    assert other.get("/cases").status_code == 200
    client.post("/logout", data={"csrf_token": token(client, "/cases")})
    assert other.get("/cases").status_code == 302          # the copy is dead too
    login(client, "clerk_hubin")
    other.set_cookie("session", client.get_cookie("session").value)
    db = store.connect(app.config["DATABASE"])
    store.set_password(db, store.user_by_name(db, "clerk_hubin")["id"], "x")
    db.close()
    assert client.get("/cases").status_code == 302 and other.get("/cases").status_code == 302


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


def test_a_log_in_lasts_a_working_day_at_most(app, client, clock):
    login(client, "clerk_hubin")
    idle = app.config["SESSION_IDLE_MINUTES"]
    for _ in range(store.SESSION_MAX_HOURS * 60 // idle):   # busy all day, never idle too long
        clock.advance(minutes=idle)
        assert client.get("/cases").status_code == 200
    clock.advance(seconds=1)
    assert client.get("/cases").status_code == 302
    login(client, "clerk_lingbao")                      # a new log-in sweeps the dead rows
    db = store.connect(app.config["DATABASE"])
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    db.close()


def test_passwords_use_owasp_argon2_and_older_hashes_are_upgraded_at_log_in(app, client):
    from argon2 import PasswordHasher
    db = store.connect(app.config["DATABASE"])
    old = PasswordHasher(time_cost=3, memory_cost=65_536, parallelism=4).hash(PASSWORD)
    db.execute("UPDATE users SET password_hash = ? WHERE username = 'finance'", [old])
    assert login(client, "finance").status_code == 302
    upgraded = db.execute("SELECT password_hash FROM users WHERE username = 'finance'").fetchone()[0]
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert auth.ARGON2 == {"time_cost": 2, "memory_cost": 19_456, "parallelism": 1}   # OWASP's minimum
    assert login(app.test_client(), "finance").status_code == 302


def test_server_timing_gives_the_time_in_the_app_and_in_the_determination(as_user):
    client = as_user("clerk_hubin")
    record = {"id_number": "411202198001010057", "name": "计时", "hukou_county": "411202",
              "evaluation_date": "2013-03-01"}
    response = client.post("/api/v1/evaluate", json=record,
                           headers={"X-CSRFToken": client.get("/api/v1/csrf").get_json()["csrf_token"]})
    assert response.status_code == 200
    timing = dict(re.findall(r"(\w+);dur=([\d.]+)", response.headers["Server-Timing"]))
    assert 0 < float(timing["eval"]) <= float(timing["app"])
    timing = dict(re.findall(r"(\w+);dur=([\d.]+)", client.get("/api/v1/rules").headers["Server-Timing"]))
    assert set(timing) == {"app"}
