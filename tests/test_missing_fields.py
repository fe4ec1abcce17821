"""What a clerk is asked for points at the blank field (issue 12, item 6),
and a person evaluated on several days counts once (item 7)."""
from __future__ import annotations

import datetime as dt

from benefits.engine.columnar import ColumnarEngine
from benefits.finance.estimate import estimate

from .factories import applicant, line


def _asked(result, benefit):
    return [(m["fact"], m["field"]) for m in line(result, benefit)["missing_facts"]]


def test_income_filled_members_blank_asks_for_the_members(engine):
    record = applicant(household={"monthly_income": 500, "assets_within_limit": True})
    for back_end in (engine, ColumnarEngine(engine.rulebook)):
        result = back_end.evaluate(record)
        assert _asked(result, "dibao_inclusion") == [("per_capita_income", "household.members")]


def test_members_filled_income_blank_asks_for_the_income(engine):
    record = applicant(household={"members": [], "assets_within_limit": True})
    for back_end in (engine, ColumnarEngine(engine.rulebook)):
        result = back_end.evaluate(record)
        assert _asked(result, "dibao_inclusion") == [("per_capita_income", "household.monthly_income")]


def test_a_person_evaluated_on_two_days_is_one_person_in_the_unverified_count():
    """低保 standard changes on 1 July 2013: two evaluations, one person."""
    record = applicant(age=40, on=dt.date(2013, 1, 1),
                       household={"members": [], "monthly_income": 100, "assets_within_limit": True})
    for engine in ("durable", "columnar"):
        result = estimate([record], 2013, engine=engine, workers=1)
        marks = [m for m in result["unverified_marks"] if m["benefit"] == "dibao_inclusion"]
        assert result["counts"]["evaluations"] == 2
        assert [(m["parameter"], m["persons"], m["values"]) for m in marks] == [("dibao_standard", 1, ["300", "330"])]
