"""Issue 13: the record and its numbers under hostile input (each hostile
value is built here)."""
import json

import pytest

from benefits.engine import InvalidApplicant, default_engine, parse_applicant
from benefits.engine.applicant import MAX_DEPTH

from .factories import applicant


def rejection(data) -> dict:
    with pytest.raises(InvalidApplicant) as caught:
        parse_applicant(data)
    return {e.field: e.message for e in caught.value.errors}


def _digits(text: str, zero: int) -> str:
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)


def test_full_width_id_and_certificate_numbers_are_normalised_to_ascii():
    record = applicant()
    ascii_id = record["id_number"]
    wide = _digits(ascii_id, 0xFF10)
    record.update(id_number=wide)
    record["certificate"]["number"] = wide + _digits("42", 0xFF10)
    parsed = parse_applicant(record)
    assert parsed.id_number == ascii_id and parsed.certificate.number == ascii_id + "42"
    masked = default_engine().evaluate(record)["applicant"]["id_number_masked"]
    assert masked == ascii_id[:6] + "********" + ascii_id[-4:]


@pytest.mark.parametrize("zero", [0x0660, 0x06F0, 0x0966], ids=["arabic-indic", "persian", "devanagari"])
def test_other_non_ascii_digits_are_refused_before_the_check_digit(zero):
    record = applicant()
    ident = record["id_number"]
    record["id_number"] = _digits(ident[:17], zero) + ident[17]
    message = rejection(record)["id_number"]
    assert "数字0–9" in message and "校验位" not in message


def test_an_all_full_width_id_gets_no_misleading_check_digit_message():
    record = applicant(category=None, grade=None)
    record["id_number"] = _digits(record["id_number"], 0xFF10)
    assert parse_applicant(record).id_number.isascii()
    wrong = record["id_number"][:-1] + ("０" if record["id_number"][-1] != "０" else "１")
    message = rejection(dict(record, id_number=wrong))["id_number"]
    assert message.startswith("身份证号码校验位错误")
    assert "实际为0" in message or "实际为1" in message      # the ASCII form is quoted, not "６"


@pytest.mark.parametrize("hidden", ["\u200b", "\x00", "\u202e", "\u2028", "\ufeff", "\x1b"])
def test_control_and_zero_width_characters_in_a_name_are_refused(hidden):
    message = rejection(applicant() | {"name": f"张{hidden}三"})["name"]
    assert f"U+{ord(hidden):04X}" in message and "不可见字符" in message


def test_ordinary_names_with_a_middle_dot_still_pass():
    assert parse_applicant(applicant() | {"name": "买买提·艾力"}).name == "买买提·艾力"


def _nested(levels: int):
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 3_000, 100_000])
def test_deep_nesting_is_an_invalid_applicant_not_a_recursion_error(levels):
    engine = default_engine()
    as_dict = applicant(household={"members": _nested(levels)})
    with pytest.raises(InvalidApplicant, match="嵌套层数"):
        engine.evaluate(as_dict)
    as_text = json.dumps(applicant())[:-1] + ', "x": ' + "[" * levels + "]" * levels + "}"
    with pytest.raises(InvalidApplicant, match="嵌套层数"):
        engine.evaluate(as_text)


def test_brackets_inside_strings_do_not_count_as_nesting():
    record = applicant() | {"name": "[" * 200 + "{" * 200}
    with pytest.raises(InvalidApplicant) as caught:
        parse_applicant(record)
    assert "嵌套" not in str(caught.value)          # refused for its length (50), not its brackets
