"""Column-wise validation (benefits.engine.columnar.validate) must accept,
type and reject every raw caseload row exactly as the single-applicant path
(unflatten + parse_applicant) does."""
from __future__ import annotations

import datetime as dt
import json
import random

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from pydantic import field_validator

from benefits.engine import applicant as applicant_module
from benefits.engine.applicant import Applicant, InvalidApplicant, parse_applicant
from benefits.engine.columnar import readers as frame_readers
from benefits.engine.columnar import validate
from benefits.engine.columnar.schema import SCHEMA, frame_from_records
from benefits.engine.identity import check_character
from benefits.caseload import synthetic
from benefits.caseload.columns import COLUMNS, flatten, unflatten
from benefits.caseload.readers import CaseloadError, open_caseload

from .factories import id_number

NAMES = [c.path for c in COLUMNS]
SAMPLE = "fixtures/caseload-sample.csv"


# ------------------------------------------------------------------ oracle

def slow_path(names: list, rows: list, numbers: list) -> tuple[pl.DataFrame, list[dict]]:
    """What the single-applicant path makes of each row (independent of the
    module under test)."""
    records, at, rejects = [], [], []
    for number, cells in zip(numbers, rows):
        try:
            record = parse_applicant(unflatten(names, cells))
        except InvalidApplicant as exc:
            rejects += [{"row": number, "field": e.field, "message": e.message} for e in exc.errors]
        except RecursionError as exc:      # json.loads on a deeply nested cell: see validate.slow_row
            rejects.append({"row": number, "field": "(记录)", "message": f"无法读取记录：{exc}"})
        else:
            records.append(record)
            at.append(number)
    return frame_from_records(records, at), rejects


def raw_frame(names: list, rows: list, numbers: list) -> pl.DataFrame:
    return pl.DataFrame({"row": numbers, **{n: [r[i] for r in rows] for i, n in enumerate(names)}},
                        schema={"row": pl.Int64, **{n: pl.String for n in names}})


def assert_same(names: list, rows: list, numbers: list | None = None) -> tuple[pl.DataFrame, list]:
    numbers = numbers or list(range(2, len(rows) + 2))
    frame, rejects = validate.validate_frame(raw_frame(names, rows, numbers))
    expected, expected_rejects = slow_path(names, rows, numbers)
    assert rejects == expected_rejects
    assert frame.schema == pl.Schema(SCHEMA)
    assert_frame_equal(frame, expected, check_exact=True)
    return frame, rejects


def fast_flags(names: list, rows: list) -> list[bool]:
    raw = raw_frame(names, rows, list(range(2, len(rows) + 2)))
    return validate._fast(raw, validate.plan())["__fast"].to_list()


# ---------------------------------------------------------- valid raw rows

def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def as_row(record: dict, names: list = NAMES) -> list:
    flat = flatten(record)
    return [_text(flat[n]) if n in flat else None for n in names]


def enriched(rng: random.Random) -> dict:
    """A valid synthetic record, with the rarer fields filled in often enough
    that every kind of leaf appears."""
    record = synthetic.applicant(rng)
    birth = parse_applicant(record).birth_date
    if rng.random() < 0.5:
        record["evaluation_date"] = str(max(birth, dt.date(2012, 11, 1)) + dt.timedelta(days=rng.randrange(4000)))
    if rng.random() < 0.3:
        record["education"] = {"admission": {"level": "college", "full_time": True, "date": "2013-09-01"},
                               "diploma": {"level": "bachelor", "route": "self_study", "date": "2016-02-29"}}
    if rng.random() < 0.3:
        record["hardship_events"] = [{"case": "stranded", "date": "2013-05-31", "family_hardship": False},
                                     {"case": "hospitalised"}]
    if rng.random() < 0.3 and record.get("household", {}).get("members") is not None:
        mate = id_number(dt.date(1960, 2, 29), "411222", rng.randrange(1000))
        record["household"]["members"].append(
            {"relation": "other", "age": 3, "id_number": mate, "disabled": None, "monthly_income": 1234.56})
    if rng.random() < 0.2 and "certificate" in record:
        record["certificate"]["number"] += "B2"
        record["holds_certificate"] = True
        record["hukou_local"] = True
    parse_applicant(record)
    return record


_RNG = random.Random(8)
POOL = [as_row(enriched(_RNG)) for _ in range(200)]


