"""Parameters resolved column-wise: the value in force on each row's day for
its county and 城镇/农村, as ``Parameter.resolve`` picks it (latest ``from``
not after the day, then the most specific entry; the first listed on a tie;
null when a dimension it varies by is unknown or nothing is in force yet).
"""
from __future__ import annotations

import polars as pl

from ..rulebook import Parameter
from ..columns import DAY, fact_column, keys, param_column


def _chain(spec: Parameter, pick) -> pl.Expr:
    ordered = sorted(enumerate(spec.values), key=lambda iv: (
        iv[1].from_, (iv[1].hukou_county is not None) + (iv[1].residence is not None), -iv[0]), reverse=True)
    expr = None
    for _, entry in ordered:
        test = pl.col(DAY) >= pl.lit(entry.from_, dtype=pl.Date)
        for dim in ("hukou_county", "residence"):
            wanted = getattr(entry, dim)
            if wanted is not None:
                test = test & (pl.col(fact_column(dim)) == wanted)
        value = pick(entry.value)
        expr = (pl.when(test) if expr is None else expr.when(test)).then(
            pl.lit(value, dtype=pl.Float64) if value is not None else pl.lit(None, dtype=pl.Float64))
    expr = expr.otherwise(None)
    for dim in spec.by:
        expr = pl.when(pl.col(fact_column(dim)).is_null()).then(None).otherwise(expr)
    return expr


def parameter_expressions(spec: Parameter) -> dict[str, pl.Expr]:
    """{column name: expression} for one parameter: one column, or one per key."""
    names = keys(spec)
    if names is None:
        return {param_column(spec.name): _chain(spec, lambda v: v)}
    return {param_column(spec.name, k): _chain(spec, lambda v, k=k: v.get(k) if isinstance(v, dict) else None)
            for k in names}
