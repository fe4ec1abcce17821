"""The roll audit page (/audit) and POST /api/v1/audit in the Flask test
client: roles, a clerk's county only (other counties' rows counted, never
shown), masked ID numbers, bad files refused at their field or rejected row
by row in Chinese, odd bodies answered 4xx, files owner-only, audit rows.

The caseload and roll are ``benefits generate --roll`` (planted errors):
what the page and the API show is checked against what was planted."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import stat
import threading
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from benefits.audit import recheck
from benefits.engine.identity import mask_id
from benefits.web import store, workers

from test_web_no_english import stray_ascii
from web_helpers import generated_audit, token

AS_OF = "2013-07-01"
LINGBAO = "411282"
FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A 300-person caseload and its roll with planted errors."""
    return generated_audit(tmp_path_factory.mktemp("audit-web"), 300, 4, as_of=AS_OF)


def _post(client, caseload: tuple, roll: tuple, **form):
    data = {"csrf_token": token(client, "/audit"), "as_of": AS_OF, "months": "12", **form}
    if caseload is not None:
        data["caseload"] = (io.BytesIO(caseload[1]), caseload[0])
    if roll is not None:
        data["roll"] = (io.BytesIO(roll[1]), roll[0])
    return client.post("/audit", data=data, content_type="multipart/form-data")


def _files(generated):
    caseload, roll = generated[0], generated[1]
    return ("台账.csv", caseload.read_bytes()), ("名册.csv", roll.read_bytes())


def _small(generated):
    """The caseload's first 20 persons: a quick job where the findings do not matter."""
    lines = generated[0].read_bytes().splitlines(keepends=True)
    return "台账.csv", b"".join(lines[:21])


def _run(client, caseload, roll, **form) -> str:
    """Post the form, wait for the job; the run's URL."""
    response = _post(client, caseload, roll, **form)
    assert response.status_code == 302, response.get_data(as_text=True)
    url = response.headers["Location"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(url + ".json").get_json()
        if job["status"] in ("done", "failed"):
            assert job["status"] == "done", job
            return url
        time.sleep(0.2)
    raise AssertionError("the audit did not finish in 120 s")


def _details(page: str, kind: str) -> str:
    match = re.search(rf'<details class="findings" id="findings-\d" data-kind="{kind}">(.*?)</details>', page, re.S)
    assert match, f"no finding list for {kind}"
    return match.group(1)


def _audit_rows(app, action: str) -> list[dict]:
    db = store.connect(app.config["DATABASE"])
    try:
        return [r for r in store.audit_rows(db) if r["action"] == action]
    finally:
        db.close()


def _audits(app) -> Path:
    return Path(app.config["DATABASE"]).parent / "audits"


def _cells(path) -> str:
    book = load_workbook(path, read_only=True)
    return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None)


# -- the page ----------------------------------------------------------------------------

def test_finance_sees_every_planted_error_with_masked_ids_and_downloads_the_workbooks(app, as_user, generated,
                                                                                     tmp_path):
    client = as_user("finance")
    url = _run(client, *_files(generated))
    page = client.get(url).get_data(as_text=True)
    assert client.get(url).headers["Cache-Control"] == "no-store"
    planted = generated[2]
    for kind in ("漏保", "错保", "差额", "重复发放"):
        listed = _details(page, kind)
        expected = {mask_id(p["id_number"]) for p in planted if p["kind"] == kind}
        assert expected and all(m in listed for m in expected), kind
    # the summary leads: counties × lines, then the chart; the totals row counts what was planted
    assert page.index('id="summary"') < page.index('id="chart"') < page.index('id="findings"') < page.index(
        'id="recheck"')
    total = re.search(r'<tr class="total">.*?</tr>', page, re.S).group(0)
    for kind in ("漏保", "错保", "差额", "重复发放"):
        count = sum(1 for p in planted if p["kind"] == kind)
        assert re.search(rf'data-kind="{kind}"><b>{count}</b>', total), kind
    assert not FULL_ID.search(page), "a whole ID number on the page"
    assert stray_ascii(page) == [] and stray_ascii(client.get("/audit").get_data(as_text=True)) == []
    assert client.get(url + "/chart.png").headers["Content-Type"] == "image/png"
    for name, sheet in (("audit.xlsx", "漏保"), ("recheck.xlsx", "动态复核")):
        response = client.get(f"{url}/{name}")
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        saved = tmp_path / name
        saved.write_bytes(response.data)
        assert sheet in load_workbook(saved, read_only=True).sheetnames
        assert not FULL_ID.search(_cells(saved)), f"finance's {name} shows a whole ID number"
    # files: 0600 in a 0700 folder, the uploads gone
    base = _audits(app)
    assert stat.S_IMODE(base.stat().st_mode) == 0o700
    (run_folder,) = base.iterdir()
    assert stat.S_IMODE(run_folder.stat().st_mode) == 0o700
    names = sorted(p.name for p in run_folder.iterdir())
    assert names == ["audit.xlsx", "chart.png", "recheck.xlsx"]
    assert all(stat.S_IMODE((run_folder / n).stat().st_mode) == 0o600 for n in names)
    started = _audit_rows(app, "rollaudit.start")
    assert [r["username"] for r in started] == ["finance"] and "caseload 台账.csv roll 名册.csv" in started[0]["detail"]
    assert _audit_rows(app, "rollaudit.read") and len(_audit_rows(app, "rollaudit.download")) == 2


