"""The app attacked: malformed requests on every route, open redirects,
concurrent saves, a crash between writes, file permissions, masked numbers
for finance. None of it may give a 5xx."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading

import pytest

from benefits.web import create_app, store

from web_helpers import PASSWORD, login, token

HUGE = "99999999999999999999999"
RECORD = {"id_number": "11010519491231002X", "name": "并发测试", "hukou_county": "411202",
          "certificate": {"number": "11010519491231002X42", "category": 4, "grade": 2},
          "status": {"dibao": True}, "evaluation_date": "2013-03-01"}


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def urls(app):
    """Every route with hostile values for its variables."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        variants = [{}]
        if rule.arguments:
            variants = [{name: value for name in rule.arguments} for value in (HUGE, "0", "-1", "1", "%0A", "x" * 3000)]
        for values in variants:
            path = rule.rule
            for name, value in values.items():
                path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", value)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}) + ["DELETE"]:
                yield method, path


BODIES = [
    {"data": deep(1000), "content_type": "application/json"},
    {"data": '{"name": ' + deep(500) + "}", "content_type": "application/json"},
    {"data": b"\xff\xfe\x00garbage", "content_type": "application/json"},
    {"data": {"id_number": "1" * 5000, "name": "\x00", "household.monthly_income": "nan",
              "page": "null", "year": HUGE}},
]
QUERIES = ["", "?next=/%0Ax&page=" + HUGE + "&det=" + HUGE, "?next=/%0D%0ASet-Cookie:x&q=%00&status=x"]


@pytest.mark.parametrize("user", [None, "clerk_hubin", "finance", "admin"])
def test_no_route_answers_5xx_to_hostile_requests(app, client, user):
    if user:
        login(client, user)
    seen = 0
    for method, path in urls(app):
        for query in QUERIES:
            for body in BODIES if method in ("POST", "PUT") else [{}]:
                response = client.open(path + query, method=method, **body)
                assert response.status_code < 500, (method, path + query, body.get("data", "")[:40])
                if path.startswith("/api/") and response.status_code >= 400:
                    assert response.is_json and response.get_json()["message"], (method, path)
                    assert response.get_json()["code"]
                seen += 1
    assert seen > 300


def test_deep_json_is_refused_in_chinese(client):
    login(client, "clerk_hubin")
    headers = {"X-CSRFToken": client.get("/api/v1/csrf").get_json()["csrf_token"]}
    for path, method in (("/api/v1/evaluate", "POST"), ("/api/v1/cases", "POST"), ("/api/v1/cases/1", "PUT")):
        response = client.open(path, method=method, data=deep(1000), content_type="application/json",
                                headers=headers)
        assert response.status_code == 400 and response.get_json()["code"] == "invalid_json"
        assert "嵌套过深" in response.get_json()["message"]
        response = client.open(path, method=method, data='{"name": ' + deep(500) + "}",
                                content_type="application/json", headers=headers)
        assert response.status_code == 422


