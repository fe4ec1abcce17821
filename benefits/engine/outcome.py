"""What follows a verdict, defined once: each amount form, the payer split,
the same-payment (duplicate) marks, the 依纳入… ``upon`` labels and the facts
still missing.

Each operation has two lowerings side by side, as a compiler keeps one op
with one lowering per target:

- ``…_py``: one applicant, read off a ``Trace`` (the facts, the resolved
  parameters, each condition's status and each verdict). The durable_rules
  engine and a columnar row read back (``columnar/view.py``) both go
  through it, via ``determination.py``.
- ``…_pl``: a caseload, as Polars expressions over the columns the plan has
  already computed (``columns.py`` names them); null means unknown.

The differential test (tests/test_columnar_differential.py) holds the two
lowerings equal on every line. To add an amount form, add a ``Form`` here
(and its key to ``rulebook.Amount``).
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache, reduce
from typing import Protocol

from .columns import (amount_column, condition_column, duplicate_column, fact_column, keys, missing_column,
                      param_column, payer_column, rule_column, upon_column)
from .facts import FACTS, missing_entry
from .lazy import pl
from .marks import same_payment_groups
from .money import round_fen, round_fen_column
from .observances import days_off
from .rulebook import Amount, ParamRef, Rule, Rulebook
from .vocabulary import ELIGIBLE, HELD, MONEY_KINDS, PAYERS, PER_YEAR, UNKNOWN


class Trace(Protocol):
    """One applicant's evaluation as both engines record it."""
    rulebook: Rulebook
    day: dt.date
    categories: tuple[int, ...]     # the certificate's categories (五（三）'s observances)

    def verdict(self, rule_id: str) -> bool | None: ...
    def statuses(self, rule: Rule) -> list[str]: ...    # held / failed / unknown per condition
    def fact(self, name: str): ...                        # None: unknown
    def param(self, name: str): ...                       # as the rule files write it; None: unresolved
    def recorded(self, path: str) -> bool: ...            # the record has a value at a field path


# -- amount forms ----------------------------------------------------------------

class Form:
    """An amount form of ``rulebook.Amount``. A money form gives a value
    (``value_py``/``value_pl``); the others give a fixed kind."""
    kind: str | None = None            # the kind of a non-money form

    def py(self, spec: Amount, t: Trace) -> dict:
        return {"kind": self.kind}

    def columns(self, rule: Rule, book: Rulebook, eligible: pl.Expr) -> dict[str, pl.Expr]:
        return {}


class _Money(Form):
    def value_py(self, spec: Amount, t: Trace):
        raise NotImplementedError

    def value_pl(self, spec: Amount, book: Rulebook) -> pl.Expr:
        raise NotImplementedError

    def py(self, spec: Amount, t: Trace) -> dict | None:
        value = self.value_py(spec, t)
        if value is None:
            return unresolved_py(spec, t)
        kind = "at_least" if spec.at_least else "fixed"
        if spec.times_fact is not None:
            count = t.fact(spec.times_fact)
            return {"kind": kind, "value": round_fen(value * count), "per_unit": value, "count": count,
                    "unit_zh": FACTS[spec.times_fact].unit_zh}
        return {"kind": kind, "value": value}

    def columns(self, rule: Rule, book: Rulebook, eligible: pl.Expr) -> dict[str, pl.Expr]:
        spec = rule.outcome.amount
        value = self.value_pl(spec, book)
        if spec.times_fact is not None:
            value = round_fen_column(value * pl.col(fact_column(spec.times_fact)))
        return {amount_column(rule.id): pl.when(eligible).then(value.cast(pl.Float64))}


class _Param(_Money):
    """The parameter's value."""
    def value_py(self, spec, t):
        return t.param(spec.param)

    def value_pl(self, spec, book):
        return pl.col(param_column(spec.param))


class _Table(_Money):
    """A parameter mapping, keyed by a fact (学历 level → yuan)."""
    def value_py(self, spec, t):
        table = t.param(spec.table)
        return table.get(t.fact(spec.key_fact)) if table else None

    def value_pl(self, spec, book):
        return pl.coalesce(*[pl.when(pl.col(fact_column(spec.key_fact)) == k).then(pl.col(param_column(spec.table, k)))
                             for k in keys(book.parameters[spec.table])])


