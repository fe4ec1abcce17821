"""The scorecard as an XLSX workbook (考核工作簿), one sheet per view, and
the blank template counties fill in (填报模板), both generated from the
target rules so that neither drifts from them. Written atomically in
openpyxl's write-only mode; text never becomes a formula."""
from __future__ import annotations

from typing import Iterable

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..caseload import atomic_output, save_book, text_cell, write_only_book
from ..engine.identity import CURRENT_COUNTIES
from ..tables import display_width
from .evaluate import MET, NOT_DUE, NOT_MET, STATUS_ZH, UNKNOWN, Scorecard, deadline_zh
from .indicators import ID_COLUMN, SHEET
from .targets import Targets, shown

_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_FILL = {MET: "C6EFCE", NOT_MET: "FFC7CE", UNKNOWN: "E7E6E6", NOT_DUE: "FFEB9C"}
ASSUMED = "⚠假设"
SCOPE_ZH = {"county": "每个县（市、区）", "city": "全市", "districts": "每个市辖区（以评估日的区划为准）"}


def _cell(sheet, value, bold=False, fill=None, wrap=False):
    if value is None:
        value = ""
    if isinstance(value, str):
        cell = text_cell(sheet, value)
    else:
        cell = WriteOnlyCell(sheet, value=value)
    if bold:
        cell.font = _BOLD
    if fill:
        cell.fill = PatternFill("solid", start_color=fill, end_color=fill)
    if wrap:
        cell.alignment = _WRAP
    return cell


def _sheet(book, title: str, heading: str, header: list, rows: Iterable[list], widest: int = 50):
    """rows: lists of values, or of (value, fill) pairs for a coloured cell."""
    rows = [[v if isinstance(v, tuple) else (v, None) for v in row] for row in rows]
    sheet = book.create_sheet(title)
    for index in range(len(header)):
        width = max([display_width(str(header[index]))] +
                    [display_width(str(r[index][0] or "")) for r in rows if index < len(r)])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(width + 2, 8), widest)
    sheet.freeze_panes = "A3"
    sheet.append([_cell(sheet, heading, bold=True)])
    sheet.append([_cell(sheet, h, bold=True) for h in header])
    for row in rows:
        sheet.append([_cell(sheet, v, fill=f, wrap=isinstance(v, str) and display_width(v) > widest)
                      for v, f in row])
    return sheet


def _assumed(result_or_target) -> str:
    target = getattr(result_or_target, "target", result_or_target)
    return f"{ASSUMED}（见“目标与原文”表）" if target.assumptions else ""


def _deadline(target) -> str:
    return deadline_zh(target) + (f"（原文：{target.deadline_text}）" if target.deadline_text else "（假设）")


def write_scorecard(card: Scorecard, path) -> None:
    targets = card.targets
    heading = (f"三政〔2012〕81号 县（市、区）工作目标考核 · 评估日 {card.as_of.isoformat()} · "
               f"指标文件 {card.source or '（未命名）'} · 目标规则版本 {targets.version} · "
               f"空白指标为“未知”，不按0计 · {ASSUMED}：原文未写明之处的解读，见“目标与原文”表")
    places = card.counties
    with atomic_output(path) as partial, write_only_book() as book:
        overview = []
        for target in targets.targets:
            row = [target.clause, target.label_zh, _deadline(target)]
            for code, _ in places:
                result = card.cell(code, target.id)
                row.append((result.status_zh, _FILL[result.status]) if result else card.shown_cell(code, target))
            overview.append(row + [_assumed(target)])
        _sheet(book, "总览", heading, ["条款", "目标", "期限"] + [n for _, n in places] + ["假设"], overview, 40)

        detail = []
        for code, name in places:
            for result in card.for_county(code):
                for c in result.conditions:
                    detail.append([name, code, result.target.clause, result.target.label_zh,
                                   _deadline(result.target), (result.status_zh, _FILL[result.status]),
                                   c.condition.label_zh, _value(c), c.condition.threshold_zh(),
                                   {True: "是", False: "否", None: "未知"}[c.holds], c.detail,
                                   "\n".join(targets.assumptions[a] for a in c.assumptions + tuple(
                                       result.target.assumptions))])
        _sheet(book, "明细", heading, ["县（市、区）", "代码", "条款", "目标", "期限", "结果", "考核项",
                                     "当前值", "目标值", "该项达到", "计算", "假设"], detail, 60)

        summary = [[name, code] + [card.counts(code)[s] for s in STATUS_ZH] for code, name in places]
        _sheet(book, "县区汇总", heading, ["县（市、区）", "代码"] + list(STATUS_ZH.values()), summary)

        texts = [[t.clause, t.label_zh, t.text, _deadline(t), SCOPE_ZH[t.scope],
                  "\n".join(targets.assumption_texts(t))] for t in targets.targets]
        texts.append(["", "总数为0时", "", "", "", targets.assumptions.get("empty_whole", "")])
        _sheet(book, "目标与原文", heading, ["条款", "目标", "原文（逐字引用）", "期限", "考核范围", "假设"],
               texts, 80)

        _indicator_sheet(book, targets, heading, card)
        save_book(book, partial)


