"""The policy what-if page (/policy) and POST /api/v1/compare: roles, the
parameter form as a reform, bad reform files and uploads, CSRF, results
only for their owner, audit rows, and per-request reforms that leave the
server's rulebook alone."""
from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from benefits.engine import load_rulebook
from benefits.web import create_app, reformform, store, whatif

from web_helpers import assert_private, csrf_from, login

ROOT = Path(__file__).resolve().parents[2]
TOPUP = (ROOT / "reforms" / "topup-25.yaml").read_text(encoding="utf-8")
SIZE = 400          # the generated caseload of these tests (generated once per process)
RECORD = {"id_number": "411202198001010057", "name": "测算并发", "hukou_county": "411202", "residence": "urban",
          "certificate": {"number": "41120219800101005742", "category": 4, "grade": 2},
          "status": {"dibao": True}, "evaluation_date": "2013-03-01"}


@pytest.fixture
def app(seeded_db, tmp_path):
    path = tmp_path / "benefits.sqlite"
    shutil.copy(seeded_db, path)
    return create_app({"DATABASE": str(path), "SECRET_KEY": "test-secret", "TESTING": True,
                       "POLICY_GENERATED_SIZE": SIZE, "MAX_CONTENT_LENGTH": 64 * 1024})


def _token(app, username: str) -> dict:
    db = store.connect(app.config["DATABASE"])
    try:
        issued = store.new_api_token(db, store.user_by_name(db, username)["id"], "test")
    finally:
        db.close()
    return {"Authorization": f"Bearer {issued}"}


def _audit(app, action: str) -> list[dict]:
    db = store.connect(app.config["DATABASE"])
    try:
        return [dict(r) for r in db.query("SELECT a.*, u.username FROM audit a LEFT JOIN users u ON u.id = a.user_id "
                                          "WHERE action = ? ORDER BY a.id", [action])]
    finally:
        db.close()


def _post(client, data: dict, files: dict | None = None):
    page = client.get("/policy")
    form = {"csrf_token": csrf_from(page.get_data(as_text=True)), "source": "generated", "year": "2013",
            "since": "2013-01-01", **data}
    for name, (filename, content) in (files or {}).items():
        form[name] = (io.BytesIO(content), filename)
    return client.post("/policy", data=form, content_type="multipart/form-data")


def _finished(client, location: str, seconds: float = 60) -> dict:
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        state = client.get(location + ".json").get_json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


@pytest.mark.parametrize("user,status", [("clerk_hubin", 403), ("finance", 403), ("policy", 200), ("admin", 200)])
def test_only_policy_and_admin_open_the_page(app, client, user, status):
    login(client, user)
    response = client.get("/policy")
    assert response.status_code == status
    if status == 403:
        assert "无权访问" in response.get_data(as_text=True)
        assert _audit(app, "denied")[-1]["detail"] == "GET /policy"
    else:
        html = response.get_data(as_text=True)
        # the form is generated from the rulebook's parameters, with current values and marks
        assert 'name="p.dibao_topup_ratio.0"' in html and "已核实" in html and "未核实" in html


def test_anonymous_is_sent_to_log_in(client):
    assert client.get("/policy").status_code == 302


def test_a_changed_parameter_runs_as_a_reform_with_marks_and_a_workbook(app, client):
    login(client, "policy")
    response = _post(client, {"p.dibao_topup_ratio.0": "0.15"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert _finished(client, location)["status"] == "done"
    html = client.get(location).get_data(as_text=True)
    # a floor broken by the form's value is marked, and the changed parameter never shows as 已核实
    assert "违反 63号 二（一）：补贴标准应高于低保标准的 20% 以上。（改后 15%，2013-01-01 起）" in html
    assert "改革方案改动" in html and 'id="cost"' in html and "<svg" in html
    run = whatif.get(location.rsplit("/", 1)[-1])
    assert run.result["totals"]["difference"] < 0
    assert [p["name"] for p in run.result["changed_parameters"]] == ["dibao_topup_ratio"]
    assert run.result["changed_parameters"][0]["verified"] is False
    workbook = client.get(location + "/workbook.xlsx")
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.data), read_only=True)
    assert {"概要", "项目×县区×出资方", "法定底线", "示例"} <= set(book.sheetnames)
    assert assert_private(Path(app.config["DATABASE"]).parent / "policy") == 1
    detail = _audit(app, "policy.compare")[-1]["detail"]
    assert "caseload 模拟台账 400 人" in detail and "year 2013" in detail and "0.15" in detail
    assert _audit(app, "policy.read") and _audit(app, "policy.download")


