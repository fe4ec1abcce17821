"""The estimate as an XLSX workbook (测算工作簿): one sheet per breakdown,
numbers stored as numbers, header rows frozen and columns sized for Chinese
text, a native Excel chart; written in openpyxl's write-only mode so a long
rejects list does not fill memory."""
from __future__ import annotations

from typing import Iterable, Optional

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.drawing.image import Image

from ..engine.vocabulary import PAYERS
from ..caseload import atomic_output, save_book, write_only_book
from ..workbooks import Sheet
from ..costing.fen import to_fen, yuan
from .labels import PAYER_ZH, PERIOD_ZH, by_zh, county_wan, format_value, kinds_zh, scope_zh

_RANGE = ("min", "mid", "max")
_RANGE_ZH = {"min": "下限", "mid": "中值", "max": "上限"}


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _triple(money: dict) -> list:
    return [float(money[k]) for k in _RANGE]


def _number_or_text(value):
    """A parameter value: a number stays a number; a table reads as Chinese."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return format_value(value)


def write_workbook(result: dict, path, rejects: Optional[Iterable[dict]] = None,
                   chart_png: Optional[str] = None) -> None:
    """``rejects``: an iterable of {row, field, message}; default result["rejects"].
    ``chart_png``: the picture of the chart, put beside the native chart."""
    with atomic_output(path) as partial, write_only_book() as book:     # a full temporary folder names path too
        _sheets(book, result, rejects, chart_png)
        save_book(book, partial)


def _sheets(book: Workbook, result: dict, rejects: Optional[Iterable[dict]], chart_png: Optional[str]) -> None:
    Sheet(book, "按项目", result,
           ["项目", "项目代码", "条款", "发放周期", "金额类型", "含“不低于”下限", "符合人数", "待定人数",
            "参数未生效人数", "与他项重复不计（人）", "按月人月数", "下限", "中值", "上限", "其中按下限计（中值）"]
           + [f"{PAYER_ZH[p]}（中值）" for p in PAYERS], _benefit_rows(result))

    Sheet(book, "按县区", result,
           ["县区代码", "县（市、区）", "申请人数", "下限", "中值", "上限"]
           + [f"{PAYER_ZH[p]}{_RANGE_ZH[k]}" for p in PAYERS for k in _RANGE]
           + ["康复专项经费（三（一））"] + [f"县级合计{_RANGE_ZH[k]}（县级财政+康复经费）" for k in _RANGE],
           [[c["county"], c["county_zh"], c["applicants"]] + _triple(c["cost"])
            + [float(c["payers"][p][k]) for p in PAYERS for k in _RANGE]
            + [float(c["rehabilitation"])] + [float(c["county_obligation"][k]) for k in _RANGE]
            for c in result["counties"]]
           + [(["合计", "", result["counts"]["evaluated"]] + _triple(result["total"])
               + [float(result["payers"][p][k]) for p in PAYERS for k in _RANGE]
               + [float(result["rehabilitation_total"])]
               + [round(float(result["payers"]["county"][k]) + result["rehabilitation_total"], 2) for k in _RANGE],
               True)])
    split = result["basic_living"]
    Sheet(book, "低保与63号新增", result, ["类别", "项目", "下限", "中值", "上限"],
           [["低保、五保基本生活保障（国家制度，63号 二 纳入）",
             "、".join(b["label_zh"] for b in result["benefits"] if b["benefit"] in split["benefits"])]
            + _triple(split["cost"]),
            ["63号新增的救助", "其余各项"] + _triple(split["specific_cost"])]
           + [(["合计", ""] + _triple(result["total"]), True)])

    Sheet(book, "按出资方", result, ["出资方", "下限", "中值", "上限"],
           [[PAYER_ZH[p]] + _triple(result["payers"][p]) for p in PAYERS]
           + [(["合计"] + _triple(result["total"]), True)])

    Sheet(book, "县区×出资方", result, ["县区代码", "县（市、区）", "出资方", "下限", "中值", "上限"],
           [[r["county"], r["county_zh"], PAYER_ZH[r["payer"]]] + _triple(r) for r in result["county_payer"]])

    names_zh = {p["name"]: p["label_zh"] for p in result["parameters"]}
    Sheet(book, "康复经费", result,
           ["县区代码", "县（市、区）", "条款", "辖区人口", "每人每年标准", "当年生效月数", "全年金额",
            "不少于（下限）", "出资方", "未核实参数"],
           [[b["county"], b["county_zh"], b["clause"],
             b["values"][0]["population"] if len(b["values"]) == 1 else
             "；".join(f"自{v['from']}起 {v['population']:,}" for v in b["values"]),
             float(b["values"][0]["per_capita"]) if len(b["values"]) == 1 else
             "；".join(f"自{v['from']}起 {v['per_capita']:g}" for v in b["values"]),
             float(b["months_in_force"]), float(b["amount"]), _yes(b["at_least"]),
             "、".join(PAYER_ZH[p] for p in b["payer_split"]), "、".join(names_zh.get(n, n) for n in b["unverified"])]
            for b in result["rehabilitation"]]
           + [(["合计", "", "", None, None, None, float(result["rehabilitation_total"])], True)])

    Sheet(book, "参数与假设", result, None, _assumption_rows(result))

    s = Sheet(book, "拒绝记录", result, ["行号", "字段", "原因"], widths=[8, 30, 80])
    for r in rejects if rejects is not None else result.get("rejects") or []:
        s.row([r["row"], r["field"], r["message"]])

    _chart_sheet(book, result, chart_png)


PERSONS_ONLY_ZH = ("只计人数、不计金额的项目（实物/服务、优先待遇、放假、未规定金额）：只统计符合人数和待定人数，"
                   "不含在上面的合计中")


def _benefit_rows(result: dict) -> list:
    """按项目: the lines that pay money and their 合计, then, under a heading
    of their own, the lines counted in persons only (no money cells)."""
    def counts(b: dict, kinds: str) -> list:
        return [b["label_zh"], b["benefit"], b["clause"], PERIOD_ZH[b["period"]], kinds, _yes(b["floor"]),
                b["persons"], b["undetermined"], b["unresolved"], b["duplicates"], float(b["person_months"])]

    money = [b for b in result["benefits"] if not b["persons_only"]]
    persons = [b for b in result["benefits"] if b["persons_only"]]
    rows: list = [counts(b, kinds_zh(b["amount_kinds"])) + _triple(b["cost"]) + [float(b["floor_part"]["mid"])]
                  + [float(b["payers"][p]["mid"]) for p in PAYERS] for b in money]
    rows.append((["合计", "", "", "", "", "", "", "", "", "", None] + _triple(result["total"])
                 + [float(result["floor_part"]["mid"])] + [float(result["payers"][p]["mid"]) for p in PAYERS], True))
    if persons:
        rows += [[], ([PERSONS_ONLY_ZH], True)]
        rows += [counts(b, kinds_zh(b["amount_kinds"]) if b["amount_kinds"] else "只计人数") for b in persons]
    return rows


def _assumption_rows(result: dict) -> list:
    counts = result["counts"]
    rows: list = [[label, value] for label, value in (
        ("测算年度", result["year"]), ("规则版本", result["rulebook_version"]), ("规则目录", result["rules_dir"]),
        ("台账记录数", counts["total"]), ("已评估", counts["evaluated"]), ("被拒绝", counts["rejected"]),
        ("评估次数", counts["evaluations"]), ("变动日", "、".join(result["change_points"])),
        ("测算方法", result["method"][:60] + "…（全文见下一行）"), ("", result["method"]))]
    if result.get("encoding_zh"):
        rows.insert(3, ["台账编码", result["encoding_zh"]])
    rows += [[], (["参数", "名称", "单位", "按", "已核实", "来源", "生效日", "适用范围", "取值"], True)]
    for p in result["parameters"]:
        for v in p["values"]:
            rows.append([p["name"], p["label_zh"], p["unit"], by_zh(p["by"]), _yes(p["verified"]), p["source"],
                         v["from"], scope_zh(v, result["year"]), _number_or_text(v["value"])])
    rows += [[], (["未核实标记：项目", "参数", "参数名称", "涉及人数", "遇到的取值"], True)]
    rows += [[m["label_zh"], m["parameter"], m["parameter_zh"], m["persons"], "、".join(m["values"])]
             for m in result["unverified_marks"]]
    rows += [[], (["假设：项目", "假设"], True)]
    rows += [[b["label_zh"], text] for b in result["benefits"] for text in b["assumptions"]]
    return rows


def _chart_sheet(book: Workbook, result: dict, chart_png: Optional[str]) -> None:
    """Cost by county stacked by payer (中值, 万元) as a native Excel chart over
    a small table on the same sheet, with each county's total labelled. The
    sheet is in 万元 and its title row says so; each county's 合计 is its
    中值 in 按县区 rounded to 万元, its payers apportioned to add up to it."""
    figures = county_wan(result)
    rows = [[county["county_zh"]] + [parts[p] for p in PAYERS] + [total] for county, parts, total in figures]
    s = Sheet(book, "图表", result, ["县（市、区）"] + [PAYER_ZH[p] for p in PAYERS] + ["合计"],
               rows + ([(["合计"] + [yuan(sum(to_fen(r[i]) for r in rows)) for i in range(1, 5)], True)]
                       if rows else [])
               + [["（单位：万元，中值，保留两位小数；各县区合计为“按县区”表中值（元）的万元数，"
                   "三个出资方之和等于合计）"]],
               widths=[14, 12, 12, 12, 12], unit="万元")
    counties = result["counties"]
    if not counties:
        return
    first, last = 3, 2 + len(counties)
    bars = BarChart()
    bars.type, bars.grouping, bars.overlap = "col", "stacked", 100
    bars.title = f"{result['year']}年度救助资金测算（中值，万元）：按县区、出资方"
    bars.y_axis.title = "万元"
    bars.add_data(Reference(s.sheet, min_col=2, max_col=4, min_row=2, max_row=last), titles_from_data=True)
    totals = LineChart()
    totals.add_data(Reference(s.sheet, min_col=5, min_row=2, max_row=last), titles_from_data=True)
    names = f"'{s.sheet.title}'!$A${first}:$A${last}"
    for series in bars.series + totals.series:      # county names are text: strRef, not openpyxl's numRef
        series.cat = AxDataSource(strRef=StrRef(f=names))
    line = totals.series[0]
    line.graphicalProperties.line.noFill = True          # only the labels: each county's total above its bar
    line.marker.symbol = "none"
    line.dLbls = DataLabelList(showVal=True, dLblPos="t")
    bars += totals
    bars.width, bars.height = 22, 12
    s.sheet.add_chart(bars, "G2")
    if chart_png:
        s.sheet.add_image(Image(chart_png), f"A{last + 27}")
