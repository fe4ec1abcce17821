"""The intake form ↔ applicant record mapping."""
from __future__ import annotations

from pathlib import Path

import pytest

from benefits.engine import InvalidApplicant, parse_applicant
from benefits.web import form

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "applicants.jsonl"


def fixture_records():
    lines = FIXTURES.read_text(encoding="utf-8").splitlines()
    lines += FIXTURES.with_name("residents-81.jsonl").read_text(encoding="utf-8").splitlines()   # 81号's facts
    for line in lines:
        try:
            record = parse_applicant(line)
        except InvalidApplicant:
            continue
        yield record.model_dump(mode="json", exclude_none=True)


@pytest.mark.parametrize("record", list(fixture_records()), ids=lambda r: r["name"])
def test_every_fixture_round_trips_through_the_form(record):
    parsed = form.parse_form(form.record_to_form(record))
    assert not parsed.errors
    assert parse_applicant(parsed.record).model_dump(mode="json", exclude_none=True) == record


def test_blank_is_absent_and_no_is_false():
    parsed = form.parse_form({"name": "x", "status.dibao": "", "status.wubao": "no",
                              "renovation.requested": "yes", "household.members": ""})
    assert parsed.record == {"name": "x", "status": {"wubao": False}, "renovation": {"requested": True}}


def test_members_no_means_empty_list_and_rows_are_reindexed():
    assert form.parse_form({"household.members": "no"}).record == {"household": {"members": []}}
    parsed = form.parse_form({"household.members.0.relation": "", "household.members.1.relation": "child",
                              "household.members.1.age": "7"})
    assert parsed.record == {"household": {"members": [{"relation": "child", "age": 7}]}}
    names = form.input_names(2)
    assert form.resolve("household.members.0.age", parsed.aliases, names) == "household.members.1.age"
    assert form.parse_form({"household.members": "yes"}).errors["household.members"]


def test_hardship_events_map_to_their_rows():
    parsed = form.parse_form({"hardship_events.hospitalised.happened": "1",
                              "hardship_events.hospitalised.family_hardship": "yes"})
    assert parsed.record == {"hardship_events": [{"case": "hospitalised", "family_hardship": True}]}
    names = form.input_names(0)
    assert form.resolve("hardship_events.0.date", parsed.aliases, names) == "hardship_events.hospitalised.date"
    assert form.resolve("hardship_events.0", parsed.aliases, names) == "hardship_events.hospitalised.happened"
    assert form.parse_form({"hardship_events": "no"}).record == {"hardship_events": []}


def test_resolve_walks_to_the_nearest_input():
    names = form.input_names(0)
    assert form.resolve("certificate", {}, names) == "certificate.number"
    assert form.resolve("education.admission", {}, names) == "education.admission.level"
    assert form.resolve("(记录)", {}, names) is None


def test_every_missing_fact_field_has_an_input():
    from benefits.engine import default_engine
    engine = default_engine()
    names = form.input_names(0)
    for record in fixture_records():
        for line in engine.evaluate(record)["benefits"]:
            for missing in line.get("missing_facts", []):
                assert form.resolve(missing["field"], {}, names), missing


def test_times_are_shown_in_beijing_time():
    from benefits.web.present import beijing
    assert beijing("2026-11-28T23:59:30+00:00") == "2026-11-29 07:59"
    assert beijing(None) == ""


def test_money_with_thousands_separators_and_not_a_number(as_user):
    from test_web_cases import RECORD_FORM, post_intake
    client = as_user("clerk_hubin")
    page = post_intake(client, {**RECORD_FORM, "household.monthly_income": "1,200"}).get_data(as_text=True)
    assert 'id="determination"' in page
    for bad in ("nan", "inf", "-Infinity"):
        response = post_intake(client, {**RECORD_FORM, "household.monthly_income": bad})
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        # the Chinese message sits at the income field, none above the form
        field = page[page.index('id="f-household-monthly_income"'):]
        assert "应为数字" in field[:600], bad
        assert "Input should" not in page and "finite" not in page


def test_category_and_grade_are_read_from_the_certificate_number(as_user):
    from test_web_cases import RECORD_FORM, post_intake
    client = as_user("clerk_hubin")
    data = {**RECORD_FORM, "certificate.category": "", "certificate.grade": ""}
    page = post_intake(client, data).get_data(as_text=True)
    assert 'id="determination"' in page
    assert '<option value="4" selected' in page and '<option value="2" selected' in page


