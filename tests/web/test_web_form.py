"""The intake form ↔ applicant record mapping."""
from __future__ import annotations

from pathlib import Path

import pytest

from benefits.engine import InvalidApplicant, parse_applicant
from benefits.web import form

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "applicants.jsonl"


def fixture_records():
    for line in FIXTURES.read_text(encoding="utf-8").splitlines():
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
