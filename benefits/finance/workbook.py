"""The estimate as an XLSX workbook (测算工作簿): one sheet per breakdown,
numbers stored as numbers, written in openpyxl's write-only mode so a long
rejects list does not fill memory."""
from __future__ import annotations

import json
from typing import Iterable, Optional

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.drawing.image import Image
from openpyxl.styles import Font

from .labels import PAYER_ZH, PERIOD_ZH, kinds_zh
from .writers import atomic_output, text_cell, write_only_book

_PAYERS = ("city", "county", "unspecified")
_MONEY = "#,##0.00"
_RANGE = ("min", "mid", "max")
_RANGE_ZH = {"min": "下限", "mid": "中值", "max": "上限"}


class _Sheet:
    def __init__(self, book: Workbook, title: str, result: dict):
        self.sheet = book.create_sheet(title)
        self.bold = Font(bold=True)
        self.row([f"{result['year']}年度 · 规则版本 {result['rulebook_version']} · "
                  "金额单位：元 · 所用参数及未核实标记见“参数与假设”表"], bold=True)

    def row(self, values: list, bold: bool = False) -> None:
        cells = []
        style = {"font": self.bold} if bold else {}
        for value in values:
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False)
            if isinstance(value, str):          # text from rule files or from the caseload: never a formula
                cells.append(text_cell(self.sheet, value, **style))
                continue
            cell = WriteOnlyCell(self.sheet, value=value)
            if isinstance(value, float):
                cell.number_format = _MONEY
            if bold:
                cell.font = self.bold
            cells.append(cell)
        self.sheet.append(cells)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _triple(money: dict) -> list:
    return [money[k] for k in _RANGE]


def write_workbook(result: dict, path, rejects: Optional[Iterable[dict]] = None,
                   chart_png: Optional[str] = None) -> None:
    """``rejects``: an iterable of {row, field, message}; default result["rejects"]."""
    with write_only_book() as book:
        _sheets(book, result, rejects, chart_png)
        with atomic_output(path) as partial:
            book.save(partial)


def _sheets(book: Workbook, result: dict, rejects: Optional[Iterable[dict]], chart_png: Optional[str]) -> None:

    s = _Sheet(book, "按项目", result)
    s.row(["项目", "项目代码", "条款", "发放周期", "金额类型", "含“不低于”下限", "符合人数", "待定人数",
           "参数未生效人数", "与他项重复不计（人次）", "按月人月数", "下限", "中值", "上限", "其中按下限计（中值）"]
          + [f"{PAYER_ZH[p]}（中值）" for p in _PAYERS], bold=True)
    for b in result["benefits"]:
        s.row([b["label_zh"], b["benefit"], b["clause"], PERIOD_ZH[b["period"]], kinds_zh(b["amount_kinds"]),
               _yes(b["floor"]), b["persons"], b["undetermined"], b["unresolved"], b["duplicates"],
               float(b["person_months"])]
              + [float(v) for v in _triple(b["cost"])] + [float(b["floor_part"]["mid"])]
              + [float(b["payers"][p]["mid"]) for p in _PAYERS])
    s.row(["合计", "", "", "", "", "", "", "", "", "", None] + [float(v) for v in _triple(result["total"])]
          + [float(result["floor_part"]["mid"])]
          + [float(result["payers"][p]["mid"]) for p in _PAYERS], bold=True)

    s = _Sheet(book, "按县区", result)
    s.row(["县区代码", "县（市、区）", "申请人数", "下限", "中值", "上限"]
          + [f"{PAYER_ZH[p]}{_RANGE_ZH[k]}" for p in _PAYERS for k in _RANGE], bold=True)
    for c in result["counties"]:
        s.row([c["county"], c["county_zh"], c["applicants"]] + [float(v) for v in _triple(c["cost"])]
              + [float(c["payers"][p][k]) for p in _PAYERS for k in _RANGE])
    s.row(["合计", "", result["counts"]["evaluated"]] + [float(v) for v in _triple(result["total"])]
          + [float(result["payers"][p][k]) for p in _PAYERS for k in _RANGE], bold=True)

    s = _Sheet(book, "按出资方", result)
    s.row(["出资方", "下限", "中值", "上限"], bold=True)
    for p in _PAYERS:
        s.row([PAYER_ZH[p]] + [float(v) for v in _triple(result["payers"][p])])
    s.row(["合计"] + [float(v) for v in _triple(result["total"])], bold=True)

    s = _Sheet(book, "县区×出资方", result)
    s.row(["县区代码", "县（市、区）", "出资方", "下限", "中值", "上限"], bold=True)
    for r in result["county_payer"]:
        s.row([r["county"], r["county_zh"], PAYER_ZH[r["payer"]], float(r["min"]), float(r["mid"]), float(r["max"])])

    s = _Sheet(book, "康复经费", result)
    s.row(["县区代码", "县（市、区）", "条款", "辖区人口", "每人每年标准", "当年生效月数", "全年金额",
           "不少于（下限）", "出资方", "未核实参数"], bold=True)
    for b in result["rehabilitation"]:
        values = b["values"]
        s.row([b["county"], b["county_zh"], b["clause"],
               values[0]["population"] if len(values) == 1 else values,
               float(values[0]["per_capita"]) if len(values) == 1 else None,
               float(b["months_in_force"]), float(b["amount"]), _yes(b["at_least"]),
               "、".join(PAYER_ZH[p] for p in b["payer_split"]), "、".join(b["unverified"])])
    s.row(["合计", "", "", None, None, None, float(result["rehabilitation_total"])], bold=True)

    s = _Sheet(book, "参数与假设", result)
    counts = result["counts"]
    for label, value in (("测算年度", result["year"]), ("规则版本", result["rulebook_version"]),
                         ("规则目录", result["rules_dir"]), ("台账记录数", counts["total"]),
                         ("已评估", counts["evaluated"]), ("被拒绝", counts["rejected"]),
                         ("评估次数", counts["evaluations"]), ("变动日", "、".join(result["change_points"])),
                         ("测算方法", result["method"])):
        s.row([label, value])
    s.row([])
    s.row(["参数", "名称", "单位", "按", "已核实", "来源", "生效日", "县区", "城乡", "取值"], bold=True)
    for p in result["parameters"]:
        for v in p["values"]:
            value = v["value"]
            s.row([p["name"], p["label_zh"], p["unit"], "、".join(p["by"]) or "—", _yes(p["verified"]),
                   p["source"], v["from"], v["hukou_county"], v["residence"],
                   float(value) if isinstance(value, (int, float)) else value])
    s.row([])
    s.row(["未核实标记：项目", "参数", "参数名称", "涉及人数", "遇到的取值"], bold=True)
    for m in result["unverified_marks"]:
        s.row([m["label_zh"], m["parameter"], m["parameter_zh"], m["persons"], "、".join(m["values"])])
    s.row([])
    s.row(["假设：项目", "假设"], bold=True)
    for b in result["benefits"]:
        for text in b["assumptions"]:
            s.row([b["label_zh"], text])

    s = _Sheet(book, "拒绝记录", result)
    s.row(["行号", "字段", "原因"], bold=True)
    for r in rejects if rejects is not None else result.get("rejects") or []:
        s.row([r["row"], r["field"], r["message"]])

    if chart_png:
        s = _Sheet(book, "图表", result)
        s.sheet.add_image(Image(chart_png), "A3")
