"""The JSON API: authentication (session + CSRF header, or Basic), roles,
county rules, validation errors, OpenAPI document."""
from __future__ import annotations

import base64
import json
from pathlib import Path

from benefits.web import store

from web_helpers import PASSWORD, login

HUBIN, LINGBAO = "411202", "411282"
RECORD = {"id_number": "11010519491231002X", "name": "接口测试", "hukou_county": HUBIN,
          "certificate": {"number": "11010519491231002X42", "category": 4, "grade": 2},
          "status": {"dibao": True}, "evaluation_date": "2013-03-01"}


def basic(username, password=PASSWORD):
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def csrf(client):
    return {"X-CSRFToken": client.get("/api/v1/csrf").get_json()["csrf_token"]}


def test_requires_authentication(client):
    response = client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response.get_json()["message"] == "需要登录"
    assert "Basic" in response.headers["WWW-Authenticate"] and "Bearer" in response.headers["WWW-Authenticate"]
    assert client.post("/api/v1/evaluate", json=RECORD).status_code == 401


def test_openapi_document_lists_every_endpoint(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/evaluate", "/api/v1/rules", "/api/v1/cases", "/api/v1/cases/{case_id}"} <= set(doc["paths"])
    schemas = doc["components"]["schemas"]
    assert "id_number" in schemas["Applicant"]["properties"] and "Certificate" in schemas
    # every $ref resolves inside the document
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in schemas, ref


def test_session_post_needs_csrf_header(client):
    login(client, "clerk_hubin")
    assert client.post("/api/v1/evaluate", json=RECORD).status_code == 400
    response = client.post("/api/v1/evaluate", json=RECORD, headers=csrf(client))
    assert response.status_code == 200
    result = response.get_json()
    assert result["applicant"]["id_number_masked"] == "110105********002X"
    assert any(b["status"] == "eligible" for b in result["benefits"])


def test_basic_auth_needs_no_csrf_but_json(client):
    response = client.post("/api/v1/evaluate", json=RECORD, headers=basic("policy"))
    assert response.status_code == 200
    response = client.post("/api/v1/evaluate", data=json.dumps(RECORD), headers=basic("policy"))
    assert response.status_code == 415


def test_basic_auth_failures_count_toward_back_off(app, client, clock):
    for _ in range(store.FREE_FAILURES):
        assert client.get("/api/v1/rules", headers=basic("policy", "wrong")).status_code == 401
    response = client.get("/api/v1/rules", headers=basic("policy"))
    assert response.status_code == 401 and "请 30 秒后再试" in response.get_json()["message"]
    assert response.get_json()["code"] == "login_failed"


def test_invalid_record_gives_field_errors_in_chinese(client):
    bad = {**RECORD, "id_number": "110105194912310021", "certificate": {"number": "1", "category": 9, "grade": 2}}
    response = client.post("/api/v1/evaluate", json=bad, headers=basic("clerk_hubin"))
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert errors["id_number"].startswith("身份证号码校验位错误")
    assert "certificate.category" in errors and "certificate.number" in errors
    assert client.post("/api/v1/evaluate", json=[1], headers=basic("clerk_hubin")).status_code == 400


def test_roles_on_the_api(client):
    assert client.get("/api/v1/cases", headers=basic("policy")).status_code == 403
    assert client.post("/api/v1/evaluate", json=RECORD, headers=basic("finance")).status_code == 403
    assert client.post("/api/v1/cases", json=RECORD, headers=basic("finance")).status_code == 403
    assert client.get("/api/v1/rules", headers=basic("admin")).status_code == 200


def test_rules(client):
    body = client.get("/api/v1/rules", headers=basic("policy")).get_json()
    assert body["rulebook_version"]
    assert any(r["kind"] == "benefit" and r["clause"].startswith("63号") for r in body["rules"])


def test_cases_county_rules_and_masking(app, client):
    listed = client.get("/api/v1/cases", headers=basic("clerk_lingbao")).get_json()
    assert listed["items"] and {c["county"] for c in listed["items"]} == {LINGBAO}
    db = store.connect(app.config["DATABASE"])
    full_ids = {r["id_number"] for r in db["cases"].rows}
    hubin_case = next(db["cases"].rows_where("county = ?", [HUBIN]))
    assert not any(i in json.dumps(listed) for i in full_ids)
    own = listed["items"][0]["id"]
    assert client.get(f"/api/v1/cases/{own}", headers=basic("clerk_lingbao")).status_code == 200
    assert client.get(f"/api/v1/cases/{hubin_case['id']}", headers=basic("clerk_lingbao")).status_code == 404
    assert client.put(f"/api/v1/cases/{hubin_case['id']}", json=RECORD,
                      headers=basic("clerk_lingbao")).status_code == 404
    assert client.post("/api/v1/cases", json=RECORD, headers=basic("clerk_lingbao")).status_code == 403
    reads = list(db["audit"].rows_where("action = 'case.read' AND case_id = ?", [own]))
    assert reads and reads[-1]["username"] == "clerk_lingbao"


def test_create_and_update_case_keeps_old_determinations(app, client):
    response = client.post("/api/v1/cases", json=RECORD, headers=basic("clerk_hubin"))
    assert response.status_code == 201
    case = response.get_json()
    assert case["county"] == HUBIN and len(case["determinations"]) == 1
    changed = {**RECORD, "status": {"dibao": False}}
    updated = client.put(f"/api/v1/cases/{case['id']}", json=changed, headers=basic("clerk_hubin")).get_json()
    assert [d["id"] for d in updated["determinations"]][:1] == [case["determinations"][0]["id"]]
    assert len(updated["determinations"]) == 2
    assert updated["record"]["status"] == {"dibao": False}
    db = store.connect(app.config["DATABASE"])
    actions = [r["action"] for r in store.audit_rows(db, case["id"])]
    assert actions == ["case.update", "case.create"]
    # moving the case to another county is refused
    moved = {**RECORD, "hukou_county": LINGBAO}
    assert client.put(f"/api/v1/cases/{case['id']}", json=moved, headers=basic("clerk_hubin")).status_code == 403


def test_duplicate_case_is_a_conflict(client):
    assert client.post("/api/v1/cases", json=RECORD, headers=basic("clerk_hubin")).status_code == 201
    response = client.post("/api/v1/cases", json=RECORD, headers=basic("clerk_hubin"))
    assert response.status_code == 409 and "已有案件" in response.get_json()["message"]


def test_a_resident_without_certificate_shows_81_beside_63(client):
    """An elderly veteran saved through the API (the form does not ask 81号's
    facts yet): the case page and the printable notice show 81号's group."""
    veteran = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "residents-81.jsonl")
                         .read_text(encoding="utf-8").splitlines()[0])
    veteran["hukou_county"] = HUBIN
    response = client.post("/api/v1/cases", json=veteran, headers=basic("clerk_hubin"))
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    lines = case["determinations"][0]["result"]["benefits"]
    assert [line["document"] for line in lines] == sorted(line["document"] for line in lines)
    login(client, "clerk_hubin")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    # 符合 first (81号's grants with their amounts), 不符合 folded last, one row per document
    assert page.index("优抚对象基本医疗优先优惠待遇") < page.index('id="status-ineligible"') < page.index('id="doc-63号"')
    notice = client.get(f"/cases/{case['id']}/notice").get_data(as_text=True)
    assert "三政〔2012〕81号" in notice and "81号 第9条" in notice and "优先待遇（无现金）" in notice
