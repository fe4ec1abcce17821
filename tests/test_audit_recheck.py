"""The 动态管理 re-check list (benefits/audit/recheck.py): who changes on
which day and why, held against the durable engine's determination on the
day before and the day itself (the differential principle)."""
from __future__ import annotations

import datetime as dt

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from benefits.audit import RecheckError, recheck, run_recheck
from benefits.caseload import write_caseload
from benefits.cli import main
from benefits.engine.applicant import parse_applicant
from benefits.engine.columnar import frame_from_records
from benefits.engine.identity import mask_id
from benefits.engine.vocabulary import STATUS_ZH
from tests.factories import applicant, id_number

DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def rulebook(engine):
    return engine.rulebook


def _frame(records: list[dict]) -> pl.DataFrame:
    return frame_from_records([parse_applicant(r) for r in records], list(range(1, len(records) + 1)))


def _durable(engine, record: dict, day: dt.date, line: str) -> tuple[str, float | None]:
    """The line's status (as the list says it) and amount on ``day``, one-offs
    counted in their year (as the estimate and the list count them)."""
    result = engine.determine(parse_applicant(record), day, events_from=dt.date(day.year, 1, 1))
    entry = next(b for b in result["benefits"] if b["benefit"] == line)
    amount = entry["amount"] or {}
    return STATUS_ZH[entry["status"]], amount.get("value", amount.get("min"))


def _agrees(engine, record: dict, rows: pl.DataFrame) -> None:
    """Every listed change is a change the durable engine makes on that day."""
    assert rows.height
    for r in rows.iter_rows(named=True):
        before = _durable(engine, record, r["day"] - DAY, r["line"])
        after = _durable(engine, record, r["day"], r["line"])
        assert before != after, r
        assert (r["status_before"], r["amount_before"]) == before, r
        assert (r["status_after"], r["amount_after"]) == after, r


def _of(frame: pl.DataFrame, row: int) -> pl.DataFrame:
    return frame.filter(pl.col("row") == row)


# -- a window in 2026: birthdays ------------------------------------------------------

AS_OF_2026 = dt.date(2026, 1, 15)
PEOPLE_2026 = {
    "sixty": applicant(birth=dt.date(1966, 3, 10)),
    "sixteen": applicant(birth=dt.date(2010, 5, 5)),
    "eighteen": applicant(birth=dt.date(2008, 8, 8), category=1, grade=1),
    "sixty_on_last_day": applicant(birth=dt.date(1967, 1, 15)),
    "sixty_day_after": applicant(birth=dt.date(1967, 1, 16)),
}
ROW_2026 = {name: i for i, name in enumerate(PEOPLE_2026, 1)}


@pytest.fixture(scope="module")
def list_2026():
    return recheck(_frame(list(PEOPLE_2026.values())), AS_OF_2026, 12)


@pytest.mark.parametrize("who,age,day", [("sixty", 60, dt.date(2026, 3, 10)), ("sixteen", 16, dt.date(2026, 5, 5)),
                                         ("eighteen", 18, dt.date(2026, 8, 8)),
                                         ("sixty_on_last_day", 60, dt.date(2027, 1, 15))])
def test_a_birthday_inside_the_window_is_listed_on_its_day(engine, list_2026, who, age, day):
    rows = _of(list_2026, ROW_2026[who])
    assert set(rows["day"]) == {day}
    assert set(rows["reason"]) == {f"年满{age}周岁"}
    assert set(rows["reason_kind"]) == {f"年满{age}周岁"}
    _agrees(engine, PEOPLE_2026[who], rows)


def test_a_birthday_the_day_after_the_window_is_not_listed(engine, list_2026):
    record = PEOPLE_2026["sixty_day_after"]
    assert _of(list_2026, ROW_2026["sixty_day_after"]).height == 0
    # not for want of a change: the durable engine changes the same lines a day later
    day = dt.date(2027, 1, 16)
    lines = set(_of(list_2026, ROW_2026["sixty_on_last_day"])["line"])
    assert all(_durable(engine, record, day - DAY, b) != _durable(engine, record, day, b) for b in lines)


