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