# ------------------------------------------------------------- mutations

HOSTILE = ["", " ", "\u3000", "\x1c", "\u200b", "null", "None", "nan", "NaN", "inf", "-inf", "1e999", "1e3",
           "-0", "0", "1", "2", "7", "8", "1.5", "5.0", "5.", ".5", "+5", "1,200", "1_000", "１２", "٣", "9" * 20,
           "-1", "10000000", "10000000.01", "true", "True ", "yes ", "YES", "是", "否", "y", "t", "maybe",
           "2013-02-30", "2013-2-3", "2013-02-03", "2013-02-03T00:00:00", "20130203", "0000-01-01",
           "2012-10-31", "2012-11-01", "2100-12-31", "2101-01-01", "1899-12-31",
           "[]", "{}", '"abc"', "[1]", "[1, 2]", "[2,3,6]", "[1, 7]", "[1, 1.0]", "[null]", "[[]]", "urban", "rural", "Urban", "none", "self",
           "411222", "411202", "411200", "41120", "x" * 51, "张" * 50, "张" * 51, "\u200b张三", "张三\x1c",
           " 张三 ", "\t\n", "三口人"]

SPACES = [" ", "\t", "\u3000", "\xa0", "\x1c", "\x1f", "\n", "\u2028", "\x85"]

MEMBER_TWISTS = [
    lambda m: {**m, "pet": "cat"}, lambda m: {**m, "age": "40"}, lambda m: {**m, "age": 40.0},
    lambda m: {**m, "age": -1}, lambda m: {**m, "age": 131}, lambda m: {**m, "age": True},
    lambda m: {**m, "age": 10 ** 30}, lambda m: {**m, "relation": "Spouse"}, lambda m: {**m, "relation": None},
    lambda m: {k: v for k, v in m.items() if k != "relation"}, lambda m: {**m, "disabled": "yes"},
    lambda m: {**m, "disabled": 1}, lambda m: {**m, "monthly_income": -0.0},
    lambda m: {**m, "monthly_income": 10_000_000.5}, lambda m: {**m, "monthly_income": 1e-7},
    lambda m: {**m, "monthly_income": 0.1}, lambda m: {**m, "monthly_income": 10_000_000},
    lambda m: {**m, "id_number": id_number(dt.date(1950, 1, 1))[:-1] + "0"},
    lambda m: {**m, "id_number": id_number(dt.date(1950, 1, 1)).lower()},
    lambda m: {**m, "id_number": 411202195001010017}, lambda m: dict(reversed(list(m.items()))),
    lambda m: {**m, "age": None, "id_number": None}, lambda m: {},
]

TEXT_TWISTS = [
    lambda t: t.replace(", ", ",\n  "), lambda t: t.replace('"age": ', '"age": 0'),
    lambda t: t.replace('"spouse"', '"\\u0073pouse"'), lambda t: t.replace("{", '{"age": 1, ', 1),
    lambda t: t + "x", lambda t: t[:-1], lambda t: t.replace("]", ",]"), lambda t: "[" * 3000 + "]" * 3000,
    lambda t: "[" * 40 + "]" * 40, lambda t: t.replace("true", "True"), lambda t: t.replace(": ", ":NaN,"),
    lambda t: t.replace("[", "[NaN, ", 1), lambda t: t.replace("[", "[Infinity, ", 1),
    lambda t: "null", lambda t: '"[]"', lambda t: "{}", lambda t: "[" + ", ".join(['{"relation": "child"}'] * 31) + "]",
    lambda t: "[" + ", ".join(['{"case": "stranded"}'] * 21) + "]", lambda t: t.replace("2013", "２０13"),
    lambda t: t.replace("05-31", "02-30"), lambda t: t.replace('"date": "2013-05-31"', '"date": null'),
]


