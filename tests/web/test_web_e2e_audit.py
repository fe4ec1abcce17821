"""The roll audit page end to end in Debian's headless Chromium: a county's
clerk uploads a generated caseload and its roll with planted errors, follows
the job, reads the summary (their county only) and the findings, with masked
ID numbers, and downloads the workbook. No browser = failure, never a skip."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from benefits.engine.identity import mask_id

from test_web_e2e import live_url, page, shot  # noqa: F401  (the server and Chromium fixtures)
from web_helpers import browser_login, generated_audit

AS_OF = "2013-07-01"
LINGBAO = "411282"


@pytest.fixture
def generated(tmp_path):
    return generated_audit(tmp_path, 400, 7, roll_name="名册.xlsx", as_of=AS_OF)


def test_a_clerk_audits_the_county_roll_and_sees_masked_findings(live_url, page, generated):  # noqa: F811
    caseload, roll, planted, counties = generated
    assert {counties[p["id_number"]] for p in planted} > {LINGBAO}, "plant errors in and out of the county"
    browser_login(page, live_url, "clerk_lingbao")
    page.click("text=名册核对")
    expect(page.locator("h1")).to_contain_text("名册核对")
    expect(page.locator("#county")).to_have_text("灵宝市")
    page.set_input_files("#caseload", str(caseload))
    page.set_input_files("#roll", str(roll))
    page.fill("#as_of", AS_OF)
    page.fill("#months", "6")
    shot(page, "audit-form", full_page=True)
    page.click("#run")
    expect(page.locator("#summary")).to_be_visible(timeout=120_000)
    expect(page.locator("#job-status")).to_have_text("已完成", timeout=120_000)
    summary = page.locator("#summary-table")
    expect(summary).to_contain_text("灵宝市")
    for other in ("湖滨区", "陕州区", "渑池县", "卢氏县", "义马市"):
        expect(summary).not_to_contain_text(other)
    expect(page.locator("#caseload-counts")).to_contain_text("其他县区")
    expect(page.locator("#chart")).to_be_visible()
    # the finding lists are collapsed until opened; IDs masked for the clerk too
    here = [p["kind"] for p in planted if counties[p["id_number"]] == LINGBAO]
    listed = page.locator(f'details[data-kind="{here[0]}"]')
    expect(listed.locator("table")).to_have_count(1)
    expect(listed.locator("table")).to_be_hidden()
    for kind in ("漏保", "错保", "差额", "重复发放"):
        box = page.locator(f'details[data-kind="{kind}"]')
        box.locator("summary").click()
        for p in (p for p in planted if p["kind"] == kind):
            if counties[p["id_number"]] == LINGBAO:
                expect(box.locator("td.id", has_text=mask_id(p["id_number"])).first).to_be_visible()
            else:
                expect(box).not_to_contain_text(mask_id(p["id_number"]))
    text = page.locator("main").inner_text()
    assert not re.search(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])", text), "a whole ID number on the page"
    assert re.search(r"[0-9]{6}\*{8}[0-9]{3}[0-9X]", text)
    expect(page.locator("#recheck h2")).to_contain_text("6 个月")
    shot(page, "audit-result", full_page=True)
    with page.expect_download() as info:
        page.click("#download")
    assert info.value.suggested_filename.endswith(".xlsx")