class _ShareOf(_Money):
    """A base × a ratio (二（一）: the 低保 standard × 20 %)."""
    def value_py(self, spec, t):
        base, ratio = t.param(spec.share_of), t.param(spec.ratio)
        return None if base is None or ratio is None else round_fen(base * ratio)

    def value_pl(self, spec, book):
        return round_fen_column(pl.col(param_column(spec.share_of)) * pl.col(param_column(spec.ratio)))


class _Difference(_Money):
    """A parameter less a fact, not below 0 (补差: the 低保 standard − income per head)."""
    def value_py(self, spec, t):
        base = t.param(spec.difference)
        return None if base is None else round_fen(max(base - t.fact(spec.minus_fact), 0))

    def value_pl(self, spec, book):
        base = pl.col(param_column(spec.difference))
        value = round_fen_column(pl.max_horizontal(base - pl.col(fact_column(spec.minus_fact)), pl.lit(0.0)))
        return pl.when(base.is_null()).then(None).otherwise(value)


class _Range(Form):
    """From a minimum to a maximum (七: 500—1000)."""
    def py(self, spec, t):
        bounds = t.param(spec.range)
        return None if bounds is None else {"kind": "range", "min": bounds["min"], "max": bounds["max"]}

    def columns(self, rule, book, eligible):
        spec = rule.outcome.amount
        return {amount_column(rule.id, b): pl.when(eligible).then(pl.col(param_column(spec.range, b)))
                for b in ("min", "max")}


class _Static(Form):
    def __init__(self, kind: str):
        self.kind = kind


class _DaysOff(Form):
    """五（三）: the days off of the person's categories in the day's year."""
    kind = "days_off"

    def py(self, spec, t):
        return {"kind": "days_off", "year": t.day.year,
                "days": days_off(t.day.year, t.categories) if t.categories else []}


FORMS: dict[str, Form] = {
    "param": _Param(), "table": _Table(), "share_of": _ShareOf(), "difference": _Difference(), "range": _Range(),
    "in_kind": _Static("in_kind"), "unstated": _Static("unstated"), "priority": _Static("priority"),
    "observances": _DaysOff(),
}
MONEY_FORMS = tuple(name for name, form in FORMS.items() if isinstance(form, (_Money, _Range)))


def form(rule: Rule) -> Form:
    name = rule.outcome.amount.form
    if name not in FORMS:   # per_capita: county budgets, not applicant lines
        raise ValueError(f"amount form {name} is not for applicants")
    return FORMS[name]


def amount_py(rule: Rule, t: Trace) -> dict | None:
    """An eligible line's amount (None: a range whose bounds are unknown);
    one paid to the household says so (``payee``)."""
    amount = form(rule).py(rule.outcome.amount, t)
    if amount is not None and rule.outcome.payee == "household":
        amount["payee"] = "household"
        if "count" not in amount and "value" in amount:
            # a household amount always says the persons it counts: without a count fact, the applicant alone
            amount.update(per_unit=amount["value"], count=1, unit_zh=FACTS["household_size"].unit_zh)
    return amount


def amount_pl(rule: Rule, book: Rulebook) -> dict[str, pl.Expr]:
    """Money columns of a line, null unless eligible and resolved."""
    eligible = pl.col(rule_column(rule.id)) == True  # noqa: E712 (null → not eligible)
    return form(rule).columns(rule, book, eligible)


def unresolved_py(spec: Amount, t: Trace) -> dict:
    return {"kind": "unresolved", "reason": "金额所依据的参数无法确定：" + "、".join(
        t.rulebook.parameters[n].label_zh for n in spec.parameters() if t.param(n) is None)}


def unresolved_pl(rule: Rule) -> pl.Expr | None:
    """An eligible line whose money amount could not be computed."""
    name = rule.outcome.amount.form
    if name == "range":
        return pl.col(amount_column(rule.id, "min")).is_null()
    if name in MONEY_FORMS:
        return pl.col(amount_column(rule.id)).is_null()
    return None


