"""The caseload estimate on the columnar engine (列式测算): every person's
change points in one long frame, evaluated at once, then folded into the
same ``Tally`` the durable path fills, so both print and write the same
estimate. ``--engine durable`` keeps the per-applicant path as the reference.

Per person and benefit line, as ``Tally.add_person`` counts: monthly lines
count on every eligible stretch, weighted by its months; prorated yearly
lines (五保) likewise, weighted by months ÷ 12; other yearly, one-off and
ongoing lines once, as first found eligible; a dated event counts only from
the budget year's first day (``Planner.since``); a person counts once
in each count (persons, undetermined, unresolved, duplicates, unverified marks),
and their amount on a line is rounded once, to whole fen (fen.py), before it
is added to any total.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import reduce

import polars as pl
import polars.selectors as cs

from ..engine.applicant import DAY_OUT_OF_RANGE, EARLIEST_DATE, LATEST_DATE
from ..engine.columnar import ColumnarEngine
from ..engine.columnar.facts import DAY, fact_column, member_columns, with_facts
from ..engine.columns import keys, param_column, plain
from ..engine.columnar.plan import (MONEY_FORMS, PAYERS, amount_column, duplicate_column, payer_column,
                                    rule_column)
from ..engine.columnar.schema import BIRTH, ROW
from ..engine.marks import assumptions, chain, condition_parameters
from ..engine.months import months_between
from ..engine.rulebook import Rule, Rulebook
from ..report import format_value
from .fen import apportion_columns, fen_column
from .periods import Planner
from .tally import Tally, Household

PERSON, WEIGHT, COUNTY, HOUSEHOLD = "__person", "__weight", "__county", "__household"
_BOUNDS = ("min", "mid", "max")
# older Polars (setup.cfg allows >= 1.20) take the flag as a keyword
_NO_CSE = ({"optimizations": pl.QueryOptFlags(comm_subexpr_elim=False)} if hasattr(pl, "QueryOptFlags")
           else {"comm_subexpr_elim": False})
_RESULT = ("rule.", "amount.", "payer.", "duplicate_of.", "param.")
_KIND = {"in_kind": "in_kind", "unstated": "unstated", "priority": "priority", "observances": "days_off",
         "range": "range"}


class _Parameters:
    """``Planner`` asks an engine for parameter values; the rulebook answers."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook

    def parameter(self, name: str, day: dt.date, facts: dict):
        spec = self.rulebook.parameters[name]
        if any(facts.get(dim) is None for dim in spec.by):
            return None
        return spec.resolve(day, facts)


def _birthday(birth: pl.Expr, age: int) -> pl.Expr:
    """The day ``age`` is reached (29 February → 1 March in common years)."""
    year = birth.dt.year() + age
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    moved = (birth.dt.month() == 2) & (birth.dt.day() == 29) & ~leap
    return (pl.when(moved).then(pl.date(year, 3, 1))
            .otherwise(pl.date(year, birth.dt.month(), birth.dt.day())))


birthday_column = _birthday       # public: the re-check list (audit/recheck.py) names the birthdays it finds
_ELDEST = "__members.earliest_birth"


def oldest_member_birth_column(frame: pl.DataFrame) -> pl.Expr:
    """periods.oldest_member_birth: the earliest birth among members with an
    ID number (the fact ``oldest_member_age`` reads it: columnar/facts.py)."""
    return (member_columns()[_ELDEST] if _ELDEST not in frame.columns else pl.col(_ELDEST)).cast(
        pl.String).str.to_date("%Y%m%d", strict=False).alias(_ELDEST)


def overdue_from_column() -> pl.Expr:
    """The first day 81号 第10条's placement is overdue: the day after the
    1-month deadline (facts.one_month_after; Polars clamps to the month's end too)."""
    return pl.col("military.referral_date").dt.offset_by("1mo") + pl.duration(days=1)
NO_CSE = _NO_CSE


