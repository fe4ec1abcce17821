"""``benefits compare`` end to end: terminal summary, workbook, refusals."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from benefits.cli import main

REFORMS = Path(__file__).resolve().parents[1] / "reforms"
SHEETS = ["概要", "按项目", "按县区", "项目×县区×出资方", "状态变化", "增减分布", "法定底线", "示例", "人员变化",
          "拒绝记录"]


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    path = tmp_path_factory.mktemp("compare") / "caseload.csv"
    made = CliRunner().invoke(main, ["generate", "--size", "300", "--seed", "5", "--bad", "2", "--out", str(path)])
    assert made.exit_code == 0, made.output
    return path


def test_compare_prints_the_summary_and_writes_the_workbook(caseload, tmp_path):
    out = tmp_path / "compare.xlsx"
    result = CliRunner().invoke(main, ["compare", str(caseload), "--reform", str(REFORMS / "severe-grade-1.yaml"),
                                       "--year", "2013", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for text in ("改革方案：重度残疾人只含一级", "台账 300 条，已评估 298 人，拒绝 2 条", "有变化的项目：",
                 "低保重度残疾人定额补贴", "符合  不符合", "法定底线（63号）：16 项符合", f"工作簿：{out}"):
        assert text in result.output, text
    book = load_workbook(out)
    assert book.sheetnames == SHEETS
    assert book["按县区"]._charts and book["增减分布"]._charts
    topup = next(r for r in book["按项目"].iter_rows(min_row=3, values_only=True) if r[1] == "dibao_topup")
    assert topup[6] > 0 and isinstance(topup[12], (int, float)) and topup[12] < 0      # losers, money lost
    examples = list(book["示例"].iter_rows(min_row=3, values_only=True))
    assert examples and all(row[8] and row[11] for row in examples if row[9] != "无此项")


def test_a_broken_floor_is_reported_and_the_run_still_completes(caseload, tmp_path):
    reform = tmp_path / "low.yaml"
    reform.write_text("label: 补贴降到15%\nreason: 测试底线\nparameters:\n  dibao_topup_ratio:\n"
                      "    values: [{from: 2013-01-01, value: 0.15}]\n")
    out = tmp_path / "low.xlsx"
    result = CliRunner().invoke(main, ["compare", str(caseload), "--reform", str(reform), "--year", "2013",
                                       "--out", str(out), "--examples", "0"])
    assert result.exit_code == 0, result.output
    assert "！违反 63号 二（一）：补贴标准应高于低保标准的 20% 以上。（改后 15%，2013-01-01 起）" in result.output
    assert out.exists()


def test_a_bad_reform_stops_before_anything_runs(caseload, tmp_path):
    reform = tmp_path / "bad.yaml"
    reform.write_text("label: 错误\nreason: 测试\nrules:\n  - remove_rule: {rule: no_such_rule}\n")
    out = tmp_path / "never.xlsx"
    result = CliRunner().invoke(main, ["compare", str(caseload), "--reform", str(reform), "--year", "2013",
                                       "--out", str(out)])
    assert result.exit_code == 1
    assert f"{reform}:4：未知规则“no_such_rule”" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_the_workbook_lists_persons_only_lines_apart_and_names_counties_as_in_the_year(caseload, tmp_path):
    """Issue 17 item 16: 按项目's money lines and their 合计 first, the lines
    counted in persons only after them; 陕县, not 陕州区, in a 2013 workbook."""
    from benefits.engine import default_engine
    from benefits.engine.outcome import MONEY_FORMS
    out = tmp_path / "compare.xlsx"
    result = CliRunner().invoke(main, ["compare", str(caseload), "--reform", str(REFORMS / "severe-grade-1.yaml"),
                                       "--year", "2013", "--out", str(out), "--examples", "1"])
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    rows = list(book["按项目"].iter_rows(min_row=3, values_only=True))
    labels = [r[0] for r in rows]
    total = labels.index("合计")
    heading = next(i for i, label in enumerate(labels) if label and label.startswith("只计人数、不计金额的项目"))
    assert total < heading
    rules = default_engine().rulebook.benefits
    assert {r[1] for r in rows[:total]} == {r.id for r in rules if r.outcome.amount.form in MONEY_FORMS}
    persons = [r for r in rows[heading + 1:] if r[1]]
    assert {r[1] for r in persons} == {r.id for r in rules if r.outcome.amount.form not in MONEY_FORMS}
    assert all(r[10:13] == (None, None, None) for r in persons)
    assert any(r[8] for r in persons)                   # status changes still show (陪护人员 of a 重度 person)
    texts = [v for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row
             if isinstance(v, str)]
    assert "陕县" in texts and not [t for t in texts if "陕州区" in t]