def amount_kind_pl(rule: Rule) -> pl.Expr:
    """The amount's kind (null unless eligible), as ``amount_py`` names it."""
    spec = rule.outcome.amount
    verdict = pl.col(rule_column(rule.id))
    if spec.form not in MONEY_FORMS:
        return pl.when(verdict == True).then(pl.lit(FORMS[spec.form].kind))  # noqa: E712
    resolved = "range" if spec.form == "range" else "at_least" if spec.at_least else "fixed"
    return pl.when(verdict == True).then(  # noqa: E712
        pl.when(unresolved_pl(rule)).then(pl.lit("unresolved")).otherwise(pl.lit(resolved)))


def amount_parameters(rule: Rule) -> list[str]:
    """The parameters an eligible line's amount uses (per_capita is not for lines)."""
    return rule.outcome.amount.parameters()


# -- payer split -------------------------------------------------------------------

def payer_shares_py(rule: Rule, t: Trace) -> dict[str, float]:
    payer = rule.outcome.payer
    shares = t.param(payer.param) if payer.param else {who: getattr(payer, who) for who in PAYERS}
    return {who: share for who in PAYERS if (share := (shares or {}).get(who, 0))}


def payer_shares_pl(rule: Rule, book: Rulebook) -> dict[str, pl.Expr]:
    """Each payer's share as a column (a zero share is null)."""
    payer = rule.outcome.payer
    if payer is None:
        return {}
    if payer.param is None:
        return {who: pl.lit(float(getattr(payer, who))) for who in PAYERS if getattr(payer, who)}
    names = keys(book.parameters[payer.param]) or []
    return {who: pl.when(pl.col(param_column(payer.param, who)) != 0).then(pl.col(param_column(payer.param, who)))
            for who in PAYERS if who in names}


def payer_split_py(rule: Rule, amount: dict | None, t: Trace) -> dict | None:
    """Yuan for each payer: the amount × its share, rounded to the fen."""
    if rule.outcome.payer is None or amount is None or amount["kind"] not in MONEY_KINDS:
        return None
    split = {}
    for who, share in payer_shares_py(rule, t).items():
        if amount["kind"] == "range":
            split[who] = {"min": round_fen(amount["min"] * share), "max": round_fen(amount["max"] * share)}
        else:
            split[who] = round_fen(amount["value"] * share)
    return split


def payer_split_pl(rule: Rule, book: Rulebook) -> dict[str, pl.Expr]:
    if rule.outcome.amount.form not in MONEY_FORMS:
        return {}
    out = {}
    for who, share in payer_shares_pl(rule, book).items():
        if rule.outcome.amount.form == "range":
            for b in ("min", "max"):
                out[payer_column(rule.id, who, b)] = round_fen_column(pl.col(amount_column(rule.id, b)) * share)
        else:
            out[payer_column(rule.id, who)] = round_fen_column(pl.col(amount_column(rule.id)) * share)
    return out


def payer_parameters(rule: Rule, amount: dict | None) -> list[str]:
    """The payer-split parameter a line used (only where it carries yuan)."""
    payer = rule.outcome.payer
    return [payer.param] if payer is not None and payer.param and amount and amount["kind"] in MONEY_KINDS else []


# -- same payment: a person gets one line of a group ---------------------------------

def _annual_py(line: dict) -> float | None:
    amount = line["amount"]
    if line["status"] != ELIGIBLE or not amount or amount["kind"] not in ("fixed", "at_least"):
        return None
    return amount["value"] * PER_YEAR.get(line["period"], 0)


def _annual_pl(rule: Rule) -> pl.Expr | None:
    if rule.outcome.amount.form not in ("param", "table", "share_of", "difference"):
        return None
    return pl.col(amount_column(rule.id)) * PER_YEAR.get(rule.outcome.period, 0)


