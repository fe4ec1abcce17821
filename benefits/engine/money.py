"""Money rounding, defined once with its two lowerings side by side, so that
the durable_rules engine and the columnar engine agree to the fen."""
from __future__ import annotations

import math

from .lazy import pl


def round_fen(value: float) -> float:
    """Round yuan to the fen, half up (四舍五入), on the scaled double.

    Python's ``round`` rounds the exact binary value half-to-even; Polars
    cannot reproduce that. ``floor(x × 100 + 0.5) / 100`` is the same IEEE
    operations in both, so the columnar engine gets the same bits.
    """
    return math.floor(value * 100 + 0.5) / 100


def round_fen_column(expr: pl.Expr) -> pl.Expr:
    """``round_fen``, column-wise: the same IEEE operations."""
    # Polars divides by a scalar through its reciprocal; round(2) restores
    # the exact quotient n / 100 that Python computes.
    return ((expr * 100 + 0.5).floor() / 100).round(2)
