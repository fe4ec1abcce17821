"""Compile a rulebook into a columnar plan: Polars expressions that evaluate
every rule for every row of an applicant frame at once.

The same Rulebook the durable_rules compiler reads; nothing here re-states a
rule. A condition is a Boolean column in Kleene logic: true = held, false =
failed, null = unknown. A rule's verdict is the Kleene AND (``all``) or OR
(``any``) of its conditions, which is exactly eligible / ineligible /
undetermined. Outputs per benefit line: verdict, amount, payer split,
duplicate_of and the missing facts as a bit mask (``MISSING_BITS``); the
statuses of every condition stay as columns, so a row's cited trace is those
columns joined with the rulebook (``view.py``).
"""
from __future__ import annotations

from functools import reduce

import polars as pl

from ..facts import FACTS
from ..marks import same_payment_groups
from ..rulebook import Condition, ParamRef, Rule, Rulebook
from .facts import DAY, fact_column, round_fen, with_facts
from .params import keys, param_column, parameter_expressions

_COMPARE = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "lte": "__le__", "gt": "__gt__", "gte": "__ge__"}
MONEY_FORMS = ("param", "table", "share_of", "difference", "range")
PAYERS = ("city", "county", "unspecified")
PER_YEAR = {"monthly": 12, "yearly": 1, "one_off": 1}


def rule_column(rule_id: str) -> str:
    return f"rule.{rule_id}"


def condition_column(rule_id: str, index: int) -> str:
    return f"cond.{rule_id}.{index}"


def amount_column(benefit: str, bound: str | None = None) -> str:
    return f"amount.{benefit}" if bound is None else f"amount.{benefit}.{bound}"


def payer_column(benefit: str, who: str, bound: str | None = None) -> str:
    return f"payer.{benefit}.{who}" if bound is None else f"payer.{benefit}.{who}.{bound}"


def duplicate_column(benefit: str) -> str:
    return f"duplicate_of.{benefit}"


def missing_column(benefit: str, word: int) -> str:
    return f"missing.{benefit}.{word}"


def upon_column(rule_id: str) -> str:
    return f"upon.{rule_id}"


WORD = 64