def mark_duplicates_py(lines: list[dict], book: Rulebook) -> None:
    """In each group of lines paying for the same need (marks.
    same_payment_groups), every eligible line with a yearly value but the
    largest is marked ``duplicate_of`` the largest and left out of totals; a
    tie goes to the line first in rulebook order."""
    at = {line["benefit"]: i for i, line in enumerate(lines)}
    for group in same_payment_groups(book):
        valued = [(at[b], _annual_py(lines[at[b]])) for b in group]
        valued = [(i, v) for i, v in valued if v is not None]
        if len(valued) < 2:
            continue
        keep = max(valued, key=lambda iv: (iv[1], -iv[0]))[0]
        for i, _ in valued:
            if i != keep:
                lines[i]["duplicate_of"] = lines[keep]["benefit"]


def duplicates_pl(book: Rulebook, benefits: list[Rule]) -> dict[str, pl.Expr]:
    """``mark_duplicates_py``, column-wise, for the groups among ``benefits``
    (which must hold each group whole)."""
    marks: dict[str, pl.Expr] = {}
    present = {r.id for r in benefits}
    for group in same_payment_groups(book):
        if not present.issuperset(group):
            if present & set(group):
                raise ValueError(f"a restricted plan needs the whole same-payment group {group}")
            continue
        annual = {b: _annual_pl(book.by_id[b]) for b in group}
        annual = {b: v for b, v in annual.items() if v is not None}
        if len(annual) < 2:
            continue
        largest = pl.max_horizontal(*annual.values())
        items = list(annual.items())
        keeper = reduce(lambda acc, bv: acc.when(bv[1] == largest).then(pl.lit(bv[0])), items[1:],
                        pl.when(items[0][1] == largest).then(pl.lit(items[0][0])))
        valued = pl.sum_horizontal(*[v.is_not_null().cast(pl.Int32) for v in annual.values()])
        for b, value in annual.items():
            marks[b] = pl.when(value.is_not_null() & (valued >= 2) & (keeper != b)).then(keeper)
    return {duplicate_column(b): expr.cast(pl.String) for b, expr in marks.items()}


# -- upon: holds only once a prospective event happens (依纳入低保) -----------------------

@lru_cache(maxsize=32)
def prospective_rules(book: Rulebook) -> list[Rule]:
    """Rules whose finding may hold only upon an event, in dependency order."""
    out, ids = [], set()
    for rule in book.rules:
        if rule.kind != "county_budget" and any(c.upon or c.ref in ids for c in rule.conditions or []):
            out.append(rule)
            ids.add(rule.id)
    return out


def upon_labels(book: Rulebook) -> list[str]:
    return sorted({c.upon for r in book.rules if r.kind != "county_budget" for c in r.conditions or [] if c.upon})


def labels_of(rule: Rule, statuses: list[str], upon_of: dict[str, tuple]) -> tuple:
    """The upon labels a rule that holds depends on, from its conditions'
    statuses and the labels of the rules it refers to. An ``all`` rule needs
    every held condition's labels; an ``any`` rule holds outright when one
    held condition carries none."""
    per_condition = [((c.upon,) if c.upon else ()) + (upon_of.get(c.ref, ()) if c.ref else ())
                     for c, status in zip(rule.conditions, statuses) if status == HELD]
    if rule.mode == "any" and any(not labels for labels in per_condition):
        return ()
    return tuple(dict.fromkeys(label for labels in per_condition for label in labels))


def upon_py(t: Trace) -> dict[str, tuple]:
    """{rule: its upon labels} for every rule that holds only upon an event."""
    out: dict[str, tuple] = {}
    for rule in prospective_rules(t.rulebook):
        if t.verdict(rule.id) is True:
            labels = labels_of(rule, t.statuses(rule), out)
            if labels:
                out[rule.id] = labels
    return out


def upon_pl(book: Rulebook, rules: list[Rule]) -> list[dict[str, pl.Expr]]:
    """``upon_py``, column-wise: per prospective rule among ``rules``, a bit
    mask of its labels (bit i = ``upon_labels(book)[i]``), in dependency rounds."""
    bit = {label: 1 << i for i, label in enumerate(upon_labels(book))}
    zero = pl.lit(0, dtype=pl.UInt32)
    chosen = {r.id for r in rules}
    prospective = {r.id for r in prospective_rules(book)}
    depth: dict[str, int] = {}
    rounds: list[dict[str, pl.Expr]] = []
    for rule in prospective_rules(book):
        if rule.id not in chosen:
            continue
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


