"""Intake, cases, county isolation, escaping, re-evaluation and the audit log."""
from __future__ import annotations

import json
import re
import sqlite3

import pytest

from benefits.engine import services as intake_services
from benefits.web import store

from web_helpers import token

HUBIN, LINGBAO = "411202", "411282"
# A valid 湖滨 applicant built from a valid ID number (MOD 11-2).
RECORD_FORM = {
    "name": "钱多多", "id_number": "11010519491231002X",
    "certificate.number": "11010519491231002X42", "certificate.category": "4",
    "certificate.grade": "2", "hukou_county": HUBIN, "residence": "urban",
    "household.members": "no", "household.monthly_income": "100",
    "household.assets_within_limit": "yes", "status.dibao": "yes",
    "evaluation_date": "2013-03-01",
}


def db_of(app):
    return store.connect(app.config["DATABASE"])


def case_of(app, county):
    db = db_of(app)
    case = next(db["cases"].rows_where("county = ?", [county], order_by="id"))
    db.close()
    return case


def post_intake(client, data, path="/intake", action="evaluate"):
    return client.post(path, data={**data, "action": action, "csrf_token": token(client)})


def test_clerk_list_shows_own_county_only_with_masked_ids(app, as_user):
    client = as_user("clerk_lingbao")
    page = client.get("/cases").get_data(as_text=True)
    db = db_of(app)
    own = list(db["cases"].rows_where("county = ?", [LINGBAO]))
    other = list(db["cases"].rows_where("county != ?", [LINGBAO]))
    db.close()
    assert own and other
    for case in own:
        assert case["name"] in page
        assert case["id_number"] not in page                   # never the full number in a list
        assert case["id_number"][:6] + "********" + case["id_number"][-4:] in page
    for case in other:
        assert f'/cases/{case["id"]}"' not in page


@pytest.mark.parametrize("method,path", [
    ("GET", "/cases/{id}"), ("GET", "/cases/{id}/history"), ("GET", "/cases/{id}/notice"),
    ("GET", "/intake/case/{id}"), ("POST", "/cases/{id}/reevaluate"), ("POST", "/intake/case/{id}"),
    ("GET", "/api/v1/cases/{id}"), ("PUT", "/api/v1/cases/{id}"),
])
def test_lingbao_clerk_cannot_read_or_change_a_hubin_case(app, as_user, method, path):
    case = case_of(app, HUBIN)
    client = as_user("clerk_lingbao")
    before = len(store.determinations(db_of(app), case["id"]))
    url = path.format(id=case["id"])
    if method == "GET":
        response = client.get(url)
    elif url.startswith("/api"):
        record = json.loads(case["record_json"])
        response = client.put(url, json=record, headers={"X-CSRFToken": token(client)})
    else:
        response = client.post(url, data={**RECORD_FORM, "action": "save", "csrf_token": token(client)})
    assert response.status_code in (403, 404)
    assert case["name"] not in response.get_data(as_text=True)
    db = db_of(app)
    assert len(store.determinations(db, case["id"])) == before
    denied = list(db["audit"].rows_where("action = 'denied' AND case_id = ?", [case["id"]]))
    assert denied and denied[-1]["username"] == "clerk_lingbao"


def test_clerk_cannot_save_a_case_of_another_county(app, as_user):
    client = as_user("clerk_lingbao")
    response = post_intake(client, RECORD_FORM, action="save")      # 户籍 湖滨
    assert response.status_code == 422
    assert "本账户只能受理灵宝市户籍的案件" in response.get_data(as_text=True)
    assert db_of(app)["cases"].count_where("name = ?", ["钱多多"]) == 0


def test_intake_evaluate_save_and_audit(app, as_user):
    client = as_user("clerk_hubin")
    response = post_intake(client, RECORD_FORM)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="determination"' in page and "纳入城乡低保" in page
    assert "⚠ 假设" in page and "⚠ 未核实参数" in page
    assert "重度残疾人低保补贴的出资方 = 未指明 100%" in page
    response = post_intake(client, RECORD_FORM, action="save")
    assert response.status_code == 302
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    db = db_of(app)
    case = store.get_case(db, case_id)
    assert case["county"] == HUBIN and case["record"]["status"] == {"dibao": True}
    det = store.determinations(db, case_id)[0]
    assert det["rulebook_version"] == det["result"]["rulebook_version"]
    assert [r["action"] for r in store.audit_rows(db, case_id)] == ["case.create"]
    client.get(f"/cases/{case_id}")
    client.get(f"/cases/{case_id}/notice")
    client.get(f"/cases/{case_id}/history")
    rows = store.audit_rows(db, case_id)
    assert [r["action"] for r in rows][:3] == ["case.history", "case.notice", "case.read"]
    assert {r["username"] for r in rows} == {"clerk_hubin"}
    client.get("/cases?q=钱")
    listed = next(db["audit"].rows_where("action = 'case.list'", order_by="id DESC"))
    assert listed["username"] == "clerk_hubin" and str(case_id) in listed["detail"]