BY_KIND = {
    "bool": ["true", "false", "TRUE", "False", "1", "0", "是", "否", "y", "N", "yes", "no", "t", "F", "1.0",
             "2", "yes ", "ｙｅｓ", "falſe", "null", "-"],
    "int": ["0", "1", "2", "4", "5", "7", "8", "2.0", "2.", "2.5", "+2", "02", "２", "1e0", "-1", "2,0", "nan",
            "9" * 16, "4.0000000000000001"],
    "float": ["0", "-0", "0.0", "10000000", "10000000.0", "10000000.000001", "9999999.999999999", "1,200",
              "1_200", "nan", "inf", "1e3", ".5", "5.", "12.345678901234567", "123456789012345678", "0.1",
              "-5", "１２", "1200.50"],
    "literal": ["urban", "rural", "Urban", "none", "self", "parents", "one", "both", "thigh", "calf",
                "secondary", "college", "bachelor", "self_study", "rural_resident", "other", "x"],
    "date": ["2013-02-28", "2013-02-29", "2012-02-29", "2000-02-29", "1900-02-29", "2013-13-01", "2013-00-10",
             "2013-01-32", "2013-1-01", "0999-01-01", "1000-01-01", "0001-01-01", "2012-10-31", "2012-11-01",
             "2100-12-31", "2101-01-01", "2013-02-03T00:00:00", "2013/02/03", "20130203", "2013-02-03Z",
             "1990-06-15", "2016-06-15"],
    "hukou_county": ["411202", "411203", "411221", "411224", "411281", "411282", "411222", "411200", "412501",
                     "41120", "110101", " 411282"],
    "name": ["张三", "x" * 50, "x" * 51, "张三\x1c", "\u200b", "某某", "\x1c", "Ｘ"],
}


def _kind(name: str) -> str:
    """The list of typed twists for a column: its own, else its kind's."""
    return name if name in BY_KIND else next(leaf.kind for leaf in validate._walk(validate.plan()) if leaf.path == name)


def _id_twists(value: str) -> list[str]:
    body = value[:17]
    bodies = [body[:10] + d + body[14:] for d in ("0230", "1301", "0000", "0229", "0228")] + [
        body[:6] + y + body[10:] for y in ("1879", "1880", "2099")]
    return [body + c + value[18:] for c in "0123456789Xx"] + [
        b + (check_character(b) if fixed and b.isascii() and b.isdigit() else value[17]) + value[18:]
        for b in bodies for fixed in (0, 1)] + [
        value.translate(str.maketrans("0123456789", "０１２３４５６７８９")), value[:17], value + "1",
        value[:18] + "11", value[:18] + "84", value[:18] + "72", value[:18] + "41b1", value[:18] + "42B9",
        value[:18] + "42B0", value[:18] + "42B10"]


@st.composite
def cell_mutation(draw, name: str, value):
    kind = draw(st.sampled_from(["hostile", "typed", "typed", "space", "case", "edit", "json", "id"]))
    if kind == "hostile" or value is None:
        return draw(st.sampled_from(HOSTILE + BY_KIND.get(_kind(name), [])))
    if kind == "typed" and _kind(name) in BY_KIND:
        return draw(st.sampled_from(BY_KIND[_kind(name)]))
    if kind == "space":
        return draw(st.sampled_from(SPACES)) * draw(st.integers(0, 2)) + value + \
            draw(st.sampled_from(SPACES)) * draw(st.integers(0, 2))
    if kind == "case":
        return draw(st.sampled_from([value.upper(), value.lower(), value.title()]))
    if kind == "edit" and value:
        at = draw(st.integers(0, len(value) - 1))
        return value[:at] + draw(st.sampled_from("0123456789Xx-.,B b１")) + value[at + 1:]
    if value.startswith("["):
        try:
            items = json.loads(value)
        except (ValueError, RecursionError):
            items = None
        if isinstance(items, list) and items and all(isinstance(i, dict) for i in items) and draw(st.booleans()):
            at = draw(st.integers(0, len(items) - 1))
            items[at] = draw(st.sampled_from(MEMBER_TWISTS))(items[at])
            return json.dumps(items, ensure_ascii=draw(st.booleans()))
        return draw(st.sampled_from(TEXT_TWISTS))(value)
    if len(value) >= 18:
        return draw(st.sampled_from(_id_twists(value)))
    return value


@st.composite
def hostile_rows(draw):
    names = list(NAMES)
    if draw(st.booleans()):
        names = ["id_number"] + draw(st.permutations(NAMES[1:]))[:draw(st.integers(0, len(NAMES) - 1))]
    rows = []
    for _ in range(draw(st.integers(1, 10))):
        base = dict(zip(NAMES, draw(st.sampled_from(POOL))))
        cells = [base[n] for n in names]
        for _ in range(draw(st.integers(0, 4))):
            at = draw(st.integers(0, len(names) - 1))
            cells[at] = draw(cell_mutation(names[at], cells[at]))
        rows.append(cells)
    return names, rows


