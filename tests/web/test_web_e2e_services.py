"""In Chromium: the clerk ticks the services applied for, the form shows and
hides its inputs at once (static/services.js) without losing what was typed,
and the determination comes back with the ticks kept. No browser = failure."""
from __future__ import annotations

from playwright.sync_api import expect

from test_web_e2e import live_url, log_in, page, shot, tick_all  # noqa: F401  (fixtures)


def test_ticking_services_shows_only_their_inputs(live_url, page):  # noqa: F811
    log_in(page, live_url, "clerk_hubin")
    page.goto(live_url + "/intake")
    tick_all(page)

    for key in ("identity", "household", "education", "prosthesis", "renovation", "hardship"):
        expect(page.locator(f"#s-{key}")).to_be_visible()
    expect(page.locator("#services-apply")).to_be_hidden()   # with JavaScript the ticks act at once

    for box in page.locator("input[name=service]:not([value='63-4'])").all():   # only 63号 四 教育
        box.uncheck()
    for key in ("prosthesis", "renovation", "hardship", "household"):
        expect(page.locator(f"#s-{key}")).to_be_hidden()
    for key in ("identity", "hukou", "income", "education"):
        expect(page.locator(f"#s-{key}")).to_be_visible()
    expect(page.locator("#f-status-employed")).to_be_hidden()
    expect(page.locator("#f-status-low_income")).to_be_visible()

    page.fill("#f-name", "吴入学")
    page.fill("#f-id_number", "11010519491231002X")
    page.fill("#f-certificate-number", "11010519491231002X42")
    page.select_option("#f-hukou_county", "411202")
    page.select_option("#f-status-dibao", "yes")
    page.select_option("#f-education-admission-level", "college")
    page.select_option("#f-education-admission-full_time", "yes")
    page.fill("#f-education-admission-date", "2013-08-20")
    page.fill("#f-evaluation_date", "2013-09-01")

    # 三 ticked: the prosthesis inputs appear; typed, then unticked: hidden, value kept
    page.check("input[name=service][value='63-3']")
    expect(page.locator("#s-prosthesis")).to_be_visible()
    page.select_option("#f-prosthesis-lower_limb_loss", "one")
    page.uncheck("input[name=service][value='63-3']")
    expect(page.locator("#s-prosthesis")).to_be_hidden()
    expect(page.locator("#f-prosthesis-lower_limb_loss")).to_have_value("one")
    shot(page, "intake-services")

    page.click("button[value=evaluate]")
    result = page.locator("#determination")
    expect(result).to_be_visible()
    expect(result.locator("#b-tuition_grant .badge.eligible")).to_be_visible()
    expect(result.locator("#b-tuition_grant .money")).to_contain_text("2000 元")
    # the hidden, typed 单侧缺肢 was evaluated: 免费装配 holds; 假肢补贴 still lacks the type asked for
    expect(result.locator("#b-prosthesis_free_fitting .badge.eligible")).to_be_visible()
    expect(result.locator("#b-prosthesis_subsidy .badge.undetermined")).to_be_visible()
    expect(result.locator("#b-prosthesis_subsidy .missing a").first).to_have_attribute("href", "#services")
    # the server kept the ticks and hides what they do not need
    expect(page.locator("input[name=service][value='63-4']")).to_be_checked()
    expect(page.locator("input[name=service][value='63-3']")).not_to_be_checked()
    expect(page.locator("#s-prosthesis")).to_be_hidden()
    expect(page.locator("#f-prosthesis-lower_limb_loss")).to_have_value("one")
    expect(page.locator("#f-name")).to_have_value("吴入学")
