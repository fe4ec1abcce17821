"""Counting a budget year in months (按月计), for sums that change within it."""
from __future__ import annotations

import calendar
import datetime as dt

from .rulebook import Rulebook


def months_between(start: dt.date, end: dt.date) -> float:
    """Fractional months in [start, end): whole months count 1, part months
    count their share of days."""
    total = 0.0
    day = start
    while day < end:
        length = calendar.monthrange(day.year, day.month)[1]
        month_end = dt.date(day.year, day.month, length) + dt.timedelta(days=1)
        stop = min(end, month_end)
        total += (stop - day).days / length
        day = stop
    return total


def parameter_dates(rulebook: Rulebook, year: int, names=None) -> list[dt.date]:
    """Every ``from`` date inside the year, after 1 January, of the named
    parameters (default: all)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    specs = rulebook.parameters.values() if names is None else (rulebook.parameters[n] for n in names)
    return sorted({v.from_ for p in specs for v in p.values if start < v.from_ <= end})