def test_every_column_with_every_tricky_value():
    """Deterministic sweep: one row per (column, value), all in one frame."""
    rows = []
    for at, name in enumerate(NAMES):
        base = POOL[at % len(POOL)]
        values = HOSTILE + BY_KIND.get(_kind(name), [])
        if base[at] is not None:
            values += [s + base[at] + e for s in SPACES[:3] for e in ("", " ")] + [base[at].lower(), base[at].upper()]
            if base[at].startswith("["):
                values += [twist(base[at]) for twist in TEXT_TWISTS]
            if len(base[at]) >= 18:
                values += _id_twists(base[at])
        for value in values:
            rows.append(base[:at] + [value] + base[at + 1:])
            if name == "id_number" and base[NAMES.index("certificate.number")]:   # the certificate follows the ID
                cert = NAMES.index("certificate.number")
                rows.append(rows[-1][:cert] + [value[:18] + base[cert][18:]] + rows[-1][cert + 1:])
    for base in POOL[:40]:             # cross-field: the certificate against the ID, flags against facts
        at = {n: i for i, n in enumerate(NAMES)}
        for change in ({"holds_certificate": "false"}, {"hukou_local": "否"}, {"evaluation_date": "2012-11-01"},
                       {"certificate.grade": "1"}, {"certificate.category": "7"},
                       {"certificate.number": (base[at["certificate.number"]] or "")[:17] + "0"}):
            row = list(base)
            for name, value in change.items():
                row[at[name]] = value
            rows.append(row)
    assert_same(NAMES, rows)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_rows())
def test_hostile_rows_are_judged_exactly_as_the_single_applicant_path(case):
    names, rows = case
    assert_same(names, rows)


# ---------------------------------------------------------- the fast path

def test_valid_rows_take_the_fast_path_and_match():
    assert validate.fallbacks() == []
    assert all(fast_flags(NAMES, POOL))
    assert_same(NAMES, POOL)


def test_plain_variants_the_fast_path_covers():
    base = dict(zip(NAMES, POOL[0]))
    variants = [{"name": "  张三\u3000"}, {"status.dibao": "YES"}, {"status.dibao": "是"}, {"certificate.grade": "2.000"},
                {"household.monthly_income": "0012.50"}, {"household.members": '[ ]'},
                {"household.members": "null"}, {"residence": "rural"}]
    for change in variants:
        row = dict(base, **{k: v for k, v in change.items()})
        if "certificate.grade" in change:
            row["certificate.number"] = row["certificate.number"][:19] + "2"
        cells = [row[n] for n in NAMES]
        assert fast_flags(NAMES, [cells]) == [True], change
        assert_same(NAMES, [cells])


# ------------------------------------------------- each special validator

def _row(**cells) -> list:
    ident = cells.pop("id_number", id_number(dt.date(1970, 5, 6)))
    row = {"id_number": ident, "name": "测试", "certificate.number": ident + "42",
           "certificate.category": "4", "certificate.grade": "2", **cells}
    return [row.get(n) for n in NAMES]


def _rejects(**cells) -> list[tuple]:
    _, rejects = assert_same(NAMES, [_row(**cells)])
    return [(r["field"], r["message"]) for r in rejects]


def test_id_number():
    good = id_number(dt.date(1970, 5, 6))
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    assert _rejects(id_number=bad_check, **{"certificate.number": None, "certificate.category": None,
                                            "certificate.grade": None})[0][1].startswith("身份证号码校验位错误")
    assert ("id_number", "身份证号码中的出生日期19700230不是有效日期") in _rejects(
        id_number=good[:10] + "0230" + good[14:])
    assert ("id_number", "身份证号码中的出生年份1879不合理") in _rejects(
        id_number=good[:6] + "1879" + good[10:])
    assert _rejects(id_number=good[:17])[0] == ("id_number", "身份证号码应为18位，实际为17位")
    x_id = next(i for i in (id_number(dt.date(1980, 1, 1), sequence=s) for s in range(100)) if i.endswith("X"))
    frame, _ = assert_same(NAMES, [_row(id_number=x_id.lower(), **{"certificate.number": x_id + "42"})])
    assert frame["id_number"].to_list() == [x_id]
    # full-width digits: whatever the slow path does today, the same here
    assert_same(NAMES, [_row(id_number=good.translate(str.maketrans("0123456789", "０１２３４５６７８９")))])