def test_every_change_the_durable_engine_makes_on_those_days_is_listed(engine, list_2026):
    record, row = PEOPLE_2026["sixty"], ROW_2026["sixty"]
    day = dt.date(2026, 3, 10)
    before = engine.determine(parse_applicant(record), day - DAY, events_from=dt.date(2026, 1, 1))
    after = engine.determine(parse_applicant(record), day, events_from=dt.date(2026, 1, 1))
    changed = {a["benefit"] for a, b in zip(before["benefits"], after["benefits"])
               if (a["status"], a["amount"], a["payer_split"]) != (b["status"], b["amount"], b["payer_split"])}
    assert changed and set(_of(list_2026, row)["line"]) == changed


def test_the_list_names_the_line_masks_the_id_and_keeps_the_full_one_apart(list_2026):
    rows = _of(list_2026, ROW_2026["sixty"])
    ident = PEOPLE_2026["sixty"]["id_number"]
    assert set(rows["id_masked"]) == {mask_id(ident)} and set(rows["id_number"]) == {ident}
    assert rows["line_zh"].null_count() == 0 and rows["clause"].null_count() == 0
    assert set(rows["county_zh"]) == {"湖滨区"}


# -- a window in 2013: parameters, the placement deadline, one-offs -----------------------

AS_OF_2013 = dt.date(2013, 6, 15)
PEOPLE_2013 = {
    "dibao": applicant(grade=1, status={"dibao": True}, household={"monthly_income": 100,
                                                                   "assets_within_limit": True}),
    "student": applicant(age=20, grade=1, status={"dibao": True, "low_income": True},
                         education={"admission": {"level": "bachelor", "full_time": True, "date": "2013-09-01"}}),
    "soldier": applicant(age=25, category=None, grade=None, holds_certificate=False,
                         military={"retired_soldier": "government_placement", "placement_referred": True,
                                   "referral_date": "2013-08-31"}),
    "unchanged": applicant(age=30),
    "elsewhere": applicant(age=30, county="411282", grade=1, status={"dibao": True},
                           household={"monthly_income": 100, "assets_within_limit": True}),
}
ROW_2013 = {name: i for i, name in enumerate(PEOPLE_2013, 1)}


@pytest.fixture(scope="module")
def run_2013():
    return run_recheck(_frame(list(PEOPLE_2013.values())), AS_OF_2013, 12)


def test_a_parameter_dated_inside_the_window_is_named_with_its_value(engine, rulebook, run_2013):
    rows = _of(run_2013.frame, ROW_2013["dibao"])
    spec = rulebook.parameters["dibao_standard"]
    day = next(e.from_ for e in spec.values if AS_OF_2013 < e.from_)
    value = spec.resolve(day, {"hukou_county": "411202", "residence": "urban"})
    assert set(rows["day"]) == {day}
    for reason in rows["reason"]:
        assert spec.label_zh in reason and f"为 {value} {spec.unit}" in reason and "未核实/假设" in reason
    assert set(rows["reason_kind"]) == {"参数调整"}
    _agrees(engine, PEOPLE_2013["dibao"], rows)
    assert rows.filter(pl.col("amount_after") != pl.col("amount_before")).height   # the money changes too


def test_the_placement_deadline_is_listed_the_day_after_one_month(engine, run_2013):
    rows = _of(run_2013.frame, ROW_2013["soldier"])
    overdue = rows.filter(pl.col("reason_kind") == "安置期限届满")
    assert overdue.height and set(overdue["day"]) == {dt.date(2013, 10, 1)}
    assert "2013-08-31" in overdue["reason"][0] and "81号 第10条" in overdue["reason"][0]
    _agrees(engine, PEOPLE_2013["soldier"], overdue)


def test_a_one_off_counts_from_its_event_and_ages_out_with_its_year(engine, run_2013):
    rows = _of(run_2013.frame, ROW_2013["student"]).filter(pl.col("line") == "tuition_grant")
    assert rows["day"].to_list() == [dt.date(2013, 9, 1), dt.date(2014, 1, 1)]
    assert rows["reason_kind"].to_list() == ["事件日期到来", "一次性事件期满"]
    _agrees(engine, PEOPLE_2013["student"], rows)


