"""Month weighting within a budget year, checked against figures worked out
here by hand from the parameter values written in the rulebook."""
import datetime as dt

import pytest

from benefits.engine import load_rulebook
from benefits.engine.identity import check_character
from benefits.finance import estimate

YEAR = 2013


@pytest.fixture(scope="module")
def book():
    return load_rulebook()


def _value(book, name, day, residence=None, county=None):
    """The entry written for exactly this scope and ``from`` date, or the latest before."""
    entries = [v for v in book.parameters[name].values
               if v.residence == residence and v.hukou_county == county and v.from_ <= day]
    return max(entries, key=lambda v: v.from_)


def _id(code, birth):
    first17 = f"{code}{birth:%Y%m%d}011"
    return first17 + check_character(first17)


def _line(result, benefit):
    return next(b for b in result["benefits"] if b["benefit"] == benefit)


def test_dibao_standard_changes_mid_year(book):
    jan = _value(book, "dibao_standard", dt.date(YEAR, 1, 1), residence="urban")
    jul = _value(book, "dibao_standard", dt.date(YEAR, 7, 1), residence="urban")
    assert jul.from_ == dt.date(YEAR, 7, 1) and jul.value != jan.value   # the premise of this test
    ratio = book.parameters["dibao_topup_ratio"].values[0].value
    id_number = _id("411202", dt.date(1970, 3, 12))
    record = {"id_number": id_number, "name": "王建国", "hukou_county": "411202", "residence": "urban",
              "certificate": {"number": id_number + "42", "category": 4, "grade": 2},
              "household": {"members": [{"relation": "spouse", "age": 41, "disabled": False}],
                            "monthly_income": 300, "assets_within_limit": True},
              "status": {"dibao": True}}
    per_head = 300 / 2
    result = estimate([record], YEAR, workers=1)

    inclusion = _line(result, "dibao_inclusion")
    expected = 2 * (6 * (jan.value - per_head) + 6 * (jul.value - per_head))    # paid to the household of 2
    assert inclusion["cost"] == {"min": expected, "mid": expected, "max": expected}
    assert inclusion["person_months"] == 12 and inclusion["persons"] == 1
    assert inclusion["payers"]["unspecified"]["mid"] == expected

    topup = _line(result, "dibao_topup")
    expected_topup = round(6 * jan.value * ratio + 6 * jul.value * ratio, 2)
    assert topup["cost"]["mid"] == expected_topup
    assert topup["floor"] is True and topup["floor_part"]["mid"] == expected_topup
    assert result["counts"]["evaluations"] == 2          # 1 January and 1 July only


def test_county_specific_standard(book):
    jan = _value(book, "dibao_standard", dt.date(YEAR, 1, 1), residence="urban")
    lingbao = _value(book, "dibao_standard", dt.date(YEAR, 7, 1), residence="urban", county="411282")
    id_number = _id("411282", dt.date(1980, 5, 5))
    record = {"id_number": id_number, "name": "李明", "hukou_county": "411282", "residence": "urban",
              "certificate": {"number": id_number + "43", "category": 4, "grade": 3},
              "household": {"members": [], "monthly_income": 0, "assets_within_limit": True}}
    line = _line(estimate([record], YEAR, workers=1), "dibao_inclusion")
    assert line["cost"]["mid"] == 6 * jan.value + 6 * lingbao.value


def test_turning_18_mid_month(book):
    """Single-person 低保 starts on the 18th birthday: 16 April counts 15/30 of April."""
    jan = _value(book, "dibao_standard", dt.date(YEAR, 1, 1), residence="urban")
    jul = _value(book, "dibao_standard", dt.date(YEAR, 7, 1), residence="urban")
    id_number = _id("411202", dt.date(YEAR - 18, 4, 16))
    record = {"id_number": id_number, "name": "张小军", "hukou_county": "411202", "residence": "urban",
              "certificate": {"number": id_number + "51", "category": 5, "grade": 1},
              "status": {"supported_by": "parents"}}
    result = estimate([record], YEAR, workers=1)
    line = _line(result, "dibao_single_person")
    months_before_july = 15 / 30 + 2          # 16–30 April, May, June
    expected = jan.value * months_before_july + jul.value * 6
    assert line["cost"]["mid"] == pytest.approx(expected, abs=0.005)
    assert line["person_months"] == pytest.approx(months_before_july + 6)
    assert result["counts"]["evaluations"] == 3          # 1 January, 16 April, 1 July


def test_yearly_once_range_and_in_kind(book):
    wubao = _value(book, "wubao_standard", dt.date(YEAR, 1, 1))
    relief = book.parameters["hardship_relief"].values[0].value
    id_number = _id("411224", dt.date(1950, 8, 1))
    record = {"id_number": id_number, "name": "赵老根", "hukou_county": "411224", "residence": "rural",
              "certificate": {"number": id_number + "41", "category": 4, "grade": 1},
              "status": {"no_work_capacity": True, "no_income_source": True, "no_legal_supporter": True},
              # 七 counts an event dated between 63号's in-force day and the evaluation day
              "hardship_events": [{"case": "hospitalised", "family_hardship": True, "date": f"{YEAR}-01-01"}]}
    result = estimate([record], YEAR, workers=1)
    assert _line(result, "wubao_inclusion")["cost"]["mid"] == wubao.value          # once, not × 2 points
    assert _line(result, "hardship_relief")["cost"] == {
        "min": relief["min"], "mid": (relief["min"] + relief["max"]) / 2, "max": relief["max"]}
    transport = _line(result, "free_public_transport")
    assert transport["persons"] == 1 and transport["money"] is False and transport["cost"]["max"] == 0


def test_born_during_the_year_counts_from_birth(book):
    jul = _value(book, "dibao_standard", dt.date(YEAR, 7, 1), residence="urban")
    id_number = _id("411202", dt.date(YEAR, 7, 1))
    record = {"id_number": id_number, "name": "新生", "hukou_county": "411202", "residence": "urban",
              "certificate": {"number": id_number + "41", "category": 4, "grade": 1},
              "household": {"members": [], "monthly_income": 0, "assets_within_limit": True}}
    line = _line(estimate([record], YEAR, workers=1), "dibao_inclusion")
    assert line["cost"]["mid"] == 6 * jul.value