def test_future_birth_date_is_blamed_on_the_id_number(client):
    from test_web_api import basic
    future = "411202203001010050"          # born 2030-01-01, check character right
    for record in ({"id_number": future, "name": "未来"},
                   {"id_number": future, "name": "未来", "evaluation_date": "2013-03-01"}):
        response = client.post("/api/v1/evaluate", json=record, headers=basic("policy"))
        errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
        assert errors == {"id_number": "身份证号码中的出生日期 2030-01-01 晚于今天，请核对身份证号码"}
    # a real birth date after the evaluation date is still the date's fault
    response = client.post("/api/v1/evaluate", json={"id_number": "11010519491231002X", "name": "x",
                                                     "evaluation_date": "1940-01-01"}, headers=basic("policy"))
    assert "evaluation_date" in {e["field"] for e in response.get_json()["errors"]}


def test_too_long_states_the_limit(client):
    from test_web_api import basic
    response = client.post("/api/v1/evaluate", json={"id_number": "11010519491231002X", "name": "长" * 51},
                           headers=basic("policy"))
    assert {"field": "name", "message": "过长：最多 50 个字符"} in response.get_json()["errors"]


def test_the_law_fixes_fields_can_be_recorded_at_the_counter():
    """63号 二（二）“等”: other special hardship; 多重 with its categories; not applying."""
    parsed = form.parse_form({"certificate.multiple_categories": "1、5", "status.other_special_hardship": "yes",
                              "prosthesis.requested_type": "none", "education.admission.level": "none"})
    assert parsed.record == {"certificate": {"multiple_categories": [1, 5]},
                             "status": {"other_special_hardship": True},
                             "prosthesis": {"requested_type": "none"}, "education": {"admission": {"level": "none"}}}
    assert form.parse_form({"certificate.multiple_categories": "1,5 6"}).record["certificate"] == {
        "multiple_categories": [1, 5, 6]}
    # anything else goes to the engine as typed, which names the field
    assert form.parse_form({"certificate.multiple_categories": "视力"}).record["certificate"] == {
        "multiple_categories": "视力"}
    assert form.record_to_form({"certificate": {"multiple_categories": [1, 5]}}) == {
        "certificate.multiple_categories": "1、5"}


def test_placement_dates_and_contract_term_from_the_form(as_user):
    """81号 第10条's inputs: a contract term in years (2.9 stays 2.9), a 上岗 date
    before the 介绍信 date refused at its field in Chinese."""
    parsed = form.parse_form({"military.referral_date": "2013-03-10", "military.placed_date": "2013-04-10",
                              "military.contract_years": "2.9"})
    assert parsed.record == {"military": {"referral_date": "2013-03-10", "placed_date": "2013-04-10",
                                          "contract_years": 2.9}}
    from test_web_cases import RECORD_FORM, post_intake
    client = as_user("clerk_hubin")
    response = post_intake(client, {**RECORD_FORM, "military.referral_date": "2013-03-10",
                                    "military.placed_date": "2013-03-09"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "上岗日期应在介绍信开出日期之后" in page[page.index('id="f-military-placed_date"'):][:600]
    response = post_intake(client, {**RECORD_FORM, "military.contract_years": "三年"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "应为数字" in page[page.index('id="f-military-contract_years"'):][:600]


def test_the_military_gate_no_answers_the_section_and_a_contradiction_is_shown_at_the_gate():
    parsed = form.parse_form({"gate.military": "no"})
    military = parsed.record["military"]
    assert military["youfu_category"] == "none" and military["retired_soldier"] == "none"
    assert military["injured_veteran"] is False and "referral_date" not in military and not parsed.errors
    assert form.record_to_form(parsed.record)["gate.military"] == "no"
    clash = form.parse_form({"gate.military": "no", "military.youfu_category": "martyr_family"})
    assert clash.errors == {"gate.military": ["选择了“否”，下面却填写了：优抚对象类别"]}
    assert form.record_to_form({"military": {"youfu_category": "martyr_family"}})["gate.military"] == "yes"
    assert "gate" not in form.parse_form({"gate.military": "yes"}).record