def test_certificate_number():
    good = id_number(dt.date(1970, 5, 6))
    other = id_number(dt.date(1971, 5, 6))
    assert ("certificate.number", "残疾人证号的前18位应与申请人身份证号一致") in _rejects(
        **{"certificate.number": other + "42"})
    assert ("certificate.category", "残疾人证号中的类别代码为5，与填写的类别4不一致") in _rejects(
        **{"certificate.number": good + "52"})
    assert ("certificate.grade", "残疾人证号中的等级代码为3，与填写的等级2不一致") in _rejects(
        **{"certificate.number": good + "43"})
    assert _rejects(**{"certificate.number": good + "42B0"})[0][0] == "certificate.number"
    frame, _ = assert_same(NAMES, [_row(**{"certificate.number": good + "42b3"})])
    assert frame["certificate.number"].to_list() == [good + "42B3"]
    assert ("certificate.number", "必填项未填写") in _rejects(**{"certificate.number": " "})
    assert ("holds_certificate", "填写了残疾人证，却标为未持证") in _rejects(holds_certificate="否")


def test_county():
    assert _rejects(hukou_county="411222") == [
        ("hukou_county", "411222是已撤销的旧代码，只可能出现在身份证号中；户籍请填现行县（市、区）代码")]
    assert _rejects(hukou_county="110101")[0][1].startswith("户籍代码110101不是三门峡市现行县（市、区）代码")
    assert ("hukou_local", "填写了本市户籍县区，却标为非本市户籍") in _rejects(
        hukou_county="411202", hukou_local="false")
    assert _rejects(hukou_county=" 411202 ", hukou_local="true") == []


def test_name():
    assert _rejects(name="\u3000\x1c") == [("name", "必填项未填写")]
    assert _rejects(name="张" * 51) == [("name", "过长")]
    frame, _ = assert_same(NAMES, [_row(name=" 张三\u3000")])
    assert frame["name"].to_list() == ["张三"]
    assert_same(NAMES, [_row(name="\x1c张三\x1f"), _row(name="张\u200b三")])


def test_evaluation_date():
    earliest, latest = applicant_module.EARLIEST_DATE, applicant_module.LATEST_DATE
    message = next(r for r in _rejects(evaluation_date=str(latest + dt.timedelta(days=1))))[1]
    assert message.startswith("评估日期应在")
    assert _rejects(evaluation_date=str(earliest - dt.timedelta(days=1))) == [("evaluation_date", message)]
    assert _rejects(evaluation_date="2013-02-30") == [("evaluation_date", "应为日期（YYYY-MM-DD）")]
    young = id_number(dt.date(2014, 1, 1))
    assert ("evaluation_date", "评估日期早于申请人出生日期") in _rejects(
        id_number=young, evaluation_date="2013-06-01", **{"certificate.number": young + "42"})
    assert _rejects(evaluation_date=str(latest)) == []
    assert _rejects(evaluation_date=str(max(earliest, dt.date(1970, 5, 6)))) == []


def test_numbers_and_flags_are_never_coerced_beyond_the_slow_path():
    for grade in ["2.5", "2.0", "２", "1,2", "nan", "inf", "1e0", " 2 "]:
        assert_same(NAMES, [_row(**{"certificate.grade": grade})])
    for income in ["1,200", "1_200", "-0", "nan", "1e999", "10000000", "10000000.0000001", "０"]:
        assert_same(NAMES, [_row(**{"household.monthly_income": income})])
    for flag in ["yes ", "Yes", "ｙｅｓ", "1.0", "2", "tRuE", "falſe"]:
        assert_same(NAMES, [_row(**{"status.dibao": flag})])


def test_members_json():
    good = [{"relation": "spouse", "age": 40, "disabled": False}]
    for cell in [json.dumps(good), json.dumps(good * 31), '[{"relation": "spouse", "pet": 1}]', '"三口人"',
                 '[{"relation": "spouse", "relation": "child"}]', '[{"age": 4, "relation": "child"}]',
                 "[" * 5000 + "]" * 5000, '[{"relation": "child", "monthly_income": NaN}]', "[1,]",
                 '[{"relation": "child", "age": 4.0}]', '[{"relation": "child", "age": 1e2}]']:
        assert_same(NAMES, [_row(**{"household.members": cell})])
    assert fast_flags(NAMES, [_row(**{"household.members": json.dumps(good)})]) == [True]


