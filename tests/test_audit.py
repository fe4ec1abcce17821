"""The roll audit (名册核对, benefits/audit/): planted errors found exactly,
the roll reader's rejects, the names file's errors, the command's exit
codes and the workbook."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from benefits.audit import MappingError, load_names, read_roll, run_audit
from benefits.audit.findings import DIFFERENCE, DUPLICATE, MISSED, NOT_IN_CASELOAD, WRONG
from benefits.caseload import CaseloadError, LayoutError
from benefits.cli import main
from benefits.engine.identity import check_character
from benefits.engine.rulebook import load_rulebook

AS_OF = dt.date(2013, 7, 1)
HEADER = "身份证号,救助项目,月发放金额,起始日期,县区\n"


def an_id(seq: int = 11, birth: str = "19800101", code: str = "411202") -> str:
    first = f"{code}{birth}{seq:03d}"
    return first + check_character(first)


@pytest.fixture(scope="module")
def book():
    return load_rulebook()


@pytest.fixture(scope="module")
def names(book):
    return load_names(book)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """``benefits generate --size 2500 --roll``: a caseload and its roll with planted errors."""
    folder = tmp_path_factory.mktemp("audit")
    caseload, roll = folder / "caseload.csv", folder / "roll.csv"
    made = CliRunner().invoke(main, ["generate", "--size", "2500", "--seed", "4", "--out", str(caseload),
                                     "--roll", str(roll), "--roll-as-of", AS_OF.isoformat()])
    assert made.exit_code == 0, made.output
    planted = json.loads(roll.with_suffix(".planted.json").read_text(encoding="utf-8"))
    return caseload, roll, planted


def test_the_audit_finds_every_planted_error_and_nothing_else(generated):
    caseload, roll, planted = generated
    assert planted["as_of"] == AS_OF.isoformat()
    audit = run_audit(caseload, roll, AS_OF)
    found = audit.findings
    for kind in (MISSED, WRONG, DIFFERENCE, DUPLICATE):
        expected = {(p["id_number"], p["line"]) for p in planted["planted"] if p["kind"] == kind}
        got = set(found.filter(pl.col("kind") == kind).select("id_number", "line").iter_rows())
        assert expected, f"nothing of {kind} was planted"
        recall = len(expected & got) / len(expected)
        precision = len(expected & got) / len(got) if got else 0
        assert (recall, precision) == (1, 1), (kind, expected - got, got - expected)
    diffs = {(p["id_number"], p["line"]): p["diff_month"] for p in planted["planted"] if p["kind"] == DIFFERENCE}
    for id_number, line, diff, year in found.filter(pl.col("kind") == DIFFERENCE).select(
            "id_number", "line", "diff_month", "diff_year").iter_rows():
        assert diff == pytest.approx(diffs[(id_number, line)], abs=0.001)
        assert year == pytest.approx(diff * 12, abs=0.001)
    rows = {p["row"] for p in planted["planted"] if p["kind"] == DUPLICATE}
    assert set(found.filter(pl.col("kind") == DUPLICATE)["roll_row"].to_list()) == rows
    assert found.filter(pl.col("kind") == NOT_IN_CASELOAD).height == 0
    assert not audit.roll_rejects


def test_findings_carry_clause_quote_condition_and_a_masked_id(generated):
    caseload, roll, _ = generated
    found = run_audit(caseload, roll, AS_OF).findings
    wrong = found.filter(pl.col("kind") == WRONG).row(0, named=True)
    assert "不成立" in wrong["condition"] and wrong["clause"] and wrong["quote"]
    missed = found.filter(pl.col("kind") == MISSED).row(0, named=True)
    assert missed["condition"].startswith("符合：") and missed["owed_month"] > 0
    assert missed["clause"] in {"63号 二（一）", "81号 第2条", "63号 二（二）", "63号 三（三）"}
    assert re.fullmatch(r"\d{6}\*{8}[0-9X]{4}", missed["id_masked"])
    pending = found.filter(pl.col("kind") == "待核")
    assert pending.height and all(m for m in pending["missing"].to_list())


def test_the_missing_facts_are_ranked_as_the_clerks_page_asks_them(generated):
    """The fact that settles the most of a person's undetermined lines comes first."""
    caseload, roll, _ = generated
    pending = run_audit(caseload, roll, AS_OF).findings.filter(pl.col("kind") == "待核")
    counts = {}
    for id_number, missing in pending.select("id_number", "missing").iter_rows():
        for fact in missing:
            counts[(id_number, fact)] = counts.get((id_number, fact), 0) + 1
    for id_number, missing in pending.select("id_number", "missing").iter_rows():
        ranks = [counts[(id_number, f)] for f in missing]
        assert ranks == sorted(ranks, reverse=True)


