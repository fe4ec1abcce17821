"""Issue 11's finance presentation: parameter values in Chinese, frozen
headers and sized columns, a native Excel chart, a Chinese PNG chart."""
import re
import zipfile

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from benefits.cli import main
from benefits.finance import chart
from benefits.tables import display_width

from .factories import applicant


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("present")
    caseload = folder / "c.jsonl"
    caseload.write_text("".join(__import__("json").dumps(applicant(county=c)) + "\n"
                                for c in ("411202", "411282", "411224")), encoding="utf-8")
    out = folder / "o.xlsx"
    result = CliRunner().invoke(main, ["estimate", str(caseload), "--year", "2013", "--out", str(out),
                                       "--workers", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    return result.output, out


def test_parameter_values_read_as_chinese_in_the_terminal(run):
    output, _ = run
    assert "大腿普及型假肢 1000、小腿普及型假肢 300" in output and "未指明 100%" in output
    assert "灵宝市 城镇 自2013-07-01起 340" in output
    assert "unspecified" not in output and "thigh" not in output and "residence=" not in output


def test_parameter_values_read_as_chinese_in_the_workbook(run):
    _, out = run
    sheet = load_workbook(out)["参数与假设"]
    values = [v for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    assert "大腿普及型假肢 1000、小腿普及型假肢 300" in values and "未指明 100%" in values and "灵宝市 城镇" in values
    assert not [v for v in values if isinstance(v, str) and (v.startswith("{") or "unspecified" in v)]
    assert 340.0 in values                                     # a plain amount stays a number


def test_headers_are_frozen_and_columns_fit_chinese_text(run):
    _, out = run
    book = load_workbook(out)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == ("A2" if sheet.title == "参数与假设" else "A3"), sheet.title
    by_benefit = book["按项目"]
    longest = max(display_width(row[0]) for row in by_benefit.iter_rows(min_row=3, values_only=True) if row[1])
    # the heading of the lines counted in persons only spills over: it does not widen the column
    assert longest <= by_benefit.column_dimensions["A"].width <= longest + 2
    header = [c.value for c in by_benefit[2]]
    for index, name in enumerate(header, 1):
        letter = by_benefit.cell(2, index).column_letter
        assert by_benefit.column_dimensions[letter].width >= display_width(name), name


def test_the_workbook_has_a_native_stacked_chart_with_totals(run):
    _, out = run
    with zipfile.ZipFile(out) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = archive.read(charts[0]).decode("utf-8")
    assert '<grouping val="stacked" />' in xml and '<overlap val="100" />' in xml
    assert len(re.findall(r"<ser>", xml)) == 4                  # three payers + the totals line
    assert "<dLbls>" in xml and '<showVal val="1" />' in xml
    assert "<strRef><f>'图表'!$A$3:$A$5</f></strRef>" in xml
    sheet = load_workbook(out)["图表"]
    assert [c.value for c in sheet[2]] == ["县（市、区）", "市级财政", "县级财政", "未指明", "合计"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in rows[:3]] == ["湖滨区", "卢氏县", "灵宝市"] and rows[3][0] == "合计"
    assert all(round(r[4] * 100) == sum(round(v * 100) for v in r[1:4]) for r in rows[:4])


def test_a_cjk_font_missing_from_matplotlibs_cache_is_still_found(monkeypatch):
    """matplotlib's font cache was built before the font package was installed."""
    from matplotlib import font_manager
    cached = [f for f in font_manager.fontManager.ttflist
              if not any(f.name.startswith(family) for family in chart._CJK_FAMILIES)]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", cached)
    assert chart._best_cjk() is None
    assert chart.cjk_font() is not None, "install fonts-noto-cjk or fonts-wqy-zenhei (make test does: scripts/system-packages.sh)"


def test_the_png_footnote_names_unverified_parameters_in_chinese():
    from benefits.finance.estimate import estimate
    result = estimate([applicant()], 2013, workers=1)
    font = chart.cjk_font()
    assert font, "install fonts-noto-cjk or fonts-wqy-zenhei (make test does: scripts/system-packages.sh)"
    texts = "".join(t.get_text() for t in chart.chart_figure(result, font).texts)
    assert "未核实参数（示例值）：城乡居民最低生活保障标准" in texts.replace("\n", "")
    assert "dibao_standard" not in texts


# Issue 17 item 16: the 图表 sheet states its unit; 按项目 reads as a money
# table, the lines counted in persons only after it; the county named as in
# the budget year on every sheet.

def _banner(sheet) -> str:
    return sheet.cell(1, 1).value


def test_the_chart_sheet_is_in_wan_yuan_and_says_so_and_every_other_sheet_in_yuan(run):
    _, out = run
    book = load_workbook(out)
    for sheet in book.worksheets:
        unit = "万元" if sheet.title == "图表" else "元"
        assert f"金额单位：{unit} ·" in _banner(sheet), sheet.title
    with zipfile.ZipFile(out) as archive:
        xml = archive.read(next(n for n in archive.namelist() if n.startswith("xl/charts/chart"))).decode("utf-8")
    assert "（中值，万元）" in xml and "<a:t>万元</a:t>" in xml


def test_the_chart_sheet_adds_up_and_matches_the_county_sheet(estimate_book):
    """On the generated caseload: each county's 合计 is its 按县区 中值 in 万元
    (two decimals), its three payers add up to it, and the 合计 row adds up."""
    from .sheets import fen
    chart, counties = estimate_book["图表"], estimate_book["按县区"]
    mid = {r[1]: r[counties.index("中值")] for r in counties.rows}
    assert [r[0] for r in chart.rows] == list(mid)
    for row in chart.rows:
        assert fen(row[4]) == fen(sum(row[1:4])) == (2 * fen(mid[row[0]]) + 10_000) // 20_000, row
    assert chart.total_mismatches() == [] and len(chart.totals) == 1


def test_the_lines_counted_in_persons_only_come_after_the_money_table(run):
    from benefits.engine import default_engine
    from benefits.engine.outcome import MONEY_FORMS
    _, out = run
    rows = [r for r in load_workbook(out)["按项目"].iter_rows(min_row=3, values_only=True)]
    labels = [r[0] for r in rows]
    total = labels.index("合计")
    heading = next(i for i, label in enumerate(labels) if label and label.startswith("只计人数、不计金额的项目"))
    assert heading > total
    money = {r[1] for r in rows[:total]}
    persons = {r[1] for r in rows[heading + 1:] if r[1]}
    book = default_engine().rulebook
    assert money == {r.id for r in book.benefits if r.outcome.amount.form in MONEY_FORMS}
    assert persons == {r.id for r in book.benefits if r.outcome.amount.form not in MONEY_FORMS}
    assert len(money) + len(persons) == len(book.benefits)
    for row in rows[heading + 1:]:
        if row[1]:
            assert row[11:] == (None,) * len(row[11:]), row[1]        # no money cells
            assert "只计人数" in row[4], row[1]


def test_the_terminal_lists_the_lines_counted_in_persons_only_apart(run):
    output, _ = run
    money, persons = output.split("只计人数、不计金额的项目", 1)
    assert "纳入城乡低保" in money and "免费乘坐辖区内公交" not in money.split("一、按项目", 1)[1]
    assert "免费乘坐辖区内公交" in persons.split("二、按县", 1)[0]


@pytest.fixture(scope="module")
def shanzhou(tmp_path_factory):
    """One applicant of 411203 (陕县 until 2015-02-16, then 陕州区), estimated for 2013 and 2016."""
    folder = tmp_path_factory.mktemp("shanzhou")
    caseload = folder / "c.jsonl"
    caseload.write_text(__import__("json").dumps(applicant(county="411203", residence="rural")) + "\n",
                        encoding="utf-8")
    runs = {}
    for year in (2013, 2016):
        out = folder / f"{year}.xlsx"
        result = CliRunner().invoke(main, ["estimate", str(caseload), "--year", str(year), "--out", str(out),
                                           "--workers", "1", "--quiet"])
        assert result.exit_code == 0, result.output
        texts = {sheet.title: [v for row in sheet.iter_rows(values_only=True) for v in row if isinstance(v, str)]
                 for sheet in load_workbook(out).worksheets}
        runs[year] = (result.output, texts)
    return runs


@pytest.mark.parametrize("year, name, other", [(2013, "陕县", "陕州区"), (2016, "陕州区", "陕县")])
def test_the_county_is_named_as_in_the_budget_year_on_every_sheet(shanzhou, year, name, other):
    output, sheets = shanzhou[year]
    assert {title: [t for t in texts if other in t] for title, texts in sheets.items()} == dict.fromkeys(sheets, [])
    assert [line for line in output.splitlines() if other in line] == []
    for title in ("按县区", "县区×出资方", "康复经费", "参数与假设", "图表"):
        assert name in sheets[title], title
    assert f"{name} 自2012-01-01起 288538" in output                      # 辖区人口数, by county


def test_the_english_chart_names_the_county_as_in_the_year_too():
    from benefits.finance.labels import county_en
    assert [county_en("411203", y) for y in (2013, 2015, 2016)] == [
        "Shan County", "Shanzhou (Shan County before 16 Feb)", "Shanzhou"]
    assert county_en("411282", 2013) == "Lingbao" and county_en("", 2013) == "(no county)"
