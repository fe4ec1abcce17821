"""When in a budget year a person's determination can change (变动日), and how
many months each stretch between those days counts for.

Rather than evaluating every person twelve times, a person is evaluated on
1 January, on each day inside the year where a parameter that applies to
them takes a new value (its ``from`` date), on the rules' in-force day, on
the dates of their recorded events (admission, diploma, hardship, disaster,
the day a placement becomes overdue) and on each birthday, theirs or their
eldest household member's, that crosses an age boundary the rules name
(16, 18, 60, or a parameter's value such as 高龄 80). Between two such days
nothing the rules read can change.

A stretch counts as fractional months: each calendar month it covers adds
(days covered ÷ days in that month). A stretch starting 1 July is exactly
six months; one starting on a birthday on 16 May adds 16/31 of May.
"""
from __future__ import annotations

import calendar
import datetime as dt

from ..engine.applicant import Applicant
from ..engine.facts import one_month_after
from ..engine.identity import parse_id_number
from ..engine.months import months_between, parameter_dates
from ..engine.rulebook import ParamRef, Rulebook

_SHIFT = {"gte": 0, "lt": 0, "gt": 1, "lte": 1}   # age test → age at which it flips


def age_conditions(rulebook: Rulebook, fact: str = "age") -> dict[int, set[str | None]]:
    """Ages at which a condition on ``fact`` (an age in 周岁: ``age``,
    ``oldest_member_age``) changes its answer, each with where it comes from:
    None for a number written in the rule, else the parameter whose value
    (any of its dated values) it is."""
    out: dict[int, set[str | None]] = {}
    for rule in rulebook.rules:
        for cond in rule.conditions or []:
            if cond.fact != fact or cond.op not in _SHIFT:
                continue
            if isinstance(cond.value, ParamRef):
                values = [(e.value, cond.value.param) for e in rulebook.parameters[cond.value.param].values]
            else:
                values = [(cond.value, None)]
            for value, source in values:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    out.setdefault(int(value) + _SHIFT[cond.op], set()).add(source)
    return out


def age_boundaries(rulebook: Rulebook, fact: str = "age") -> list[int]:
    """Ages at which a condition on ``fact`` changes its answer, written in the
    rule or any dated value of a parameter (an extra point splits a stretch
    where nothing changes, and the totals stay the same)."""
    return sorted(age_conditions(rulebook, fact))


def _birthday(birth: dt.date, age: int) -> dt.date | None:
    year = birth.year + age
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return None
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(year):
        return dt.date(year, 3, 1)        # 周岁 counts from 1 March in common years
    return birth.replace(year=year)


def event_dates(record: Applicant) -> list[dt.date]:
    """Dates of recorded events: a dated fact starts to count on its day;
    81号 第10条's placement is overdue from the day after its deadline."""
    education = record.education
    dates = [e.date for e in record.hardship_events or []]
    if record.military is not None and record.military.referral_date is not None:
        dates.append(one_month_after(record.military.referral_date) + dt.timedelta(days=1))
    if record.disaster is not None:
        dates.append(record.disaster.date)
    if education is not None:
        dates += [part.date for part in (education.admission, education.diploma) if part is not None]
    return [d for d in dates if d is not None]


def oldest_member_birth(record: Applicant) -> dt.date | None:
    """The earliest birth among household members with an ID number: their
    birthdays move ``oldest_member_age`` (a recorded age stays as recorded)."""
    members = (record.household.members if record.household is not None else None) or []
    births = [parse_id_number(m.id_number) for m in members if m.id_number is not None]
    return min(births, default=None)


class Planner:
    """Change points for one rulebook and year; reused for every person."""

    def __init__(self, engine, year: int):
        self.engine = engine
        self.year = year
        self.start = dt.date(year, 1, 1)
        self.dates = parameter_dates(engine.rulebook, year)
        self.ages = age_boundaries(engine.rulebook)
        self.member_ages = age_boundaries(engine.rulebook, "oldest_member_age")
        # each document's in-force day is a change point
        self.in_force = tuple(sorted(f.from_ for f in engine.rulebook.in_force_of.values()))
        # per document, the day dated events count from: a dated one-off counts
        # in the budget year of its event only
        self.since = engine.rulebook.event_days(self.start)
        # yearly lines counted by their share of months eligible (rulebook Outcome.prorate)
        self.prorated = frozenset(r.id for r in engine.rulebook.benefits if r.outcome.prorate)
        self._cache: dict[tuple, tuple] = {}

    def _parameter_changes(self, facts: dict) -> tuple:
        key = (facts.get("hukou_county"), facts.get("residence"))
        if key not in self._cache:
            changes = []
            for day in self.dates:
                before = day - dt.timedelta(days=1)
                if any(self.engine.parameter(name, before, facts) != self.engine.parameter(name, day, facts)
                       for name in self.engine.rulebook.parameters):
                    changes.append(day)
            self._cache[key] = tuple(changes)
        return self._cache[key]

    def points(self, record: Applicant) -> list[dt.date]:
        """The days this person is evaluated on: 1 January (or the birth date,
        for someone born during the year) first; none if born after the year."""
        first = max(self.start, record.birth_date)
        if first.year > self.year:
            return []
        facts = {"hukou_county": record.hukou_county, "residence": record.residence}
        days = {first, *(d for d in self._parameter_changes(facts) if d > first)}
        births = [(record.birth_date, self.ages)]
        eldest = oldest_member_birth(record)
        if eldest is not None:
            births.append((eldest, self.member_ages))
        for birth, ages in births:
            for age in ages:
                day = _birthday(birth, age)
                if day is not None and day.year == self.year and day > first:
                    days.add(day)
        for day in [*self.in_force, *event_dates(record)]:
            if day is not None and day.year == self.year and day > first:
                days.add(day)
        return sorted(days)

    def weights(self, points: list[dt.date]) -> list[float]:
        """Months each point's stretch covers (up to the next point or year end)."""
        ends = points[1:] + [dt.date(self.year + 1, 1, 1)]
        return [months_between(a, b) for a, b in zip(points, ends)]