# ----------------------------------------- validators it does not know

def test_an_unknown_validator_sends_rows_down_the_slow_path(monkeypatch):
    class Stricter(Applicant):
        @field_validator("name")
        @classmethod
        def _no_placeholder(cls, value: str) -> str:
            if value == "某某":
                raise applicant_module._fail("姓名不能是占位符")
            return value

    monkeypatch.setattr(applicant_module, "Applicant", Stricter)
    monkeypatch.setattr(validate, "Applicant", Stricter)
    assert any("_no_placeholder" in reason for reason in validate.fallbacks())
    rows = [_row(name="某某"), _row()]
    assert fast_flags(NAMES, rows) == [False, False]
    _, rejects = assert_same(NAMES, rows)
    assert rejects == [{"row": 2, "field": "name", "message": "姓名不能是占位符"}]


def test_a_changed_slow_path_is_trusted_over_the_vectorised_checks(monkeypatch):
    monkeypatch.setattr(validate, "FINGERPRINT", "changed")
    assert validate.fallbacks()
    rows = POOL[:5] + [_row(hukou_county="411222")]
    assert_same(NAMES, rows)


def test_polars_strips_no_character_python_keeps():
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    stripped = pl.Series([f"a{c}" for c in chars]).str.strip_chars().to_list()
    assert [c for c, s in zip(chars, stripped) if s == "a" and not c.isspace()] == []


# ----------------------------------------------------------------- files

def _file_rows(path) -> tuple[list, list, list]:
    caseload = open_caseload(path)
    numbers, rows = [], []
    for number, row in caseload.rows:
        numbers.append(number)
        rows.append(row)           # a BadRow stays one (the reader could not split it)
    return caseload.names, rows, numbers


def test_sample_csv_round_trip():
    raw = frame_readers.read_csv_frame(SAMPLE)
    names, rows, numbers = _file_rows(SAMPLE)
    assert raw["row"].to_list() == numbers
    frame, rejects = validate.validate_frame(raw)
    expected, expected_rejects = slow_path(names, rows, numbers)
    assert_frame_equal(frame, expected, check_exact=True)
    assert rejects == expected_rejects
    assert len(frame) + len({r["row"] for r in rejects}) == len(numbers)


WEIRD_CSV = [
    "id_number,name\r\n{id},张三\r\n,\r\n\r\n{id}, 李四 \r\n",
    "id_number,name\n{id},张三\n\n\n{id},李四",
    "id_number,,name\n{id},x,张三\n,x,\n , ,\u3000\n",
    'id_number,name\n"{id}","张""三"\n"{id}",\n{id},"a\nb"\n',
    'id_number,name\n"{id}"x,张三\n{id},ab"c\n',
    "id_number,name\r{id},张三\r{id},李四\r",
    "\ufeffid_number,name,status.dibao\n{id},张三,yes\n{id},李四\n{id},王五,是,extra\n",
    "id_number,name\n{id},张\xff三\n{id},李四\n",
    'id_number,name\n"{id},张三\n',
]


@pytest.mark.parametrize("text", WEIRD_CSV)
def test_csv_reader_reads_as_the_single_applicant_reader(tmp_path, text):
    path = tmp_path / "c.csv"
    data = text.format(id=id_number(dt.date(1970, 5, 6))).encode("utf-8")
    path.write_bytes(data.replace("\xff".encode(), b"\xff"))
    names, rows, numbers = _file_rows(path)
    raw = frame_readers.read_csv_frame(path)
    assert raw["row"].to_list() == numbers
    frame, rejects = validate.validate_frame(raw)
    expected, expected_rejects = slow_path(names, rows, numbers)
    assert rejects == expected_rejects
    assert_frame_equal(frame, expected, check_exact=True)


def _chunks_read(path) -> tuple[pl.DataFrame | None, list, list]:
    """``applicant_frames``' chunks of a CSV file, joined: (frame, rejects, rows per chunk)."""
    from benefits.costing.frames import applicant_frames
    _, chunks = applicant_frames(str(path))
    chunks = list(chunks)
    frames = [c.frame for c in chunks]
    return (pl.concat(frames) if frames else None), [r for c in chunks for r in c.rejects], [c.rows for c in chunks]