def test_a_clerk_audits_their_county_only_and_the_others_are_counted_not_shown(app, as_user, generated, tmp_path):
    client = as_user("clerk_lingbao")
    # a county typed into the form is not the clerk's to choose: their own county is audited
    url = _run(client, *_files(generated), county="411202")
    page = client.get(url).get_data(as_text=True)
    planted, counties = generated[2], generated[3]
    for p in planted:
        shown = mask_id(p["id_number"]) in page
        assert shown == (counties[p["id_number"]] == LINGBAO), p
    others = sum(1 for c in counties.values() if c != LINGBAO)
    assert f"其他县区 {others} 行（不核对、不显示）" in page
    with open(generated[1], encoding="utf-8-sig", newline="") as f:
        roll_others = sum(1 for r in csv.DictReader(f) if counties.get(r["身份证号"]) != LINGBAO and r["县区"] != LINGBAO)
    assert f"其他县区 {roll_others} 行（不核对、不显示）" in re.search(r'id="roll-counts">(.*?)</dd>', page).group(1)
    summary = re.search(r'<table class="list" id="summary-table">.*?</table>', page, re.S).group(0)
    assert "灵宝市" in summary and not any(n in summary for n in ("湖滨区", "陕州区", "渑池县", "卢氏县", "义马市"))
    assert not FULL_ID.search(page), "lists show masked ID numbers, to a clerk too"
    # the clerk's own workbook has whole numbers, of their county only
    saved = tmp_path / "audit.xlsx"
    saved.write_bytes(client.get(url + "/audit.xlsx").data)
    numbers = set(FULL_ID.findall(_cells(saved)))
    assert numbers and all(counties.get(n) == LINGBAO for n in numbers)


def test_a_run_is_its_owners_only(app, client, generated):
    from web_helpers import login
    login(client, "finance")
    url = _run(client, _small(generated), _files(generated)[1])
    client.post("/logout", data={"csrf_token": token(client, "/audit")})
    login(client, "policy")
    for tail in ("", ".json", "/audit.xlsx", "/recheck.xlsx", "/chart.png"):
        assert client.get(url + tail).status_code == 404, tail
    denied = _audit_rows(app, "denied")
    assert denied and all(r["username"] == "policy" for r in denied)


@pytest.mark.parametrize("user", ["admin"])
def test_roles_without_the_audit_are_refused(app, as_user, user):
    client = as_user(user)
    assert client.get("/audit").status_code == 403
    assert "名册核对" not in client.get("/rules").get_data(as_text=True)


def test_finance_policy_and_clerks_find_the_page(as_user):
    for user in ("finance", "policy", "clerk_hubin"):
        client = as_user(user)
        assert 'href="/audit"' in client.get("/rules").get_data(as_text=True)
        page = client.get("/audit")
        assert page.status_code == 200 and "名册核对" in page.get_data(as_text=True)
        client.post("/logout", data={"csrf_token": token(client, "/audit")})


