"""Compile a rulebook into a columnar plan: Polars expressions that evaluate
every rule for every row of an applicant frame at once.

The same Rulebook the durable_rules compiler reads; nothing here re-states a
rule. A condition is a Boolean column in Kleene logic: true = held, false =
failed, null = unknown. A rule's verdict is the Kleene AND (``all``) or OR
(``any``) of its conditions, which is exactly eligible / ineligible /
undetermined. What follows a verdict (amount, payer split, duplicate_of,
upon labels, the missing facts as a bit mask) is ``outcome.py``'s Polars
lowering of each operation. The statuses of every condition stay as
columns, so a row is a trace (``view.py``).
"""
from __future__ import annotations

from functools import reduce

import polars as pl

from ..columns import (DAY, amount_column, condition_column, duplicate_column, fact_column,  # noqa: F401 (API)
                       missing_column, param_column, payer_column, rule_column, upon_column)
from ..outcome import (MONEY_FORMS, MissingBits, amount_pl, duplicates_pl, payer_shares_pl,  # noqa: F401 (API)
                       payer_split_pl, upon_pl)
from ..facts import FACTS
from ..rulebook import Condition, ParamRef, Rulebook
from ..vocabulary import PAYERS, PER_YEAR  # noqa: F401 (API)
from .facts import with_facts
from .params import parameter_expressions

_COMPARE = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "lte": "__le__", "gt": "__gt__", "gte": "__ge__"}


class ColumnarPlan:
    """A rulebook compiled to Polars expressions, built once and reused."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook
        self.bits = MissingBits(rulebook)
        self.benefits = rulebook.benefits
        self.rules = [r for r in rulebook.rules if r.kind != "county_budget"]

    def restricted(self, rule_ids: set[str], lines: set[str]) -> "ColumnarPlan":
        """The verdicts of these rules only (which must include every rule
        they rest on) and the amounts, payers and duplicate marks of these
        benefit lines only (whole same-payment groups): their columns are
        exactly the full plan's. For evaluating only the lines a reform changes."""
        plan = ColumnarPlan.__new__(ColumnarPlan)
        plan.rulebook, plan.bits = self.rulebook, self.bits
        plan.benefits = [r for r in self.benefits if r.id in lines]
        plan.rules = [r for r in self.rules if r.id in rule_ids]
        return plan

    # -- conditions and verdicts ------------------------------------------------

    def condition(self, cond: Condition) -> pl.Expr:
        """The condition's status: true held, false failed, null unknown."""
        if cond.ref is not None:
            return pl.col(rule_column(cond.ref))
        fact = pl.col(fact_column(cond.fact))
        if cond.op == "in":
            # a decimal fact's set may be written in whole numbers (in: [100, 200]): Polars
            # tests a column only against values of its own type
            values = [float(v) for v in cond.value] if FACTS[cond.fact].type is float else cond.value
            return pl.when(fact.is_null()).then(None).otherwise(fact.is_in(values))
        value = pl.col(param_column(cond.value.param)) if isinstance(cond.value, ParamRef) else pl.lit(cond.value)
        return getattr(fact, _COMPARE[cond.op])(value)

    def _stages(self) -> list[dict[str, pl.Expr]]:
        """Conditions, then verdicts, in rounds: a rule's conditions come
        after the concepts they rest on (the rulebook is in dependency order)."""
        depth: dict[str, int] = {}
        stages: list[dict[str, pl.Expr]] = []
        for rule in self.rules:
            level = max((depth[c.ref] + 1 for c in rule.conditions if c.ref), default=0)
            depth[rule.id] = level
            while len(stages) <= 2 * level + 1:
                stages.append({})
            conditions = {condition_column(rule.id, i): self.condition(c) for i, c in enumerate(rule.conditions)}
            columns = [pl.col(name) for name in conditions]
            stages[2 * level].update(conditions)
            stages[2 * level + 1][rule_column(rule.id)] = (
                reduce(lambda a, b: a & b, columns) if rule.mode == "all" else reduce(lambda a, b: a | b, columns))
        return [stage for stage in stages if stage]

    # -- what follows the verdicts (outcome.py's Polars lowerings) ----------------

    def payer_shares(self, rule) -> dict[str, pl.Expr]:
        return payer_shares_pl(rule, self.rulebook)

    def upon(self) -> list[dict[str, pl.Expr]]:
        return upon_pl(self.rulebook, self.rules)

    def duplicates(self) -> dict[str, pl.Expr]:
        return duplicates_pl(self.rulebook, self.benefits)

    def missing(self) -> dict[str, pl.Expr]:
        cache: dict = {}
        out: dict[str, pl.Expr] = {}
        for rule in self.benefits:
            out.update(self.bits.line(rule, cache))
        return out

    # -- the whole plan -------------------------------------------------------------

    def lazy(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """Every column of the plan added to ``frame`` (which has the
        applicant columns and DAY)."""
        return self.decide(with_facts(frame, self.rulebook.event_days()))

    def decide(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """``lazy`` on a frame that has the facts already (``with_facts`` with
        this rulebook's in-force day): the facts do not depend on the
        rulebook's rules or parameters, so two rulebooks can share them."""
        params = {}
        for spec in self.rulebook.parameters.values():
            params.update(parameter_expressions(spec))
        frame = frame.with_columns(**params)
        for stage in self._stages():
            frame = frame.with_columns(**stage)
        # a rule whose document is not yet in force, or that is pending (逐步建立),
        # does not apply: a line is not eligible, a concept not decided
        not_yet = {doc: pl.col(DAY) < pl.lit(f.from_) for doc, f in self.rulebook.in_force_of.items()}
        frame = frame.with_columns(**{
            rule_column(r.id): pl.when(pl.lit(True) if r.pending else not_yet[r.document])
            .then(pl.lit(False if r.kind == "benefit" else None, dtype=pl.Boolean)).otherwise(pl.col(rule_column(r.id)))
            for r in self.rules if r.pending or r.document in not_yet})
        for round_ in self.upon():
            frame = frame.with_columns(**round_)
        amounts = {}
        for rule in self.benefits:
            amounts.update(amount_pl(rule, self.rulebook))
        frame = frame.with_columns(**amounts)
        outputs = {}
        for rule in self.benefits:
            outputs.update(payer_split_pl(rule, self.rulebook))
        outputs.update(self.duplicates())
        outputs.update(self.missing())
        return frame.with_columns(**outputs)