@pytest.mark.parametrize("text", WEIRD_CSV + [
    'id_number,name\n{id},张三\n{id},李四\n{id},"王\n五"\n{id},赵六\n',      # an open quote in a later piece
    'id_number,name\n{id},张三\n{id},"{long}"\n{id},赵六\n',                   # a cell over the limit
    'id_number,name\r\n{id},张三\r\n{id},"李""四"\r\n{id},王五',                # CRLF, quotes, no last line end
    'id_number,name\n{id},张三\n{id},李四,多余\n{id},王五\n',                   # a ragged row in a later piece
    'id_number,name\n{id},张三\n{id},李\xff四\n{id},王五\n',                    # bytes that are not UTF-8 later
    '\ufeffid_number,name\n',                                                    # the header alone
])
def test_csv_read_piece_by_piece_as_whole(tmp_path, monkeypatch, text):
    """Every piece one line (the smallest read): the chunks of the streamed
    reader hold the rows, verdicts and rejects of the whole file read at once."""
    from benefits.caseload import MAX_CELL
    monkeypatch.setattr(frame_readers, "_MIN_READ", 1)
    monkeypatch.setattr("benefits.costing.frames.chunk_rows", lambda total: 1)
    path = tmp_path / "c.csv"
    data = text.format(id=id_number(dt.date(1970, 5, 6)), long="x" * (MAX_CELL + 1)).encode("utf-8")
    path.write_bytes(data.replace("\xff".encode(), b"\xff"))
    whole, whole_rejects = validate.validate_frame(frame_readers.read_csv_frame(path))
    frame, rejects, rows = _chunks_read(path)
    assert sorted(rejects, key=lambda r: r["row"]) == sorted(whole_rejects, key=lambda r: r["row"])
    if frame is None:
        assert whole.height == 0
    else:
        assert_frame_equal(frame, whole, check_exact=True)
    names, _, numbers = _file_rows(path)
    assert sum(rows) == len(numbers)


def test_sample_csv_in_pieces(monkeypatch):
    """The sample caseload in pieces of 7 rows: the same applicants and rejects, in order."""
    monkeypatch.setattr(frame_readers, "_MIN_READ", 1)
    monkeypatch.setattr("benefits.costing.frames.chunk_rows", lambda total: 7)
    whole, whole_rejects = validate.validate_frame(frame_readers.read_csv_frame(SAMPLE))
    frame, rejects, rows = _chunks_read(SAMPLE)
    assert_frame_equal(frame, whole, check_exact=True)
    assert rejects == sorted(whole_rejects, key=lambda r: r["row"])
    assert len(rows) > 100 and sum(rows) == whole.height + len({r["row"] for r in whole_rejects})