def test_a_county_sees_only_its_own(generated):
    caseload, roll, _ = generated
    audit = run_audit(caseload, roll, AS_OF, county="411221")
    assert set(audit.findings["county"].to_list()) == {"411221"}
    assert set(audit.summary["county"].to_list()) == {"411221"}


# -- a household's 低保 is paid once ------------------------------------------------

def _member(id_number):
    return {"relation": "spouse", "id_number": id_number, "monthly_income": 0, "disabled": False}


def _resident(id_number, other):
    return {"id_number": id_number, "name": "王芳", "hukou_county": "411202", "residence": "urban",
            "holds_certificate": False, "household": {"members": [_member(other)], "monthly_income": 200,
                                                       "assets_within_limit": True},
            "status": {"dibao": True, "wubao": False}}


def test_a_household_is_owed_once_and_two_rows_for_it_are_a_duplicate(tmp_path):
    a, b = an_id(11), an_id(23, "19820202")
    caseload = tmp_path / "c.jsonl"
    caseload.write_text("\n".join(json.dumps(_resident(x, y)) for x, y in ((a, b), (b, a))) + "\n", encoding="utf-8")
    roll = tmp_path / "r.csv"
    # 2 persons, income 100 a head, standard 330 (湖滨 城镇 from 2013-07-01, example): 460 a month for the household
    roll.write_text(HEADER + f"{a},低保,460,2013-01-01,湖滨区\n", encoding="utf-8")
    assert run_audit(caseload, roll, AS_OF).findings.height == 0
    roll.write_text(HEADER + f"{a},低保,460,2013-01-01,\n{b},城市低保,460,2013-02-01,\n", encoding="utf-8")
    found = run_audit(caseload, roll, AS_OF).findings
    assert found.select("kind", "id_number", "roll_row").rows() == [(DUPLICATE, b, 3)]
    assert found["household"].to_list() == [min(a, b)]
    roll.write_text(HEADER + f"{b},低保,350,2013-01-01,\n", encoding="utf-8")
    found = run_audit(caseload, roll, AS_OF).findings
    assert found.select("kind", "owed_month", "paid_month", "diff_month", "diff_year").rows() == [
        (DIFFERENCE, 460.0, 350.0, -110.0, -1320.0)]
    assert "共同生活 2 人，每户每月应发 460.00 元，实发 350.00 元" in found["condition"][0]
    assert found["household"].to_list() == [min(a, b)] if b != min(a, b) else [None]


# -- the roll reader ------------------------------------------------------------------

def _read(tmp_path, text, names, encoding="utf-8", as_of=AS_OF):
    path = tmp_path / "roll.csv"
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return read_roll(path, names, as_of)


@pytest.mark.parametrize("row, field, message", [
    (f"{an_id()[:-1]}{'0' if an_id()[-1] != '0' else '1'},低保,300,2013-01-01,", "id_number", "校验位错误"),
    (f"{an_id()},低保补助金,300,2013-01-01,", "line", "不认识的救助项目“低保补助金”"),
    (f"{an_id()},低保,-5,2013-01-01,", "amount", "不能为负数"),
    (f"{an_id()},低保,三百,2013-01-01,", "amount", "应为数字"),
    (f"{an_id()},低保,300.125,2013-01-01,", "amount", "最多两位小数"),
    (f"{an_id()},低保,,2013-01-01,", "amount", "缺少月发放金额"),
    (f"{an_id()},低保,300,2013-02-30,", "since", "应为有效日期"),
    (f"{an_id()},低保,300,2014-01-01,", "since", "晚于核对日"),
    (f"{an_id()},低保,300,2013-01-01,洛阳", "county", "县区应为三门峡市现行县区"),
])
def test_each_bad_row_is_rejected_with_its_row_and_a_chinese_message(tmp_path, names, row, field, message):
    good = f"{an_id(12)},五保供养,200,2013-01-01,卢氏县"
    roll = _read(tmp_path, HEADER + good + "\n" + row + "\n", names)
    assert roll.frame.height == 1 and roll.frame["county"][0] == "411224"
    assert [(r["row"], r["field"]) for r in roll.rejects] == [(3, field)]
    assert message in roll.rejects[0]["message"]