def upon_list_pl(book: Rulebook, rule: Rule) -> pl.Expr:
    """A rule's upon mask as the list of its labels."""
    mask = pl.col(upon_column(rule.id))
    return pl.concat_list([pl.when((mask & (1 << i)) != 0).then(pl.lit(label))
                           for i, label in enumerate(upon_labels(book))]).list.drop_nulls()


# -- missing facts: what would settle a line ----------------------------------------------

def _param_entry(name: str, day) -> dict:
    return {"fact": None, "field": None, "parameter": name, "label_zh": f"参数{name}在{day}尚无生效值"}


def missing_py(rule: Rule, t: Trace, seen: set | None = None) -> list[dict]:
    """The facts that would settle an undetermined rule, in the order a
    clerk meets them (its unknown conditions, through its concepts), then a
    parameter with no value in force on the day."""
    seen = set() if seen is None else seen
    out = []
    for (ref, fact, param), status in zip(t.rulebook.condition_parts[rule.id], t.statuses(rule)):
        if status != UNKNOWN:
            continue
        if ref is not None:
            out += missing_py(t.rulebook.by_id[ref], t, seen)
            continue
        absent = [n for n in [fact, *(t.rulebook.parameters[param].by if param else ())] if t.fact(n) is None]
        for name in absent:
            if name not in seen:
                seen.add(name)
                out.append(missing_entry(name, t.recorded))
        if param is not None and not absent and t.param(param) is None:
            out.append(_param_entry(param, t.day))
    return out


def missing_amount_py(rule: Rule, t: Trace) -> list[dict]:
    """An eligible line whose amount did not resolve: the facts its
    parameters vary by, or the parameter not yet in force."""
    out, seen = [], set()
    for name in amount_parameters(rule):
        if t.param(name) is not None:
            continue
        absent = [d for d in t.rulebook.parameters[name].by if t.fact(d) is None]
        for dim in absent:
            if dim not in seen:
                seen.add(dim)
                out.append(missing_entry(dim, t.recorded))
        if not absent:
            out.append(_param_entry(name, t.day))
    return out


WORD = 64


