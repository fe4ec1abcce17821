import datetime as dt

import pytest
from hypothesis import given, strategies as st

from benefits.engine.identity import (IdentityError, age_on, check_character, parse_certificate_number,
                                      parse_id_number)


@pytest.mark.parametrize("number, birth", [
    ("11010519491231002X", dt.date(1949, 12, 31)),
    ("440524188001010014", dt.date(1880, 1, 1)),
    ("34052419800101001X", dt.date(1980, 1, 1)),
    ("34052419800101001x", dt.date(1980, 1, 1)),
])
def test_published_examples_are_valid(number, birth):
    assert parse_id_number(number) == birth


@pytest.mark.parametrize("number, message", [
    ("11010519491231002", "18位"),
    ("1101051949123100211", "18位"),
    ("11010519491231002Y", "前17位"),
    ("110105194912310021", "校验位错误：应为X"),
    ("110105194902300024", "不是有效日期"),
    ("110105170001010011", "出生年份"),
])
def test_bad_id_numbers_say_why(number, message):
    with pytest.raises(IdentityError, match=message):
        parse_id_number(number)


digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31))


@given(area=st.text(alphabet="0123456789", min_size=6, max_size=6), birth=births,
       sequence=st.integers(0, 999))
def test_any_well_formed_number_with_its_check_character_is_valid(area, birth, sequence):
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    assert parse_id_number(body + check_character(body)) == birth


@given(area=st.text(alphabet="0123456789", min_size=6, max_size=6), birth=births,
       sequence=st.integers(0, 999), wrong=st.sampled_from("0123456789X"))
def test_every_other_check_character_is_rejected(area, birth, sequence, wrong):
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    if wrong != check_character(body):
        with pytest.raises(IdentityError, match="校验位"):
            parse_id_number(body + wrong)


@given(body=digits17, category=st.integers(1, 7), grade=st.integers(1, 4),
       suffix=st.sampled_from(["", "B1", "B9"]))
def test_certificate_number_splits_into_id_category_grade(body, category, grade, suffix):
    ident = body + check_character(body)
    try:
        parse_id_number(ident)
    except IdentityError:
        return  # the birth date part of random digits is rarely a date
    assert parse_certificate_number(f"{ident}{category}{grade}{suffix}") == (
        ident, category, grade, suffix or None)


@pytest.mark.parametrize("number", [
    "11010519491231002X8", "11010519491231002X81", "11010519491231002X45",
    "11010519491231002X42B0", "11010519491231002X42C1", "110105194912310021" + "42", 42,
])
def test_bad_certificate_numbers(number):
    with pytest.raises(IdentityError):
        parse_certificate_number(number)


@pytest.mark.parametrize("birth, day, age", [
    (dt.date(2000, 3, 1), dt.date(2016, 2, 29), 15),
    (dt.date(2000, 3, 1), dt.date(2016, 3, 1), 16),
    (dt.date(2000, 2, 29), dt.date(2016, 2, 28), 15),
    (dt.date(2000, 2, 29), dt.date(2016, 2, 29), 16),
])
def test_age_in_completed_years(birth, day, age):
    assert age_on(birth, day) == age