def test_read_ahead_raises_where_the_item_was_due_and_stops_when_closed():
    from benefits.costing.frames import read_ahead
    made = []

    def items():
        for i in range(3):
            made.append(i)
            yield i
        raise CaseloadError("第4块无法读取")

    got = []
    with pytest.raises(CaseloadError, match="第4块"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [0, 1, 2]

    def endless():
        i = 0
        while True:
            made.append(i)
            yield i
            i += 1

    made.clear()
    ahead = read_ahead(endless())
    assert next(ahead) == 0
    ahead.close()           # the thread stops after the item it is making
    stopped = len(made)
    assert stopped <= 3
    import time
    time.sleep(0.2)
    assert len(made) == stopped


def test_xlsx_typed_cells_read_as_the_single_applicant_reader(tmp_path):
    from openpyxl import Workbook
    ident = id_number(dt.date(1970, 5, 6))
    book = Workbook()
    sheet = book.active
    header = ["id_number", "name", "certificate.number", "certificate.category", "certificate.grade",
              "household.monthly_income", "status.dibao", "evaluation_date", "hukou_county", "household.members"]
    sheet.append(header)
    sheet.append([ident, "张三", ident + "42", 4, 2, 1200.5, True, dt.datetime(2013, 3, 1), 411202, "[]"])
    sheet.append([ident, "李四", ident + "42", 4.0, 2, 0, 1, dt.date(2013, 3, 1), 411202.0, None])
    sheet.append([ident, True, ident + "42", 4, 2.5, float("nan"), "yes", "2013-03-01", 411222, 5])
    sheet.append([None] * len(header))
    sheet.append([ident, dt.time(8, 30), ident + "42", 4, 2, -1, 0.5, 20130301, 411202.0, "[]"])
    sheet.append([ident, "王五", ident + "42", 4, 2, 10_000_000, False, dt.datetime(2012, 1, 1, 9), None, None])
    path = tmp_path / "c.xlsx"
    book.save(path)
    names, rows, numbers = _file_rows(path)
    raw = frame_readers.read_xlsx_frame(path)
    assert raw["row"].to_list() == numbers == [2, 3, 4, 6, 7]
    frame, rejects = validate.validate_frame(raw)
    expected, expected_rejects = slow_path(names, rows, numbers)
    assert rejects == expected_rejects
    assert_frame_equal(frame, expected, check_exact=True)
    assert raw["_source"].is_null().to_list() == [True, True, False, False, True]


def test_parquet_of_text_columns(tmp_path):
    csv_raw = frame_readers.read_csv_frame(SAMPLE)
    path = tmp_path / "c.parquet"
    blank = pl.DataFrame({n: [None] for n in csv_raw.columns if n != "row"}, schema={
        n: pl.String for n in csv_raw.columns if n != "row"})
    pl.concat([csv_raw.drop("row").head(3), blank, csv_raw.drop("row").slice(3)]).write_parquet(path)
    raw = frame_readers.read_parquet_frame(path)
    assert raw["row"].to_list()[:4] == [1, 2, 3, 5]
    assert_frame_equal(raw.drop("row"), csv_raw.drop("row"))
    pl.DataFrame({"id_number": [1]}).write_parquet(path)
    with pytest.raises(CaseloadError, match="应为文本"):
        frame_readers.read_parquet_frame(path)


def test_money_parses_to_the_same_double_as_python():
    """polars' text→float (cells) and JSON decoding (members) against float()."""
    rng = random.Random(3)
    amounts = [f"{rng.randrange(10 ** rng.randint(1, 7))}.{rng.randrange(10 ** 15):0{rng.randint(1, 15)}d}"
               for _ in range(1500)]
    base = dict(zip(NAMES, POOL[0]))
    rows = []
    for amount in amounts:
        members = json.dumps([{"relation": "child", "monthly_income": 0}]).replace("0}", amount + "}")
        rows.append([{**base, "household.monthly_income": amount, "household.members": members}[n] for n in NAMES])
    assert all(fast_flags(NAMES, rows))
    assert_same(NAMES, rows)


def test_81_cross_checks_are_judged_as_the_single_applicant_path():
    """81号's cross-field checks: placement facts only for government placement,
    a disaster date only when affected; unknown placement type is not an error."""
    placement = "待安置和安置介绍信只适用于政府安排工作的退役士兵，与填写的安置方式不符"
    assert ("military.awaiting_placement", placement) in _rejects(
        **{"military.retired_soldier": "self_employment", "military.awaiting_placement": "是"})
    assert ("military.placement_referred", placement) in _rejects(
        **{"military.retired_soldier": "none", "military.placement_referred": "true"})
    assert _rejects(**{"military.retired_soldier": "government_placement", "military.awaiting_placement": "是",
                       "military.placement_referred": "是"}) == []
    assert _rejects(**{"military.awaiting_placement": "是"}) == []
    assert ("disaster.date", "填写了灾害发生日期，却标为未受灾") in _rejects(
        **{"disaster.affected": "否", "disaster.date": "2013-04-20"})
    assert ("disaster.affected", "必填项未填写") in _rejects(**{"disaster.date": "2013-04-20"})
    assert _rejects(**{"disaster.affected": "是", "disaster.date": "2013-04-20"}) == []
    order = "上岗日期应在介绍信开出日期之后，并先填写介绍信日期"
    assert ("military.placed_date", order) in _rejects(
        **{"military.referral_date": "2013-03-10", "military.placed_date": "2013-03-09"})
    assert ("military.placed_date", order) in _rejects(**{"military.placed_date": "2013-03-09"})
    assert _rejects(**{"military.referral_date": "2013-03-10", "military.placed_date": "2013-03-10",
                       "military.contract_years": "3"}) == []