def test_a_row_copied_twice_is_rejected_but_two_payments_are_kept(tmp_path, names):
    row = f"{an_id()},低保,300,2013-01-01,"
    roll = _read(tmp_path, HEADER + row + "\n" + row + "\n" + f"{an_id()},城市低保,300,2013-03-01,\n", names)
    assert roll.frame["row"].to_list() == [2, 4]
    assert roll.rejects == [{"row": 3, "field": "(记录)", "message": "与第2行完全相同（重复的行），已略去"}]


def test_full_width_digits_and_thousands_are_read(tmp_path, names):
    wide = an_id().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    roll = _read(tmp_path, HEADER + f"{wide},dibao_81,\"1,200.5\",2013-01-01,411202\n", names)
    assert roll.rejects == []
    assert roll.frame.select("id_number", "line", "amount").row(0) == (an_id(), "dibao", 1200.5)


@pytest.mark.parametrize("header, message", [
    ("身份证号,项目名称,月发放金额,起始日期\n", "不认识的列：项目名称"),
    ("身份证号,救助项目,起始日期\n", "缺少必需的列：月发放金额"),
    ("身份证号,id_number,救助项目,月发放金额,起始日期\n", "出现了两次"),
])
def test_a_bad_header_is_one_clear_error(tmp_path, names, header, message):
    with pytest.raises(LayoutError, match=message):
        _read(tmp_path, header + f"{an_id()},低保,300,2013-01-01\n", names)


def test_an_empty_file_and_a_header_alone(tmp_path, names):
    with pytest.raises(CaseloadError, match="CSV文件为空"):
        _read(tmp_path, b"", names)
    roll = _read(tmp_path, "\ufeff" + HEADER, names)
    assert roll.rows == 0 and roll.frame.height == 0


def test_a_huge_cell_rejects_its_row_only(tmp_path, names):
    roll = _read(tmp_path, HEADER + f"{an_id()},低保,300,2013-01-01,\n{an_id(13)},\"{'x' * 200_000}\",1,2013-01-01,\n",
                 names)
    assert roll.frame.height == 1
    assert roll.rejects[0]["row"] == 3 and "128 KB" in roll.rejects[0]["message"]


def test_a_roll_in_gbk_is_read_whole_as_gb18030(tmp_path, names):
    """What Chinese Excel writes ("CSV（逗号分隔）"): the whole file is read as
    GB18030, the Chinese header and line names intact, nothing rejected."""
    roll = _read(tmp_path, HEADER + f"{an_id()},低保,300,2013-01-01,\n" + f"{an_id(13)},五保供养,400,2013-01-01,\n",
                 names, encoding="gbk")
    assert roll.rejects == [] and roll.frame.height == 2


def test_xlsx_and_parquet_rolls(tmp_path, names):
    book = Workbook()
    sheet = book.active
    sheet.append(["身份证号", "救助项目", "月发放金额", "起始日期"])
    sheet.append([an_id(), "低保", 300, dt.datetime(2013, 1, 1)])
    sheet.append([an_id(13), "低保", 12.345, dt.datetime(2013, 1, 1)])
    book.save(tmp_path / "r.xlsx")
    roll = read_roll(tmp_path / "r.xlsx", names, AS_OF)
    assert roll.frame.select("amount", "since").row(0) == (300.0, dt.date(2013, 1, 1))
    assert [(r["row"], r["field"]) for r in roll.rejects] == [(3, "amount")]
    pl.DataFrame({"id_number": [an_id()], "line": ["五保"], "amount": [150.0], "since": [dt.date(2013, 1, 1)]}
                 ).write_parquet(tmp_path / "r.parquet")
    assert read_roll(tmp_path / "r.parquet", names, AS_OF).frame["line"].to_list() == ["wubao"]


def test_a_damaged_xlsx_is_one_clear_error(tmp_path, names):
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(CaseloadError, match="XLSX文件已损坏") as caught:
        read_roll(path, names, AS_OF)
    assert caught.value.exit_code == 66


