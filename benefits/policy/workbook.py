"""A Comparison as an XLSX workbook (改革前后对比工作簿): one sheet per view,
native Excel charts (cost by county before and after; the distribution of
gains and losses). Written like the estimate's workbook (write-only mode,
text never a formula, written atomically)."""
from __future__ import annotations

import polars as pl
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef

from ..caseload import atomic_output, save_book, write_only_book
from ..costing.fen import fen_column, to_fen, yuan
from ..workbooks import Sheet
from .compare import CHANGE_ZH, STATUS_ZH, Comparison
from .floors import STATUS_ZH as FLOOR_ZH

# the per-person sheet stops here: the whole list is in Comparison.changes
MAX_CHANGE_ROWS = 100_000
PERSONS_ONLY_ZH = ("只计人数、不计金额的项目（实物/服务、优先待遇、放假、未规定金额）：只统计人数和状态变化，"
                   "不含在上面的合计中")


def write_comparison(result: Comparison, path) -> None:
    with atomic_output(path) as partial, write_only_book() as book:     # a full temporary folder names path too
        _sheets(book, result)
        save_book(book, partial)


def line_zh(line: dict | None) -> list:
    """Status, yearly-shown amount and the reasons of a durable line."""
    if line is None:
        return ["无此项", "", ""]
    amount = line.get("amount") or {}
    shown = amount.get("value", f"{amount.get('min', '')}—{amount.get('max', '')}" if "min" in amount else "")
    reasons = "；".join(f"{r.get('condition', '')}：{ {'held': '成立', 'failed': '不成立', 'unknown': '未知'}[r['status']]}"
                       + (f"（{r['value']}）" if r.get("value") is not None else "")
                       for r in line.get("reasons") or [])
    return [{"eligible": "符合", "ineligible": "不符合", "undetermined": "待定"}[line["status"]], shown, reasons]


def _sum(frame: pl.DataFrame, column: str) -> float:
    """A money column's total: its rounded cells summed in whole fen."""
    return yuan(frame.select(fen_column(pl.col(column)).sum()).item() or 0) if frame.height else 0.0


def _count(frame: pl.DataFrame, column: str) -> int:
    return int(frame.get_column(column).sum() or 0) if frame.height else 0


def persons_only(result: Comparison) -> dict[str, bool]:
    """Per benefit, whether it is counted in persons only on both sides."""
    out: dict[str, bool] = {}
    for estimate in (result.baseline_estimate, result.reform_estimate):
        for b in estimate["benefits"]:
            out[b["benefit"]] = out.get(b["benefit"], True) and b["persons_only"]
    return out


def _split_benefits(result: Comparison) -> tuple[pl.DataFrame, pl.DataFrame]:
    """按项目's two parts: the lines that pay money on either side, the lines counted in persons only."""
    only = pl.col("benefit").replace_strict(persons_only(result), default=False, return_dtype=pl.Boolean)
    return result.by_benefit.filter(~only), result.by_benefit.filter(only)


_COUNTY_COUNTS = ("persons", "gainers", "losers", "unchanged", "status_changed")
_COST_MONEY = ("baseline", "reform", "difference", "baseline_min", "baseline_max", "reform_min", "reform_max")


def totals(result: Comparison) -> dict:
    """The 合计 rows of the workbook's 按项目, 按县区 and 项目×县区×出资方
    sheets, as figures: the web page shows these, not sums of its own."""
    money, _ = _split_benefits(result)
    return {"by_benefit": {c: _sum(money, c) for c in ("baseline", "reform", "difference")},
            "by_county": {**{c: _count(result.by_county, c) for c in _COUNTY_COUNTS},
                          **{c: _sum(result.by_county, c) for c in ("baseline", "reform", "difference")}},
            "cost": {c: _sum(result.cost, c) for c in _COST_MONEY}}


def _benefit_rows(result: Comparison) -> list:
    """按项目: the lines that pay money on either side and their 合计, then,
    under a heading of their own, the lines counted in persons only on
    both sides (their status changes still show; no money cells)."""
    money, persons = _split_benefits(result)
    total = totals(result)["by_benefit"]

    def counts(r: dict) -> list:
        return [r["label_zh"], r["benefit"], r["clause"], r["persons_baseline"], r["persons_reform"], r["gainers"],
                r["losers"], r["unchanged"], r["status_changed"], r["amount_changed"]]

    rows: list = [counts(r) + [r["baseline"], r["reform"], r["difference"]] for r in money.iter_rows(named=True)]
    rows.append((["合计"] + [""] * 9 + [total[c] for c in ("baseline", "reform", "difference")], True))
    if persons.height:
        rows += [[], ([PERSONS_ONLY_ZH], True)]
        rows += [counts(r) for r in persons.iter_rows(named=True)]
    return rows