def test_api_errors_are_json_with_chinese_message_and_code(client):
    login(client, "clerk_hubin")
    csrf = {"X-CSRFToken": client.get("/api/v1/csrf").get_json()["csrf_token"]}
    cases = [
        (client.get("/api/v1/cases/" + HUGE), 404, "not_found", "未找到"),
        (client.get("/api/v1/nothing"), 404, "not_found", "未找到"),
        (client.post("/api/v1/evaluate", json=[1], headers=csrf), 400, "not_json_object", "请求体应为 JSON 对象"),
        (client.post("/api/v1/evaluate", data="{}", headers=csrf), 415, "unsupported_media_type", "Content-Type"),
        (client.post("/api/v1/evaluate", json={}), 400, "csrf_token", "CSRF"),
        (client.post("/api/v1/cases", json={**RECORD, "hukou_county": "411282"}, headers=csrf),
         403, "wrong_county", "本账户只能受理湖滨区户籍的案件"),
        (client.get("/api/v1/cases?page=null"), 400, "invalid_query", "page"),
        (client.get("/api/v1/cases?status=x"), 400, "invalid_query", "status"),
    ]
    for response, status, code, message in cases:
        body = response.get_json()
        assert (response.status_code, body["code"]) == (status, code), body
        assert message in body["message"]
    response = client.delete("/api/v1/cases")
    assert response.status_code == 405 and response.get_json()["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert client.delete("/cases").headers["Allow"]         # pages too
    finance = client.application.test_client()
    login(finance, "finance")
    response = finance.get("/api/v1/csrf")
    response = finance.post("/api/v1/evaluate", json=RECORD,
                            headers={"X-CSRFToken": response.get_json()["csrf_token"]})
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


@pytest.mark.parametrize("target", ["/%09/127.0.0.1:5078/phish", "//evil.example/", "/\\evil.example",
                                    "https://evil.example/", "/%0Ax", "/%0D%0ASet-Cookie:a=b", "%2F%2Fevil",
                                    "javascript:alert(1)", "/%5Cevil"])
def test_no_open_redirect(client, target):
    response = client.get(f"/lang/en?next={target}")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/login")
    response = client.post(f"/login?next={target}", data={
        "username": "clerk_hubin", "password": PASSWORD,
        "csrf_token": page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_same_origin_next_is_kept(client):
    assert client.get("/lang/en?next=/cases%3Fq%3D1").headers["Location"] == "/cases?q=1"


def _fresh_id_record(app, n: int) -> dict:
    """A record whose ID number has no case yet (valid MOD 11-2)."""
    base = f"41120219800101{n:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(base, weights)) % 11]
    id_number = base + check
    return {**RECORD, "id_number": id_number, "certificate": {**RECORD["certificate"], "number": id_number + "42"}}


def test_one_case_per_id_number_per_county_under_concurrent_saves(app):
    db = store.connect(app.config["DATABASE"])
    issued = store.new_api_token(db, store.user_by_name(db, "clerk_hubin")["id"])
    db.close()
    headers = {"Authorization": f"Bearer {issued}"}
    for round_ in range(8):
        record = _fresh_id_record(app, round_)
        barrier = threading.Barrier(4)
        statuses = []

        def post():
            client = app.test_client()
            barrier.wait()
            statuses.append(client.post("/api/v1/cases", json=record, headers=headers).status_code)

        threads = [threading.Thread(target=post) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201, 409, 409, 409], statuses
        db = store.connect(app.config["DATABASE"])
        assert db["cases"].count_where("id_number = ?", [record["id_number"]]) == 1
        db.close()


def test_the_database_refuses_a_second_case_for_a_person(app):
    db = store.connect(app.config["DATABASE"])
    user = store.user_by_name(db, "clerk_hubin")
    existing = next(db["cases"].rows_where("county = ?", ["411202"]))
    record = json.loads(existing["record_json"])
    with pytest.raises(store.DuplicateCase) as refused:
        store.create_case(db, "411202", record, {"summary": {"eligible": 1}, "rulebook_version": "x",
                                                  "evaluation_date": "2013-03-01"}, user)
    assert refused.value.case_id == existing["id"]
    with pytest.raises(sqlite3.IntegrityError):   # even bypassing the store
        db.execute("INSERT INTO cases (county, name, id_number, record_json, status) VALUES (?, 'x', ?, '{}', 'x')",
                   ["411202", existing["id_number"]])


def test_a_form_save_of_a_duplicate_points_to_the_existing_case(app, as_user):
    client = as_user("clerk_hubin")
    db = store.connect(app.config["DATABASE"])
    existing = next(db["cases"].rows_where("county = ?", ["411202"]))
    db.close()
    record = json.loads(existing["record_json"])
    response = client.post("/intake", data={"name": record["name"], "id_number": record["id_number"],
                                            "hukou_county": "411202", "action": "save",
                                            "csrf_token": token(client)})
    assert response.status_code == 422
    assert f"此身份证号已有案件 #{existing['id']}" in response.get_data(as_text=True)


def test_case_determination_and_audit_commit_together(app):
    """If the audit row cannot be written, neither is the case (kill -9 between
    two transactions left a case without its audit row)."""
    db = store.connect(app.config["DATABASE"])
    user = store.user_by_name(db, "clerk_hubin")
    before = db["cases"].count, db["determinations"].count, db["audit"].count
    db.execute("CREATE TRIGGER audit_fails BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    record = _fresh_id_record(app, 900)
    engine = app.extensions["benefits_engine"]   # a real version: only the audit row can fail
    result = {"summary": {"eligible": 1}, "rulebook_version": engine.version, "evaluation_date": "2013-03-01"}
    with pytest.raises(sqlite3.IntegrityError, match="disk gone"):
        store.create_case(db, "411202", record, result, user, "test", engine.rulebook.files)
    case_id = next(db["cases"].rows)["id"]
    with pytest.raises(sqlite3.IntegrityError, match="disk gone"):
        store.add_determination(db, case_id, json.loads(next(db["cases"].rows)["record_json"]), result,
                                user, "case.update", rulebook_files=engine.rulebook.files)
    assert (db["cases"].count, db["determinations"].count, db["audit"].count) == before


def test_database_wal_and_shm_are_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "new.sqlite"
        create_app({"DATABASE": str(path), "DEMO": False, "SECRET_KEY": "x"})
        db = store.connect(path)
        store.audit(db, None, "test")
        names = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in names}
        db.close()
    finally:
        os.umask(old)
    assert modes == {p.name: 0o600 for p in names}


def test_finance_sees_masked_numbers_only(app, client):
    db = store.connect(app.config["DATABASE"])
    case = next(db["cases"].rows_where("county = ?", ["411202"]))
    db.close()
    login(client, "finance")
    full = case["id_number"]
    notice = client.get(f"/cases/{case['id']}/notice").get_data(as_text=True)
    detail = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    body = client.get(f"/api/v1/cases/{case['id']}").get_data(as_text=True)
    for text in (notice, detail, body):
        assert full not in text and full[:6] + "********" + full[-4:] in text
    clerk = app.test_client()
    login(clerk, "clerk_hubin")
    assert full in clerk.get(f"/cases/{case['id']}/notice").get_data(as_text=True)


def test_two_simultaneous_form_saves_make_one_case(app):
    from web_helpers import csrf_from
    record = _fresh_id_record(app, 950)
    form = {"name": record["name"], "id_number": record["id_number"], "hukou_county": "411202",
            "certificate.number": record["certificate"]["number"], "action": "save"}
    clients = []
    for _ in range(2):
        client = app.test_client()
        login(client, "clerk_hubin")
        clients.append((client, csrf_from(client.get("/intake").get_data(as_text=True))))
    barrier = threading.Barrier(2)
    statuses = []

    def save(client, csrf):
        barrier.wait()
        statuses.append(client.post("/intake", data={**form, "csrf_token": csrf}).status_code)

    threads = [threading.Thread(target=save, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 422], statuses
    db = store.connect(app.config["DATABASE"])
    assert db["cases"].count_where("id_number = ?", [record["id_number"]]) == 1
    db.close()


def test_nan_in_api_json_is_refused_in_chinese(client):
    from test_web_api import basic
    body = json.dumps({**RECORD, "household": {"monthly_income": 1}}).replace(": 1}", ": NaN}")
    response = client.post("/api/v1/evaluate", data=body, content_type="application/json", headers=basic("policy"))
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_json"
    assert response.get_json()["message"] == "请求体含 NaN，JSON 中的数字须为有限数字"
