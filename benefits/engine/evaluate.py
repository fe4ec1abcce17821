"""From an applicant record to a determination on the durable_rules engine.

Data flows one way: record → facts (facts.py) → durable_rules firings
(runtime.py) → a trace (``_DurableTrace``: each condition's status read off
the firings) → ``determination.py``, which both back ends share. Python
never re-decides a condition: each condition's status follows from what
fired and from which facts were present.
"""
from __future__ import annotations

import datetime as dt
import threading
from functools import lru_cache
from pathlib import Path

from .applicant import Applicant, parse_applicant
from .compiler import compile_ruleset, param_fact
from .determination import Determiner, applicant_summary
from .facts import applicant_facts, certificate_categories, evaluation_day, record_has
from .identity import CURRENT_COUNTIES, county_name_for_year, mask_id
from .months import months_between, parameter_dates
from .rulebook import Rule, Rulebook, load_rulebook
from .runtime import DurableSession, Firings
from .vocabulary import (ELIGIBLE, FAILED, HELD, INELIGIBLE, PAYER_ZH, PERIOD_ZH, STATUS_ZH,  # noqa: F401 (API)
                         UNDETERMINED, UNKNOWN)


class Engine:
    """A loaded rulebook compiled into durable_rules; thread-safe."""

    def __init__(self, rules_dir: Path | str | None = None, rulebook: Rulebook | None = None):
        """From a rules directory, or from a Rulebook already loaded (e.g. a
        reformed copy); each Engine compiles its own durable ruleset and
        session, so call ``close`` (or use ``with``) when done."""
        self.rulebook: Rulebook = rulebook if rulebook is not None else load_rulebook(rules_dir)
        # only concepts some rule builds on are asserted as facts: a fact that
        # matches no pattern is refused by durable
        used = {c.ref for r in self.rulebook.rules for c in (r.conditions or []) if c.ref}
        self._session = DurableSession(compile_ruleset(self.rulebook), used)
        self._determiner = Determiner(self.rulebook)
        self._condition_params = sorted({param for parts in self.rulebook.condition_parts.values()
                                         for _, _, param in parts if param is not None})
        self._resolve = lru_cache(maxsize=4096)(self._resolve_uncached)

    @property
    def version(self) -> str:
        return self.rulebook.version

    def evaluate(self, data, as_of: dt.date | None = None, explain: bool = True) -> dict:
        """Validate ``data`` (JSON text or mapping) and determine every benefit.
        Raises InvalidApplicant with field-level messages for bad input."""
        return self.determine(parse_applicant(data), as_of, explain)

    def determine(self, record: Applicant, as_of: dt.date | None = None, explain: bool = True,
                  events_from: dt.date | None = None) -> dict:
        """``events_from``: dated events (录取, 学历, 七's hardship, a disaster)
        count only from this day, where later than their document's in-force
        day: an estimate costs a one-off in the budget year of its event."""
        day = evaluation_day(record, as_of)
        in_force = self.rulebook.in_force
        facts = applicant_facts(record, day, self.rulebook.event_days(events_from))
        applicant = applicant_summary(record.name, mask_id(record.id_number), facts["age"], record.hukou_county,
                                      record.residence, day)
        trace = _DurableTrace(self, facts, day, certificate_categories(record), record_has(record))
        if in_force is None or day >= in_force.from_:
            for name in self._condition_params:
                value = self.parameter(name, day, facts)
                if value is not None:
                    facts[param_fact(name)] = value
            trace.read(self._session.run(facts))
        return self._determiner.determine(trace, applicant, explain)

    def county_budgets(self, year: int) -> list[dict]:
        """The county-level sums of 63号 (三（一）: population × at least 0.5
        yuan a year, from 2013), per county for a budget year, each value
        weighted by the months of the year it is in force."""
        start, year_end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        out = []
        for rule in self.rulebook.county_budgets:
            spec = rule.outcome.amount
            names = (spec.per_capita, spec.population)
            points = [start] + parameter_dates(self.rulebook, year, names)
            for code in CURRENT_COUNTIES:
                facts = {"hukou_county": code}
                amount, months, values = 0.0, 0.0, []
                for day, until in zip(points, points[1:] + [year_end]):
                    rate, population = (self.parameter(n, day, facts) for n in names)
                    if rate is None or population is None:
                        continue
                    share = months_between(day, until)
                    amount += rate * population * share / 12
                    months += share
                    if not values or (values[-1]["per_capita"], values[-1]["population"]) != (rate, population):
                        values.append({"from": day.isoformat(), "per_capita": rate, "population": population})
                amount = round(amount, 2)
                out.append({
                    "budget": rule.id, "label_zh": rule.label_zh, "clause": rule.clause, "text": rule.text,
                    "year": year, "county": code, "county_zh": county_name_for_year(code, year), "values": values,
                    "months_in_force": round(months, 4), "amount": amount, "at_least": spec.at_least,
                    "payer_split": {"county": amount} if amount else {},
                    "unverified": [n for n in names if not self.rulebook.parameters[n].verified],
                })
        return out

    def parameter(self, name: str, day: dt.date, facts: dict):
        """The value of parameter ``name`` in force on ``day`` for these facts."""
        spec = self.rulebook.parameters[name]
        return self._resolve(name, day, tuple(facts.get(dim) for dim in spec.by))

    def _resolve_uncached(self, name: str, day: dt.date, key: tuple):
        spec = self.rulebook.parameters[name]
        if None in key:
            return None
        return spec.resolve(day, dict(zip(spec.by, key)))

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _DurableTrace:
    """One evaluation on durable_rules as a trace (outcome.Trace): the
    facts asserted, the parameters resolved, and each condition's status
    read off the firings."""

    def __init__(self, engine: Engine, facts: dict, day: dt.date, categories: tuple, recorded):
        self.engine, self.rulebook = engine, engine.rulebook
        self.facts, self.day, self.categories, self.recorded = facts, day, categories, recorded
        self.verdicts: dict[str, bool] = {}
        self.branches: dict[str, set] = {}
        self._statuses: dict[str, list[str]] = {}
        # rules of a document not yet in force, and pending ones, do not apply
        self._not_applying = self.rulebook.not_applying(day)

    def read(self, firings: Firings) -> None:
        self.verdicts, self.branches = firings.verdicts, firings.branches

    def verdict(self, rule_id: str) -> bool | None:
        if rule_id in self._not_applying:      # as the columnar plan's verdicts
            return False if self.rulebook.by_id[rule_id].kind == "benefit" else None
        return self.verdicts.get(rule_id)

    def fact(self, name: str):
        return self.facts.get(name)

    def param(self, name: str):
        return self.engine.parameter(name, self.day, self.facts)

    def statuses(self, rule: Rule) -> list[str]:
        """The branch aliases name the conditions that fired; the others
        follow from the mode: in an ``all`` rule only failing branches are
        named, in an ``any`` rule only holding ones."""
        cached = self._statuses.get(rule.id)
        if cached is not None:
            return cached
        named = self.branches.get(rule.id, ())
        out = []
        facts = self.facts
        for i, (ref, fact, param) in enumerate(self.rulebook.condition_parts[rule.id]):
            if ref is not None:
                sub = self.verdict(ref)
                out.append(UNKNOWN if sub is None else HELD if sub else FAILED)
            elif fact not in facts or (param is not None and param_fact(param) not in facts):
                out.append(UNKNOWN)
            elif rule.mode == "all":
                out.append(FAILED if i in named else HELD)
            else:
                out.append(HELD if i in named else FAILED)
        self._statuses[rule.id] = out
        return out


_default_lock = threading.Lock()
_default: dict[str, Engine] = {}


def default_engine(rules_dir: Path | str | None = None) -> Engine:
    """One engine per process and rules directory (a compiled ruleset is
    never rebuilt per request)."""
    key = str(Path(rules_dir).resolve()) if rules_dir else ""
    with _default_lock:
        if key not in _default:
            _default[key] = Engine(rules_dir)
        return _default[key]
