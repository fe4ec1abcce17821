"""The county scorecard page (县区目标考核): who may use it, the demo and an
upload, the workbook and template downloads, every bad upload a Chinese
page and never a 500; and the same in a real Chromium."""
from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from benefits.scorecard import load_targets, read_indicators
from benefits.scorecard.indicators import MAX_BYTES

from test_web_e2e import live_url, page, shot  # noqa: F401  (fixtures)
from web_helpers import assert_private, browser_login, login, token

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "scorecard-demo.csv"
TEMPLATE = ROOT / "fixtures" / "scorecard-template.xlsx"


def post(client, **data):
    data.setdefault("as_of", "2015-12-31")
    return client.post("/scorecard", data={"csrf_token": token(client, "/scorecard"), **data},
                       content_type="multipart/form-data")


def upload(client, content: bytes, name="指标.csv", **data):
    return post(client, indicators=(io.BytesIO(content), name), upload="1", **data)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_only_policy_and_admin_may_use_the_scorecard(app):
    for user, code in (("policy", 200), ("admin", 200), ("finance", 403), ("clerk_hubin", 403)):
        client = app.test_client()
        login(client, user)
        assert client.get("/scorecard").status_code == code, user
        assert client.get("/scorecard/template.xlsx").status_code == code, user
        assert ("县区目标考核" in text(client.get("/rules"))) == (code == 200), user


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/scorecard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_demo_scorecard_shows_marks_and_the_workbook_downloads(as_user, app):
    client = as_user("policy")
    response = post(client, demo="1")
    assert response.status_code == 200
    page_text = text(response)
    assert "考核结果 · 评估日 2015-12-31" in page_text
    row = re.search(r"每千名老年人拥有养老床位数不低于30张.*?</tr>", page_text, re.S).group(0)
    assert re.findall(r'class="mark (\w+)"', row) == ["met", "met", "not_met", "met", "unknown", "met", "none"]
    assert "1200 ÷ 49000 × 1000 = 24.48…张" in page_text
    assert "（全市考核）本县：否" in page_text        # 渑池县's own answer to a city target
    assert "⚠" in page_text and "老年人权益保障法" in page_text
    link = re.search(r'href="(/scorecard/[\w-]+\.xlsx)" id="workbook-link"', page_text).group(1)
    download = client.get(link)
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.data))
    assert book.sheetnames == ["总览", "明细", "县区汇总", "目标与原文", "指标"]
    assert client.get("/scorecard/template.xlsx").status_code == 200
    assert assert_private(Path(app.config["DATABASE"]).parent / "scorecards") == 2   # workbook and template
    # the link is the policy user's own: another user cannot fetch it
    client.post("/logout", data={"csrf_token": token(client, "/scorecard")})
    login(client, "admin")
    assert client.get(link).status_code == 404




def test_an_uploaded_file_before_the_deadline_is_not_due(as_user):
    client = as_user("policy")
    response = upload(client, DEMO.read_bytes(), as_of="2014-09-29")
    assert response.status_code == 200
    assert "未到期（当前未达标）" in text(response)
    read = read_indicators(DEMO, load_targets())
    assert read.filled > 0


BAD_UPLOADS = [
    ("指标代码,411221 渑池县\nelderly_care_beds,abc\n".encode(), "x.csv", "第2行（养老床位数）渑池县：“abc”不是数字"),
    ("指标代码,411221 渑池县\nelderly_care_beds,-1\n".encode(), "x.csv", "是负数"),
    ("指标代码,411299 某县\n".encode(), "x.csv", "县区代码 411299 不是三门峡市的县（市、区）"),
    ("指标代码,411202\nadministrative_villages,10\nvillages_home_care,11\n".encode(), "x.csv", "比例超过100%"),
    (b"PK\x03\x04 not a workbook", "x.xlsx", "无法打开XLSX文件"),
    (b"a,b", "x.pdf", "指标文件应为 .csv 或 .xlsx"),
    (b"", "x.csv", "指标文件是空的"),
]