def test_nothing_is_listed_for_a_person_whose_lines_do_not_change(engine, run_2013):
    record = PEOPLE_2013["unchanged"]
    assert _of(run_2013.frame, ROW_2013["unchanged"]).height == 0
    # the durable engine agrees on the first of every month of the window
    days = [AS_OF_2013] + [dt.date(2013 + (6 + m) // 12, (6 + m) % 12 + 1, 1) for m in range(12)]
    first, *rest = [engine.determine(parse_applicant(record), d, events_from=dt.date(d.year, 1, 1)) for d in days]
    strip = [[(b["benefit"], b["status"], b["amount"], b["payer_split"]) for b in r["benefits"]]
             for r in [first, *rest]]
    assert all(s == strip[0] for s in strip[1:])


def test_the_list_is_sorted_per_county_by_day_and_summarised(run_2013):
    frame = run_2013.frame
    assert frame.select("county", "day").rows() == sorted(frame.select("county", "day").rows())
    assert run_2013.summary["changes"].sum() == frame.height
    assert set(run_2013.summary["county"]) == {"411202", "411282"}
    assert set(run_2013.summary["month"]) == set(frame["day"].dt.strftime("%Y-%m"))


def test_a_county_sees_its_own_people_only(run_2013):
    own = recheck(_frame(list(PEOPLE_2013.values())), AS_OF_2013, 12, county="411282")
    assert own.height and set(own["county"]) == {"411282"}
    assert own.drop("row").equals(run_2013.frame.filter(pl.col("county") == "411282").drop("row"))


def test_a_document_coming_into_force_is_a_reason(engine, rulebook):
    record = applicant(age=30)
    frame = recheck(_frame([record]), dt.date(2012, 10, 1), 3)
    day = rulebook.in_force_of["81号"].from_
    rows = frame.filter(pl.col("day") == day)
    assert rows.height and set(rows["reason"]) == {f"81号自{day.isoformat()}施行"}
    _agrees(engine, record, rows.head(3))


def test_a_household_member_turning_60_is_a_reason(engine):
    member = {"id_number": id_number(dt.date(1953, 5, 2), sequence=7), "relation": "parent"}
    record = applicant(age=40, grade=1, status={"low_income": True}, household={"members": [member]})
    rows = recheck(_frame([record]), dt.date(2013, 3, 1), 6)
    assert rows.height and set(rows["reason"]) == {"家庭成员年满60周岁"}
    assert set(rows["day"]) == {dt.date(2013, 5, 2)}
    _agrees(engine, record, rows)


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("months", [0, -1, 1000, "3", 2.5, True])
def test_a_bad_window_is_refused_in_chinese(months):
    with pytest.raises(RecheckError, match="月数应为 1 到 60 之间的整数"):
        recheck(_frame([applicant()]), AS_OF_2013, months)


def test_a_bad_county_is_refused_in_chinese():
    with pytest.raises(RecheckError, match="不是三门峡市现行县区代码"):
        recheck(_frame([applicant()]), AS_OF_2013, 3, county="411222")


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    path = tmp_path_factory.mktemp("recheck") / "caseload.csv"
    write_caseload(list(PEOPLE_2013.values()), path)
    return path


@pytest.mark.parametrize("args,message", [
    ([], "请给出台账文件 CASELOAD"),
    (["CASELOAD", "--months", "3"], "请用 --as-of YYYY-MM-DD 给出核对日"),
    (["CASELOAD", "--as-of", "2013-06-15"], "请用 --months N 给出向后看的月数"),
    (["CASELOAD", "--as-of", "2013-06-15", "--months", "3", "--out", "x.csv"], "输出文件应以 .xlsx 结尾"),
])
def test_a_missing_argument_gets_a_chinese_error_and_exit_2(caseload, args, message):
    args = [str(caseload) if a == "CASELOAD" else a for a in args]
    result = CliRunner().invoke(main, ["recheck", *args, "--quiet"])
    assert result.exit_code == 2 and message in result.output, result.output


@pytest.mark.parametrize("args,message", [
    (["--months", "0"], "月数应为 1 到 60 之间的整数，实际为 '0'"),
    (["--months", "-3"], "月数应为 1 到 60 之间的整数，实际为 '-3'"),
    (["--months", "1000"], "月数应为 1 到 60 之间的整数，实际为 '1000'"),
    (["--months", "十二"], "月数应为 1 到 60 之间的整数，实际为 '十二'"),
    (["--months", "3", "--as-of", "2013-02-30"], "应为日期 YYYY-MM-DD，实际为 '2013-02-30'"),
    (["--months", "3", "--as-of", "明天"], "应为日期 YYYY-MM-DD，实际为 '明天'"),
    (["--months", "3", "--as-of", "1899-12-31"], "应在1900-01-01至2100-12-31之间"),
    (["--months", "3", "--county", "123"], "不是三门峡市现行县区代码"),
])
def test_bad_options_get_a_chinese_error_and_exit_2(caseload, args, message):
    if "--as-of" not in args:
        args = args + ["--as-of", "2013-06-15"]
    result = CliRunner().invoke(main, ["recheck", str(caseload), "--quiet", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_a_missing_caseload_is_one_chinese_line(tmp_path):
    result = CliRunner().invoke(main, ["recheck", str(tmp_path / "none.csv"), "--as-of", "2013-06-15",
                                       "--months", "3", "--quiet"])
    assert result.exit_code == 66 and "找不到台账文件" in result.output


def test_an_empty_caseload_says_so(tmp_path):
    path = tmp_path / "empty.csv"
    write_caseload([], path)
    result = CliRunner().invoke(main, ["recheck", str(path), "--as-of", "2013-06-15", "--months", "3", "--quiet"])
    assert result.exit_code == 3 and "没有记录" in result.output, result.output


def test_the_command_prints_a_summary_and_writes_a_masked_workbook(caseload, tmp_path, run_2013):
    out = tmp_path / "recheck.xlsx"
    result = CliRunner().invoke(main, ["recheck", str(caseload), "--as-of", "2013-06-15", "--months", "12",
                                       "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert f"共 {run_2013.frame.height:,} 项变动" in result.output and "参数调整" in result.output
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["汇总", "动态复核", "参数与假设", "拒绝记录"]
    named = {r[0]: r[6] for r in book["参数与假设"].iter_rows(min_row=3, values_only=True)}
    assert named["dibao_standard"] == "未核实/假设" and "elderly_allowance_age" in named
    rows = list(book["动态复核"].iter_rows(min_row=3, values_only=True))
    assert len(rows) == run_2013.frame.height
    ids = {r[2] for r in rows}
    assert ids == set(run_2013.frame["id_masked"]) and not ids & set(run_2013.frame["id_number"])
    full = tmp_path / "full.xlsx"
    result = CliRunner().invoke(main, ["recheck", str(caseload), "--as-of", "2013-06-15", "--months", "12",
                                       "--out", str(full), "--full-ids", "--quiet"])
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(full, read_only=True)["动态复核"].iter_rows(min_row=3, values_only=True))
    assert {r[2] for r in rows} == set(run_2013.frame["id_number"])


def test_a_rejected_row_is_counted_and_listed_with_its_chinese_message(tmp_path):
    path, out = tmp_path / "bad.csv", tmp_path / "bad.xlsx"
    bad = dict(applicant(age=30), id_number="411202198301010010")      # a wrong check character
    write_caseload([PEOPLE_2013["dibao"], bad], path)
    result = CliRunner().invoke(main, ["recheck", str(path), "--as-of", "2013-06-15", "--months", "12",
                                       "--out", str(out), "--quiet"])
    assert result.exit_code == 0 and "拒绝 1 行" in result.output, result.output
    rejected = list(openpyxl.load_workbook(out, read_only=True)["拒绝记录"].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in rejected] == [3] and "身份证" in rejected[0][2]      # the file's line: the header is 1
