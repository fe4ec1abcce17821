"""The batch output (批量评估结果): one row per applicant, compact columns.

Per benefit line ``B``: ``B.status`` (eligible / ineligible / undetermined),
``B.amount_kind``, ``B.amount`` (or ``B.min`` and ``B.max`` for a range),
``B.payer.city|county|unspecified`` (yuan), ``B.duplicate_of`` where the
line can pay for the same need as another, ``B.missing`` (the facts, or
``param:NAME`` for a parameter not yet in force, that would settle it) and
``B.upon`` where the line may hold only upon an event (依纳入低保).
Per rule ``R`` (benefit lines and concepts) and condition ``i``: ``R.c<i>``,
true = held, false = failed, null = unknown. A row's cited trace is those
columns joined with the rulebook: ``benefits rules`` lists each rule's
clause and text, and the conditions in order.
"""
from __future__ import annotations

import polars as pl

from ..columns import (DAY, amount_column, condition_column, duplicate_column, payer_column, rule_column,
                       upon_column)
from ..outcome import MONEY_FORMS, amount_kind_pl, upon_list_pl
from ..vocabulary import AMOUNT_KINDS, STATUSES
from .plan import ColumnarPlan
from .schema import ROW

STATUS = pl.Enum(list(STATUSES))
KINDS = pl.Enum(list(AMOUNT_KINDS))


def masked_id(id_number: pl.Expr) -> pl.Expr:
    """identity.mask_id, column-wise: the place code and the last four characters."""
    return pl.concat_str(id_number.str.slice(0, 6), pl.lit("*" * 8), id_number.str.slice(-4))


def output_columns(plan: ColumnarPlan) -> list[pl.Expr]:
    """The compact columns of every evaluated row (see the module docstring)."""
    book = plan.rulebook
    upon_columns = {name for round_ in plan.upon() for name in round_}
    duplicates = set(plan.duplicates())
    out = [pl.col(ROW), masked_id(pl.col("id_number")).alias("id_number_masked"),
           pl.col(DAY).alias("evaluation_date")]
    for rule in book.benefits:
        b = rule.id
        verdict = pl.col(rule_column(b))
        out.append(pl.when(verdict.is_null()).then(pl.lit("undetermined")).when(verdict)
                   .then(pl.lit("eligible")).otherwise(pl.lit("ineligible")).cast(STATUS).alias(f"{b}.status"))
        form = rule.outcome.amount.form
        out.append(amount_kind_pl(rule).cast(KINDS).alias(f"{b}.amount_kind"))
        if form == "range":
            out += [pl.col(amount_column(b, "min")).alias(f"{b}.min"), pl.col(amount_column(b, "max")).alias(f"{b}.max")]
        elif form in MONEY_FORMS:
            out.append(pl.col(amount_column(b)).alias(f"{b}.amount"))
        for who in plan.payer_shares(rule) if form in MONEY_FORMS else ():
            if form == "range":
                out += [pl.col(payer_column(b, who, bound)).alias(f"{b}.payer.{who}.{bound}") for bound in ("min", "max")]
            else:
                out.append(pl.col(payer_column(b, who)).alias(f"{b}.payer.{who}"))
        if duplicate_column(b) in duplicates:
            out.append(pl.col(duplicate_column(b)).alias(f"{b}.duplicate_of"))
        out.append(plan.bits.names(rule).alias(f"{b}.missing"))
        if upon_column(b) in upon_columns:
            out.append(upon_list_pl(book, rule).alias(f"{b}.upon"))
    for rule in plan.rules:
        out += [pl.col(condition_column(rule.id, i)).alias(f"{rule.id}.c{i}") for i in range(len(rule.conditions))]
    return out


def output_frame(plan: ColumnarPlan, result: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return result.lazy().select(output_columns(plan)).collect()
