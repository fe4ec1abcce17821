"""Issue 20's clerk page in Chromium with its two realistic cases: a
51-year-old disabled woman in a 低保 household and an 88-year-old
non-disabled veteran. The form starts from nothing ticked with the gate
questions first (item 1); 符合 with amounts lead, 不符合 folds to one row per
document (item 2); the 审批表 of each prints on one A4 page (item 3); the
masked number as the list shows it finds the case (item 5)."""
from __future__ import annotations

from playwright.sync_api import expect

from test_web_e2e import live_url, log_in, page, pdf_pages, shot  # noqa: F401  (fixtures)

WOMAN = {"id_number": "411202197401010326", "name": "张秀兰", "hukou_county": "411202", "residence": "urban",
         "certificate": {"number": "41120219740101032642", "category": 4, "grade": 2},
         "household": {"members": [{"relation": "spouse", "age": 53, "disabled": False, "monthly_income": 200}],
                       "monthly_income": 200, "assets_within_limit": True},
         "status": {"dibao": True}, "evaluation_date": "2025-06-01"}
VETERAN = {"id_number": "411202193701010311", "name": "李老兵", "holds_certificate": False,
           "hukou_county": "411202", "residence": "rural",
           "military": {"youfu_category": "demobilised_veteran"}, "evaluation_date": "2025-06-01"}


def _save(page, live_url, record) -> int:
    token = page.request.get(live_url + "/api/v1/csrf").json()["csrf_token"]
    response = page.request.post(live_url + "/api/v1/cases", data=record, headers={"X-CSRFToken": token})
    assert response.status == 201, response.text()
    return response.json()["id"]


def test_the_form_starts_from_nothing_ticked_and_asks_the_gates_first(live_url, page):  # noqa: F811
    log_in(page, live_url, "clerk_hubin")
    page.goto(live_url + "/intake")
    expect(page.locator("input[name=service]:checked")).to_have_count(0)
    expect(page.locator("#f-holds_certificate")).to_be_visible()
    expect(page.locator("#f-gate-military")).to_be_visible()
    expect(page.locator("#f-military-youfu_category")).to_be_hidden()
    page.fill("#f-name", "张秀兰")
    page.fill("#f-id_number", WOMAN["id_number"])
    page.select_option("#f-hukou_county", "411202")
    page.fill("#f-evaluation_date", "2025-06-01")
    page.click("button[value=evaluate]")
    asks = page.locator("#questions li")
    expect(asks.first).to_contain_text("是否持《残疾人证》")
    expect(asks.nth(1)).to_contain_text("是否退役士兵")
    expect(asks.nth(1)).to_contain_text("答“是”再问")
    # one 否 to the military gate settles the military lines at once
    undetermined = page.locator("details.benefit.undetermined").count()
    page.select_option("#f-gate-military", "no")
    page.click("button[value=evaluate]")
    expect(page.locator("#questions li", has_text="是否退役士兵")).to_have_count(0)
    assert page.locator("details.benefit.undetermined").count() <= undetermined - 7
    shot(page, "issue20-gates", full_page=True)


def test_eligible_with_amounts_lead_and_ineligible_folds_per_document(live_url, page):  # noqa: F811
    log_in(page, live_url, "clerk_hubin")
    case_id = _save(page, live_url, VETERAN)
    page.goto(f"{live_url}/cases/{case_id}")
    groups = page.locator("section.status-group").evaluate_all("gs => gs.map(g => g.id)")
    assert groups[0] == "status-eligible" and groups[-1] == "status-ineligible", groups
    first = page.locator("#status-eligible details.benefit").first
    expect(first.locator(".summary-amount")).to_be_visible()
    folded = page.locator("#status-ineligible details.document-folded")
    expect(folded).to_have_count(2)
    expect(folded.first.locator("> summary")).to_contain_text("63号：持有《残疾人证》：否")
    expect(folded.first.locator("details.benefit").first).to_be_hidden()       # collapsed
    folded.first.locator("> summary").click()
    expect(folded.first.locator("details.benefit").first).to_be_visible()
    pending = page.locator("#status-undetermined details.benefit").first
    expect(pending.locator(".summary-missing")).to_contain_text("需补充")
    shot(page, "issue20-veteran", full_page=True)


def test_both_realistic_notices_print_on_one_a4_page(live_url, page):  # noqa: F811
    log_in(page, live_url, "clerk_hubin")
    for record in (WOMAN, VETERAN):
        case_id = _save(page, live_url, record)
        page.goto(f"{live_url}/cases/{case_id}/notice")
        expect(page.locator("table.signatures")).to_be_visible()
        page.emulate_media(media="print")
        marks = page.locator("ul.marks li")
        assert marks.count() <= 4, marks.all_inner_texts()      # once per document, not one per assumption
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
        shot(page, f"issue20-notice-{case_id}", full_page=True)
        assert pdf_pages(pdf) == 1, (record["name"], pdf_pages(pdf))
        page.emulate_media(media="screen")


def test_the_masked_number_as_listed_finds_the_case(live_url, page):  # noqa: F811
    log_in(page, live_url, "clerk_hubin")
    case_id = _save(page, live_url, WOMAN)
    page.goto(live_url + "/cases")
    shown = "411202********0326"
    page.fill("input[name=q]", shown)
    page.keyboard.press("Enter")
    expect(page.locator(f"a[href='/cases/{case_id}']").first).to_be_visible()