def _distinct(sums: dict[str, pl.Expr]) -> tuple[dict[str, pl.Expr], dict[str, str]]:
    """The sums without a min or max that is the same expression as its mid
    (every fixed amount): summed once, then copied (``{bound: mid}``)."""
    out, alias = {}, {}
    for name, expr in sums.items():
        mid = name[:-4] + ".mid"
        if name.endswith((".min", ".max")) and mid in sums and sums[mid].meta.eq(expr):
            alias[name] = mid
        else:
            out[name] = expr
    return out, alias


def _rounded(rules: list[Rule], sums: dict) -> dict[str, pl.Expr]:
    """A person's money columns (yuan, summed over their stretches) as whole
    fen: ``B|money.BOUND`` rounded once (fen.py), ``B|payer.WHO.BOUND``
    apportioned so that they add up to it, as ``Tally.add_person`` does."""
    out = {}
    for rule in rules:
        b = rule.id
        for bound in _BOUNDS:
            money = f"{b}|money.{bound}"
            if money not in sums:
                continue
            total = fen_column(pl.col(money))
            parts = {who: pl.col(f"{b}|payer.{who}.{bound}") for who in PAYERS
                     if f"{b}|payer.{who}.{bound}" in sums}
            out[money] = total
            out.update({f"{b}|payer.{who}.{bound}": expr for who, expr in apportion_columns(total, parts).items()})
    return out


def household_key_column() -> pl.Expr:
    """``tally.household_key``, column-wise: the smallest ID number among the
    applicant and the members recorded with one; null where no member has one."""
    ids = pl.col("household.members").list.eval(pl.element().struct.field("id_number")).list.drop_nulls()
    return pl.when(ids.list.len() > 0).then(pl.concat_list(pl.col("id_number"), ids).list.min())


@dataclass
class LineTotals:
    """The fold's per-line results before they go into a Tally: per county
    the ``B|…`` columns ``_add`` reads, per (benefit, parameter) the
    unverified values the line met, and each applicant's amount on a line
    paid to the household (benefit, household key, its ``Household``),
    offered to the Tally one by one. Kept apart so that lines a reform leaves
    alone can be taken from the baseline's fold (``finish``)."""
    by_county: pl.DataFrame
    values: dict[tuple[str, str], set[str]]
    households: list = field(default_factory=list)