def test_a_bad_upload_is_a_chinese_error_page(as_user):
    client = as_user("policy")
    for content, name, message in BAD_UPLOADS:
        response = upload(client, content, name)
        assert response.status_code == 400, message
        assert message in text(response) and "无法考核" in text(response)


def test_no_file_bad_dates_a_huge_upload_or_no_csrf_token_are_refused_in_chinese(as_user):
    client = as_user("policy")
    assert "请选择指标文件" in text(post(client, upload="1"))
    assert "评估日应为日期" in text(post(client, demo="1", as_of="2015-02-30"))
    assert "评估日应在 2012-11-13 至 2030-12-31 之间" in text(post(client, demo="1", as_of="1999-01-01"))
    response = upload(client, b"x" * (MAX_BYTES + 100 * 1024))
    assert response.status_code == 413
    assert "指标文件不能超过 2 MB" in text(response)
    response = client.post("/scorecard", data={"demo": "1", "as_of": "2015-12-31"})
    assert response.status_code == 400 and "安全令牌" in text(response)


def test_template_download_is_generated_from_the_rules_and_hostile_tokens_are_404(as_user):
    client = as_user("policy")
    response = client.get("/scorecard/template.xlsx")
    assert response.status_code == 200
    fresh = load_workbook(io.BytesIO(response.data))["指标"]
    assert list(fresh.values) == list(load_workbook(TEMPLATE)["指标"].values)
    for path in ["/scorecard/x.xlsx", "/scorecard/" + "a" * 3000 + ".xlsx", "/scorecard/%0A.xlsx",
                 "/scorecard/..%2F..%2Fsecret_key.xlsx", "/scorecard/" + "A" * 32 + ".xlsx"]:
        assert client.get(path).status_code == 404, path


def test_the_scorecard_in_a_real_browser(live_url, page, tmp_path):  # noqa: F811
    browser_login(page, live_url, "policy")
    page.click("text=县区目标考核")
    expect(page.locator("h1")).to_contain_text("县区目标考核")
    expect(page.locator("#as_of")).to_have_value("2015-12-31")

    # a bad file first: the Chinese error, and no table
    bad = tmp_path / "坏.csv"
    bad.write_bytes("指标代码,411221 渑池县\nelderly_care_beds,很多\n".encode())
    page.set_input_files("#indicators", str(bad))
    page.click("button[name=upload]")
    expect(page.locator("#problems")).to_contain_text("“很多”不是数字")
    expect(page.locator("#scorecard")).to_have_count(0)

    # the demo: marks in the table, then the workbook and the template download
    page.fill("#as_of", "2015-12-31")
    page.click("#use-demo")
    beds = page.locator("#scorecard tr", has_text="每千名老年人拥有养老床位数不低于30张")
    expect(beds.locator("td.mark")).to_have_text(["达标", "达标", "未达标", "达标", "未知", "达标", "—"])
    shot(page, "scorecard", full_page=True)
    with page.expect_download() as info:
        page.click("#workbook-link")
    saved = tmp_path / "考核.xlsx"
    info.value.save_as(saved)
    assert load_workbook(saved)["总览"]["A2"].value == "条款"
    with page.expect_download() as info:
        page.click("#template-link")
    saved = tmp_path / "模板.xlsx"
    info.value.save_as(saved)
    assert "指标" in load_workbook(saved).sheetnames

    # before the deadline of 第9条 (2014-10-01): not due, with today's finding
    page.fill("#as_of", "2014-09-29")
    page.click("#use-demo")
    martyrs = page.locator("#scorecard tr", has_text="零散烈士纪念设施")
    expect(martyrs.locator("td.mark").nth(3)).to_have_text("未到期（当前未达标）")


def test_broken_target_rules_are_a_chinese_503_not_a_500(app, tmp_path):
    rules = tmp_path / "rules"
    (rules / "targets").mkdir(parents=True)
    (rules / "targets" / "t.yaml").write_text("targets: [{id: x}]")
    app.config["RULES_DIR"] = str(rules)         # read per request: the engine was built at start
    client = app.test_client()
    login(client, "policy")
    response = client.get("/scorecard")
    assert response.status_code == 503 and "县区目标规则文件（rules/targets/）有误" in text(response)