def test_the_form_and_the_api_give_the_same_figures_for_the_same_reform(app, client):
    """0.25 from 2013-01-01 typed in the form = reforms/topup-25.yaml sent to the API."""
    login(client, "policy")
    location = _post(client, {"p.dibao_topup_ratio.0": "0.25"}).headers["Location"]
    assert _finished(client, location)["status"] == "done"
    page = whatif.get(location.rsplit("/", 1)[-1]).result
    api = app.test_client().post("/api/v1/compare", json={"reform": TOPUP, "caseload": "generated", "year": 2013},
                                 headers=_token(app, "policy")).get_json()
    assert page["totals"] == api["totals"] and page["totals"]["difference"] > 0
    assert page["cost"] == api["cost"] and page["by_county"] == api["by_county"]
    assert api["floor_violations"] == 0


def test_a_bad_reform_file_shows_file_and_line_in_chinese_and_nothing_runs(app, client):
    login(client, "policy")
    bad = "label: 测试方案\nreason: 测试理由\nparameters:\n  dibao_topup_rato:\n    values: [{from: 2013-01-01, value: 0.3}]\n"
    response = _post(client, {}, {"reform_file": ("bad.yaml", bad.encode())})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "bad.yaml:4：未知参数“dibao_topup_rato”" in html and "未进行测算" in html
    assert not _audit(app, "policy.compare")


@pytest.mark.parametrize("fields,files,message", [
    ({"p.dibao_topup_ratio.0": "四分之一"}, {}, "不是有效的比例"),
    ({"p.dibao_topup_ratio.0": "nan"}, {}, "不是有效的比例"),
    ({"since": "2013-02-30", "p.dibao_topup_ratio.0": "0.3"}, {}, "改动起始日期"),
    ({"year": "1999", "p.dibao_topup_ratio.0": "0.3"}, {}, "预算年度"),
    ({}, {}, "没有任何改动"),
    ({"source": "upload", "p.dibao_topup_ratio.0": "0.3"}, {"caseload": ("c.txt", b"x")}, "只能上传"),
    ({"source": "upload", "p.dibao_topup_ratio.0": "0.3"}, {"caseload": ("c.csv", b"")}, "文件是空的"),
    ({"p.dibao_topup_ratio.0": "0.3"}, {"reform_file": ("r.txt", b"label: x")}, ".yaml"),
    ({}, {"reform_file": ("r.yaml", b"label: [")}, "r.yaml:1"),
])
def test_bad_input_is_refused_in_chinese_before_anything_runs(app, client, fields, files, message):
    login(client, "policy")
    response = _post(client, fields, files)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert not _audit(app, "policy.compare")


