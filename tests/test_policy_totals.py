"""Issue 17 item 15: the comparison workbook's totals add up to the fen, and
the reform's delta is one figure on every sheet (概要, 按项目, 按县区,
项目×县区×出资方, 增减分布, 人员变化) — and the baseline is the estimate's
total. Each person's amount on a line is rounded once; every figure is a
sum of those. Checked on a generated caseload, read back from the XLSX."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from benefits.cli import main
from benefits.engine.rulebook import DEFAULT_RULES_DIR

from .sheets import Table, fen, number

REFORMS = DEFAULT_RULES_DIR.parent / "reforms"


@pytest.fixture(scope="module", params=["topup-25.yaml", "severe-grade-1.yaml"])
def compared(request, generated_caseload):
    """``benefits compare`` of ``benefits generate --size 6000 --seed 1`` (conftest.py) for 2013."""
    out = generated_caseload.with_name(f"compare-{request.param}.xlsx")
    result = CliRunner().invoke(main, ["compare", str(generated_caseload), "--reform", str(REFORMS / request.param),
                                       "--year", "2013", "--out", str(out), "--examples", "0"])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    summary = {r[0]: r[1] for r in workbook["概要"].iter_rows(min_row=2, values_only=True) if r and r[0]}
    return summary, {sheet.title: Table(sheet) for sheet in workbook.worksheets if sheet.title != "概要"}


def test_the_delta_is_the_same_figure_on_every_sheet(compared):
    summary, tables = compared
    before, after = fen(summary["各项救助合计·改前（中值）"]), fen(summary["各项救助合计·改后（中值）"])
    delta = fen(summary["差额"])
    assert delta == after - before != 0
    rehabilitation = fen(summary["康复专项经费·改后"]) - fen(summary["康复专项经费·改前"])
    by_benefit, by_county, cost = tables["按项目"], tables["按县区"], tables["项目×县区×出资方"]
    seen = {
        "按项目": (by_benefit.sum("改前（元）"), by_benefit.sum("改后（元）"), by_benefit.sum("差额（元）")),
        "按县区": (by_county.sum("改前（元）"), by_county.sum("改后（元）"), by_county.sum("差额（元）")),
        # with 三（一）'s county budgets, which have their own line in 概要
        "项目×县区×出资方": (cost.sum("改前（中值）") - fen(summary["康复专项经费·改前"]),
                            cost.sum("改后（中值）") - fen(summary["康复专项经费·改后"]),
                            cost.sum("差额") - rehabilitation),
    }
    assert seen == dict.fromkeys(seen, (before, after, delta))
    assert tables["增减分布"].sum("金额（元）") == delta
    assert tables["人员变化"].sum("差额") == delta


def test_every_total_row_is_the_sum_of_its_rows(compared):
    _, tables = compared
    assert [m for table in tables.values() for m in table.total_mismatches()] == []
    assert [t for t in ("按项目", "按县区", "项目×县区×出资方", "增减分布") if not tables[t].totals] == []


def test_every_row_s_difference_is_its_after_less_its_before(compared):
    _, tables = compared
    for title, columns in (("按项目", ("改前（元）", "改后（元）", "差额（元）")),
                           ("按县区", ("改前（元）", "改后（元）", "差额（元）")),
                           ("项目×县区×出资方", ("改前（中值）", "改后（中值）", "差额")),
                           ("人员变化", ("改前金额", "改后金额", "差额"))):
        table = tables[title]
        b, r, d = (table.index(c) for c in columns)
        money = [row for row in table.rows + table.totals if any(number(row[i]) for i in (b, r, d))]
        assert money, title
        bad = [row for row in money if fen(row[r]) - fen(row[b]) != fen(row[d])]
        assert bad == [], title


def test_the_baseline_is_the_estimate_s_total(compared, estimate_book):
    summary, _ = compared
    assert fen(summary["各项救助合计·改前（中值）"]) == estimate_book["按项目"].total("中值")
