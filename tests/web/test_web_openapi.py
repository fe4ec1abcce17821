"""The API against its own generated OpenAPI document (schemathesis): no
server errors, no undocumented status, content type or body shape; data
that breaks the schema is refused. Bounded: 50 valid and 50 invalid
examples per operation, about a minute in all."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from argon2 import PasswordHasher

from benefits.web import auth, create_app, store


@pytest.fixture(scope="module")
def api(tmp_path_factory, seeded_db):
    """One app for all examples (schemathesis' pytest fixture mode does not
    run on pytest 9, so the operations are driven through Hypothesis here)."""
    path = tmp_path_factory.mktemp("openapi") / "benefits.sqlite"
    path.write_bytes(seeded_db.read_bytes())
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "s", "TESTING": True})
    db = store.connect(path)
    issued = store.new_api_token(db, store.user_by_name(db, "clerk_hubin")["id"], "schemathesis")
    db.close()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The ignored-auth check sends made-up Basic credentials on every example;
    # checking those against a full-cost argon2 hash would take most of the time.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_DUMMY_HASH", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("x"))
        yield schema, {"Authorization": f"Bearer {issued}"}


def operations():
    app = create_app({"DATABASE": ":memory:", "DEMO": False, "SECRET_KEY": "s"})
    with app.app_context():
        doc = app.test_client().get("/api/v1/openapi.json").get_json()
    return [(method.upper(), path) for path, ops in doc["paths"].items() for method in ops
            if method != "parameters"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("method,path", operations())
def test_api_keeps_its_openapi_contract(api, method, path, mode):
    schema, bearer = api
    operation = schema[path][method]

    # A schema-valid record may still be refused (422, documented): JSON
    # Schema cannot state the ID number's check character or that the
    # certificate repeats the ID with digits agreeing with category and grade.
    excluded = [positive_data_acceptance] if "requestBody" in operation.definition.raw else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=50, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(headers=bearer, excluded_checks=excluded)

    check()


def test_a_valid_record_and_its_case_match_the_document(api):
    """Random records are nearly always refused (check character): check the
    200 and 201 bodies with a real one."""
    schema, bearer = api
    record = {"id_number": "411202198001010057", "name": "契约测试", "hukou_county": "411202",
              "certificate": {"number": "41120219800101005742", "category": 4, "grade": 2},
              "status": {"dibao": True}, "evaluation_date": "2013-03-01"}
    for method, path, status in (("POST", "/api/v1/evaluate", 200), ("POST", "/api/v1/cases", 201)):
        response = schema[path][method].Case(body=record, media_type="application/json").call_and_validate(
            headers=bearer)
        assert response.status_code == status, response.text
    case_id = response.json()["id"]
    response = schema["/api/v1/cases/{case_id}"]["PUT"].Case(
        path_parameters={"case_id": case_id}, body=record, media_type="application/json").call_and_validate(
        headers=bearer)
    assert len(response.json()["determinations"]) == 2


def _token(schema, user: str) -> str:
    db = store.connect(schema.app.config["DATABASE"])
    try:
        return store.new_api_token(db, store.user_by_name(db, user)["id"], "schemathesis")
    finally:
        db.close()


def test_a_compare_answer_matches_the_document(api, tmp_path):
    """Random bodies from a clerk are mostly refused (only saved cases, a kept
    version): check a policy user's 200 body with a real reform."""
    schema, _ = api
    issued = _token(schema, "policy")
    record = {"id_number": "411202198001010057", "name": "契约测试", "hukou_county": "411202", "residence": "urban",
              "certificate": {"number": "41120219800101005742", "category": 4, "grade": 2},
              "status": {"dibao": True}, "evaluation_date": "2013-03-01"}
    body = {"reform": {"label": "提高到25%", "reason": "契约测试",
                       "parameters": {"dibao_topup_ratio": {"values": [{"from": "2013-01-01", "value": 0.25}]}}},
            "caseload": [record, {"name": "坏记录"}], "year": 2013}
    response = schema["/api/v1/compare"]["POST"].Case(body=body, media_type="application/json").call_and_validate(
        headers={"Authorization": f"Bearer {issued}"})
    assert response.status_code == 200, response.text
    assert response.json()["totals"]["difference"] > 0 and response.json()["counts"]["rejected"] == 1


def test_an_audit_answer_matches_the_document(api):
    """Random bodies are mostly refused or audit nobody: check a finance
    user's 200 body with real records and a roll with a bad row."""
    schema, _ = api
    issued = _token(schema, "finance")
    record = {"id_number": "411202198001010057", "name": "契约测试", "hukou_county": "411202", "residence": "urban",
              "certificate": {"number": "41120219800101005742", "category": 4, "grade": 2},
              "status": {"dibao": True}, "evaluation_date": "2013-03-01"}
    roll = [{"id_number": "411202198001010057", "line": "城市低保", "amount": 1, "since": "2013-01-01"},
            {"id_number": "411202198001010057", "line": "不知道", "amount": "x", "since": "2013-01-01"}]
    body = {"caseload": [record], "roll": roll, "as_of": "2013-07-01", "months": 3}
    response = schema["/api/v1/audit"]["POST"].Case(body=body, media_type="application/json").call_and_validate(
        headers={"Authorization": f"Bearer {issued}"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["counts"]["persons"] == 1 and {r["row"] for r in answer["roll_rejects"]} == {2}
    assert sum(t["count"] for t in answer["totals"].values()) > 0
