"""The estimate on the columnar engine equals the durable_rules reference,
to the fen, in every figure it reports."""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest

from benefits.caseload.synthetic import caseload
from benefits.costing.columnar import ColumnarEstimate
from benefits.costing.periods import Planner
from benefits.engine import default_engine, parse_applicant
from benefits.engine.columnar import frame_from_records
from benefits.finance.estimate import estimate

from .test_columnar_differential import _blank_leaves

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "caseload-sample.csv"


@pytest.mark.parametrize("year", [2012, 2013, 2014])
def test_sample_caseload_same_estimate_on_both_engines(year):
    durable = estimate(SAMPLE, year, engine="durable", workers=1)
    columnar = estimate(SAMPLE, year, engine="columnar")
    assert columnar == durable
    assert columnar["counts"]["rejected"] > 0 and columnar["total"]["mid"] > 0


def test_blanked_caseload_same_estimate_on_both_engines():
    """Facts left out anywhere: undetermined, unresolved and duplicates counts too."""
    rng = random.Random(4)
    records = []
    for record in caseload(3000, seed=4):
        _blank_leaves(rng, record, 0.05)
        records.append(record)
    durable = estimate(records, 2013, engine="durable", workers=1)
    columnar = estimate(records, 2013, engine="columnar")
    assert columnar == durable
    assert any(b["undetermined"] for b in columnar["benefits"]) and columnar["unverified_marks"]


def test_change_points_and_weights_match_the_planner():
    """Every person's days and month weights, on birthdays (29 February too)
    and parameter change dates, are those of periods.Planner."""
    engine = default_engine()
    births = [dt.date(1955, 2, 28), dt.date(1952, 2, 29), dt.date(1997, 7, 1), dt.date(1995, 3, 31),
              dt.date(2013, 5, 5), dt.date(2014, 1, 2), dt.date(1953, 12, 31)]
    from tests.factories import applicant
    events = {"hardship_events": [{"case": "stranded", "date": "2013-09-09"}, {"case": "hospitalised"},
                                  {"case": "major_accident", "date": "2012-12-01", "family_hardship": True}],
              "education": {"admission": {"level": "college", "date": "2014-09-01"},
                            "diploma": {"level": "secondary", "date": "2013-01-01"}}}
    records = [parse_applicant(applicant(birth=b, on=dt.date(2013, 1, 1) if b.year < 2013 else b,
                                         county=c, residence=r, **(events if c == "411202" else {})))
               for b in births for c, r in (("411202", "urban"), ("411282", "urban"), (None, "rural"), ("411224", None))]
    # 高龄 80 (a parameter's age), the eldest member turning 60 (by ID
    # number), the day after 81号 第10条's 1-month placement deadline
    from tests.factories import id_number
    turning_80, member_60 = dt.date(1933, 8, 8), dt.date(1953, 6, 15)
    records += [parse_applicant(applicant(birth=turning_80, on=dt.date(2013, 1, 1))),
                parse_applicant(applicant(on=dt.date(2013, 1, 1), household={"members": [
                    {"relation": "parent", "id_number": id_number(member_60, sequence=7)},
                    {"relation": "spouse", "age": 41}]})),
                parse_applicant(applicant(on=dt.date(2013, 1, 1), military={"referral_date": "2013-01-31"}))]
    expected = {len(records) - 3: dt.date(2013, 8, 8), len(records) - 2: dt.date(2013, 6, 15),
                len(records) - 1: dt.date(2013, 3, 1)}
    for year in (2012, 2013, 2014):
        planner = Planner(engine, year)
        plan = ColumnarEstimate(engine.rulebook, year)
        frame = frame_from_records(records).with_row_index("__person")
        points = plan.points(frame)
        for person, record in enumerate(records):
            days = planner.points(record)
            mine = points.filter(pl.col("__person") == person)
            assert mine.get_column("__day").to_list() == days, (record.birth_date, year)
            assert mine.get_column("__weight").to_list() == planner.weights(days)
            if person in expected:
                assert (expected[person] in days) == (year == 2013), (person, year, days)


def test_county_obligation_includes_the_rehabilitation_budget_and_basic_living_is_apart():
    result = estimate(SAMPLE, 2013, engine="columnar")
    for county in result["counties"]:
        if not county["county"]:
            continue
        budget = next(b["amount"] for b in result["rehabilitation"] if b["county"] == county["county"])
        assert county["rehabilitation"] == budget > 0
        assert county["county_obligation"]["mid"] == round(county["payers"]["county"]["mid"] + budget, 2)
    split = result["basic_living"]
    assert set(split["benefits"]) >= {"dibao_inclusion", "dibao_single_person", "wubao_inclusion"}
    assert round(split["cost"]["mid"] + split["specific_cost"]["mid"], 2) == result["total"]["mid"]
