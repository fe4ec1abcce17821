"""The intake form asks only what the ticked services need (services and
needs derived from the rulebook, benefits/engine/needs.py)."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from benefits.web import form as intake_form
from test_web_cases import RECORD_FORM, post_intake
from web_helpers import token

_VOID = {"input", "br", "meta", "link", "img", "hr", "col", "area", "base", "source", "wbr"}


class _Visibility(HTMLParser):
    """Each element id → whether it shows (neither it nor an ancestor ``hidden``),
    and each input's value (checkboxes: checked)."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.visible: dict[str, bool] = {}
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden = "hidden" in attrs or any(h for _, h in self.stack)
        if "id" in attrs:
            self.visible[attrs["id"]] = not hidden
        name = attrs.get("name")
        if tag == "input" and name:
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.values.setdefault(name, []).append(attrs.get("value"))
            elif attrs.get("type") != "hidden":
                self.values[name] = attrs.get("value", "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value", "")
        if tag not in _VOID:
            self.stack.append((tag, "hidden" in attrs))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def parse(html: str) -> _Visibility:
    parser = _Visibility()
    parser.feed(html)
    return parser


def shows(page: _Visibility, element_id: str) -> bool:
    assert element_id in page.visible, f"no element #{element_id}"
    return page.visible[element_id]


@pytest.fixture
def clerk(as_user):
    return as_user("clerk_hubin")


ALL = sorted(["63-2", "63-3", "63-4", "63-5", "63-6", "63-7",
              "81-1", "81-2", "81-3", "81-8", "81-9", "81-10", "81-11", "81-13", "81-15"])


def test_a_new_applicant_starts_with_nothing_ticked_and_the_gate_questions_shown(clerk):
    """Issue 20 item 1: the form starts from what the clerk ticks, not every
    service; the gate questions (残疾人证, 军人) show whatever is ticked."""
    page = parse(clerk.get("/intake").get_data(as_text=True))
    assert page.values.get("service") is None
    for name in ("name", "id_number", "hukou_county", "evaluation_date", "holds_certificate", "gate.military"):
        assert shows(page, intake_form.field_id(name)), name
    for name in ("certificate.number", "status.dibao", "education.admission.level", "military.youfu_category",
                 "prosthesis.lower_limb_loss"):
        assert not shows(page, intake_form.field_id(name)), name
    everything = parse(clerk.get("/intake?" + "&".join(f"service={k}" for k in ALL)).get_data(as_text=True))
    for name in intake_form.FIELDS:
        assert shows(everything, intake_form.field_id(name)), name


