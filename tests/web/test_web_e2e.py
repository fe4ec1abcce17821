"""End to end in a real headless Chromium (Debian's chromium, driven by
Playwright): log in, fill the intake form, see the determination, save, find
the case in the list, open the printable notice; as finance, estimate a
caseload and download its workbook. No browser = failure."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect, sync_playwright

from benefits.web import create_app

from web_helpers import PASSWORD, served

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_url(seeded_db, tmp_path):
    """The app on a free localhost port, served from a background thread."""
    path = tmp_path / "benefits.sqlite"
    shutil.copy(seeded_db, path)
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "e2e-secret"})
    with served(app) as url:
        yield url


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():  # never a skip: CI must have the browser
        pytest.fail(f"{CHROMIUM} is missing: make test installs it (scripts/system-packages.sh)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def shot(page, name, full_page=False):
    """Screenshots go to $WEB_SCREENSHOTS when set (for looking at the pages)."""
    folder = os.environ.get("WEB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def test_clerk_intake_to_printed_notice(live_url, page):
    page.goto(live_url + "/")
    page.fill("#username", "clerk_hubin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("案件")

    page.click("text=受理评估")
    tick_all(page)
    page.fill("#f-name", "周测试")
    # wrong check character: the MOD 11-2 script says so while typing
    page.fill("#f-id_number", "110105194912310021")
    expect(page.locator('.error.live[data-for="f-id_number"]')).to_contain_text("校验位错误：应为X")
    page.fill("#f-id_number", "11010519491231002x")
    expect(page.locator('.error.live[data-for="f-id_number"]')).to_have_text("")
    page.fill("#f-certificate-number", "11010519491231002X42")
    # category and grade are filled in from the certificate number
    expect(page.locator("#f-certificate-category")).to_have_value("4")
    expect(page.locator("#f-certificate-grade")).to_have_value("2")
    page.select_option("#f-hukou_county", "411202")
    page.select_option("#f-residence", "urban")
    page.select_option("#f-household-members", "no")
    page.fill("#f-household-monthly_income", "100")
    page.select_option("#f-household-assets_within_limit", "yes")
    page.select_option("#f-status-dibao", "yes")
    shot(page, "intake-form")

    page.click("button[value=evaluate]")
    result = page.locator("#determination")
    expect(result).to_be_visible()
    expect(result.locator(".applicant-name")).to_have_text("周测试")
    expect(result.locator("details.benefit.eligible").first).to_be_visible()
    expect(result.locator(".badge.warn").first).to_be_visible()   # assumption / unverified marks
    # an undetermined benefit names its missing fact (in its one-line summary) and links to the form field
    link = result.locator(".summary-missing a").first
    expect(link).to_be_visible()
    target = link.get_attribute("href")
    assert target.startswith("#f-") and page.locator(target).count() == 1
    shot(page, "intake-determination")

    page.click("button[value=save]")
    expect(page.locator("h1 .case-name")).to_have_text("周测试")
    case_url = page.url
    shot(page, "case-detail")

    page.click("nav >> text=案件")
    page.fill("input[name=q]", "周测")
    page.click("form.search button")
    row = page.locator("table.list tbody tr", has_text="周测试")
    expect(row).to_have_count(1)
    expect(row.locator("code")).to_have_text("110105********002X")   # masked in the list
    row.locator("a").click()
    assert page.url == case_url

    page.click("text=打印审批表")
    expect(page.locator("h1")).to_have_text("三门峡市残疾人救助保障审批表")
    expect(page.locator("table.benefits tbody tr").first).to_contain_text("元")
    expect(page.locator("table.signatures")).to_contain_text("盖章")
    expect(page.locator(".applicant-name")).to_have_text("周测试")
    shot(page, "notice")
    page.emulate_media(media="print")
    expect(page.locator(".toolbar")).to_be_hidden()


def test_english_switch(live_url, page):
    page.goto(live_url + "/login")
    page.click("text=English")
    expect(page.locator("h1")).to_have_text("Log in")
    page.fill("#username", "policy")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Intake")
    expect(page.locator("#services legend")).to_have_text("Services applied for")
    expect(page.locator("#s-identity legend")).to_have_text("Documents")


SAMPLE_CSV = Path(__file__).resolve().parents[2] / "fixtures" / "caseload-sample.csv"


def test_finance_estimate_progress_result_and_workbook(live_url, page, tmp_path):
    page.goto(live_url + "/")
    page.fill("#username", "finance")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=资金测算")
    expect(page.locator("h1")).to_have_text("资金测算")

    page.set_input_files("#caseload", str(SAMPLE_CSV))
    page.select_option("#year", "2013")
    page.click("button[type=submit].primary")
    # the job page first shows the progress bar (the job runs in the background) ...
    expect(page.locator("#job-bar")).to_be_visible()
    expect(page.locator("#job-status")).to_have_text(re.compile("排队中|测算中"))
    shot(page, "finance-progress")
    # ... and finance.js reloads it into the result when the job is done
    result = page.locator("#result")
    expect(result).to_be_visible(timeout=180_000)
    expect(page.locator("#job-status")).to_have_text("已完成")
    expect(page.locator("#totals tr.total th")).to_have_text("合计")
    expect(page.locator("#count-total")).to_have_text("2000")
    expect(page.locator("#count-rejected")).to_have_text("6")
    # issue 20 item 6: the totals and the payers lead; each table behind is collapsed
    expect(page.locator("#by-payer tr.total")).to_be_visible()
    for table in ("#by-benefit", "#by-county", "#rejects"):
        expect(page.locator(table)).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollHeight") < 1600
    shot(page, "finance-result-lead", full_page=True)
    for summary in page.locator("details.card > summary").all():
        summary.click()
    expect(page.locator("#by-benefit .badge.warn").first).to_contain_text("⚠")
    # 按项目 as the workbook: money lines and their 合计, then the lines counted in persons only
    rows = page.locator("#by-benefit tbody tr")
    classes = [rows.nth(i).get_attribute("class") or "" for i in range(rows.count())]
    assert classes.index("total") < classes.index("section")
    expect(page.locator("#rejects tbody tr")).to_have_count(6)
    assert page.evaluate("document.querySelector('img.chart').naturalWidth") > 0
    shot(page, "finance-result", full_page=True)

    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    book = load_workbook(saved)
    assert "按出资方" in book.sheetnames

    page.click("text=English")
    expect(page.locator("h1")).to_contain_text("Relief cost estimate 2013")
    expect(page.locator("#totals tr.total th")).to_have_text("Total")


def tick_all(page):
    """Tick every service: the form starts from none (issue 20 item 1)."""
    for box in page.locator("input[name=service]").all():
        box.check()


def log_in(page, live_url, username):
    page.goto(live_url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_questions_to_ask_next_lead_the_determination(live_url, page):
    log_in(page, live_url, "clerk_hubin")
    page.goto(live_url + "/intake")
    tick_all(page)
    page.fill("#f-name", "问题测试")
    page.fill("#f-id_number", "11010519491231002X")
    page.fill("#f-certificate-number", "11010519491231002X42")
    page.select_option("#f-certificate-category", "4")
    page.select_option("#f-certificate-grade", "2")
    page.select_option("#f-hukou_county", "411202")
    page.click("button[value=evaluate]")
    asks = page.locator("#questions li")
    expect(asks.first).to_be_visible()
    # the list comes before the lines, each question once, most decisive first
    assert page.evaluate("document.querySelector('#questions').compareDocumentPosition("
                         "document.querySelector('details.benefit')) & Node.DOCUMENT_POSITION_FOLLOWING")
    labels = asks.locator("a").all_inner_texts()
    assert len(labels) == len(set(labels)) > 1
    counts = [int(re.search(r"可确定 (\d+) 项", text).group(1)) for text in asks.all_inner_texts()]
    # the gate questions first (one 否 settles a group); the rest by how likely an
    # answer changes a payable line (ranked and tested in tests/test_questions_rank.py)
    assert "gate" in (asks.first.get_attribute("class") or "") and counts[0] == max(counts) > 1
    undetermined = page.locator("details.benefit.undetermined").count()
    assert counts[0] <= undetermined
    # each question links to its input, which exists
    for href in asks.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(href).count() == 1, href
    # money lines before in-kind ones within each status
    for status in ("eligible", "undetermined", "ineligible"):
        kinds = page.locator(f"details.benefit.{status}").evaluate_all("ds => ds.map(d => d.dataset.kind)")
        in_kind = [k in ("in_kind", "days_off") for k in kinds]
        assert in_kind == sorted(in_kind), (status, kinds)


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_notice_prints_on_one_a4_page(live_url, page, seeded_db):
    """The 审批表 of the case with the most lines, printed by Chromium."""
    import json
    import sqlite3
    conn = sqlite3.connect(seeded_db)
    rows = conn.execute("SELECT c.id, d.result_json FROM cases c JOIN determinations d ON d.case_id = c.id "
                        "WHERE c.county = '411202'").fetchall()
    conn.close()
    def weight(row):
        result = json.loads(row[1])
        return sum(len(b["reasons"]) + len(b.get("missing_facts") or []) + len(b["assumptions"]) for b in result["benefits"])
    case_id = max(rows, key=weight)[0]
    log_in(page, live_url, "clerk_hubin")
    page.goto(f"{live_url}/cases/{case_id}/notice")
    expect(page.locator("table.signatures")).to_be_visible()
    page.emulate_media(media="print")
    running = page.locator(".running")
    expect(running).to_be_visible()
    expect(running).to_contain_text(f"案件 #{case_id}")
    expect(running).to_contain_text("********")
    if page.locator("ul.refused li").count():
        expect(page.locator("ul.refused li").first).to_contain_text("项不符合")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf_pages(pdf) == 1, pdf_pages(pdf)
    # the count is real: a longer sheet takes more pages
    page.evaluate("for (let i = 0; i < 40; i++) document.querySelector('ul.open, ol.footnotes, table.benefits')"
                  ".insertAdjacentHTML('afterend', '<p>填充行 ' + i + '</p>')")
    assert pdf_pages(page.pdf(format="A4", prefer_css_page_size=True)) > 1