class MissingBits:
    """One bit per fact, then one per parameter ("not yet in force"), in as
    many 64-bit words as they need: bit i is bit i % 64 of word i // 64. A
    mask is a list of UInt64 expressions, one per word."""

    def __init__(self, rulebook: Rulebook):
        self.facts = list(FACTS)
        self.params = list(rulebook.parameters)
        self.words = -(-(len(self.facts) + len(self.params)) // WORD)

    @staticmethod
    def _at(index: int) -> tuple[int, int]:
        return index // WORD, 1 << (index % WORD)

    def fact(self, name: str) -> tuple[int, int]:
        """(word, bit) of a fact."""
        return self._at(self.facts.index(name))

    def param(self, name: str) -> tuple[int, int]:
        """(word, bit) of a parameter."""
        return self._at(len(self.facts) + self.params.index(name))


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

    def _param_value(self, name: str) -> pl.Expr:
        return pl.col(param_column(name))

    def condition(self, cond: Condition) -> pl.Expr:
        """The condition's status: true held, false failed, null unknown."""
        if cond.ref is not None:
            return pl.col(rule_column(cond.ref))
        fact = pl.col(fact_column(cond.fact))
        if cond.op == "in":
            return pl.when(fact.is_null()).then(None).otherwise(fact.is_in(cond.value))
        value = self._param_value(cond.value.param) if isinstance(cond.value, ParamRef) else pl.lit(cond.value)
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

    # -- amounts and payers -----------------------------------------------------

    def amount(self, rule: Rule) -> dict[str, pl.Expr]:
        """Money of an eligible line (null when not eligible or unresolved)."""
        spec = rule.outcome.amount
        form = spec.form
        eligible = pl.col(rule_column(rule.id)) == True  # noqa: E712 (null → not eligible)
        if form == "param":
            value = self._param_value(spec.param)
        elif form == "table":
            value = pl.coalesce(*[pl.when(pl.col(fact_column(spec.key_fact)) == k).then(pl.col(param_column(spec.table, k)))
                                  for k in keys(self.rulebook.parameters[spec.table])])
        elif form == "share_of":
            value = round_fen(self._param_value(spec.share_of) * self._param_value(spec.ratio))
        elif form == "difference":
            value = round_fen(pl.max_horizontal(
                self._param_value(spec.difference) - pl.col(fact_column(spec.minus_fact)), pl.lit(0.0)))
            value = pl.when(self._param_value(spec.difference).is_null()).then(None).otherwise(value)
        elif form == "range":
            bounds = {b: pl.col(param_column(spec.range, b)) for b in ("min", "max")}
            return {amount_column(rule.id, b): pl.when(eligible).then(v) for b, v in bounds.items()}
        else:
            return {}
        if spec.times_fact is not None:
            value = round_fen(value * pl.col(fact_column(spec.times_fact)))
        return {amount_column(rule.id): pl.when(eligible).then(value.cast(pl.Float64))}

    def payer_shares(self, rule: Rule) -> dict[str, pl.Expr]:
        payer = rule.outcome.payer
        if payer is None:
            return {}
        if payer.param is None:
            return {who: pl.lit(float(getattr(payer, who))) for who in PAYERS if getattr(payer, who)}
        names = keys(self.rulebook.parameters[payer.param]) or []
        return {who: pl.col(param_column(payer.param, who)) for who in PAYERS if who in names}

    def payer(self, rule: Rule) -> dict[str, pl.Expr]:
        """Each payer's part of the amount; a zero or absent share gives null."""
        form = rule.outcome.amount.form
        if form not in MONEY_FORMS:
            return {}
        out = {}
        for who, share in self.payer_shares(rule).items():
            share = pl.when(share != 0).then(share)
            if form == "range":
                for b in ("min", "max"):
                    out[payer_column(rule.id, who, b)] = round_fen(pl.col(amount_column(rule.id, b)) * share)
            else:
                out[payer_column(rule.id, who)] = round_fen(pl.col(amount_column(rule.id)) * share)
        return out

    def annual(self, rule: Rule) -> pl.Expr | None:
        """Yearly money of a fixed or floor amount, for duplicate marking."""
        spec = rule.outcome.amount
        if spec.form not in ("param", "table", "share_of", "difference"):
            return None
        return pl.col(amount_column(rule.id)) * PER_YEAR.get(rule.outcome.period, 0)

    def duplicates(self) -> dict[str, pl.Expr]:
        """In each group of lines paying for the same need (marks.
        same_payment_groups), every eligible line with a yearly value but the
        largest names the largest; a tie goes to the first in rule order."""
        marks: dict[str, pl.Expr] = {}
        present = {r.id for r in self.benefits}
        for group in same_payment_groups(self.rulebook):
            if not present.issuperset(group):
                if present & set(group):
                    raise ValueError(f"a restricted plan needs the whole same-payment group {group}")
                continue
            rules = [self.rulebook.by_id[b] for b in group]
            annual = {r.id: self.annual(r) for r in rules}
            annual = {b: v for b, v in annual.items() if v is not None}
            if len(annual) < 2:
                continue
            largest = pl.max_horizontal(*annual.values())
            keeper = reduce(lambda acc, bv: acc.when(bv[1] == largest).then(pl.lit(bv[0])),
                            list(annual.items())[1:],
                            pl.when(next(iter(annual.values())) == largest).then(pl.lit(next(iter(annual)))))
            valued = pl.sum_horizontal(*[v.is_not_null().cast(pl.Int32) for v in annual.values()])
            for b, value in annual.items():
                marks[b] = pl.when(value.is_not_null() & (valued >= 2) & (keeper != b)).then(keeper)
        return {duplicate_column(b): expr.cast(pl.String) for b, expr in marks.items()}

    def duplicate_columns(self) -> set[str]:
        return set(self.duplicates())

    # -- upon: eligible only once a prospective event happens (依纳入低保) ----------

    def upon_labels(self) -> list[str]:
        # the whole rulebook's labels: a restricted plan's bits are the full plan's
        return sorted({c.upon for r in self.rulebook.rules if r.kind != "county_budget"
                       for c in r.conditions if c.upon})

    def upon(self) -> list[dict[str, pl.Expr]]:
        """Per rule that may hold only upon an event, a bit mask of the
        ``upon`` labels it depends on (marks.upon_labels, column-wise), in
        dependency rounds."""
        labels = self.upon_labels()
        bit = {label: 1 << i for i, label in enumerate(labels)}
        zero = pl.lit(0, dtype=pl.UInt32)
        prospective: set[str] = set()
        depth: dict[str, int] = {}
        rounds: list[dict[str, pl.Expr]] = []
        for rule in self.rules:
            if not any(c.upon or c.ref in prospective for c in rule.conditions):
                continue
            prospective.add(rule.id)
            level = max((depth[c.ref] + 1 for c in rule.conditions if c.ref in prospective), default=0)
            depth[rule.id] = level
            while len(rounds) <= level:
                rounds.append({})
            held, parts = [], []
            for i, cond in enumerate(rule.conditions):
                part = pl.lit(bit[cond.upon], dtype=pl.UInt32) if cond.upon else zero
                if cond.ref in prospective:
                    part = part | pl.col(upon_column(cond.ref))
                held.append(pl.col(condition_column(rule.id, i)) == True)  # noqa: E712
                parts.append(part)
            union = reduce(lambda acc, hp: acc | pl.when(hp[0]).then(hp[1]).otherwise(zero), zip(held, parts), zero)
            if rule.mode == "any":
                plain = reduce(lambda acc, hp: acc | (hp[0] & (hp[1] == 0)), zip(held, parts), pl.lit(False))
                union = pl.when(plain).then(zero).otherwise(union)
            rounds[level][upon_column(rule.id)] = pl.when(pl.col(rule_column(rule.id)) == True).then(  # noqa: E712
                union).otherwise(zero)
        return rounds

    # -- missing facts ------------------------------------------------------------

    def _zero(self) -> list[pl.Expr]:
        return [pl.lit(0, dtype=pl.UInt64)] * self.bits.words

    def _when(self, test: pl.Expr, mask: list[pl.Expr]) -> list[pl.Expr]:
        """``mask`` where ``test`` holds, else no bits."""
        zero = pl.lit(0, dtype=pl.UInt64)
        return [pl.when(test).then(word).otherwise(zero) for word in mask]

    @staticmethod
    def _or(a: list[pl.Expr], b: list[pl.Expr]) -> list[pl.Expr]:
        return [x | y for x, y in zip(a, b)]

    def _bit(self, at: tuple[int, int]) -> list[pl.Expr]:
        word, bit = at
        return [pl.lit(bit if w == word else 0, dtype=pl.UInt64) for w in range(self.bits.words)]

    def _absent(self, names: list[str]) -> list[pl.Expr]:
        """Bits of the named facts that are null."""
        return reduce(lambda acc, n: self._or(acc, self._when(pl.col(fact_column(n)).is_null(),
                                                              self._bit(self.bits.fact(n)))), names, self._zero())

    def _param_unset(self, name: str, column: str) -> list[pl.Expr]:
        """The parameter's bit where its dimensions are known but no value is in force."""
        dims = self.rulebook.parameters[name].by
        known = reduce(lambda acc, d: acc & pl.col(fact_column(d)).is_not_null(), dims, pl.lit(True))
        return self._when(known & pl.col(column).is_null(), self._bit(self.bits.param(name)))

    def missing_rule(self, rule: Rule, cache: dict) -> list[pl.Expr]:
        """What would settle an undetermined rule: over its unknown conditions,
        the absent facts (and parameters not in force), through concepts."""
        if rule.id in cache:
            return cache[rule.id]
        total = self._zero()
        for i, cond in enumerate(rule.conditions):
            unknown = pl.col(condition_column(rule.id, i)).is_null()
            if cond.ref is not None:
                part = self.missing_rule(self.rulebook.by_id[cond.ref], cache)
            elif isinstance(cond.value, ParamRef):
                name = cond.value.param
                part = self._or(self._absent([cond.fact, *self.rulebook.parameters[name].by]), self._when(
                    pl.col(fact_column(cond.fact)).is_not_null(), self._param_unset(name, param_column(name))))
            else:
                part = self._absent([cond.fact])
            total = self._or(total, self._when(unknown, part))
        cache[rule.id] = total
        return total

    def amount_parameters(self, rule: Rule) -> list[tuple[str, str]]:
        """(parameter, a column showing whether it resolved) an amount uses, in order."""
        spec = rule.outcome.amount
        out = []
        for name in spec.parameters():
            names = keys(self.rulebook.parameters[name])
            out.append((name, param_column(name) if names is None else param_column(name, names[0])))
        return out

    def missing_amount(self, rule: Rule) -> list[pl.Expr]:
        """An eligible line whose amount did not resolve: the facts its
        parameters vary by, or the parameter not yet in force."""
        total = self._zero()
        for name, column in self.amount_parameters(rule):
            dims = self.rulebook.parameters[name].by
            total = self._or(total, self._when(pl.col(column).is_null(), self._or(
                self._absent(list(dims)), self._param_unset(name, column))))
        return total

    def missing(self, cache: dict) -> dict[str, pl.Expr]:
        out = {}
        for rule in self.benefits:
            verdict = pl.col(rule_column(rule.id))
            unresolved = self.unresolved(rule)
            by_rule = self.missing_rule(rule, cache)
            by_amount = self.missing_amount(rule) if unresolved is not None else None
            for w in range(self.bits.words):
                expr = pl.when(verdict.is_null()).then(by_rule[w])
                if by_amount is not None:
                    expr = expr.when((verdict == True) & unresolved).then(by_amount[w])  # noqa: E712
                out[missing_column(rule.id, w)] = expr.otherwise(pl.lit(0, dtype=pl.UInt64))
        return out

    def unresolved(self, rule: Rule) -> pl.Expr | None:
        """An eligible line whose money amount could not be computed."""
        spec = rule.outcome.amount
        if spec.form == "range":
            return pl.col(amount_column(rule.id, "min")).is_null()
        if spec.form in MONEY_FORMS:
            return pl.col(amount_column(rule.id)).is_null()
        return None

    # -- the whole plan -------------------------------------------------------------

    def lazy(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """Every column of the plan added to ``frame`` (which has the
        applicant columns and DAY)."""
        in_force = self.rulebook.in_force
        return self.decide(with_facts(frame, in_force.from_ if in_force else None))

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
        in_force = self.rulebook.in_force
        if in_force is not None:
            # before 63号 is in force no line applies and no concept is decided
            early = pl.col(DAY) < pl.lit(in_force.from_)
            frame = frame.with_columns(**{
                rule_column(r.id): pl.when(early).then(pl.lit(False if r.kind == "benefit" else None,
                                                              dtype=pl.Boolean)).otherwise(pl.col(rule_column(r.id)))
                for r in self.rules})
        for round_ in self.upon():
            frame = frame.with_columns(**round_)
        amounts = {}
        for rule in self.benefits:
            amounts.update(self.amount(rule))
        frame = frame.with_columns(**amounts)
        outputs = {}
        for rule in self.benefits:
            outputs.update(self.payer(rule))
        outputs.update(self.duplicates())
        outputs.update(self.missing({}))
        return frame.with_columns(**outputs)