def test_a_saved_case_starts_from_the_services_its_record_shows(app, clerk):
    saved = post_intake(clerk, {**RECORD_FORM, "education.admission.level": "college"}, action="save")
    assert saved.status_code == 302, saved.get_data(as_text=True)[-2000:]
    case_id = int(saved.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page = parse(clerk.get(f"/intake/case/{case_id}").get_data(as_text=True))
    ticked = set(page.values["service"])
    assert "63-4" in ticked                      # it answers 教育
    assert "63-6" not in ticked                  # nothing about 无障碍改造
    assert not shows(page, "f-renovation-requested") and shows(page, "f-education-admission-level")


def test_education_only_shows_identity_and_education_not_prosthesis_or_renovation(clerk):
    page = parse(clerk.get("/intake?service=63-4").get_data(as_text=True))
    assert page.values["service"] == ["63-4"]
    for key in ("identity", "hukou", "income", "education"):
        assert shows(page, f"s-{key}"), key
    for key in ("prosthesis", "renovation", "hardship", "household"):
        assert not shows(page, f"s-{key}"), key
    # within a shown section only the inputs the service needs
    assert shows(page, "f-status-low_income") and not shows(page, "f-status-employed")
    assert shows(page, "f-hukou_county")   # the case is filed under it
    assert shows(page, "f-education-admission-level") and shows(page, "f-id_number")


def test_values_typed_survive_a_change_of_ticks_without_javascript(clerk):
    typed = {**RECORD_FORM, "prosthesis.lower_limb_loss": "one", "education.admission.level": "college",
             "household.members.0.age": "70"}
    response = post_intake(clerk, {**typed, "services_asked": "1", "service": ["63-4"]}, action="services")
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert not shows(page, "s-prosthesis") and shows(page, "s-education")
    for name, value in typed.items():   # hidden inputs still hold what was typed
        assert page.values[name] == value, name
    # ticking 三 again shows the prosthesis input with its value
    response = post_intake(clerk, {**typed, "services_asked": "1", "service": ["63-3", "63-4"]}, action="services")
    page = parse(response.get_data(as_text=True))
    assert shows(page, "f-prosthesis-lower_limb_loss") and page.values["prosthesis.lower_limb_loss"] == "one"


def test_lines_of_services_not_asked_are_undetermined_not_ineligible(clerk):
    response = post_intake(clerk, {**RECORD_FORM, "services_asked": "1", "service": ["63-4"]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "评估仍按全部规则进行" in html
    # the prosthesis lines: facts never asked → 待定, and the missing fact points at the service ticks
    assert 'id="b-prosthesis_subsidy"' in html
    line = html.split('id="b-prosthesis_subsidy"')[1].split("</details>")[0]
    assert "待定" in line and "不符合" not in line
    assert 'href="#services"' in line


def test_hidden_values_are_still_evaluated_and_saved(app, clerk):
    data = {**RECORD_FORM, "prosthesis.lower_limb_loss": "one", "prosthesis.requested_type": "calf",
            "services_asked": "1", "service": ["63-4"]}
    response = post_intake(clerk, data, action="save")
    assert response.status_code == 302
    page = parse(clerk.get(response.headers["Location"]).get_data(as_text=True))
    assert shows(page, "b-prosthesis_subsidy")
    html = clerk.get(response.headers["Location"]).get_data(as_text=True)
    line = html.split('id="b-prosthesis_subsidy"')[1].split("</details>")[0]
    assert "符合" in line and "待定" not in line


def test_no_tick_asks_only_what_every_evaluation_needs(clerk):
    page = parse(post_intake(clerk, {"services_asked": "1"}, action="services").get_data(as_text=True))
    assert "service" not in page.values
    assert shows(page, "f-name") and shows(page, "f-id_number") and shows(page, "f-evaluation_date")
    assert shows(page, "f-hukou_county")
    assert not shows(page, "s-education") and not shows(page, "f-certificate-number")


BAD_QUERIES = ["service=nonesuch", "service=63-4&service=%3Cscript%3E", "service=" + "x" * 5000,
               "&".join(["service=63-9"] * 3000), "service=%00"]
FINE_QUERIES = ["service=63-4&service=63-4", "service="]


def test_unknown_services_are_ignored_with_a_chinese_notice(clerk):
    for query in BAD_QUERIES + FINE_QUERIES:   # one log-in: argon2 is slow
        response = clerk.get("/intake?" + query)
        assert response.status_code == 200, query
        picker = response.get_data(as_text=True).split('id="services"')[1].split("</fieldset>")[0]
        assert "<script>" not in picker
        assert ("勾选的服务过多" in picker) == (len(query) > 10000), query
        assert ("没有这项服务，已忽略" in picker) == (query in BAD_QUERIES), query
        assert "x" * 21 not in picker   # a long name is cut


def test_unknown_ticks_in_a_post_never_break_the_evaluation(clerk):
    data = {**RECORD_FORM, "services_asked": "1", "service": ["63-4", "nonesuch"] + ["z"] * 500}
    response = post_intake(clerk, data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "没有这项服务，已忽略" in html and 'id="determination"' in html


def test_csrf_still_guards_the_service_update(clerk):
    token(clerk)
    response = clerk.post("/intake", data={**RECORD_FORM, "services_asked": "1", "service": "63-4",
                                           "action": "services"})
    assert response.status_code == 400


def test_field_needs_follow_the_rulebook():
    from benefits.engine import ALWAYS, load_rulebook, service_paths
    needs = intake_form.field_needs(service_paths(load_rulebook()), ALWAYS)
    assert needs["name"] is None and needs["hukou_county"] is None
    assert needs["education.admission.level"] == {"63-4"}
    assert needs["prosthesis.requested_type"] == {"63-3"}
    # 五（二）'s companion rule reads 双侧缺肢: 福利 needs that one prosthesis input too
    assert needs["prosthesis.lower_limb_loss"] == {"63-3", "63-5"}
    # 81号 第2条's 临时救助 reads a temporary economic difficulty as 七（五） does
    assert needs["hardship_events"] == {"63-7", "81-2"}
    sections = intake_form.section_needs(needs)
    assert sections["identity"] is None and sections["renovation"] == {"63-6"}
    # 81号 第10条's placement deadline and contract term: asked for the veterans' service only
    for path in ("military.referral_date", "military.placed_date", "military.contract_years"):
        assert needs[path] == {"81-10"}, (path, needs[path])
    assert needs["military.non_military_staff_retiree"] == {"81-11"}
    assert needs["military.injured_veteran"] == {"81-11"}


def test_an_input_with_an_error_shows_whatever_the_ticks(clerk):
    data = {**RECORD_FORM, "household.members": "yes", "household.members.0.relation": "child",
            "household.members.0.age": "abc", "prosthesis.lower_limb_loss": "three",
            "services_asked": "1", "service": ["63-4"]}
    response = post_intake(clerk, data)
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    assert shows(page, "s-household") and shows(page, "f-household-members-0-age")
    assert shows(page, "s-prosthesis") and shows(page, "f-prosthesis-lower_limb_loss")
    assert not shows(page, "s-renovation") and not shows(page, "f-prosthesis-requested_type")


def test_chosen_services_bounds_and_defaults():
    known = ["63-2", "63-4"]
    assert intake_form.chosen_services([], False, known) == (frozenset(), [])
    assert intake_form.chosen_services([], False, known, {"63-4", "gone"}) == ({"63-4"}, [])
    assert intake_form.chosen_services([], True, known) == (frozenset(), [])
    picked, notices = intake_form.chosen_services(["63-4", "", "63-4"] + ["bad\n"] * 100, True, known)
    assert picked == {"63-4"}
    assert notices == ["勾选的服务过多，只读取了前 64 项", "没有这项服务，已忽略：bad\\n"]


def test_a_saved_case_opens_with_the_ticks_of_its_link_and_keeps_hidden_facts(app, clerk):
    from test_web_cases import HUBIN, case_of
    case = case_of(app, HUBIN)
    page = parse(clerk.get(f"/intake/case/{case['id']}?service=63-7").get_data(as_text=True))
    assert page.values["service"] == ["63-7"]
    assert shows(page, "s-hardship") and not shows(page, "s-income")
    assert page.values["name"] == case["name"]
    # the hidden inputs still hold the saved facts, to be saved again unchanged
    hidden_income = [n for n in page.values if n.startswith(("status.", "household.")) and page.values[n]]
    assert hidden_income and not any(shows(page, intake_form.field_id(n)) for n in hidden_income
                                     if n in intake_form.FIELDS)
