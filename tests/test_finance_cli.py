"""``benefits generate`` and ``benefits estimate`` end to end."""
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from benefits.cli import main
from benefits.engine import default_engine

SHEETS = ["按项目", "按县区", "低保与63号新增", "按出资方", "县区×出资方", "康复经费", "参数与假设", "拒绝记录", "图表"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    caseload, out = folder / "caseload.csv", folder / "estimate.xlsx"
    runner = CliRunner()
    made = runner.invoke(main, ["generate", "--size", "400", "--seed", "5", "--bad", "3", "--out", str(caseload)])
    assert made.exit_code == 0, made.output
    result = runner.invoke(main, ["estimate", str(caseload), "--year", "2013", "--out", str(out),
                                  "--workers", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    return result.output, out


def test_terminal_table(run):
    output, _ = run
    assert f"2013年度救助资金测算（规则版本 {default_engine().version}）" in output
    assert "台账共 400 条：评估 397 人，拒绝 3 条" in output
    for heading in ("一、按项目", "二、按县（市、区）", "三、按出资方", "四、康复进社区", "五、所用参数", "六、被拒绝的记录"):
        assert heading in output
    assert re.search(r"第\d+行 \S+：", output)


def test_workbook_sheets_hold_numbers(run):
    _, out = run
    book = load_workbook(out)
    assert book.sheetnames == SHEETS
    by_benefit = book["按项目"]
    header = [c.value for c in by_benefit[2]]
    money_columns = [header.index(name) for name in ("符合人数", "下限", "中值", "上限")]
    rows = list(by_benefit.iter_rows(min_row=3, values_only=True))
    lines = [r for r in rows if r[1]]
    assert len(lines) == len(default_engine().rulebook.benefits)
    # the money lines, their 合计, then (after a blank row and a heading) the lines counted in persons only
    end = [r[0] for r in rows].index("合计")
    assert len(rows) == len(lines) + 3
    for row in rows[:end + 1]:
        for i in money_columns[1:]:
            assert isinstance(row[i], (int, float)) and not isinstance(row[i], bool)
    assert all(isinstance(row[money_columns[0]], int) for row in lines)
    total = rows[end]
    assert total[header.index("中值")] == pytest.approx(sum(r[header.index("中值")] for r in rows[:end]), abs=0.001)
    for name in ("按县区", "按出资方", "县区×出资方", "康复经费"):
        values = [v for row in book[name].iter_rows(min_row=3, values_only=True) for v in row]
        # numbers, not text (openpyxl reads a whole-yuan float back as an int)
        assert any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        assert not any(isinstance(v, str) and re.fullmatch(r"-?[\d,]+\.\d+", v) for v in values)
    rejects = list(book["拒绝记录"].iter_rows(min_row=3, values_only=True))
    assert len({r[0] for r in rejects}) == 3 and all(isinstance(r[0], int) for r in rejects)
    assert len(book["图表"]._images) == 1
    assert out.with_suffix(".png").stat().st_size > 10_000


def test_bad_invocations_give_chinese_errors(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["estimate", str(tmp_path / "none.csv"), "--year", "2013",
                                   "--out", str(tmp_path / "o.xlsx"), "--workers", "1"])
    assert missing.exit_code != 0 and "找不到台账文件" in missing.output
    assert "Traceback" not in missing.output
    wrong_out = runner.invoke(main, ["estimate", str(tmp_path / "none.csv"), "--year", "2013",
                                     "--out", str(tmp_path / "o.csv")])
    assert wrong_out.exit_code != 0 and ".xlsx" in wrong_out.output
    (tmp_path / "c.csv").write_text("id_number,收入\n", encoding="utf-8")
    layout = runner.invoke(main, ["estimate", str(tmp_path / "c.csv"), "--year", "2013",
                                  "--out", str(tmp_path / "o.xlsx"), "--workers", "1"])
    assert layout.exit_code != 0 and "不认识的列" in layout.output


def test_chart_falls_back_to_english_without_a_cjk_font(tmp_path, monkeypatch):
    from benefits.finance import chart
    from benefits.finance.estimate import estimate
    result = estimate([], 2013, workers=1)
    monkeypatch.setattr(chart, "cjk_font", lambda: None)
    assert chart.county_chart(result, tmp_path / "en.png") is False
    assert (tmp_path / "en.png").stat().st_size > 5_000


def test_bad_rules_directory(tmp_path):
    (tmp_path / "c.jsonl").write_text("{}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["estimate", str(tmp_path / "c.jsonl"), "--year", "2013",
                                       "--out", str(tmp_path / "o.xlsx"), "--rules", str(tmp_path / "nope")])
    assert result.exit_code != 0 and "规则文件错误" in result.output


@pytest.mark.parametrize("command", [["generate", "--size", "3"],
                                     ["estimate", str(Path(__file__).resolve().parents[1] / "fixtures"
                                                      / "caseload-sample.jsonl"), "--year", "2013"]])
def test_an_output_folder_that_does_not_exist_is_refused_first(tmp_path, command):
    result = CliRunner().invoke(main, command + ["--out", str(tmp_path / "missing" / "out.xlsx")])
    assert result.exit_code == 2
    assert "输出文件夹不存在" in result.output


def test_workbook_shows_each_county_obligation_and_basic_living_apart(run):
    """Issue 11: a county's whole obligation is one number (its share plus the
    三（一）budget), and 低保/五保 money stands apart from what 63号 adds."""
    _, out = run
    book = load_workbook(out)
    cells = [[c.value for c in r] for r in book["按县区"].iter_rows()]
    at = next(i for i, r in enumerate(cells) if r and r[0] == "县区代码")       # below the sheet's title lines
    rows = [dict(zip(cells[at], r)) for r in cells[at + 1:]]
    hubin = next(r for r in rows if r["县区代码"] == "411202")
    assert hubin["康复专项经费（三（一））"] > 0
    assert hubin["县级合计中值（县级财政+康复经费）"] == pytest.approx(
        hubin["县级财政中值"] + hubin["康复专项经费（三（一））"], abs=0.01)
    split = [[c.value for c in r] for r in book["低保与63号新增"].iter_rows()]
    split = split[next(i for i, r in enumerate(split) if r and r[0] == "类别") + 1:]
    assert split[0][0].startswith("低保、五保") and split[1][0] == "63号新增的救助"
    assert split[2][3] == pytest.approx(split[0][3] + split[1][3], abs=0.01)
