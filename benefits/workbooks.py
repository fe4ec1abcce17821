"""The sheets of the estimate's and the comparison's workbooks (finance and
policy): a title row naming the budget year and the rules version, a frozen
header row, columns sized for Chinese text, numbers as numbers (money to
the fen), text never a formula; openpyxl's write-only mode."""
from __future__ import annotations

import json
from typing import Iterable, Optional

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .caseload import text_cell
from .tables import display_width

MONEY_FORMAT = "#,##0.00"
BOLD = Font(bold=True)


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def column_widths(rows: list[list]) -> list[float]:
    """Column widths in Excel's units (a Chinese character counts two), 8–60.
    A row of one cell is a heading or a note: it spills over the empty cells
    beside it and does not size its column."""
    rows = [r for r in rows if len(r) != 1]
    count = max((len(r) for r in rows), default=0)
    return [min(max((display_width(_shown(r[i])) for r in rows if i < len(r)), default=0) + 2, 60)
            for i in range(count)]


class Sheet:
    """A sheet: the title row, then a frozen header row, columns sized to
    their contents (set before the first row: write-only mode needs that).
    ``result``: a dict with the ``year`` and ``rulebook_version`` the title
    row names; ``rows``: lists of cells, or (cells, bold) tuples; ``unit``:
    the money unit the title row states (元 unless the sheet says otherwise);
    ``period``: what the figures are for where it is not ``result``'s budget
    year (the audit's 核对日); ``notes_sheet``: the sheet naming the
    parameters used and their unverified marks."""

    def __init__(self, book: Workbook, title: str, result: dict, header: Optional[list],
                 rows: Iterable = (), widths: Optional[list] = None, unit: str = "元",
                 period: Optional[str] = None, notes_sheet: str = "参数与假设"):
        self.sheet = book.create_sheet(title)
        rows = [r if isinstance(r, tuple) else (r, False) for r in rows]
        if widths is None:
            widths = column_widths(([header] if header else []) + [values for values, _ in rows])
        for index, width in enumerate(widths, 1):
            self.sheet.column_dimensions[get_column_letter(index)].width = max(width, 8)
        self.sheet.freeze_panes = "A3" if header else "A2"
        period = period or f"{result['year']}年度"
        self.row([f"{period} · 规则版本 {result['rulebook_version']} · "
                  f"金额单位：{unit} · 所用参数及未核实标记见“{notes_sheet}”表"], bold=True)
        if header:
            self.row(header, bold=True)
        for values, bold in rows:
            self.row(values, bold)

    def row(self, values: list, bold: bool = False) -> None:
        cells = []
        style = {"font": BOLD} if bold else {}
        for value in values:
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False)
            if isinstance(value, str):          # text from rule files or from the caseload: never a formula
                cells.append(text_cell(self.sheet, value, **style))
                continue
            cell = WriteOnlyCell(self.sheet, value=value)
            if isinstance(value, float):
                cell.number_format = MONEY_FORMAT
            if bold:
                cell.font = BOLD
            cells.append(cell)
        self.sheet.append(cells)
