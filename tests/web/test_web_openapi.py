"""The API against its own generated OpenAPI document (schemathesis): no
server errors, no undocumented status, content type or body shape; data
that breaks the schema is refused. Bounded: 50 valid and 50 invalid
examples per operation, about a minute in all."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.openapi.checks import RejectedPositiveData

from argon2 import PasswordHasher

from benefits.web import auth, create_app, store


@pytest.fixture(scope="module")
def api(tmp_path_factory, seeded_db):
    """One app for all examples (schemathesis' pytest fixture mode does not
    run on pytest 9, so the operations are driven through Hypothesis here)."""
    path = tmp_path_factory.mktemp("openapi") / "benefits.sqlite"
    path.write_bytes(seeded_db.read_bytes())
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "s", "TESTING": True, "POLICY_GENERATED_SIZE": 50})
    db = store.connect(path)
    issued = store.new_api_token(db, store.user_by_name(db, "clerk_hubin")["id"], "schemathesis")
    policy = store.new_api_token(db, store.user_by_name(db, "policy")["id"], "schemathesis")
    db.close()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The ignored-auth check sends made-up Basic credentials on every example;
    # checking those against a full-cost argon2 hash would take most of the time.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_DUMMY_HASH", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("x"))
        yield schema, {"Authorization": f"Bearer {issued}"}, {"Authorization": f"Bearer {policy}"}


def operations():
    app = create_app({"DATABASE": ":memory:", "DEMO": False, "SECRET_KEY": "s"})
    with app.app_context():
        doc = app.test_client().get("/api/v1/openapi.json").get_json()
    return [(method.upper(), path) for path, ops in doc["paths"].items() for method in ops
            if method != "parameters"]


def documented_refusal(response, case) -> bool:
    """A schema-valid body the server refuses only on a check the document
    states beside the schema (``x-checks``: the ID's check character, the
    certificate repeating the ID, a reform that does not load, …)."""
    schemas = case.operation.schema.raw_schema["components"]["schemas"]
    body = response.json()
    if response.status_code == 422 and body.get("code") == "invalid_record":
        documented = schemas["Applicant"]["x-checks"]
        return bool(body["errors"]) and all(
            any(e["field"] == key or e["field"].startswith(key + ".") for key in documented)
            or checked_in_schema(schemas, e["field"]) for e in body["errors"])
    if response.status_code == 400 and case.operation.path == "/api/v1/compare":
        documented = schemas["CompareRequest"]["x-checks"]
        return (body.get("code") == "invalid_reform"
                or body.get("code") == "invalid_body" and any(key in body["message"] for key in documented))
    return False


def checked_in_schema(schemas: dict, field: str) -> bool:
    """The record's property at ``field`` (a.0.b) carries ``x-checks`` in the document."""
    node = schemas["Applicant"]
    for part in field.split("."):
        node = next((alt for alt in node.get("anyOf", [node]) if "properties" in alt or "items" in alt
                     or "$ref" in alt), node)
        while "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[1]]
        node = node.get("items", {}) if part.isdigit() else node.get("properties", {}).get(part, {})
        while "$ref" in node:
            node = schemas[node["$ref"].rsplit("/", 1)[1]]
    return "x-checks" in node


def accepts_valid_data(ctx, response, case):
    """ST202 (positive_data_acceptance): schema-valid data is accepted,
    unless refused on a documented ``x-checks`` (then 422/400 naming it)."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if documented_refusal(response, case):
            return None
        raise


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("method,path", operations())
def test_api_keeps_its_openapi_contract(api, method, path, mode):
    schema, bearer, policy = api
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=50, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        # a clerk may not compare: the policy officer's token, so that valid bodies really run
        case.call_and_validate(headers=policy if path == "/api/v1/compare" else bearer,
                               excluded_checks=[positive_data_acceptance], additional_checks=[accepts_valid_data])

    check()


def test_the_document_refuses_what_the_server_refuses():
    """18 zeros and an empty reform break the schema itself (they used to
    pass it and be refused by the server: schemathesis ST202)."""
    app = create_app({"DATABASE": ":memory:", "DEMO": False, "SECRET_KEY": "s"})
    with app.app_context():
        schemas = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    id_number = schemas["Applicant"]["properties"]["id_number"]
    assert re.match(id_number["pattern"], "411202198001010057") and "MOD 11-2" in id_number["x-checks"]
    for bad in ("0" * 18, "41120219801301005X", "411202198001320057", "41120217800101005X", ""):
        assert not re.match(id_number["pattern"], bad), bad
    certificate = schemas["Certificate"]["properties"]["number"]
    assert not re.match(certificate["pattern"], "0" * 18 + "42")
    reform = schemas["CompareRequest"]["properties"]["reform"]["anyOf"]
    assert {"type": "string", "minLength": 1} in reform
    spec = schemas["ReformSpec"]
    assert set(spec["required"]) == {"label", "reason"}
    assert all(spec["properties"][key]["minLength"] == 1 for key in ("label", "reason"))


def test_a_valid_record_and_its_case_match_the_document(api):
    """Random records are nearly always refused (check character): check the
    200 and 201 bodies with a real one."""
    schema, bearer, _ = api
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


def test_a_compare_answer_matches_the_document(api, tmp_path):
    """Random reforms nearly never load: check a policy user's 200 body with a real reform."""
    schema, _, policy = api
    record = {"id_number": "411202198001010057", "name": "契约测试", "hukou_county": "411202", "residence": "urban",
              "certificate": {"number": "41120219800101005742", "category": 4, "grade": 2},
              "status": {"dibao": True}, "evaluation_date": "2013-03-01"}
    body = {"reform": {"label": "提高到25%", "reason": "契约测试",
                       "parameters": {"dibao_topup_ratio": {"values": [{"from": "2013-01-01", "value": 0.25}]}}},
            "caseload": [record, {"name": "坏记录"}], "year": 2013}
    response = schema["/api/v1/compare"]["POST"].Case(body=body, media_type="application/json").call_and_validate(
        headers=policy)
    assert response.status_code == 200, response.text
    assert response.json()["totals"]["difference"] > 0 and response.json()["counts"]["rejected"] == 1