class ColumnarEstimate:
    """One rulebook and budget year; ``tally(frame)`` per chunk of applicants."""

    def __init__(self, rulebook: Rulebook, year: int):
        self.rulebook, self.year = rulebook, year
        self.engine = ColumnarEngine(rulebook)
        self.plan = self.engine.plan
        self.planner = Planner(_Parameters(rulebook), year)
        self.start, self.end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        self._weights: dict[tuple, float] = {}
        self._wanted: dict[tuple, list[str]] = {}       # (lines evaluated, facts' schema) → result columns
        self._marks = {}
        for rule in rulebook.benefits:
            concepts = chain(rule, rulebook)
            self._marks[rule.id] = (assumptions(rule, concepts, rulebook.in_force_of),
                                    condition_parameters(rule, concepts))
        # per line, the unverified parameters it may carry (names only)
        self._used_names = {r.id: list(self._parameters_used(r, pl.lit(True), pl.lit(True)))
                            for r in rulebook.benefits}

    # -- change points ------------------------------------------------------------

    def _changes(self, frame: pl.DataFrame) -> pl.DataFrame:
        """(county, residence, day): parameter change days per combination."""
        rows = []
        for county, residence in frame.select("hukou_county", "residence").unique().iter_rows():
            for day in self.planner._parameter_changes({"hukou_county": county, "residence": residence}):
                rows.append((county, residence, day))
        return pl.DataFrame(rows, schema={"hukou_county": pl.String, "residence": pl.String, DAY: pl.Date},
                            orient="row")

    def points(self, frame: pl.DataFrame) -> pl.DataFrame:
        """(person, day, months): the days each person is evaluated on and the
        months each stretch covers, as ``Planner.points`` and ``weights``."""
        return self.weigh(self.days(frame))

    def days(self, frame: pl.DataFrame) -> pl.DataFrame:
        """(person, day): each person's change points in the year, unweighted.
        Two rulebooks' days may be united before ``weigh``: an extra point
        splits a stretch where nothing changes, and the totals stay the same."""
        first = pl.max_horizontal(pl.lit(self.start), pl.col(BIRTH)).alias(DAY)
        people = frame.select(PERSON, "hukou_county", "residence", BIRTH, first)
        parts = [people.select(PERSON, DAY)]
        changes = self._changes(frame)
        if changes.height:
            joined = people.rename({DAY: "__first"}).join(
                changes, on=["hukou_county", "residence"], how="inner", nulls_equal=True)
            parts.append(joined.filter(pl.col(DAY) > pl.col("__first")).select(PERSON, DAY))
        births = [(pl.col(BIRTH), self.planner.ages)]
        if self.planner.member_ages:
            people = people.with_columns(frame.select(oldest_member_birth_column(frame)).to_series())
            births.append((pl.col(_ELDEST), self.planner.member_ages))
        for birth, ages in births:
            for age in ages:
                day = _birthday(birth, age).alias(DAY)
                parts.append(people.select(PERSON, day, pl.col(DAY).alias("__first"))
                             .filter((pl.col(DAY).dt.year() == self.year) & (pl.col(DAY) > pl.col("__first")))
                             .select(PERSON, DAY))
        # the in-force day and the person's own event dates (periods.event_dates)
        firsts = people.select(PERSON, pl.col(DAY).alias("__first"))
        dated = [frame.select(PERSON, pl.col(c).alias(DAY)) for c in ("education.admission.date",
                                                                      "education.diploma.date")]
        dated.append(frame.select(PERSON, pl.col("hardship_events").list.eval(
            pl.element().struct.field("date")).alias(DAY)).explode(DAY))
        dated.append(frame.select(PERSON, pl.col("disaster.date").alias(DAY)))
        dated.append(frame.select(PERSON, overdue_from_column().alias(DAY)))
        for day in self.planner.in_force:
            dated.append(frame.select(PERSON, pl.lit(day).alias(DAY)))
        for part in dated:
            parts.append(part.join(firsts, on=PERSON).filter(
                pl.col(DAY).is_not_null() & (pl.col(DAY) > pl.col("__first"))).select(PERSON, DAY))
        return pl.concat(parts).filter(pl.col(DAY).dt.year() == self.year).unique()

    def weigh(self, days: pl.DataFrame) -> pl.DataFrame:
        """(person, day, months) from (person, day): each stretch runs to the
        person's next day or the year's end."""
        points = days.unique().sort(PERSON, DAY)
        # rows are in person order: the next row's day if it is the same person's (no window)
        same = (pl.col(PERSON).shift(-1) == pl.col(PERSON)).fill_null(False)
        points = points.with_columns(
            pl.when(same).then(pl.col(DAY).shift(-1)).otherwise(pl.lit(self.end)).alias("__until"))
        pairs = points.select(DAY, "__until").unique()
        weights = [self._weight(a, b) for a, b in pairs.iter_rows()]
        pairs = pairs.with_columns(pl.Series(WEIGHT, weights, dtype=pl.Float64))
        return points.join(pairs, on=[DAY, "__until"], how="left", maintain_order="left").drop("__until")

    def _weight(self, start: dt.date, until: dt.date) -> float:
        key = (start, until)
        if key not in self._weights:
            self._weights[key] = months_between(start, until)
        return self._weights[key]

    # -- evaluation and tally -------------------------------------------------------

    def tally(self, frame: pl.DataFrame) -> tuple[Tally, list[dict]]:
        """Evaluate a chunk of the applicant frame on its change points and
        fold it into a Tally; rows whose days cannot be used are rejected."""
        frame = frame.with_row_index(PERSON)
        tally, rejects, _, _, _ = self.run(frame, self.points(frame))
        return tally, rejects

    def facts(self, frame: pl.DataFrame, points: pl.DataFrame) -> pl.DataFrame:
        """The long frame (a row per person and day, the applicant's columns)
        with the facts: what ``run`` evaluates the plan on. It does not depend
        on the rules or parameters, only on the points and the in-force day,
        so two rulebooks with both the same may share it (``run(facts=…)``)."""
        # the household members' aggregates once per person, not per day; the list itself is not repeated
        # (eager: a lazy collect splits the frame in chunks, and the join on it took 8 times as long)
        people = frame.with_columns(**member_columns(), **{HOUSEHOLD: household_key_column()}).drop(
            "household.members")
        long = points.join(people, on=PERSON, how="left", maintain_order="left")
        # the plan reads the facts only (and the county for the fold): the applicant's columns are left behind
        return with_facts(long.lazy(), self.planner.since).select(
            PERSON, DAY, WEIGHT, "hukou_county", HOUSEHOLD, cs.starts_with(fact_column(""))).collect()

    def run(self, frame: pl.DataFrame, points: pl.DataFrame, facts: pl.DataFrame | None = None,
            only: set[str] | None = None
            ) -> tuple[Tally, list[dict], pl.DataFrame | None, pl.DataFrame | None, LineTotals | None]:
        """``tally`` on given points (``frame`` has PERSON): (tally, rejects,
        people, result, totals). ``only``: evaluate and fold these benefit
        lines alone (and the rules they rest on); the tally then has no
        line's figures until ``finish`` is given every line's totals.
        ``people`` has one row per person evaluated (PERSON,
        COUNTY and per benefit ``B|eligible``, ``B|undetermined``,
        ``B|money.min|mid|max``, ``B|payer.WHO.mid`` … in whole fen, as the
        tally counts them); ``result`` is the plan's row per (person, day) with the
        columns the fold reads (verdicts, amounts, payers, duplicates,
        parameters). Both are None when no one has a day in the year.
        ``facts``: ``self.facts(frame, points)`` computed already."""
        # a person with any unusable day is rejected whole, as the durable path does
        bad_day = ~pl.col(DAY).is_between(pl.lit(EARLIEST_DATE), pl.lit(LATEST_DATE))
        bad = points.filter(bad_day).select(PERSON).unique()
        rejects = []
        if bad.height:
            rows = frame.join(bad, on=PERSON, how="semi", maintain_order="left").get_column(ROW).to_list()
            rejects = [{"row": r, "field": "as_of", "message": DAY_OUT_OF_RANGE} for r in rows]
            frame = frame.join(bad, on=PERSON, how="anti", maintain_order="left")
            points = points.join(bad, on=PERSON, how="anti", maintain_order="left")
            if facts is not None:
                facts = facts.join(bad, on=PERSON, how="anti", maintain_order="left")
        tally = Tally()
        tally.evaluated = frame.height
        tally.evaluations = points.height
        counties = frame.select(pl.col("hukou_county").fill_null("")).to_series()
        tally.county_persons.update(dict(counties.value_counts().iter_rows()))
        people = result = totals = None
        if points.height:
            if facts is None:
                facts = self.facts(frame, points)
            plan, rules = self.plan, self.rulebook.benefits
            if only is not None:
                rules = [r for r in rules if r.id in only]
                needed = {r.id for b in rules for r in chain(b, self.rulebook)} | set(only)
                plan = plan.restricted(needed, set(only))
            decided = plan.decide(facts.lazy())
            # only what the fold reads: the conditions, facts and missing-facts
            # masks are never computed (projection pushdown); the names are the
            # same for every chunk, and resolving the plan's schema costs a tenth of a second
            key = (None if only is None else frozenset(only), tuple(facts.schema.items()))
            if key not in self._wanted:
                self._wanted[key] = [c for c in decided.collect_schema().names() if c.startswith(_RESULT)]
            wanted = self._wanted[key]
            # common-subexpression search over the plan's hundreds of columns costs more than it saves
            # a line paid to the household: its key, and the fact its amount counts persons by
            counts = sorted({fact_column(r.outcome.amount.times_fact) for r in rules
                             if r.outcome.payee == "household" and r.outcome.amount.times_fact})
            result = decided.select(PERSON, DAY, WEIGHT, pl.col("hukou_county").fill_null("").alias(COUNTY),
                                    HOUSEHOLD, *counts, *wanted).collect(**_NO_CSE)
            people, totals = self._fold(result, rules)
            if only is None:
                self.finish(tally, totals)
        return tally, rejects, people, result, totals

    def _line_columns(self, rule: Rule, result: pl.DataFrame) -> tuple[dict, dict, dict]:
        """One benefit's row-level columns: (flags to OR per person, amounts
        to sum per person, unverified parameters used → row filter)."""
        b = rule.id
        spec = rule.outcome.amount
        verdict = pl.col(rule_column(b))
        eligible = (verdict == True).fill_null(False)  # noqa: E712
        monthly = rule.outcome.period == "monthly"
        counted = pl.col(f"{b}|counted")          # see _counted
        factor = (pl.col(WEIGHT) if monthly else pl.col(WEIGHT) / 12 if b in self.planner.prorated
                  else pl.lit(1.0))
        if spec.form == "range":
            low, high = pl.col(amount_column(b, "min")), pl.col(amount_column(b, "max"))
            resolved, triple = low.is_not_null(), (low, (low + high) / 2, high)
        elif spec.form in MONEY_FORMS:
            value = pl.col(amount_column(b))
            resolved, triple = value.is_not_null(), (value, value, value)
        else:
            resolved, triple = pl.lit(True), None
        duplicate = (pl.col(duplicate_column(b)).is_not_null() if duplicate_column(b) in result.columns
                     else pl.lit(False))
        paid = counted & resolved & ~duplicate
        flags = {f"{b}|eligible": eligible, f"{b}|undetermined": verdict.is_null(),
                 f"{b}|unresolved": counted & ~resolved, f"{b}|duplicate": counted & resolved & duplicate,
                 f"{b}|resolved": counted & resolved}
        sums = {f"{b}|months": pl.when(eligible).then(pl.col(WEIGHT)).otherwise(0.0)}
        if triple is not None:
            for name, part in zip(_BOUNDS, triple):
                sums[f"{b}|money.{name}"] = pl.when(paid).then(part * factor).otherwise(0.0)
            for who, parts in self._payer_parts(rule, result, triple).items():
                for name, part in zip(_BOUNDS, parts):
                    sums[f"{b}|payer.{who}.{name}"] = pl.when(paid).then(part * factor).otherwise(0.0)
        used = self._parameters_used(rule, counted, resolved)
        flags.update({f"{b}|uses.{name}": expr for name, expr in used.items()})
        return flags, sums, used

    def _counted(self, rules: list[Rule]) -> dict[str, pl.Expr]:
        """Per benefit, the rows its money counts on: every eligible stretch of
        a monthly line; yearly, one-off and ongoing lines once, on the first
        eligible day (rows are in person and day order)."""
        out = {}
        # a running count of eligible rows, less its value before the person's first row (no window, no hash)
        first_row = (pl.col(PERSON) != pl.col(PERSON).shift(1)).fill_null(True)
        for rule in rules:
            eligible = (pl.col(rule_column(rule.id)) == True).fill_null(False)  # noqa: E712
            if rule.outcome.period != "monthly" and rule.id not in self.planner.prorated:
                seen = eligible.cast(pl.UInt32).cum_sum()
                before = pl.when(first_row).then(seen - eligible.cast(pl.UInt32)).forward_fill()
                eligible = eligible & (seen - before == 1)
            out[f"{rule.id}|counted"] = eligible
        return out

    def _fold(self, result: pl.DataFrame, rules: list[Rule]) -> tuple[pl.DataFrame, LineTotals]:
        """These benefits at once: row-level columns, one pass per person, one per county."""
        result = result.with_columns(**self._counted(rules))
        flags, sums, used_by = {}, {}, {}
        for rule in rules:
            f, m, used = self._line_columns(rule, result)
            flags.update(f)
            sums.update(m)
            used_by[rule.id] = used
        distinct, alias = _distinct(sums)
        household = [r for r in rules if r.outcome.payee == "household"]
        persons = {f"{r.id}|persons": self._household_persons(r, result) for r in household}
        rows = result.select(PERSON, COUNTY, HOUSEHOLD, **{n: e.fill_null(False) for n, e in flags.items()},
                             **distinct, **persons)
        # groups in a fixed order: float sums in a hash order differed by a fen between runs
        people = rows.group_by(PERSON, maintain_order=True).agg(
            pl.col(COUNTY).first(), pl.col(HOUSEHOLD).first(), *[pl.col(n).any() for n in flags],
            *[pl.col(n).sum() for n in distinct], *[pl.col(n).max() for n in persons]
        ).with_columns(**{n: pl.col(mid) for n, mid in alias.items()}).select(PERSON, COUNTY, HOUSEHOLD, *flags,
                                                                            *sums, *persons)
        # each person's amount on a line rounded once, to whole fen, its payers' parts apportioned to it
        people = people.with_columns(**_rounded(rules, sums))
        households, county_people = self._households(people, household, sums)
        undetermined = {f"{r.id}|never eligible, undetermined":
                        ~pl.col(f"{r.id}|eligible") & pl.col(f"{r.id}|undetermined") for r in rules}
        own = [f"{r.id}|{n}" for r in household for n in ("households", "household_persons")]
        by_county = county_people.group_by(COUNTY, maintain_order=True).agg(
            *[pl.col(n).sum() for n in list(flags) + list(sums) + own],
            *[e.sum().alias(n) for n, e in undetermined.items()])
        return people, LineTotals(by_county, self._values_met(result, rows, used_by), households)

    def _values_met(self, result: pl.DataFrame, rows: pl.DataFrame, used_by: dict) -> dict[tuple[str, str], set]:
        """Per (benefit, unverified parameter) the values its counted rows met.
        One pass over the rows: the parameters' columns and the lines' masks,
        only the distinct combinations kept, and those few formatted."""
        names = sorted({n for used in used_by.values() for n in used})
        if not names:
            return {}
        columns = {name: [param_column(name)] if keys(self.rulebook.parameters[name]) is None
                   else [param_column(name, k) for k in keys(self.rulebook.parameters[name])] for name in names}
        masks = {name: [f"{b}|uses.{name}" for b, used in used_by.items() if name in used] for name in names}
        every = [m for name in names for m in masks[name]]
        distinct = pl.concat([result.select(sorted({c for name in names for c in columns[name]})),
                              rows.select(every)], how="horizontal").filter(pl.any_horizontal(*every)).unique()
        values: dict[tuple[str, str], set[str]] = {}
        for name in names:
            for mask in masks[name]:
                values[(mask.split("|", 1)[0], name)] = self._values(
                    distinct.filter(pl.col(mask)).select(columns[name]), name)
        return values

    @staticmethod
    def _household_persons(rule: Rule, result: pl.DataFrame) -> pl.Expr:
        """On a paid row of a line paid to the household, the persons its
        amount counts (its count fact; 1 without one: the applicant alone)."""
        b = rule.id
        fact = rule.outcome.amount.times_fact
        count = pl.col(fact_column(fact)) if fact else pl.lit(1)
        duplicate = (pl.col(duplicate_column(b)).is_not_null() if duplicate_column(b) in result.columns
                     else pl.lit(False))
        resolved = pl.col(amount_column(b, "min" if rule.outcome.amount.form == "range" else None)).is_not_null()
        paid = pl.col(f"{b}|counted") & resolved & ~duplicate
        return pl.when(paid).then(count).otherwise(0).fill_null(0).cast(pl.Int64)

    @staticmethod
    def _households(people: pl.DataFrame, rules: list[Rule], sums: dict) -> tuple[list, pl.DataFrame]:
        """Each paid applicant's amount on a line paid to a household that
        another applicant may share (a member recorded with an ID number), to
        be offered per household (Tally.offer_household), and the people
        frame for the county totals without those amounts."""
        out = []
        zeroed = {}
        for rule in rules:
            b = rule.id
            money = [f"{b}|money.{bound}" for bound in _BOUNDS]
            payers = [who for who in PAYERS if f"{b}|payer.{who}.mid" in sums]
            floor = rule.outcome.amount.at_least
            offered = pl.col(HOUSEHOLD).is_not_null() & (pl.col(f"{b}|persons") > 0)
            # the few columns first, then the rows (a filter copies every column it is given)
            paid = people.select(
                COUNTY, HOUSEHOLD, f"{b}|persons", *money,
                *[f"{b}|payer.{who}.{bound}" for who in payers for bound in _BOUNDS]).filter(offered)
            for row in paid.iter_rows():
                county, key, count, low, mid, high, *parts = row
                payer = {who: list(parts[3 * i:3 * i + 3]) for i, who in enumerate(payers)}
                out.append((b, key, Household(county, [low, mid, high], floor, payer, count)))
            zeroed.update({n: pl.when(offered).then(0).otherwise(pl.col(n)).cast(people.schema[n])
                           for n in money + [f"{b}|payer.{who}.{bound}" for who in payers for bound in _BOUNDS]})
            # a household no other applicant can share is its own: counted here
            own = pl.col(HOUSEHOLD).is_null() & (pl.col(f"{b}|persons") > 0)
            zeroed[f"{b}|households"] = own.cast(pl.Int64)
            zeroed[f"{b}|household_persons"] = pl.when(own).then(pl.col(f"{b}|persons")).otherwise(0)
        return out, people.with_columns(**zeroed) if zeroed else people

    def finish(self, tally: Tally, totals: LineTotals) -> None:
        """Every line's county totals and unverified values into the Tally
        (``totals`` has every benefit of this rulebook)."""
        for row in totals.by_county.iter_rows(named=True):
            for rule in self.rulebook.benefits:
                self._add(tally, rule, row, self._used_names[rule.id])
        for benefit, household, entry in totals.households:
            tally.offer_household(benefit, household, entry)
        names = sorted({n for used in self._used_names.values() for n in used})
        for name in names:
            for b, used in self._used_names.items():
                if name in used:
                    tally.unverified_values[name].update(totals.values[(b, name)])

    def _add(self, tally: Tally, rule: Rule, row: dict, used: dict) -> None:
        """One benefit's county totals into the Tally, as ``Tally.add_person`` counts."""
        b = rule.id
        key = (b, row[COUNTY])
        spec = rule.outcome.amount
        eligible = row[f"{b}|eligible"]
        for counter, name in ((tally.persons, "eligible"), (tally.undetermined, "never eligible, undetermined"),
                              (tally.unresolved, "unresolved"), (tally.duplicates, "duplicate")):
            if row[f"{b}|{name}"]:
                counter[key] += row[f"{b}|{name}"]
        if row[f"{b}|unresolved"]:
            tally.kinds[b].add("unresolved")
        if row[f"{b}|resolved"]:
            tally.kinds[b].add(_KIND.get(spec.form, "at_least" if spec.at_least else "fixed"))
        if not eligible:
            return
        tally.assumptions[b].update(self._marks[b][0])
        if rule.outcome.period == "monthly":
            tally.person_months[key] += row[f"{b}|months"]
        if f"{b}|money.mid" in row:
            for i, bound in enumerate(_BOUNDS):
                tally.money[key][i] += row[f"{b}|money.{bound}"]
                if spec.at_least:
                    tally.floor[key][i] += row[f"{b}|money.{bound}"]
            for who in PAYERS:
                if f"{b}|payer.{who}.mid" in row:
                    for i, bound in enumerate(_BOUNDS):
                        tally.payer[key + (who,)][i] += row[f"{b}|payer.{who}.{bound}"]
        for name in used:
            if row[f"{b}|uses.{name}"]:
                tally.unverified[(b, name)] += row[f"{b}|uses.{name}"]
        if f"{b}|households" in row:
            tally.household_counts[key] += row[f"{b}|households"]
            tally.household_persons[key] += row[f"{b}|household_persons"]

    def _payer_parts(self, rule: Rule, result: pl.DataFrame, triple) -> dict[str, tuple]:
        """Each payer's (min, mid, max); the whole amount is 未指明 where the
        rule names no payer or its split did not resolve."""
        shares = self.plan.payer_shares(rule)
        b = rule.id
        parts: dict[str, tuple] = {}
        for who in shares:
            if rule.outcome.amount.form == "range":
                low, high = pl.col(payer_column(b, who, "min")), pl.col(payer_column(b, who, "max"))
                parts[who] = (low, (low + high) / 2, high)
            else:
                part = pl.col(payer_column(b, who))
                parts[who] = (part, part, part)
        parts = {who: tuple(p.fill_null(0.0) for p in triple_) for who, triple_ in parts.items()}
        if not shares:
            return {"unspecified": triple}
        unsplit = reduce(lambda acc, who: acc & pl.col(self._payer_probe(b, who, rule)).is_null(), shares,
                         pl.lit(True))
        whole = parts.get("unspecified", (pl.lit(0.0),) * 3)
        parts["unspecified"] = tuple(pl.when(unsplit).then(t).otherwise(w) for t, w in zip(triple, whole))
        return parts

    @staticmethod
    def _payer_probe(b: str, who: str, rule: Rule) -> str:
        return payer_column(b, who, "min") if rule.outcome.amount.form == "range" else payer_column(b, who)

    def _parameters_used(self, rule: Rule, counted: pl.Expr, resolved: pl.Expr) -> dict[str, pl.Expr]:
        """Unverified parameters a counted line used, each as a row filter:
        its amount's always, its payer's where money was split, its
        conditions' where they had a value."""
        params = self.rulebook.parameters
        out: dict[str, pl.Expr] = {}
        for name in rule.outcome.amount.parameters():
            out.setdefault(name, counted)
        payer = rule.outcome.payer
        if payer is not None and payer.param and rule.outcome.amount.form in MONEY_FORMS:
            out[payer.param] = out.get(payer.param, pl.lit(False)) | (counted & resolved)
        for name in self._marks[rule.id][1]:
            present = self._probe(name).is_not_null()
            out[name] = out.get(name, pl.lit(False)) | (counted & present)
        return {n: e for n, e in out.items() if not params[n].verified}

    def _probe(self, name: str) -> pl.Expr:
        names = keys(self.rulebook.parameters[name])
        return pl.col(param_column(name) if names is None else param_column(name, names[0]))

    def _values(self, rows: pl.DataFrame, name: str) -> set[str]:
        """The parameter's values met in these rows, as the report prints them."""
        names = keys(self.rulebook.parameters[name])
        if names is None:
            return {format_value(plain(v)) for v in rows.get_column(param_column(name)).unique().to_list()}
        columns = [param_column(name, k) for k in names]
        out = set()
        for values in rows.select(columns).unique().iter_rows():
            if all(v is None for v in values):
                out.add(format_value(None))
            else:
                out.add(format_value({k: plain(v) for k, v in zip(names, values) if v is not None}))
        return out