def test_audit_log_is_append_only(app):
    db = db_of(app)
    store.audit(db, None, "test.row")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit SET action = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit")
    assert db["audit"].count_where("action = 'test.row'") == 1


def test_unanswered_stays_absent(app, as_user):
    client = as_user("clerk_hubin")
    form = {"name": "孙未填", "id_number": "11010519491231002X", "hukou_county": HUBIN,
            "status.dibao": "", "status.wubao": "", "household.members": "",
            "household.members.0.relation": "", "household.members.0.disabled": ""}
    response = post_intake(client, form, action="save")
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    record = store.get_case(db_of(app), case_id)["record"]
    assert record == {"id_number": "11010519491231002X", "name": "孙未填", "hukou_county": HUBIN}


def test_invalid_numbers_are_shown_at_their_fields_in_chinese(as_user):
    client = as_user("clerk_hubin")
    form = {**RECORD_FORM, "id_number": "110105194912310021",
            "household.members": "yes", "household.members.0.relation": "spouse",
            "household.members.1.relation": "child", "household.members.1.age": "abc"}
    response = post_intake(client, form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="determination"' not in page

    def field_block(name):
        fid = "f-" + name.replace(".", "-")
        match = re.search(r'<div class="field has-error[^"]*"[^>]*>\s*(?:<label for="%s">.*?</label>\s*)?'
                          r'<(?:input|select) id="%s".*?</div>' % (fid, fid), page, re.S)
        assert match, f"no error block at {name}"
        return match.group(0)
    assert "身份证号码校验位错误：应为X，实际为1" in field_block("id_number")
    assert "应为整数" in field_block("household.members.1.age")


def test_certificate_grade_mismatch_and_blank_member_rows(as_user):
    client = as_user("clerk_hubin")
    page = post_intake(client, {**RECORD_FORM, "certificate.grade": "3"}).get_data(as_text=True)
    assert re.search(r'id="f-certificate-grade".*?残疾人证号中的等级代码为2，与填写的等级3不一致',
                     page, re.S)
    form = {**RECORD_FORM, "household.members": "yes", "household.members.0.relation": "",
            "household.members.1.relation": "spouse", "household.members.1.age": "200"}
    page = post_intake(client, form).get_data(as_text=True)
    # the second form row is the first member: the error goes to row 1, not row 0
    assert re.search(r'id="f-household-members-1-age".*?超过上限', page, re.S)
    assert not re.search(r'id="f-household-members-0-age"[^<]*>\s*<small class="error live"[^>]*></small>\s*<small class="error">',
                         page)


def test_missing_facts_link_to_their_form_fields(as_user):
    client = as_user("clerk_hubin")
    services = [s.key for s in intake_services(client.application.extensions["benefits_engine"].rulebook)]
    page = post_intake(client, {"name": "李待定", "id_number": "11010519491231002X", "hukou_county": HUBIN,
                                "services_asked": "1", "service": services}).get_data(as_text=True)
    anchors = set(re.findall(r'<div class="missing">.*?</div>', page, re.S))
    hrefs = set(re.findall(r'href="#(f-[^"]+)"', "".join(anchors)))
    assert "f-certificate-number" in hrefs and "f-status-dibao" in hrefs
    for href in hrefs:
        assert f'id="{href}"' in page


def test_html_in_names_is_escaped(app, as_user):
    client = as_user("clerk_hubin")
    evil = '<script>alert(1)</script><img src=x>'
    response = post_intake(client, {**RECORD_FORM, "name": evil}, action="save")
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    for path in ("/cases", f"/cases/{case_id}", f"/cases/{case_id}/notice",
                 f"/cases/{case_id}/history", f"/intake/case/{case_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;" in page, path


def test_reevaluation_appends_and_shows_changes(app, as_user):
    client = as_user("clerk_hubin")
    case_id = int(post_intake(client, RECORD_FORM, action="save").headers["Location"].rsplit("/", 1)[1])
    first = store.determinations(db_of(app), case_id)[0]
    # same facts, current rules: a second determination, nothing changed
    client.post(f"/cases/{case_id}/reevaluate", data={"csrf_token": token(client, "/cases")})
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "与上次评估相比无变化" in page
    # changed facts: no longer in 低保, and not owed it either (income above the
    # standard, supports herself) — otherwise 63号 二（一） still makes her a 低保对象
    response = post_intake(client, {**RECORD_FORM, "status.dibao": "no", "household.monthly_income": "1000",
                                     "status.supported_by": "self"},
                           path=f"/intake/case/{case_id}", action="save")
    assert response.status_code == 302
    dets = store.determinations(db_of(app), case_id)
    assert len(dets) == 3
    assert dets[0]["result_json"] == first["result_json"]        # the old one is kept as it was
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    table = re.search(r'<table class="changes">.*?</table>', page, re.S).group(0)
    assert "低保重度残疾人定额补贴" in table and "符合 → <b>不符合</b>" in table
    assert "不少于 60 元 → <b>—</b>" in table
    history = client.get(f"/cases/{case_id}/history").get_data(as_text=True)
    assert history.count('class="step"') == 3


def test_search_filter_and_pagination(app, as_user):
    client = as_user("finance")                          # every county, 5 per page
    db = db_of(app)
    total = db["cases"].count
    assert total > 5
    first = client.get("/cases").get_data(as_text=True)
    second = client.get("/cases?page=2").get_data(as_text=True)
    ids1 = set(re.findall(r'href="/cases/(\d+)"', first))
    ids2 = set(re.findall(r'href="/cases/(\d+)"', second))
    assert len(ids1) == 5 and ids2 and not ids1 & ids2
    name = next(db["cases"].rows)["name"]
    found = client.get(f"/cases?q={name[:2]}").get_data(as_text=True)
    assert name in found
    statuses = {r["status"] for r in db["cases"].rows}
    for status in statuses:
        page = client.get(f"/cases?status={status}").get_data(as_text=True)
        shown = set(re.findall(r'href="/cases/(\d+)"', page))
        expected = {str(r["id"]) for r in db["cases"].rows_where("status = ?", [status])}
        assert shown <= expected and shown


def test_percent_in_search_is_literal(as_user):
    page = as_user("finance").get("/cases?q=%25").get_data(as_text=True)
    assert "没有案件" in page


def test_saved_case_links_open_questions_into_the_edit_form(app, as_user):
    client = as_user("clerk_hubin")
    form = {"name": "周待补", "id_number": "11010519491231002X", "hukou_county": HUBIN}
    case_id = int(post_intake(client, form, action="save").headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/intake/case/{case_id}#f-status-dibao"' in page
    # a reader who may not change the case sees the questions without links
    finance = as_user("finance").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "/intake/case/" not in finance and "已纳入低保" in finance


def test_messages_above_the_form_name_their_field(as_user):
    client = as_user("clerk_hubin")
    # (a valid certificate number would supply the category: give a broken one)
    page = post_intake(client, {**RECORD_FORM, "certificate.number": "123",
                                "certificate.category": ""}).get_data(as_text=True)
    assert "残疾类别：必填项未填写" in page


def test_a_second_case_for_the_same_person_is_refused(app, as_user):
    client = as_user("clerk_hubin")
    case_id = int(post_intake(client, RECORD_FORM, action="save").headers["Location"].rsplit("/", 1)[1])
    response = post_intake(client, {**RECORD_FORM, "name": "钱多多二"}, action="save")
    assert response.status_code == 422
    assert f"此身份证号已有案件 #{case_id}" in response.get_data(as_text=True)
    # saving the existing case itself is of course fine
    assert post_intake(client, RECORD_FORM, path=f"/intake/case/{case_id}", action="save").status_code == 302


def test_case_search_by_whole_id_number_or_its_last_four(app, as_user):
    client = as_user("clerk_hubin")
    target = case_of(app, HUBIN)
    for query in (target["id_number"], target["id_number"][-4:], target["id_number"].lower()):
        page = client.get("/cases", query_string={"q": query}).get_data(as_text=True)
        table = page[page.index("<table"):]
        assert f'/cases/{target["id"]}"' in table, query
        assert target["id_number"] not in table and target["id_number"][:6] + "********" in table
    db = db_of(app)
    details = [r["detail"] for r in db["audit"].rows_where("action = 'case.list'")]
    db.close()
    assert not any(target["id_number"] in d for d in details)  # the audit keeps the query masked
    body = client.get("/api/v1/cases", query_string={"q": target["id_number"][-4:]}).get_json()
    assert target["id"] in [item["id"] for item in body["items"]]
    # another county's person is not found by number either
    other = case_of(app, LINGBAO)
    page = client.get("/cases", query_string={"q": other["id_number"]}).get_data(as_text=True)
    assert f'/cases/{other["id"]}"' not in page


def test_audit_page_in_chinese_with_filters_and_pages(app, as_user):
    client = as_user("clerk_hubin")
    target = case_of(app, HUBIN)
    for _ in range(3):
        client.get(f"/cases/{target['id']}")
    client.post("/logout", data={"csrf_token": token(client, "/cases")})
    admin = as_user("admin")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "<th>详情</th>" in page and "登录" in page and ">login.ok<" not in page
    page = admin.get("/admin/audit", query_string={"user": "clerk_hubin", "case": target["id"],
                                                   "action": "case.read"}).get_data(as_text=True)
    assert "共 3 条" in page and page.count("<td>查看案件</td>") == 3
    from benefits.web.present import beijing
    today = beijing(store.now())[:10]
    assert "共 0 条" in admin.get("/admin/audit", query_string={"to": "2012-01-01"}).get_data(as_text=True)
    assert "共 3 条" in admin.get("/admin/audit", query_string={
        "action": "case.read", "from": today, "to": today, "user": "clerk_hubin"}).get_data(as_text=True)
    db = db_of(app)
    for _ in range(60):
        store.audit(db, None, "login.fail", detail="filler")
    total = db["audit"].count
    db.close()
    pages = (total + 49) // 50
    assert pages > 1 and f"1 / {pages}" in admin.get("/admin/audit").get_data(as_text=True)
    last = admin.get("/admin/audit", query_string={"page": pages}).get_data(as_text=True)
    assert f"{pages} / {pages}" in last and "下一页" not in last
    assert admin.get("/admin/audit", query_string={"case": "99999999999999999999", "from": "x",
                                                   "page": "-5", "action": "<b>"}).status_code == 200


def test_reasons_read_in_the_clerks_words(as_user):
    """Coded values appear by their labels (单侧, 本科), never as one、both;
    English mode words conditions in English with money formatted."""
    client = as_user("clerk_hubin")
    data = {**RECORD_FORM, "prosthesis.lower_limb_loss": "one", "education.admission.level": "bachelor"}
    page = post_intake(client, data).get_data(as_text=True)
    assert "下肢缺肢 ∈ 单侧、双侧" in page and "（申请人：单侧）" in page
    assert "考取学校层次" in page and "本科" in page
    for raw in ("one、both", "secondary、college", "∈ one", "：one）", "：bachelor）"):
        assert raw not in page, raw
    client.get("/lang/en")
    page = post_intake(client, data).get_data(as_text=True)
    assert "Lower limb loss ∈ one leg, both legs" in page and "(applicant: one leg)" in page
    assert "yuan" in page and "（申请人" not in page


def test_the_page_shows_upon_inclusion_and_not_yet_in_force(as_user):
    """二（一）: the top-up of an adult 一级 person supported by her parents is
    due once she is included in 低保 (依纳入低保); before 2012-11-01 63号 does
    not apply at all."""
    client = as_user("clerk_hubin")
    form = {**RECORD_FORM, "certificate.number": "11010519491231002X41", "certificate.grade": "1",
            "status.dibao": "no", "status.supported_by": "parents", "household.monthly_income": "5000"}
    page = post_intake(client, form).get_data(as_text=True)
    assert '<span class="badge upon">依纳入低保</span>' in page
    early = post_intake(client, {**form, "evaluation_date": "2012-10-31"}).get_data(as_text=True)
    assert "63号尚未施行" in early


def test_case_search_by_the_masked_number_as_displayed(app, as_user):
    """Issue 20 item 5: the number copied from a list (411202********0305)
    finds the case by place code and last four, in the clerk's county only."""
    from benefits.engine import mask_id
    client = as_user("clerk_hubin")
    target = case_of(app, HUBIN)
    shown = mask_id(target["id_number"])
    for query in (shown, shown.lower(), shown.replace("*", "＊")):
        page = client.get("/cases", query_string={"q": query}).get_data(as_text=True)
        assert f'/cases/{target["id"]}"' in page[page.index("<table"):], query
    body = client.get("/api/v1/cases", query_string={"q": shown}).get_json()
    assert target["id"] in [item["id"] for item in body["items"]]
    wrong_tail = shown[:-4] + ("0000" if shown[-4:] != "0000" else "0001")
    assert f'/cases/{target["id"]}"' not in client.get("/cases", query_string={"q": wrong_tail}).get_data(as_text=True)
    other = case_of(app, LINGBAO)
    page = client.get("/cases", query_string={"q": mask_id(other["id_number"])}).get_data(as_text=True)
    assert f'/cases/{other["id"]}"' not in page