def test_bad_roll_rows_are_listed_with_row_numbers_in_chinese(as_user, generated):
    caseload = _small(generated)
    roll = ("身份证号,救助项目,月发放金额,起始日期\n"
            "411202192011047470,城镇低保,933.00,2012-06-19\n"
            "41120219201104747,城镇低保,933.00,2012-06-19\n"
            "411202192011047470,护理补贴甲,933.00,2012-06-19\n"
            "411202192011047470,城镇低保,九百,2012-06-19\n"
            "411202192011047470,城镇低保,933.00,2099-01-01\n").encode("utf-8")
    first = caseload[1].splitlines(keepends=True)[1]           # a person again, with a bad ID number
    caseload = (caseload[0], caseload[1] + first.replace(first.split(b",")[0], b"41120219800101005X"))
    client = as_user("finance")
    page = client.get(_run(client, caseload, ("名册.csv", roll))).get_data(as_text=True)
    # (the roll reader names its names file, line-names.yaml, in the 不认识的救助项目 message)
    assert stray_ascii(page.replace("line-names.yaml", "")) == [], "a field or word in English"
    assert re.search(r'<table class="list" id="caseload-rejects">.*?身份证号.*?</table>', page, re.S)
    table = re.search(r'<table class="list" id="roll-rejects">.*?</table>', page, re.S).group(0)
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td title="[^"]*">([^<]*)</td><td>([^<]*)</td></tr>', table)
    assert [(r[0], r[1]) for r in rows] == [("3", "身份证号"), ("4", "救助项目"), ("5", "月发放金额"), ("6", "起始日期")]
    assert "身份证号码应为18位" in rows[0][2] and "不认识的救助项目“护理补贴甲”" in rows[1][2]
    assert "月发放金额应为数字" in rows[2][2] and "晚于核对日" in rows[3][2]
    assert re.search(r'id="roll-counts">(.*?)</dd>', page).group(1) == "5 行，核对 1 行，拒绝 4 行"


XLSX_NOT = b"PK\x03\x04 this is not a workbook"
CASELOAD_CSV = "id_number,name\n".encode()


