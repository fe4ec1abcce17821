"""Running totals of a caseload estimate (测算累计), mergeable across worker
processes so that no per-person data is kept.

Money is a triple (min, mid, max): fixed and floor amounts give the same
figure thrice, a range gives its bounds and their midpoint. The totals are
whole fen (fen.py): each person's amount on a line for the year is rounded
once, its payers' parts apportioned to add up to it, and only then added.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from ..engine import ELIGIBLE, UNDETERMINED
from ..engine.vocabulary import MONEY_KINDS, PAYERS
from ..report import format_value
from .fen import apportion, to_fen


def triple(value) -> tuple[float, float, float]:
    """A line amount or payer share → (min, mid, max)."""
    if isinstance(value, dict):
        if "min" in value:
            low, high = value["min"], value["max"]
            return low, (low + high) / 2, high
        value = value["value"]
    return value, value, value


def _add(target: list, values, factor: float) -> None:
    for i in range(3):
        target[i] += values[i] * factor


def _zero() -> list:
    return [0, 0, 0]


def household_key(record) -> str | None:
    """The household a person's 低保 is paid to, so that it is costed once:
    the smallest ID number among the applicant and the household members
    recorded with one. Two applicants of one household who list each other
    get the same key. None where no member has an ID number: nothing can
    match such a household to another applicant's, so it is the applicant's own."""
    members = (record.household.members or []) if record.household is not None else []
    ids = [m.id_number for m in members if m.id_number]
    return min([record.id_number] + ids) if ids else None


class Household:
    """A household line's amount for the year, as one of its applicants
    carries it (fen): the largest is kept, the others are duplicates."""
    __slots__ = ("county", "money", "floor", "payer", "persons")

    def __init__(self, county: str, money: list, floor: bool, payer: dict, persons: int):
        self.county, self.money, self.floor, self.payer, self.persons = county, money, floor, payer, persons


class Tally:
    """Totals keyed by benefit id and county code ('' when not recorded);
    money in whole fen (sums of each person's rounded amounts)."""

    def __init__(self):
        self.evaluated = 0
        self.evaluations = 0
        self.money: dict[tuple, list] = defaultdict(_zero)          # (benefit, county), fen
        self.payer: dict[tuple, list] = defaultdict(_zero)          # (benefit, county, payer), fen
        self.floor: dict[tuple, list] = defaultdict(_zero)          # (benefit, county): part that is a floor, fen
        self.persons: Counter = Counter()                           # (benefit, county) eligible at some point
        self.undetermined: Counter = Counter()                      # (benefit, county) never eligible, some point undetermined
        self.unresolved: Counter = Counter()                        # (benefit, county) persons eligible, amount unresolved
        self.duplicates: Counter = Counter()                        # (benefit, county) persons eligible, paid by another line
        self.person_months: Counter = Counter()                     # (benefit, county) monthly lines only
        self.kinds: dict[str, set] = defaultdict(set)               # benefit → amount kinds seen
        self.unverified: Counter = Counter()                        # (benefit, parameter) persons carrying the mark
        self.unverified_values: dict[str, set] = defaultdict(set)   # parameter → values met
        self.assumptions: dict[str, set] = defaultdict(set)         # benefit → assumption texts
        self.county_persons: Counter = Counter()                    # county → applicants evaluated
        # lines paid to the household (payee: household), one amount per
        # (benefit, household key) until ``settle`` adds them to money and payer
        self.households: dict[tuple[str, str], Household] = {}
        self.household_counts: Counter = Counter()                  # (benefit, county) households paid
        self.household_persons: Counter = Counter()                 # (benefit, county) persons in them

    def add_person(self, county: str, results: list[dict], weights: list[float],
                   prorated: frozenset = frozenset(), household: str | None = None) -> None:
        """One applicant: their determinations on each change point, with the
        months each point's stretch covers. ``prorated``: yearly lines counted
        by their share of the months eligible (Planner.prorated).
        ``household``: the applicant's household key (``household_key``)."""
        self.evaluated += 1
        self.evaluations += len(results)
        self.county_persons[county] += 1
        if not results:     # born after the year: nothing to count
            return
        for index, first in enumerate(results[0]["benefits"]):
            benefit = first["benefit"]
            key = (benefit, county)
            lines = [r["benefits"][index] for r in results]
            eligible = [(line, w) for line, w in zip(lines, weights) if line["status"] == ELIGIBLE]
            if not eligible:
                if any(line["status"] == UNDETERMINED for line in lines):
                    self.undetermined[key] += 1
                continue
            self.persons[key] += 1
            if first["period"] == "monthly":
                counted = eligible
                self.person_months[key] += sum(w for _, w in eligible)
            elif benefit in prorated:   # a yearly standard paid over the year: its months' share
                counted = [(line, w / 12) for line, w in eligible]
            else:   # yearly / one-off / ongoing: once, as first found eligible in the year
                counted = [(eligible[0][0], 1.0)]
            # a person evaluated on several days counts once in each count, and
            # their amount on the line is rounded once, after its stretches are added
            flags: set = set()
            person = _Person()
            for line, factor in counted:
                flags |= self._line(key, line, factor, person)
            person.add_to(self, key, household)
            for flag in flags:
                if flag == "unresolved":
                    self.unresolved[key] += 1
                elif flag == "duplicate":
                    self.duplicates[key] += 1
                else:
                    self.unverified[(benefit, flag)] += 1

    def _line(self, key: tuple, line: dict, factor: float, person: "_Person") -> set:
        """Add one counted line's money to the person's; returns what the
        person is counted under: "unresolved", "duplicate" and each
        unverified parameter."""
        benefit = key[0]
        amount = line["amount"] or {"kind": "unresolved"}
        kind = amount["kind"]
        self.kinds[benefit].add(kind)
        for text in line["assumptions"]:
            self.assumptions[benefit].add(text)
        for mark in line["unverified"]:
            self.unverified_values[mark["parameter"]].add(format_value(mark["value"]))
        flags = {m["parameter"] for m in line["unverified"]}
        if kind == "unresolved":
            return flags | {"unresolved"}
        if line["duplicate_of"]:
            # the same need is paid by a larger line: cost it once, there
            return flags | {"duplicate"}
        if kind not in MONEY_KINDS:
            return flags
        values = triple(amount)
        _add(person.money, values, factor)
        if amount.get("payee") == "household":
            person.persons = max(person.persons, amount.get("count") or 0)
        if kind == "at_least":
            person.floor = True
        split = line["payer_split"] or {"unspecified": amount}
        for who, share in split.items():
            _add(person.payer.setdefault(who, [0.0, 0.0, 0.0]), triple(share), factor)
        return flags

    def offer_household(self, benefit: str, household: str, entry: Household) -> None:
        """One applicant's amount on a line paid to their household: the
        household is costed once, at the largest amount its applicants carry
        (the first on a tie); every other applicant of it counts as a duplicate."""
        key = (benefit, household)
        kept = self.households.get(key)
        if kept is None:
            self.households[key] = entry
            return
        if entry.money[1] > kept.money[1]:
            self.households[key], entry = entry, kept
        self.duplicates[(benefit, entry.county)] += 1

    def settle(self) -> None:
        """Each household's amount into money, floor and payer (once)."""
        for (benefit, _), entry in self.households.items():
            key = (benefit, entry.county)
            for i in range(3):
                self.money[key][i] += entry.money[i]
                if entry.floor:
                    self.floor[key][i] += entry.money[i]
                for who, parts in entry.payer.items():
                    self.payer[key + (who,)][i] += parts[i]
            self.household_counts[key] += 1
            self.household_persons[key] += entry.persons
        self.households.clear()

    def merge(self, other: "Tally") -> None:
        self.evaluated += other.evaluated
        self.evaluations += other.evaluations
        for name in ("money", "payer", "floor"):
            mine = getattr(self, name)
            for key, values in getattr(other, name).items():
                for i in range(3):
                    mine[key][i] += values[i]
        for name in ("persons", "undetermined", "unresolved", "duplicates", "person_months", "unverified",
                     "county_persons"):
            getattr(self, name).update(getattr(other, name))
        for name in ("kinds", "unverified_values", "assumptions"):
            mine = getattr(self, name)
            for key, values in getattr(other, name).items():
                mine[key] |= values
        for name in ("household_counts", "household_persons"):
            getattr(self, name).update(getattr(other, name))
        for (benefit, household), entry in other.households.items():
            self.offer_household(benefit, household, entry)


class _Person:
    """One person's money on one line for the year, in yuan, before rounding."""

    def __init__(self):
        self.money = [0.0, 0.0, 0.0]
        self.payer: dict[str, list] = {}
        self.floor = False           # a "不低于" amount: the whole of it is a floor
        self.persons = 0             # a household amount: the persons it counts

    def add_to(self, tally: Tally, key: tuple, household: str | None = None) -> None:
        """Round once, apportion the payers' parts to the rounded amount, add
        (a household amount: offer it for the household, ``offer_household``)."""
        if not self.payer:
            return
        total = [to_fen(v) for v in self.money]
        order = [who for who in PAYERS if who in self.payer] + [w for w in self.payer if w not in PAYERS]
        payer = {who: [0, 0, 0] for who in order}
        for i in range(3):
            for who, fen in apportion(total[i], {who: self.payer[who][i] for who in order}).items():
                payer[who][i] = fen
        if self.persons and household is not None:
            tally.offer_household(key[0], household, Household(key[1], total, self.floor, payer, self.persons))
            return
        if self.persons:     # a household no other applicant can share: its own
            tally.household_counts[key] += 1
            tally.household_persons[key] += self.persons
        for i in range(3):
            tally.money[key][i] += total[i]
            if self.floor:
                tally.floor[key][i] += total[i]
            for who in order:
                tally.payer[key + (who,)][i] += payer[who][i]
