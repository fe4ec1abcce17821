"""Money in whole fen (分) for a caseload's totals.

A person's amount on a line for the year (the sum of its stretches, each
weighted by its months) is rounded once, half up as ``engine.money.round_fen``
rounds, and every figure above it — a county, a payer, a benefit, the total,
a reform's delta — is a sum of those integers. A total is then exactly the
sum of its rows on every sheet, and the same total reads the same wherever
it is shown. The payers' parts of a person's amount are apportioned so
that they add up to it (市级 + 县级 + 未指明 = 合计 for every person).

Each rule has two lowerings side by side, Python for the durable path and
Polars for the columnar one, with the same IEEE operations.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping

from ..engine.lazy import pl


def to_fen(yuan: float) -> int:
    """Yuan → whole fen, half up (``floor(x × 100 + 0.5)``, as ``round_fen``)."""
    return int(math.floor(yuan * 100 + 0.5))


def fen_column(expr: pl.Expr) -> pl.Expr:
    """``to_fen``, column-wise: the same IEEE operations, as Int64."""
    return (expr * 100 + 0.5).floor().cast(pl.Int64)


def yuan(fen: int) -> float:
    """Whole fen → yuan: the double nearest to fen / 100 (what ``round(x, 2)`` gives)."""
    return fen / 100


def yuan_column(expr: pl.Expr) -> pl.Expr:
    """``yuan``, column-wise. Polars divides by a scalar through its
    reciprocal; ``round(2)`` restores the exact quotient Python computes."""
    return (expr.cast(pl.Float64) / 100).round(2)


def rescale(fen: int, unit: int) -> int:
    """Whole fen → whole ``unit``s of fen, half up, exactly (10,000 fen:
    hundredths of 万元)."""
    return (2 * fen + unit) // (2 * unit)


def apportion(total: int, parts: Mapping[str, float], rounded: Callable[[float], int] = to_fen) -> dict[str, int]:
    """The payers' parts (yuan, unrounded) of a person's amount already
    rounded to ``total`` fen: each part rounded, and what they then differ
    from the total by (a fen, rarely two) added to the largest part (the
    first of them on a tie), so that the parts add up to the total.
    ``rounded``: how a part is rounded, in the total's unit."""
    fen = {who: rounded(value) for who, value in parts.items()}
    if fen:
        largest = max(parts, key=lambda who: parts[who])     # max keeps the first of equal parts
        fen[largest] += total - sum(fen.values())
    return fen


def apportion_columns(total: pl.Expr, parts: Mapping[str, pl.Expr]) -> dict[str, pl.Expr]:
    """``apportion``, column-wise: ``total`` in fen (Int64), ``parts`` in
    yuan in the order ``apportion`` would see them; Int64 parts out."""
    names = list(parts)
    fen = {who: fen_column(expr) for who, expr in parts.items()}
    if not names:
        return {}
    rest = total - pl.sum_horizontal(*fen.values())
    out = {}
    for i, who in enumerate(names):
        # the first largest part: larger than every part before it, not smaller than any after it
        largest = pl.lit(True)
        for j, other in enumerate(names):
            if j < i:
                largest = largest & (parts[who] > parts[other])
            elif j > i:
                largest = largest & (parts[who] >= parts[other])
        out[who] = fen[who] + pl.when(largest).then(rest).otherwise(0)
    return out
