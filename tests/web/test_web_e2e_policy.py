"""The policy what-if page end to end in Debian's headless Chromium: log in
as policy, raise the 低保 top-up ratio to 0.25 on a small generated
caseload, run, read the delta table and the floor checks, download the
workbook. No browser = failure, never a skip."""
from __future__ import annotations

import shutil

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from benefits.web import create_app

from test_web_e2e import page, shot  # noqa: F401  (the Chromium fixture)
from web_helpers import browser_login, served

SIZE = 3000


@pytest.fixture
def live_url(seeded_db, tmp_path):
    path = tmp_path / "benefits.sqlite"
    shutil.copy(seeded_db, path)
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "e2e-secret", "POLICY_GENERATED_SIZE": SIZE})
    with served(app) as url:
        yield url


def test_policy_officer_raises_the_topup_and_downloads_the_workbook(live_url, page, tmp_path):  # noqa: F811
    browser_login(page, live_url, "policy")
    page.click("text=政策测算")
    expect(page.locator("h1")).to_contain_text("政策测算")
    row = page.locator("#parameters tr", has=page.locator('input[name="p.dibao_topup_ratio.0"]'))
    expect(row).to_contain_text("0.2")
    expect(row).to_contain_text("已核实")
    page.check("#source-generated")
    page.select_option("#year", "2013")
    page.fill("#since", "2013-01-01")
    # issue 20 item 7: a ratio out of range is refused at its field, in Chinese; 25% is 0.25
    expect(row).to_contain_text("25%")          # the hint beside the ratio
    page.fill('input[name="p.dibao_topup_ratio.0"]', "250")
    page.click("#run")
    error = page.locator('small.error[data-for="p.dibao_topup_ratio.0"]')
    expect(error).to_contain_text("不是有效的比例")
    assert not any(ch.isascii() and ch.isalpha() for ch in error.inner_text())
    page.check("#source-generated")
    page.select_option("#year", "2013")
    page.fill("#since", "2013-01-01")
    page.fill('input[name="p.dibao_topup_ratio.0"]', "25%")
    shot(page, "policy-form", full_page=True)
    page.click("#run")
    expect(page.locator("#lead")).to_be_visible(timeout=120_000)
    expect(page.locator("#job-status")).to_have_text("已完成")
    # issue 20 item 6: the page leads with the totals per year and payer, the
    # counties, gainers/losers and the floors; every table behind is collapsed
    expect(page.locator("#totals tr.payer")).to_have_count(3)
    expect(page.locator("#lead-persons")).to_contain_text("得益")
    expect(page.locator("#lead-counties tr.total")).to_be_visible()
    for table in ("#cost", "#by-benefit", "#by-county", "#distribution"):
        expect(page.locator(table)).to_be_hidden()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2500, height          # issue 20 saw 8,800 pixels of tables
    shot(page, "policy-result-lead", full_page=True)
    for summary in page.locator("details.card > summary").all():
        summary.click()
    expect(page.locator("#cost")).to_be_visible()
    # the delta table: the top-up line costs more after the reform
    topup = page.locator("#by-benefit tr", has_text="低保重度残疾人定额补贴")
    expect(topup.locator("td.up")).to_be_visible()
    expect(page.locator("#cost tr.changed", has_text="低保重度残疾人定额补贴").first).to_be_visible()
    expect(page.locator("#totals tr.total td.up")).to_be_visible()
    expect(page.locator("#floors h2")).to_contain_text("0 项违反或无法核对")
    expect(page.locator("#floors")).to_contain_text("63号 二（一）")
    expect(page.locator("#changed-parameters")).to_contain_text("改革方案改动")
    expect(page.locator("#changed-parameters")).to_contain_text("未核实")
    expect(page.locator("#chart")).to_be_visible()
    shot(page, "policy-result", full_page=True)
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "compare.xlsx"
    download.save_as(saved)
    book = load_workbook(saved, read_only=True)
    assert "法定底线" in book.sheetnames and "项目×县区×出资方" in book.sheetnames
    summary = {r[0]: r[1] for r in book["概要"].iter_rows(min_row=3, values_only=True) if r and r[0]}
    assert summary["差额"] > 0
    # the page's 合计 rows are the workbook's (issue 17's leftover)
    for sheet, table, column in (("项目×县区×出资方", "#cost", 6), ("按县区", "#by-county", 7),
                                 ("按项目", "#by-benefit", 10)):
        total = next(r for r in book[sheet].iter_rows(values_only=True) if r and r[0] == "合计")
        shown = page.locator(f"{table} tr.total td.num").all_inner_texts()
        assert float(shown[-3].replace(",", "")) == pytest.approx(total[column], abs=0.005), sheet