def test_an_unreadable_upload_fails_the_run_in_chinese(client):
    login(client, "policy")
    response = _post(client, {"source": "upload", "p.dibao_topup_ratio.0": "0.3"},
                     {"caseload": ("broken.xlsx", b"PK\x03\x04 not really a workbook")})
    location = response.headers["Location"]
    state = _finished(client, location)
    assert state["status"] == "failed" and state["error"] and "Traceback" not in state["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in state["error"])
    assert state["error"] in client.get(location).get_data(as_text=True)


def test_an_uploaded_caseload_runs_and_rejects_bad_rows(client):
    login(client, "policy")
    csv = ("id_number,name,hukou_county,residence,certificate.number,certificate.category,certificate.grade,"
           "status.dibao,evaluation_date\n"
           "411202198001010057,甲,411202,urban,41120219800101005712,1,2,true,2013-03-01\n"
           "411202198001010058,乙,411202,urban,41120219800101005812,1,2,true,2013-03-01\n")
    location = _post(client, {"source": "upload", "p.dibao_topup_ratio.0": "0.3"},
                     {"caseload": ("c.csv", csv.encode())}).headers["Location"]
    assert _finished(client, location)["status"] == "done"
    result = whatif.get(location.rsplit("/", 1)[-1]).result
    assert result["counts"]["total"] == 2 and result["counts"]["rejected"] == 1
    assert result["by_benefit"] and result["rejects"][0]["row"] == 3


def test_a_huge_upload_is_413_in_chinese(client):
    login(client, "policy")
    response = _post(client, {"source": "upload"}, {"caseload": ("c.csv", b"x" * (100 * 1024))})
    assert response.status_code == 413
    assert "上传的文件不能超过" in response.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(client):
    login(client, "policy")
    response = client.post("/policy", data={"source": "generated", "year": "2013", "p.dibao_topup_ratio.0": "0.3"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_a_result_is_only_for_the_user_who_ran_it(app):
    owner, other = app.test_client(), app.test_client()
    login(owner, "policy")
    location = _post(owner, {"p.dibao_topup_ratio.0": "0.3"}).headers["Location"]
    assert _finished(owner, location)["status"] == "done"
    login(other, "admin")
    for suffix in ("", ".json", "/workbook.xlsx"):
        assert other.get(location + suffix).status_code == 404
    # each run's job writes its workbook, so an earlier run's still downloads after later ones
    later = [_post(owner, {"p.dibao_topup_ratio.0": ratio}).headers["Location"] for ratio in ("0.31", "0.32")]
    for run in later:
        assert _finished(owner, run)["status"] == "done"
    assert owner.get(location + "/workbook.xlsx").status_code == 200
    assert owner.get(later[0] + "/workbook.xlsx").status_code == 200
    denied = [r["detail"] for r in _audit(app, "denied") if r["username"] == "admin"]
    assert len(denied) == 3 and all("另一用户的测算" in d for d in denied)
    assert "还没有测算" in other.get("/policy").get_data(as_text=True)


# -- POST /api/v1/compare ----------------------------------------------------------------


def test_a_reform_per_request_leaves_a_concurrent_plain_evaluation_unchanged(app):
    """Evaluations through the API while compares with a reform run in
    other threads give exactly the answer they gave before."""
    policy, clerk = _token(app, "policy"), _token(app, "clerk_hubin")
    before = app.test_client().post("/api/v1/evaluate", json=RECORD, headers=clerk).get_json()
    assert any(line["benefit"] == "dibao_topup" for line in before["benefits"])
    answers, errors = [], []

    def compares():
        client = app.test_client()
        for ratio in (0.5, 0.1):
            reform = {"label": "并发测算", "reason": "并发测试用",
                      "parameters": {"dibao_topup_ratio": {"values": [{"from": "2012-11-01", "value": ratio}]}}}
            response = client.post("/api/v1/compare", json={"reform": reform, "caseload": [RECORD] * 20,
                                                            "year": 2013}, headers=policy)
            (answers if response.status_code == 200 else errors).append(response.get_json())

    thread = threading.Thread(target=compares)
    thread.start()
    client, during = app.test_client(), []
    while thread.is_alive():
        during.append(client.post("/api/v1/evaluate", json=RECORD, headers=clerk).get_json())
    thread.join()
    during.append(client.post("/api/v1/evaluate", json=RECORD, headers=clerk).get_json())
    assert not errors and len(answers) == 2
    assert answers[0]["totals"]["difference"] > 0 > answers[1]["totals"]["difference"]
    assert all(answer == before for answer in during), "a per-request reform leaked into the server's rulebook"
    audited = _audit(app, "policy.compare")
    assert len(audited) == 2 and all(r["username"] == "policy" and "并发测算" in r["detail"]
                                     and "year 2013" in r["detail"] for r in audited)


@pytest.mark.parametrize("body,code,message", [
    ({"reform": TOPUP, "caseload": "generated"}, "invalid_body", "year"),
    ({"reform": TOPUP, "caseload": "all", "year": 2013}, "invalid_body", "caseload"),
    ({"reform": TOPUP, "caseload": [{}] * 1001, "year": 2013}, "invalid_body", "至多 1000 条"),
    ({"reform": TOPUP, "caseload": "generated", "year": 2013, "extra": 1}, "invalid_body", "不是本接口的字段"),
    ({"reform": 5, "caseload": "generated", "year": 2013}, "invalid_body", "reform"),
    ({"reform": "/etc/passwd", "caseload": "generated", "year": 2013}, "invalid_reform", "reform:1"),
    ({"reform": "label: 测试\nreason: 测试\nrules:\n  - remove_rule: {rule: nope}\n", "caseload": "generated",
      "year": 2013}, "invalid_reform", "reform:4：未知规则“nope”"),
    ({"reform": {"label": "测试", "reason": "测试", "parameters": {"dibao_topup_ratio": {"values": []}}},
      "caseload": "generated", "year": 2013}, "invalid_reform", "reform:"),
    ({"reform": {"label": "测试", "reason": "测试", "a": {"b": {"c": [[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]}}},
      "caseload": "generated", "year": 2013}, "invalid_reform", "改革方案有误"),
    ({"reform": {"a": 1}, "caseload": "generated", "year": 2013}, "invalid_body", "reform"),     # no label, reason
    ({"reform": "", "caseload": "generated", "year": 2013}, "invalid_body", "reform"),
    ({"reform": TOPUP, "caseload": "saved", "year": 2013, "baseline_version": "nope"}, "invalid_body",
     "baseline_version"),
    # issue 20 item 11: values that make no sense, refused as the CLI refuses them
    ({"reform": {"label": "负数", "reason": "负的低保标准", "parameters": {"dibao_standard": {"values": [
        {"from": "2013-01-01", "residence": "urban", "value": -1e18}]}}}, "caseload": "generated", "year": 2013},
     "invalid_reform", "超出金额范围 0—10000"),
    ({"reform": {"label": "布尔", "reason": "布尔不是数", "parameters": {"dibao_topup_ratio": {"values": [
        {"from": "2013-01-01", "value": True}]}}}, "caseload": "generated", "year": 2013},
     "invalid_reform", "不是数字"),
    ({"reform": TOPUP + "label: 又一个名称\n", "caseload": "generated", "year": 2013}, "invalid_reform", "键“label”重复"),
    ({"reform": "label: &a 测试\nreason: *a\n", "caseload": "generated", "year": 2013}, "invalid_reform",
     "不支持 YAML 锚点和别名"),
    # issue 20 item 10: the work a reform may cause is bounded before it runs
    ({"reform": "label: 大集合\nreason: 一千个值\nrules:\n  - change_condition: {rule: severe, where: {fact: grade}, "
                "to: {in: [" + ", ".join(map(str, range(1000))) + "]}}\n", "caseload": "generated", "year": 2013},
     "invalid_reform", "超过上限 64 个"),
])
def test_bad_compare_bodies_are_400_in_chinese(app, body, code, message):
    response = app.test_client().post("/api/v1/compare", json=body, headers=_token(app, "policy"))
    assert response.status_code == 400, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["code"] == code and message in answer["message"], answer
    assert not _audit(app, "policy.compare")


def test_a_compare_body_over_the_limit_is_413(app):
    response = app.test_client().post("/api/v1/compare", json={"reform": TOPUP, "caseload": [RECORD] * 1000,
                                                               "year": 2013}, headers=_token(app, "policy"))
    assert response.status_code == 413 and response.get_json()["code"] == "too_large"


def test_compare_roles_and_counties(app):
    """Who may compare: policy and admin. A clerk may not, whatever the
    caseload (their own county's changes are on /cases/changed); finance may not."""
    version = store.connect(app.config["DATABASE"]).execute(
        "SELECT version FROM rulebook_versions WHERE kept = 1").fetchone()[0]
    saved = {"reform": {"label": "不改", "reason": "现行规则对旧版本"}, "caseload": "saved", "year": 2013,
             "baseline_version": version}
    client = app.test_client()
    for user in ("finance", "clerk_hubin"):
        for caseload in ("saved", "generated", [RECORD]):
            refused = client.post("/api/v1/compare", json={**saved, "caseload": caseload}, headers=_token(app, user))
            assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden", (user, caseload)
            assert "无权" in refused.get_json()["message"]
    assert [r["detail"] for r in _audit(app, "denied")] == ["POST /api/v1/compare"] * 6
    assert not _audit(app, "policy.compare")
    db = store.connect(app.config["DATABASE"])
    hubin = client.post("/api/v1/compare", json={**saved, "county": "411202"}, headers=_token(app, "policy"))
    assert hubin.status_code == 200
    assert hubin.get_json()["counts"]["total"] == db.execute(
        "SELECT count(*) FROM cases WHERE county = '411202'").fetchone()[0] > 0
    assert {r["county"] for r in hubin.get_json()["by_county"]} == {"411202"}
    city = client.post("/api/v1/compare", json=saved, headers=_token(app, "admin")).get_json()
    assert city["counts"]["total"] == db.execute("SELECT count(*) FROM cases").fetchone()[0] > hubin.get_json()["counts"]["total"]


def _kept_version(app) -> str:
    db = store.connect(app.config["DATABASE"])
    try:
        return db.execute("SELECT version FROM rulebook_versions WHERE kept = 1").fetchone()[0]
    finally:
        db.close()


def test_saved_cases_of_a_county_against_a_kept_version_list_the_changed_cases(app, client):
    version = _kept_version(app)
    login(client, "policy")
    assert version in client.get("/policy").get_data(as_text=True)
    location = _post(client, {"source": "saved", "county": "411202", "baseline_version": version,
                              "p.dibao_topup_ratio.0": "0.25"}).headers["Location"]
    assert _finished(client, location)["status"] == "done"
    result = whatif.get(location.rsplit("/", 1)[-1]).result
    db = store.connect(app.config["DATABASE"])
    hubin = {r[0]: r[1] for r in db.execute("SELECT id, name FROM cases WHERE county = '411202'")}
    assert result["counts"]["total"] == len(hubin) and result["baseline_version"] == version
    changed = result["changed_cases"]
    assert changed and all(r["case_id"] in hubin and r["name"] == hubin[r["case_id"]] for r in changed)
    assert all("低保重度残疾人定额补贴" in "".join(r["lines"]) and r["difference"] > 0 for r in changed)
    html = client.get(location).get_data(as_text=True)
    # policy reads no case: names and masked numbers, no links (as /cases/changed)
    assert changed[0]["name"] in html and changed[0]["id_number_masked"] in html
    assert f'href="/cases/{changed[0]["case_id"]}"' not in html
    # the old version against today's rules as they are: runs, nothing changes
    location = _post(client, {"source": "saved", "county": "", "baseline_version": version}).headers["Location"]
    assert _finished(client, location)["status"] == "done"
    result = whatif.get(location.rsplit("/", 1)[-1]).result
    assert result["changed_cases"] == [] and result["counts"]["total"] == len(
        list(db.execute("SELECT id FROM cases")))


def test_saved_cases_need_a_role_that_sees_which_cases_change(app, client):
    login(client, "admin")
    response = _post(client, {"source": "saved", "baseline_version": _kept_version(app),
                              "p.dibao_topup_ratio.0": "0.25"})
    assert response.status_code == 400 and "不能使用已保存的案件" in response.get_data(as_text=True)


def test_changed_cases_in_the_api_carry_names_and_masked_numbers_only(app):
    body = {"reform": TOPUP, "caseload": "saved", "year": 2013, "baseline_version": _kept_version(app)}
    city = app.test_client().post("/api/v1/compare", json=body, headers=_token(app, "policy")).get_json()
    assert city["changed_cases"]
    assert all("case_id" not in r and "url" not in r and r["name"] and "*" in r["id_number_masked"]
               for r in city["changed_cases"])


def test_the_form_writes_one_dated_value_per_changed_scope():
    from benefits.engine import load_rulebook
    from benefits.web import reformform
    book = load_rulebook()
    rows = {f.name: f for group in reformform.fields(book) for f in group["rows"]}
    lingbao = next(n for n, f in rows.items() if f.parameter == "dibao_standard" and f.hukou_county == "411282")
    calf = next(n for n, f in rows.items() if f.parameter == "prosthesis_subsidy" and f.key == "calf")
    form = {lingbao: "350", calf: "400", "p.dibao_topup_ratio.0": "0.2",      # 0.2 is today's value: no change
            "p.psychiatric_dibao_subsidy.0": ""}
    section, errors = reformform.changes(book, form, __import__("datetime").date(2013, 3, 1))
    assert not errors
    # 灵宝 城镇 had 340 from 2013-07-01: 350 from 2013-03-01 replaces it (it must not come back in July)
    standard = section["dibao_standard"]
    assert standard["replace"] is True
    assert [(v["from"], v["value"]) for v in standard["values"] if v.get("hukou_county") == "411282"] == [
        ("2013-03-01", 350), ("2013-07-01", 350), ("2014-07-01", 350)]
    assert [v for v in standard["values"] if "hukou_county" not in v] == [
        v.model_dump(mode="json", by_alias=True, exclude_none=True) for v in book.parameters["dibao_standard"].values
        if v.hukou_county is None]
    assert section["prosthesis_subsidy"]["values"][-1] == {"from": "2013-03-01", "value": {"calf": 400, "thigh": 1000}}
    assert set(section) == {"dibao_standard", "prosthesis_subsidy"}
    assert reformform.describe(section, book) == "普及型假肢安装补贴 改为 小腿普及型假肢 400，大腿普及型假肢 1000；城乡居民最低生活保障标准 改为 350"
    # and as a reform: 灵宝 城镇 in August 2013 is 350
    from benefits.policy import apply_reform, load_reform
    reformed = apply_reform(book, load_reform(reformform.reform_text(section, "测试", "测试理由").encode()))
    day = __import__("datetime").date(2013, 8, 1)
    for day in (__import__("datetime").date(2013, 3, 1), day, __import__("datetime").date(2015, 1, 1)):
        assert reformed.parameters["dibao_standard"].resolve(
            day, {"hukou_county": "411282", "residence": "urban"}) == 350
    day = __import__("datetime").date(2013, 8, 1)
    assert reformed.parameters["dibao_standard"].resolve(day, {"hukou_county": "411202", "residence": "urban"}) == 330


def test_admins_read_what_if_runs_in_the_audit_log(app, client):
    app.test_client().post("/api/v1/compare", json={"reform": TOPUP, "caseload": [RECORD], "year": 2013},
                           headers=_token(app, "policy"))
    login(client, "admin")
    html = client.get("/admin/audit?action=policy.compare").get_data(as_text=True)
    assert "政策测算（改革前后对比）" in html and "低保重度残疾人定额补贴提高到25%" in html and "policy" in html


def test_the_workbook_is_written_by_the_run_so_the_first_download_is_immediate(app, client):
    """Issue 20 item 8: the job writes the workbook when the run finishes."""
    login(client, "policy")
    location = _post(client, {"p.dibao_topup_ratio.0": "0.15"}).headers["Location"]
    assert _finished(client, location)["status"] == "done"
    run = whatif.get(location.rsplit("/", 1)[-1])
    stop = time.monotonic() + 60
    while client.get(location + ".json").get_json()["workbook"] == "pending" and time.monotonic() < stop:
        time.sleep(0.05)
    assert client.get(location + ".json").get_json()["workbook"] == "ready"
    assert (run.folder / whatif.WORKBOOK).is_file() and "workbook" in run.timings   # before any download
    assert run.comparison is None                                                   # memory let go
    response = client.get(location + "/workbook.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"


@pytest.mark.parametrize("typed", ["0.25", "25", "25%", "25 %", "２５％"])
def test_a_ratio_takes_a_fraction_or_a_percentage(typed):
    """Issue 20 item 7: 25 and 25% are 25 % where the parameter is a ratio."""
    book = load_rulebook()
    section, errors = reformform.changes(book, {"p.dibao_topup_ratio.0": typed}, dt.date(2013, 1, 1))
    assert not errors
    assert {v["value"] for v in section["dibao_topup_ratio"]["values"] if v["from"] >= "2013-01-01"} == {0.25}


@pytest.mark.parametrize("name,typed,message", [
    ("p.dibao_topup_ratio.0", "150", "不是有效的比例：应大于 0、不超过 100%"),
    ("p.dibao_topup_ratio.0", "0", "不是有效的比例：应大于 0"),
    ("p.dibao_topup_ratio.0", "-5%", "不是有效的比例"),
    ("p.hardship_relief_payer.0.city", "30%", "各出资方的比例之和应为 100%，现为 80%"),
    ("p.dibao_standard.0", "-1", "为负数：不能小于 0"),
])
def test_a_bad_ratio_or_a_negative_amount_is_refused_at_its_field(name, typed, message):
    book = load_rulebook()
    _, errors = reformform.changes(book, {name: typed}, dt.date(2013, 1, 1))
    assert len(errors) == 1 and message in next(iter(errors.values()))


def test_the_ratio_error_shows_at_the_field_in_chinese_with_no_path_or_english(app, client):
    login(client, "policy")
    response = _post(client, {"p.dibao_topup_ratio.0": "250"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    at_field = re.search(r'<small class="error" data-for="p\.dibao_topup_ratio\.0">([^<]*)</small>', html)
    assert at_field and "不是有效的比例" in at_field.group(1)
    assert not re.search(r"[A-Za-z]{3,}|\.yaml|:\d", at_field.group(1))
    assert "fraction" not in html and not _audit(app, "policy.compare")
    ran = _post(client, {"p.dibao_topup_ratio.0": "25%"})
    assert ran.status_code == 302 and _finished(client, ran.headers["Location"])["status"] == "done"
