"""低保 is paid to the household and costed once per household (issue 17
item 1, 城市居民最低生活保障条例 第八条), worked by hand, on both estimate paths.

A household of 3 (the applicant, a spouse and a child of 10) with 450 a
month, urban 湖滨, already in 低保, all of 2013: 150 a head, so the household
is owed (300 − 150) × 3 = 450 a month to June and (330 − 150) × 3 = 540 from
July: 450 × 6 + 540 × 6 = 5,940.
"""
from __future__ import annotations

import datetime as dt

import pytest

from benefits.engine import BACK_ENDS
from benefits.finance import estimate

from .factories import applicant, id_number

HUSBAND, WIFE = id_number(dt.date(1970, 1, 1), sequence=1), id_number(dt.date(1972, 1, 1), sequence=2)
YEAR_2013 = 450 * 6 + 540 * 6


def _spouse(me: str, other: str, category: int, listed_by_id: bool) -> dict:
    spouse = {"relation": "spouse", "id_number": other} if listed_by_id else {"relation": "spouse", "age": 41}
    record = applicant(category=category, grade=2, status={"dibao": True}, household={
        "members": [spouse, {"relation": "child", "age": 10}], "monthly_income": 450, "assets_within_limit": True})
    record["id_number"] = me
    record["certificate"]["number"] = f"{me}{category}2"
    record.pop("evaluation_date")
    return record


def _dibao(records: list, engine: str) -> dict:
    result = estimate(records, 2013, workers=1, engine=engine)
    return next(b for b in result["benefits"] if b["benefit"] == "dibao_inclusion")


@pytest.mark.parametrize("engine", BACK_ENDS)
def test_two_applicants_who_list_each_other_are_one_household(engine):
    line = _dibao([_spouse(HUSBAND, WIFE, 4, True), _spouse(WIFE, HUSBAND, 6, True)], engine)
    assert (line["persons"], line["duplicates"], line["households"], line["household_persons"]) == (2, 1, 1, 3)
    assert line["cost"]["mid"] == YEAR_2013


@pytest.mark.parametrize("engine", BACK_ENDS)
def test_members_without_an_id_number_cannot_be_matched(engine):
    """Nothing tells the estimate these two are one household: each is its own."""
    line = _dibao([_spouse(HUSBAND, WIFE, 4, False), _spouse(WIFE, HUSBAND, 6, False)], engine)
    assert (line["persons"], line["duplicates"], line["households"], line["household_persons"]) == (2, 0, 2, 6)
    assert line["cost"]["mid"] == 2 * YEAR_2013


@pytest.mark.parametrize("engine", BACK_ENDS)
def test_one_applicant_is_one_household(engine):
    line = _dibao([_spouse(HUSBAND, WIFE, 4, True)], engine)
    assert (line["households"], line["household_persons"], line["cost"]["mid"]) == (1, 3, YEAR_2013)
