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

from ..rulebook import ParamRef, Rule
from .facts import DAY
from .plan import (MONEY_FORMS, ColumnarPlan, amount_column, condition_column, duplicate_column, missing_column,
                   payer_column, rule_column, upon_column)
from .schema import ROW

STATUS = pl.Enum(["eligible", "ineligible", "undetermined"])
KINDS = pl.Enum(["fixed", "at_least", "range", "in_kind", "unstated", "priority", "days_off", "unresolved"])
_STATIC_KIND = {"in_kind": "in_kind", "unstated": "unstated", "priority": "priority", "observances": "days_off"}


def _settling(plan: ColumnarPlan, rule: Rule, seen: set | None = None) -> list[tuple[str, tuple[int, int]]]:
    """(name, (word, bit)) of every fact and parameter that could settle the rule."""
    seen = set() if seen is None else seen
    out = []
    book = plan.rulebook

    def add(name: str, bit: tuple[int, int]):
        if name not in seen:
            seen.add(name)
            out.append((name, bit))
    for cond in rule.conditions or []:
        if cond.ref is not None:
            out += _settling(plan, book.by_id[cond.ref], seen)
            continue
        add(cond.fact, plan.bits.fact(cond.fact))
        if isinstance(cond.value, ParamRef):
            for dim in book.parameters[cond.value.param].by:
                add(dim, plan.bits.fact(dim))
            add(f"param:{cond.value.param}", plan.bits.param(cond.value.param))
    if rule.outcome is not None:
        for name in rule.outcome.amount.parameters():
            for dim in book.parameters[name].by:
                add(dim, plan.bits.fact(dim))
            add(f"param:{name}", plan.bits.param(name))
    return out


def _missing_list(plan: ColumnarPlan, rule: Rule) -> pl.Expr:
    names = [pl.when((pl.col(missing_column(rule.id, word)) & pl.lit(bit, dtype=pl.UInt64)) != 0).then(pl.lit(name))
             for name, (word, bit) in _settling(plan, rule)]
    if not names:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list(names).list.drop_nulls()


def masked_id(id_number: pl.Expr) -> pl.Expr:
    """identity.mask_id, column-wise: the place code and the last four characters."""
    return pl.concat_str(id_number.str.slice(0, 6), pl.lit("*" * 8), id_number.str.slice(-4))


def output_columns(plan: ColumnarPlan) -> list[pl.Expr]:
    """The compact columns of every evaluated row (see the module docstring)."""
    book = plan.rulebook
    upon_columns = {name for round_ in plan.upon() for name in round_}
    out = [pl.col(ROW), masked_id(pl.col("id_number")).alias("id_number_masked"),
           pl.col(DAY).alias("evaluation_date")]
    for rule in book.benefits:
        b = rule.id
        verdict = pl.col(rule_column(b))
        out.append(pl.when(verdict.is_null()).then(pl.lit("undetermined")).when(verdict)
                   .then(pl.lit("eligible")).otherwise(pl.lit("ineligible")).cast(STATUS).alias(f"{b}.status"))
        spec = rule.outcome.amount
        if spec.form in MONEY_FORMS:
            probe = pl.col(amount_column(b, "min") if spec.form == "range" else amount_column(b))
            resolved = "range" if spec.form == "range" else "at_least" if spec.at_least else "fixed"
            kind = pl.when(verdict == True).then(  # noqa: E712
                pl.when(probe.is_null()).then(pl.lit("unresolved")).otherwise(pl.lit(resolved)))
        else:
            kind = pl.when(verdict == True).then(pl.lit(_STATIC_KIND[spec.form]))  # noqa: E712
        out.append(kind.cast(KINDS).alias(f"{b}.amount_kind"))
        if spec.form == "range":
            out += [pl.col(amount_column(b, "min")).alias(f"{b}.min"), pl.col(amount_column(b, "max")).alias(f"{b}.max")]
        elif spec.form in MONEY_FORMS:
            out.append(pl.col(amount_column(b)).alias(f"{b}.amount"))
        for who in plan.payer_shares(rule) if spec.form in MONEY_FORMS else ():
            if spec.form == "range":
                out += [pl.col(payer_column(b, who, bound)).alias(f"{b}.payer.{who}.{bound}") for bound in ("min", "max")]
            else:
                out.append(pl.col(payer_column(b, who)).alias(f"{b}.payer.{who}"))
        if duplicate_column(b) in plan.duplicate_columns():
            out.append(pl.col(duplicate_column(b)).alias(f"{b}.duplicate_of"))
        out.append(_missing_list(plan, rule).alias(f"{b}.missing"))
        if upon_column(b) in upon_columns:
            mask = pl.col(upon_column(b))
            out.append(pl.concat_list([pl.when((mask & (1 << i)) != 0).then(pl.lit(label))
                                       for i, label in enumerate(plan.upon_labels())]).list.drop_nulls()
                       .alias(f"{b}.upon"))
    for rule in plan.rules:
        out += [pl.col(condition_column(rule.id, i)).alias(f"{rule.id}.c{i}") for i in range(len(rule.conditions))]
    return out


def output_frame(plan: ColumnarPlan, result: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return result.lazy().select(output_columns(plan)).collect()
