"""Which budget year money falls in (issue 17 items 4 and 5), worked by hand,
on both estimate paths.

- A dated one-off (四（一）录取 3000, 七 500—1000) is costed in the budget year
  of its event only, never again in later years (一次性).
- A yearly living standard paid over the year (五保, 元/人·年) counts the
  share of the months eligible: in 2012, 63号 applies from 1 November, so
  two months. A contribution paid once a year (三（二）养老保险个人缴费) counts
  whole.
"""
from __future__ import annotations

import datetime as dt

import pytest

from benefits.engine import BACK_ENDS as ENGINES
from benefits.finance import estimate

from .factories import applicant


def _cost(record: dict, year: int, engine: str, benefit: str) -> dict:
    result = estimate([record], year, workers=1, engine=engine)
    return next(b for b in result["benefits"] if b["benefit"] == benefit)["cost"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_tuition_grant_is_costed_in_the_year_of_admission_only(engine):
    """本科, full time, admitted 2013-07-17, a 低保 family: 3000 in 2013, nothing in 2014 or 2015."""
    record = applicant(age=19, on=dt.date(2013, 9, 1), status={"dibao": True}, education={
        "admission": {"level": "bachelor", "full_time": True, "date": "2013-07-17"}})
    record.pop("evaluation_date")
    assert [_cost(record, year, engine, "tuition_grant")["mid"] for year in (2013, 2014, 2015)] == [3000, 0, 0]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_admission_on_new_years_eve_falls_in_its_own_year(engine):
    record = applicant(age=19, on=dt.date(2014, 1, 1), status={"dibao": True}, education={
        "admission": {"level": "bachelor", "full_time": True, "date": "2013-12-31"}})
    record.pop("evaluation_date")
    assert [_cost(record, year, engine, "tuition_grant")["mid"] for year in (2013, 2014)] == [3000, 0]


@pytest.mark.parametrize("engine", ENGINES)
def test_hardship_relief_for_a_2013_hospital_stay_is_costed_in_2013_only(engine):
    """七（三）重病住院, 2013-02-01, a 低保 household: 500—1000 once, in 2013."""
    record = applicant(status={"dibao": True}, hardship_events=[
        {"case": "hospitalised", "family_hardship": True, "date": "2013-02-01"}])
    record.pop("evaluation_date")
    costs = [_cost(record, year, engine, "hardship_relief") for year in (2013, 2014, 2015)]
    assert [(c["min"], c["max"]) for c in costs] == [(500, 1000), (0, 0), (0, 0)]


def _sanwu(**extra) -> dict:
    record = applicant(age=50, county="411224", residence="rural", status={
        "no_work_capacity": True, "no_income_source": True, "no_legal_supporter": True, "wubao": True,
        "dibao": False}, **extra)
    record.pop("evaluation_date")
    return record


@pytest.mark.parametrize("engine", ENGINES)
def test_wubao_in_2012_counts_the_two_months_in_force(engine):
    """五保 2000 元/人·年 in 2012, in force from 1 November: 2000 × 2/12 =
    333.33; 2013, all year at 2400."""
    assert _cost(_sanwu(), 2012, engine, "wubao_inclusion")["mid"] == pytest.approx(2000 * 2 / 12, abs=0.01)
    assert _cost(_sanwu(), 2013, engine, "wubao_inclusion")["mid"] == 2400


@pytest.mark.parametrize("engine", ENGINES)
def test_a_yearly_contribution_is_counted_whole_in_2012(engine):
    """三（二）: a psychiatric 新农保 member's lowest contribution (100 元/年) is
    paid once a year: 2012 counts it whole although 63号 applies for two months."""
    record = applicant(category=6, grade=3, residence="rural", insurance={"pension_scheme": "rural_resident"})
    record.pop("evaluation_date")
    assert _cost(record, 2012, engine, "pension_contribution_subsidy")["mid"] == 100