def _value(c) -> str:
    if c.value is None:
        return ""
    if c.condition.flag:
        return "是" if c.value == 1 else "否"
    return f"{shown(c.value)}{c.condition.unit}"


def _indicator_sheet(book, targets: Targets, heading: str, card: Scorecard | None = None):
    """The indicators as read (the scorecard), or blank (the template): the
    layout ``read_indicators`` reads."""
    counties = [(code, name) for code, name in (card.counties if card else CURRENT_COUNTIES.items())
                if code in CURRENT_COUNTIES]
    rows = []
    for indicator in targets.indicators.values():
        note = ""
        if indicator.kind == "flag":
            note = "填“是”或“否”"
        elif indicator.part_of:
            note = "不能大于" + "与".join(targets.indicators[w].label_zh for w in indicator.part_of) + "之和" \
                if len(indicator.part_of) > 1 else f"不能大于“{targets.indicators[indicator.part_of[0]].label_zh}”"
        if indicator.positive:
            note = "应大于0"
        row = [indicator.id, indicator.label_zh, indicator.unit, indicator.clause, note]
        for code, _ in counties:
            value = card_value(card, code, indicator) if card else None
            row.append(value)
        rows.append(row)
    sheet = book.create_sheet(SHEET)
    header = [ID_COLUMN, "指标", "单位", "条款", "填写说明"] + [f"{code} {name}" for code, name in counties]
    for index in range(len(header)):
        width = max([display_width(str(header[index]))] +
                    [display_width(str(r[index] or "")) for r in rows])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(width + 2, 12), 60)
    sheet.freeze_panes = "F2"
    sheet.append([_cell(sheet, h, bold=True) for h in header])
    for row in rows:
        sheet.append([_cell(sheet, v) for v in row])
    if card is None:
        notes = [[line] for line in _TEMPLATE_NOTES] + [[f"{t.clause}  {t.label_zh}"] for t in targets.targets]
        _sheet(book, "说明", heading, ["填写说明"], notes, 100)


_TEMPLATE_NOTES = (
    "1. 在“指标”表中，每个县（市、区）一列，按各指标的单位填写截至评估日的数量。",
    "2. 不知道的指标请留空：空白按“未知”处理，不会按0计算；确实为0的才填0。",
    "3. 不要修改第1行的列名和“指标代码”列；可以删去不考核的县区列。",
    "4. 只填数量，不填百分比：比例由系统按81号的口径计算。",
    "5. 填好后运行 benefits scorecard 指标.xlsx --as-of 2015-12-31 --out 考核.xlsx，或在网页“县区目标考核”上传。",
    "本模板由目标规则（rules/targets/）生成。考核的目标：",
)


def card_value(card: Scorecard, code: str, indicator):
    value = card.indicators.get(code, indicator.id) if card.indicators else None
    if value is None:
        return None
    if indicator.kind == "flag":
        return "是" if value else "否"
    return int(value) if value.denominator == 1 else float(value)


def write_template(targets: Targets, path) -> None:
    heading = (f"三政〔2012〕81号 县（市、区）工作目标 指标填报模板 · 目标规则版本 {targets.version}")
    with atomic_output(path) as partial, write_only_book() as book:
        _indicator_sheet(book, targets, heading)
        save_book(book, partial)
