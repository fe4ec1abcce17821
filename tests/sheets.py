"""Reading the estimate's and the comparison's workbooks back, in fen: row 1
is the title, row 2 the header, then the rows; a row whose first cell is
合计 is a total."""
from __future__ import annotations

TOTAL = "合计"


def fen(value) -> int:
    """A money cell (yuan, two decimals) as whole fen."""
    return round(value * 100)


def number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Table:
    """One sheet: ``header``, ``rows`` (not totals, with at least one
    number), ``totals`` (the 合计 rows)."""

    def __init__(self, sheet):
        self.title = sheet.title
        self.header = [c.value for c in sheet[2]]
        rows = [r for r in sheet.iter_rows(min_row=3, values_only=True) if r and r[0] is not None]
        self.totals = [r for r in rows if r[0] == TOTAL]
        self.rows = [r for r in rows if r[0] != TOTAL and any(number(v) for v in r)]

    def index(self, name: str) -> int:
        return self.header.index(name)

    def column(self, name: str) -> list:
        i = self.index(name)
        return [r[i] for r in self.rows if i < len(r) and number(r[i])]

    def sum(self, name: str, rows=None) -> int:
        """The column's sum over the rows (or the rows given), in fen."""
        i = self.index(name)
        return sum(fen(r[i]) for r in (self.rows if rows is None else rows) if i < len(r) and number(r[i]))

    def total(self, name: str) -> int:
        [row] = self.totals
        value = row[self.index(name)]
        assert number(value), (self.title, name, value)
        return fen(value)

    def total_mismatches(self) -> list:
        """Every number in the 合计 row that is not the sum of the rows above."""
        out = []
        for row in self.totals:
            for i, value in enumerate(row):
                if number(value):
                    summed = sum(fen(r[i]) for r in self.rows if i < len(r) and number(r[i]))
                    if fen(value) != summed:
                        out.append((self.title, self.header[i], value, summed / 100))
        return out
