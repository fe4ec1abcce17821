"""Money arithmetic both back ends share, so that they agree to the fen."""
from __future__ import annotations

import math


def round_fen(value: float) -> float:
    """Round yuan to the fen, half up (四舍五入), on the scaled double.

    Python's ``round`` rounds the exact binary value half-to-even; Polars
    cannot reproduce that. ``floor(x × 100 + 0.5) / 100`` is the same IEEE
    operations in both, so the columnar engine gets the same bits.
    """
    return math.floor(value * 100 + 0.5) / 100