def _sheets(book: Workbook, result: Comparison) -> None:
    head = {"year": result.year, "rulebook_version": f"{result.baseline_version} → {result.reform_version}"}
    base, new = result.baseline_estimate, result.reform_estimate
    summary = [["改革方案", result.label], ["理由", result.reason], ["预算年度", result.year],
               ["规则版本（改前 → 改后）", head["rulebook_version"]],
               ["台账记录数", result.counts["total"]], ["已评估", result.counts["evaluated"]],
               ["被拒绝", result.counts["rejected"]],
               ["各项救助合计·改前（中值）", float(base["total"]["mid"])],
               ["各项救助合计·改后（中值）", float(new["total"]["mid"])],
               ["差额", yuan(to_fen(new["total"]["mid"]) - to_fen(base["total"]["mid"]))],
               ["康复专项经费·改前", float(base["rehabilitation_total"])],
               ["康复专项经费·改后", float(new["rehabilitation_total"])],
               ["法定底线违反或无法核对", len(result.floor_violations)], []]
    summary += [(["改动", "行号", "说明"], True)]
    summary += [[c["kind"], c["line"], c["text_zh"]] for c in result.reform_changes]
    Sheet(book, "概要", head, None, summary, widths=[28, 12, 100])

    Sheet(book, "按项目", head,
           ["项目", "项目代码", "条款", "符合人数·改前", "符合人数·改后", "得益人数", "受损人数", "不变人数",
            "状态变化人数", "金额变化人数", "改前（元）", "改后（元）", "差额（元）"], _benefit_rows(result))

    sums = totals(result)
    counties = list(result.by_county.iter_rows(named=True))
    s = Sheet(book, "按县区", head,
               ["县区代码", "县（市、区）", "人数", "增加", "减少", "不变", "状态有变", "改前（元）", "改后（元）",
                "差额（元）"],
               [[r["county"], r["county_zh"], r["persons"], r["gainers"], r["losers"], r["unchanged"],
                 r["status_changed"], r["baseline"], r["reform"], r["difference"]] for r in counties]
               + [(["合计", ""] + [sums["by_county"][c] for c in _COUNTY_COUNTS + ("baseline", "reform", "difference")],
                   True)])
    if counties:
        chart = BarChart()
        chart.type, chart.grouping = "col", "clustered"
        chart.title = f"{result.year}年度各项救助合计：改前与改后（元）"
        chart.add_data(Reference(s.sheet, min_col=8, max_col=9, min_row=2, max_row=2 + len(counties)),
                       titles_from_data=True)
        for series in chart.series:      # county names are text: strRef
            series.cat = AxDataSource(strRef=StrRef(f=f"'按县区'!$B$3:$B${2 + len(counties)}"))
        chart.width, chart.height = 22, 12
        s.sheet.add_chart(chart, "L2")

    Sheet(book, "项目×县区×出资方", head,
           ["项目", "项目代码", "条款", "县区代码", "县（市、区）", "出资方", "改前（中值）", "改后（中值）", "差额",
            "改前下限", "改前上限", "改后下限", "改后上限"],
           [[r["label_zh"], r["benefit"], r["clause"], r["county"], r["county_zh"], r["payer_zh"], r["baseline"],
             r["reform"], r["difference"], r["baseline_min"], r["baseline_max"], r["reform_min"], r["reform_max"]]
            for r in result.cost.iter_rows(named=True)]
           + [(["合计"] + [""] * 5 + [sums["cost"][c] for c in _COST_MONEY], True)])

    Sheet(book, "状态变化", head, ["项目", "项目代码", "改前", "改后", "人数"],
           [[r["label_zh"], r["benefit"], r["from_zh"], r["to_zh"], r["persons"]]
            for r in result.transitions.iter_rows(named=True)])

    bins = list(result.distribution.iter_rows(named=True))
    s = Sheet(book, "增减分布", head, ["区间", "人数", "金额（元）"],
               [[r["label_zh"], r["persons"], r["yuan"]] for r in bins]
               + [(["合计", _count(result.distribution, "persons"), _sum(result.distribution, "yuan")], True)],
               widths=[22, 10, 16])
    chart = BarChart()
    chart.type = "bar"
    chart.title = "每人全年增减（人数）"
    chart.add_data(Reference(s.sheet, min_col=2, min_row=2, max_row=2 + len(bins)), titles_from_data=True)
    chart.series[0].cat = AxDataSource(strRef=StrRef(f=f"'增减分布'!$A$3:$A${2 + len(bins)}"))
    chart.width, chart.height = 18, 10
    s.sheet.add_chart(chart, "E2")

    Sheet(book, "法定底线", head, ["结果", "条款", "说明", "规则", "参数", "取值", "要求", "理解（假设）"],
           [[FLOOR_ZH[c.status], c.clause, c.message, c.rule, c.parameter or "",
             str(c.value) if c.value is not None else "", c.expected, c.assumption or ""] for c in result.floors],
           widths=[10, 14, 80, 24, 24, 16, 16, 50])

    Sheet(book, "示例", head,
           ["项目", "变化", "行号", "身份证号（遮蔽）", "县区", "评估日", "改前：结果", "改前：金额", "改前：理由",
            "改后：结果", "改后：金额", "改后：理由"],
           [[e["label_zh"], e["kind_zh"], e["row"], e["id_number_masked"], e["county"], e["day"]]
            + line_zh(e["baseline_line"]) + line_zh(e["reform_line"]) for e in result.examples],
           widths=[24, 16, 8, 22, 8, 12, 10, 10, 60, 10, 10, 60])

    s = Sheet(book, "人员变化", head,
               ["行号", "身份证号（遮蔽）", "县区", "项目代码", "改前", "改后", "改前金额", "改后金额", "差额", "增减"],
               widths=[8, 22, 8, 28, 10, 10, 12, 12, 12, 8])
    for r in result.changes.sort("row").head(MAX_CHANGE_ROWS).iter_rows(named=True):
        s.row([r["row"], r["id_number_masked"], r["county"], r["benefit"], STATUS_ZH[r["status_baseline"]],
               STATUS_ZH[r["status_reform"]], r["amount_baseline"], r["amount_reform"], r["difference"],
               CHANGE_ZH[r["change"]]])
    if result.changes.height > MAX_CHANGE_ROWS:
        s.row([f"共 {result.changes.height:,} 行，此处只列前 {MAX_CHANGE_ROWS:,} 行"])

    s = Sheet(book, "拒绝记录", head, ["行号", "字段", "原因"], widths=[8, 30, 80])
    for r in result.rejects:
        s.row([r["row"], r["field"], r["message"]])