@pytest.mark.parametrize("caseload,roll,form,field,message", [
    (None, ("r.csv", b"x"), {}, "caseload", "请选择台账文件"),
    (("c.csv", CASELOAD_CSV), None, {}, "roll", "请选择名册文件"),
    (("c.txt", CASELOAD_CSV), ("r.csv", b"x"), {}, "caseload", "台账只能是 .csv、.xlsx、.jsonl、.parquet 格式的文件"),
    (("c.csv", CASELOAD_CSV), ("r.jsonl", b"{}"), {}, "roll", "名册只能是 .csv、.xlsx、.parquet 格式的文件"),
    (("c.csv", CASELOAD_CSV), ("r.csv", b""), {}, "roll", "上传的名册文件是空的"),
    (("c.csv", CASELOAD_CSV), ("r.csv", "身份证号,项目名,金额\n".encode()), {}, "roll", "名册中不认识的列：项目名"),
    (("c.csv", CASELOAD_CSV), ("r.csv", "身份证号,救助项目\n".encode()), {}, "roll", "名册缺少必需的列：月发放金额、起始日期"),
    (("c.csv", CASELOAD_CSV), ("r.xlsx", XLSX_NOT), {}, "roll", "XLSX文件已损坏"),
    (("c.csv", CASELOAD_CSV), ("r.parquet", b"PAR1 broken"), {}, "roll", "无法读取Parquet文件"),
    (("c.csv", "身份证,姓名\n".encode()), ("r.csv", "身份证号,救助项目,月发放金额,起始日期\n".encode()), {}, "caseload",
     "不认识的列：身份证"),
    (("c.xlsx", XLSX_NOT), ("r.csv", "身份证号,救助项目,月发放金额,起始日期\n".encode()), {}, "caseload", "XLSX文件已损坏"),
    (("c.csv", CASELOAD_CSV), ("r.csv", b"x"), {"as_of": "2013-02-30"}, "as_of", "核对日应为日期 YYYY-MM-DD"),
    (("c.csv", CASELOAD_CSV), ("r.csv", b"x"), {"as_of": "1899-12-31"}, "as_of", "核对日及其后"),
    (("c.csv", CASELOAD_CSV), ("r.csv", b"x"), {"months": "0"}, "months", "复核期应为 1 到 60 之间的整数（月）"),
    (("c.csv", CASELOAD_CSV), ("r.csv", b"x"), {"months": "61"}, "months", "复核期应为 1 到 60 之间的整数（月）"),
    (("c.csv", CASELOAD_CSV), ("r.csv", b"x"), {"months": "十二"}, "months", "复核期应为 1 到 60 之间的整数（月）"),
    (("c.csv", CASELOAD_CSV), ("r.csv", b"x"), {"county": "999999"}, "county", "请选择县（市、区）"),
])
def test_a_bad_file_or_field_is_an_error_at_its_field(app, as_user, caseload, roll, form, field, message):
    client = as_user("finance")
    response = _post(client, caseload, roll, **form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[-2000:]
    error = re.search(rf'<small class="error" data-for="{field}" id="error-{field}">([^<]*)</small>', page)
    assert error and message in error.group(1), page[-3000:]
    assert not _audits(app).exists() or not any(_audits(app).iterdir()), "an upload was kept"


@pytest.mark.parametrize("body,content_type,status,says", [
    (b'{"as_of": "2013-07-01", "months": 12}', "application/json", 415, "网页只接受表单提交"),
    (b"[1, 2, 3]", "application/json", 415, "网页只接受表单提交"),
    (b"\xff\xfe not text", "text/plain", 415, "网页只接受表单提交"),
    (b"as_of=2013-07-01&months=abc", "application/x-www-form-urlencoded", 400, "请选择台账文件"),
], ids=["json-object", "json-array", "not-utf8-text", "form-without-files"])
def test_an_odd_body_to_the_page_is_a_4xx_in_chinese_not_a_500(as_user, body, content_type, status, says):
    client = as_user("finance")
    headers = {"X-CSRFToken": token(client, "/audit")}
    response = client.post("/audit", data=body, content_type=content_type, headers=headers)
    assert response.status_code == status and says in response.get_data(as_text=True)
    # without the CSRF token: refused before anything is read
    assert client.post("/audit", data=body, content_type=content_type).status_code == (400 if status == 400 else 415)


def test_a_run_that_cannot_be_found_is_a_404(as_user):
    client = as_user("finance")
    for path in ("/audit/runs/nope", "/audit/runs/nope.json", "/audit/runs/" + "x" * 500 + "/audit.xlsx"):
        assert client.get(path).status_code == 404


# -- the API -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api_body(generated):
    """The generated caseload as records and its roll as JSON rows."""
    from benefits.caseload import open_caseload
    from benefits.caseload.columns import unflatten
    opened = open_caseload(generated[0])
    records = [json.loads(json.dumps(unflatten(opened.names, row), default=str)) for _, row in opened.rows]
    with open(generated[1], encoding="utf-8-sig", newline="") as f:
        keys = {"身份证号": "id_number", "救助项目": "line", "月发放金额": "amount", "起始日期": "since", "县区": "county"}
        roll = [{keys[k]: v for k, v in r.items()} for r in csv.DictReader(f)]
    return {"caseload": records, "roll": roll, "as_of": AS_OF, "months": 6}


def _bearer(app, user: str, scope: str = "full") -> dict:
    db = store.connect(app.config["DATABASE"])
    try:
        return {"Authorization": "Bearer " + store.new_api_token(db, store.user_by_name(db, user)["id"], "audit",
                                                                 scope=scope)}
    finally:
        db.close()


def test_the_api_finds_what_was_planted_with_masked_ids(app, client, generated, api_body):
    response = client.post("/api/v1/audit", json=api_body, headers=_bearer(app, "finance"))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["counts"]["caseload_rows"] == 300 and body["counts"]["persons"] == 300
    for kind in ("漏保", "错保", "差额", "重复发放"):
        expected = {(mask_id(p["id_number"]), p["line"]) for p in generated[2] if p["kind"] == kind}
        got = {(f["id_masked"], f["line"]) for f in body["findings"][kind]}
        assert got == expected, kind
        assert body["totals"][kind]["count"] == len(expected)
    assert body["findings_limit"] == 200 and body["recheck_limit"] == 200 and body["months"] == 6
    # the re-check list is benefits.audit's, for the same six months
    listed = recheck(generated[0], dt.date.fromisoformat(AS_OF), 6)
    assert body["recheck_total"] == listed.height > 0
    assert [(r["day"], r["id_masked"], r["line"]) for r in body["recheck"]] == [
        (d.isoformat(), m, line) for d, m, line in listed.head(200).select("day", "id_masked", "line").iter_rows()]
    assert not FULL_ID.search(response.get_data(as_text=True))
    assert [r["username"] for r in _audit_rows(app, "rollaudit.start")] == ["finance"]


def test_a_read_only_token_may_audit_it_changes_nothing(app, client, api_body):
    response = client.post("/api/v1/audit", json={**api_body, "caseload": api_body["caseload"][:20]},
                           headers=_bearer(app, "finance", scope="read"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["counts"]["persons"] == 20


def test_a_full_audit_queue_is_a_503_for_the_api(app, client, api_body):
    pool = workers.BoundedPool("名册核对", 1, 0)
    app.extensions["benefits_pools"]["audit"] = pool
    hold = threading.Event()
    pool.submit("busy", hold.wait)
    try:
        response = client.post("/api/v1/audit", json=api_body, headers=_bearer(app, "finance"))
    finally:
        hold.set()
    assert response.status_code == 503 and "名册核对已满" in response.get_json()["message"]


def test_the_api_gives_a_clerk_their_county_only(app, client, generated, api_body):
    headers = _bearer(app, "clerk_lingbao")
    body = client.post("/api/v1/audit", json=api_body, headers=headers).get_json()
    counties = {f["county"] for rows in body["findings"].values() for f in rows}
    assert counties == {LINGBAO} and body["county"] == LINGBAO
    others = sum(1 for c in generated[3].values() if c != LINGBAO)
    assert body["counts"]["caseload_other_counties"] == others
    refused = client.post("/api/v1/audit", json={**api_body, "county": "411202"}, headers=headers)
    assert refused.status_code == 403 and refused.get_json()["code"] == "wrong_county"
    assert client.post("/api/v1/audit", json=api_body, headers=_bearer(app, "admin")).status_code == 403


def test_the_api_lists_bad_roll_rows_with_their_place(app, client, api_body):
    roll = [api_body["roll"][0], {"id_number": "1", "line": "护理补贴甲", "amount": -5, "since": "2013-13-01"},
            {"id_number": api_body["roll"][0]["id_number"], "line": "城镇低保", "amount": 1e12, "since": None}]
    response = client.post("/api/v1/audit", json={**api_body, "roll": roll}, headers=_bearer(app, "policy"))
    assert response.status_code == 200, response.get_data(as_text=True)
    rejects = {(r["row"], r["field"]): r["message"] for r in response.get_json()["roll_rejects"]}
    assert "身份证号码应为18位" in rejects[(2, "id_number")]
    assert "不认识的救助项目“护理补贴甲”" in rejects[(2, "line")]
    assert "不能为负数" in rejects[(2, "amount")] and "有效日期" in rejects[(2, "since")]
    assert "过大" in rejects[(3, "amount")] and "缺少起始日期" in rejects[(3, "since")]


@pytest.mark.parametrize("change,field", [
    ({"as_of": "2013-02-30"}, "as_of"), ({"months": 0}, "months"), ({"months": "12个月"}, "months"),
    ({"county": "x" * 7}, "county"), ({"county": "999999"}, "county"), ({"roll": [{"name": "x"}]}, "roll"),
    ({"roll": [{"id_number": ["a"]}]}, "roll"), ({"caseload": [1, 2]}, "caseload"), ({"extra": 1}, "extra"),
    ({"as_of": "2100-12-01"}, "as_of"),
])
def test_a_bad_api_body_is_a_400_naming_its_field(app, client, api_body, change, field):
    response = client.post("/api/v1/audit", json={**api_body, **change}, headers=_bearer(app, "finance"))
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "invalid_body" and f"字段 {field} 有误" in body["message"]


def test_the_api_caps_the_body(app, client):
    big = {"caseload": [{"name": "x" * 1000}] * 1001, "roll": [], "as_of": AS_OF}
    response = client.post("/api/v1/audit", json=big, headers=_bearer(app, "finance"))
    assert response.status_code in (400, 413) and response.get_json()["code"] in ("invalid_body", "too_large")


def test_the_audit_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/audit"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AuditRequest")
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AuditResult")
    schemas = doc["components"]["schemas"]
    assert schemas["AuditRequest"]["properties"]["caseload"]["maxItems"] == 1000
    assert {"summary", "findings", "recheck", "roll_rejects"} <= set(schemas["AuditResult"]["required"])


def test_a_caseload_the_job_cannot_read_fails_the_run_naming_the_file(as_user, generated):
    """JSON Lines has no header to check at the form: the job says what is wrong, and with which file."""
    client = as_user("finance")
    response = _post(client, ("caseload.jsonl", b'[{"id_number": "1"'), _files(generated)[1])
    assert response.status_code == 302
    url = response.headers["Location"]
    deadline = time.monotonic() + 60
    while client.get(url + ".json").get_json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    job = client.get(url + ".json").get_json()
    assert job["status"] == "failed" and job["error_field"] == "caseload" and job["error"].startswith("台账：")
    page = client.get(url).get_data(as_text=True)
    assert 'id="run-error" data-for="caseload"' in page and "重新上传台账" in page


def test_a_full_queue_and_a_large_upload_are_refused_in_chinese(app, as_user, generated):
    client = as_user("finance")
    pool = workers.BoundedPool("名册核对", 1, 0)
    app.extensions["benefits_pools"]["audit"] = pool
    hold = threading.Event()
    pool.submit("busy", hold.wait)            # the one worker is busy, no place to wait
    try:
        response = _post(client, *_files(generated))
    finally:
        hold.set()
    assert response.status_code == 503 and "名册核对已满" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]
    assert not any(_audits(app).iterdir()), "the refused run's uploads were kept"
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = _post(client, *_files(generated))
    assert response.status_code == 413 and "上传的文件不能超过" in response.get_data(as_text=True)