class MissingBits:
    """``missing_py`` column-wise, as a bit mask: one bit per fact, then one
    per parameter ("not yet in force"), in as many 64-bit words as they need
    (bit i is bit i % 64 of word i // 64; a mask is a list of UInt64
    expressions, one per word)."""

    def __init__(self, book: Rulebook):
        self.book = book
        self.facts = list(FACTS)
        self.params = list(book.parameters)
        self.words = -(-(len(self.facts) + len(self.params)) // WORD)

    @staticmethod
    def _at(index: int) -> tuple[int, int]:
        return index // WORD, 1 << (index % WORD)

    def fact(self, name: str) -> tuple[int, int]:
        return self._at(self.facts.index(name))

    def param(self, name: str) -> tuple[int, int]:
        return self._at(len(self.facts) + self.params.index(name))

    def _zero(self) -> list[pl.Expr]:
        return [pl.lit(0, dtype=pl.UInt64)] * self.words

    def _when(self, test: pl.Expr, mask: list[pl.Expr]) -> list[pl.Expr]:
        zero = pl.lit(0, dtype=pl.UInt64)
        return [pl.when(test).then(word).otherwise(zero) for word in mask]

    @staticmethod
    def _or(a: list[pl.Expr], b: list[pl.Expr]) -> list[pl.Expr]:
        return [x | y for x, y in zip(a, b)]

    def _bit(self, at: tuple[int, int]) -> list[pl.Expr]:
        word, bit = at
        return [pl.lit(bit if w == word else 0, dtype=pl.UInt64) for w in range(self.words)]

    def _absent(self, names) -> list[pl.Expr]:
        return reduce(lambda acc, n: self._or(acc, self._when(pl.col(fact_column(n)).is_null(),
                                                              self._bit(self.fact(n)))), names, self._zero())

    def _param_unset(self, name: str, column: str) -> list[pl.Expr]:
        """The parameter's bit where its dimensions are known but no value is in force."""
        dims = self.book.parameters[name].by
        known = reduce(lambda acc, d: acc & pl.col(fact_column(d)).is_not_null(), dims, pl.lit(True))
        return self._when(known & pl.col(column).is_null(), self._bit(self.param(name)))

    def rule(self, rule: Rule, cache: dict) -> list[pl.Expr]:
        if rule.id in cache:
            return cache[rule.id]
        total = self._zero()
        for i, cond in enumerate(rule.conditions):
            if cond.ref is not None:
                part = self.rule(self.book.by_id[cond.ref], cache)
            elif isinstance(cond.value, ParamRef):
                name = cond.value.param
                part = self._or(self._absent([cond.fact, *self.book.parameters[name].by]), self._when(
                    pl.col(fact_column(cond.fact)).is_not_null(), self._param_unset(name, param_column(name))))
            else:
                part = self._absent([cond.fact])
            total = self._or(total, self._when(pl.col(condition_column(rule.id, i)).is_null(), part))
        cache[rule.id] = total
        return total

    def _resolved_column(self, name: str) -> str:
        names = keys(self.book.parameters[name])
        return param_column(name) if names is None else param_column(name, names[0])

    def amount(self, rule: Rule) -> list[pl.Expr]:
        total = self._zero()
        for name in amount_parameters(rule):
            column = self._resolved_column(name)
            total = self._or(total, self._when(pl.col(column).is_null(), self._or(
                self._absent(self.book.parameters[name].by), self._param_unset(name, column))))
        return total

    def line(self, rule: Rule, cache: dict) -> dict[str, pl.Expr]:
        """The mask words of a benefit line: its rule's when undetermined,
        its amount's when eligible but unresolved."""
        verdict = pl.col(rule_column(rule.id))
        unresolved = unresolved_pl(rule)
        by_rule = self.rule(rule, cache)
        by_amount = self.amount(rule) if unresolved is not None else None
        out = {}
        for w in range(self.words):
            expr = pl.when(verdict.is_null()).then(by_rule[w])
            if by_amount is not None:
                expr = expr.when((verdict == True) & unresolved).then(by_amount[w])  # noqa: E712
            out[missing_column(rule.id, w)] = expr.otherwise(pl.lit(0, dtype=pl.UInt64))
        return out

    def settling(self, rule: Rule, seen: set | None = None) -> list[tuple[str, tuple[int, int]]]:
        """(name, (word, bit)) of every fact and ``param:NAME`` that could settle the line."""
        seen = set() if seen is None else seen
        out = []

        def add(name: str, bit: tuple[int, int]):
            if name not in seen:
                seen.add(name)
                out.append((name, bit))
        for cond in rule.conditions or []:
            if cond.ref is not None:
                out += self.settling(self.book.by_id[cond.ref], seen)
                continue
            add(cond.fact, self.fact(cond.fact))
            if isinstance(cond.value, ParamRef):
                for dim in self.book.parameters[cond.value.param].by:
                    add(dim, self.fact(dim))
                add(f"param:{cond.value.param}", self.param(cond.value.param))
        if rule.outcome is not None:
            for name in amount_parameters(rule):
                for dim in self.book.parameters[name].by:
                    add(dim, self.fact(dim))
                add(f"param:{name}", self.param(name))
        return out

    def names(self, rule: Rule) -> pl.Expr:
        """A line's mask as the list of facts (and ``param:NAME``) it names."""
        names = [pl.when((pl.col(missing_column(rule.id, word)) & pl.lit(bit, dtype=pl.UInt64)) != 0)
                 .then(pl.lit(name)) for name, (word, bit) in self.settling(rule)]
        if not names:
            return pl.lit([], dtype=pl.List(pl.String))
        return pl.concat_list(names).list.drop_nulls()
