"""The roll audit (名册核对, benefits/audit/): planted errors found exactly,
the roll reader's rejects, the names file's errors, the command's exit
codes and the workbook."""
from __future__ import annotations

import datetime as dt
import json
import re

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


@pytest.fixture(scope="module")
def audited(generated):
    caseload, roll, _ = generated
    return run_audit(caseload, roll, AS_OF)


def test_the_audit_finds_every_planted_error_and_nothing_else(generated, audited):
    caseload, roll, planted = generated
    assert planted["as_of"] == AS_OF.isoformat()
    audit = audited
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


def test_findings_carry_clause_quote_condition_and_a_masked_id(audited):
    found = audited.findings
    wrong = found.filter(pl.col("kind") == WRONG).row(0, named=True)
    assert "不成立" in wrong["condition"] and wrong["clause"] and wrong["quote"]
    missed = found.filter(pl.col("kind") == MISSED).row(0, named=True)
    assert missed["condition"].startswith("符合：") and missed["owed_month"] > 0
    assert missed["clause"] in {"63号 二（一）", "81号 第2条", "63号 二（二）", "63号 三（三）"}
    assert re.fullmatch(r"\d{6}\*{8}[0-9X]{4}", missed["id_masked"])
    pending = found.filter(pl.col("kind") == "待核")
    assert pending.height and all(m for m in pending["missing"].to_list())


def test_the_missing_facts_are_ranked_as_the_clerks_page_asks_them(audited):
    """The fact that settles the most of a person's undetermined lines comes first."""
    pending = audited.findings.filter(pl.col("kind") == "待核")
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


def test_exit_codes_for_rejects_no_records_and_unreadable_files(tmp_path):
    caseload = tmp_path / "caseload.csv"
    runner = CliRunner()
    made = runner.invoke(main, ["generate", "--size", "40", "--seed", "2", "--out", str(caseload)])
    assert made.exit_code == 0, made.output

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


# -- the roll as the register of 已纳入低保; partitions; the CSV of every finding ------------------

def _psychiatric(id_number, income):
    """A grade-4 psychiatric applicant living alone, 低保 status not recorded."""
    return {"id_number": id_number, "name": "李明", "hukou_county": "411202", "residence": "urban",
            "certificate": {"number": f"{id_number}64", "category": 6, "grade": 4},
            "household": {"members": [], "monthly_income": income, "assets_within_limit": True}}


def test_a_blank_dibao_status_is_read_off_the_roll_only_where_the_roll_has_dibao(tmp_path):
    poor, rich = an_id(31), an_id(32)
    caseload = tmp_path / "c.jsonl"
    caseload.write_text("\n".join(json.dumps(_psychiatric(i, m)) for i, m in ((poor, 100), (rich, 1000))) + "\n",
                        encoding="utf-8")
    roll = tmp_path / "r.csv"
    # no 低保 row at all: the roll does not register 低保, so the subsidy waits on the status
    roll.write_text(HEADER + f"{rich},精神残疾人补贴,100,2013-01-01,\n", encoding="utf-8")
    found = run_audit(caseload, roll, AS_OF).findings
    assert (PENDING_KIND := "待核") in found.filter(pl.col("id_number") == rich)["kind"].to_list()
    assert "已纳入低保" in found.filter((pl.col("id_number") == rich) & (pl.col("kind") == PENDING_KIND)
                                    & (pl.col("line") == "psychiatric_subsidy"))["missing"][0]
    # a 低保 roll: the rich applicant is not on it, so not 纳入低保, and the subsidy is 错保
    roll.write_text(HEADER + f"{poor},低保,230,2013-01-01,\n{poor},精神残疾人补贴,100,2013-01-01,\n"
                    f"{rich},精神残疾人补贴,100,2013-01-01,\n", encoding="utf-8")
    found = run_audit(caseload, roll, AS_OF).findings
    # (五保 stays 待核 for the rich applicant: whether they are “三无” is not recorded)
    assert set(found.select("kind", "id_number", "line").rows()) == {("待核", rich, "wubao"),
                                                                    (WRONG, rich, "psychiatric_subsidy")}
    assert "已纳入低保 = 是" in found.filter(pl.col("kind") == WRONG)["condition"][0]


def test_two_partitions_give_the_whole_audit(generated, audited, book, names):
    from benefits.audit import Auditor, audit_partition, merge_summaries
    from benefits.audit.api import caseload_frame
    from benefits.costing.columnar import household_key_column
    caseload, roll_path, _ = generated
    whole = audited
    frame, _, _ = caseload_frame(caseload, None)
    roll = read_roll(roll_path, names, AS_OF).frame
    covers = set(roll["line"].unique().to_list())
    auditor = Auditor(book, names)
    side = pl.coalesce(household_key_column(), pl.col("id_number")).hash(1) % 2
    parts = []
    for index in (0, 1):
        part = frame.filter(side == index)
        rows = roll.join(part.select("id_number"), on="id_number", how="semi")
        if index == 0:
            rows = pl.concat([rows, roll.join(frame.select("id_number"), on="id_number", how="anti")])
        parts.append(audit_partition(auditor, part, rows, AS_OF, orphans=index == 0, covers=covers))
    assert merge_summaries([p.summary for p in parts]).equals(whole.summary)
    key = ["kind", "id_number", "line", "roll_row"]
    merged = pl.concat([p.findings for p in parts]).sort(key, nulls_last=True)
    assert merged.equals(whole.findings.sort(key, nulls_last=True))


def test_the_csv_of_every_finding_never_starts_a_formula(tmp_path, generated):
    from benefits.audit.workbook import findings_csv
    caseload, _, _ = generated
    frame = pl.read_csv(caseload, infer_schema=False)
    stranger = an_id(77, "19700101")
    roll = tmp_path / "r.csv"
    roll.write_text(HEADER + f"{stranger},=低保,100,2013-01-01,\n{frame['id_number'][0]},低保,5,2013-01-01,\n",
                    encoding="utf-8")
    names_file = tmp_path / "names.yaml"
    names_file.write_text("lines:\n  - line: dibao\n    label_zh: 城乡低保\n    rules: [dibao_inclusion, dibao_81]\n"
                          "    names: ['=低保', 低保]\n", encoding="utf-8")
    audit = run_audit(caseload, roll, AS_OF, names=load_names(load_rulebook(), names_file))
    findings_csv(audit, tmp_path / "f.csv", full_ids=True)
    text = (tmp_path / "f.csv").read_text(encoding="utf-8-sig")
    assert "'=低保" in text and ",=低保" not in text
    assert stranger in text
    findings_csv(audit, tmp_path / "m.csv")
    assert stranger not in (tmp_path / "m.csv").read_text(encoding="utf-8-sig")