# -- the names file ---------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("lines:\n  - line: dibao\n    label_zh: 低保\n    rules: [dibao_inclusion, dibao_82]\n",
     "x.yaml:4：不认识的规则编号“dibao_82”"),
    ("lines:\n  - line: bus\n    label_zh: 公交\n    rules:\n      - free_public_transport\n",
     "x.yaml:5：规则“free_public_transport”（免费乘坐辖区内公交）没有确定的现金金额"),
    ("lines:\n  - line: a\n    label_zh: 甲\n    rules: [dibao_inclusion]\n    names: [低保]\n"
     "  - line: b\n    label_zh: 乙\n    rules: [dibao_81]\n    names: [低保]\n", "x.yaml:9：名称“低保”已用于项目“a”"),
    ("lines:\n  - line: a\n    label_zh: 甲\n    rules: [dibao_inclusion]\n    colour: red\n", "x.yaml:5："),
    ("lines: [\n", "x.yaml:2：不是有效的 YAML"),
])
def test_a_bad_names_file_says_file_and_line(tmp_path, book, text, message):
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_names(book, path)
    assert message in str(caught.value).replace(str(tmp_path) + "/", "")


def test_rule_ids_and_rule_names_are_read_without_the_file_naming_them(names, book):
    assert names.line_of("dibao_81") == "dibao"
    assert names.line_of(book.by_id["psychiatric_dibao_subsidy"].label_zh) == "psychiatric_subsidy"
    assert names.line_of("农村低保") == "dibao" and names.line_of("五保供养") == "wubao"


# -- the command --------------------------------------------------------------------------

def test_the_command_writes_the_workbook_and_says_the_summary_in_chinese(generated, tmp_path):
    caseload, roll, _ = generated
    out = tmp_path / "核对.xlsx"
    result = CliRunner().invoke(main, ["audit", str(caseload), "--roll", str(roll), "--as-of", "2013-07-01",
                                       "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "名册核对" in result.output and "漏保" in result.output and "重复发放" in result.output
    book = load_workbook(out)
    assert book.sheetnames == ["汇总", "图表", "漏保", "错保", "差额", "待核", "重复", "名册有台账无", "名册拒绝", "说明"]
    assert book["汇总"]["A1"].value.startswith("核对日 2013-07-01")
    ids = [r[1] for r in book["漏保"].iter_rows(min_row=3, values_only=True)]
    assert ids and all(re.fullmatch(r"\d{6}\*{8}[0-9X]{4}", i) for i in ids)
    notes = "\n".join(r[0] for r in book["说明"].iter_rows(values_only=True) if r[0])
    assert "⚠ 未核实参数" in notes and "⚠假设" in notes
    assert out.with_suffix(".png").stat().st_size > 0


@pytest.mark.parametrize("args, code, message", [
    (["--as-of", "2013-13-01"], 2, "应为日期"),
    (["--county", "411299"], 2, "411299"),
])
def test_bad_usage_is_exit_2(generated, tmp_path, args, code, message):
    caseload, roll, _ = generated
    result = CliRunner().invoke(main, ["audit", str(caseload), "--roll", str(roll), "--out",
                                       str(tmp_path / "a.xlsx"), "--quiet", *(["--as-of", "2013-07-01"]
                                                                             if "--as-of" not in args else []), *args])
    assert result.exit_code == code and message in result.output


def test_exit_codes_for_rejects_no_records_and_unreadable_files(generated, tmp_path):
    caseload, _, _ = generated
    runner = CliRunner()

    def run(roll, *extra):
        return runner.invoke(main, ["audit", str(caseload), "--roll", str(roll), "--as-of", "2013-07-01",
                                    "--out", str(tmp_path / "a.xlsx"), "--quiet", *extra])
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + f"{an_id()},低保,-1,2013-01-01,\n", encoding="utf-8")
    result = run(bad)
    assert result.exit_code == 1 and "第2行 amount：月发放金额不能为负数" in result.output
    assert (tmp_path / "a.xlsx").exists()
    (tmp_path / "a.xlsx").unlink()
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER, encoding="utf-8")
    result = run(empty)
    assert result.exit_code == 3 and "没有记录" in result.output
    assert not (tmp_path / "a.xlsx").exists()
    result = run(tmp_path / "missing.csv")
    assert result.exit_code == 1 and "找不到名册文件" in result.output
    names = tmp_path / "names.yaml"
    names.write_text("lines: []\n", encoding="utf-8")
    result = run(bad, "--names", str(names))
    assert result.exit_code == 1 and "names.yaml:1" in result.output
    assert "Traceback" not in result.output
