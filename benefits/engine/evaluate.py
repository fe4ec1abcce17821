"""From an applicant record to a determination: every benefit line of 63号
with status, amount, period, payer split, clause, reasons and marks.

Data flows one way: record → facts (facts.py) → durable_rules firings
(runtime.py) → this module reads the firings back into lines. Python never
re-decides a condition: each condition's status follows from what fired and
from which facts were present.
"""
from __future__ import annotations

import datetime as dt
import threading
from functools import lru_cache
from pathlib import Path

from .applicant import Applicant, parse_applicant
from .compiler import compile_ruleset, param_fact
from .facts import applicant_facts, certificate_categories, evaluation_day, missing_entry, record_has
from .identity import CURRENT_COUNTIES, county_name, county_name_for_year, mask_id
from .marks import (assumptions, chain, condition_parameters, fact_reason, not_in_force, same_payment_groups,
                    upon_labels)
from .money import round_fen
from .months import months_between, parameter_dates
from .observances import days_off
from .rulebook import Condition, ParamRef, Rule, Rulebook, load_rulebook
from .runtime import DurableSession, Firings

ELIGIBLE, INELIGIBLE, UNDETERMINED = "eligible", "ineligible", "undetermined"
STATUS_ZH = {ELIGIBLE: "符合", INELIGIBLE: "不符合", UNDETERMINED: "待定（缺少信息）"}
PERIOD_ZH = {"monthly": "每月", "yearly": "每年", "one_off": "一次性", "ongoing": "长期"}
PAYER_ZH = {"city": "市级财政", "county": "县级财政", "unspecified": "未指明"}
HELD, FAILED, UNKNOWN = "held", "failed", "unknown"


class _Condition:
    """A rule's condition with everything the reader needs precomputed."""
    __slots__ = ("index", "derived", "fact", "param", "param_fact", "reason", "upon")

    def __init__(self, index: int, cond: Condition, rulebook: Rulebook):
        self.index = index
        self.derived = cond.ref          # a derived concept or another benefit
        self.fact = cond.fact
        self.upon = cond.upon
        self.param = cond.value.param if isinstance(cond.value, ParamRef) else None
        self.param_fact = param_fact(self.param) if self.param else None
        # the parts of a reason that do not depend on the applicant
        if cond.ref:
            target = rulebook.by_id[cond.ref]
            key = "derived" if cond.derived else "benefit"
            self.reason = {key: target.id, "condition": target.label_zh, "clause": target.clause}
        else:
            self.reason = fact_reason(cond, rulebook)
        if cond.upon:
            self.reason["upon"] = cond.upon


class _Plan:
    """One rule, prepared once per engine: its conditions, the derived
    concepts it rests on, and the marks those carry."""
    __slots__ = ("rule", "mode_all", "conditions", "chain", "assumptions", "condition_params")

    def __init__(self, rule: Rule, rulebook: Rulebook):
        self.rule = rule
        self.mode_all = rule.mode == "all"
        self.conditions = tuple(_Condition(i, c, rulebook) for i, c in enumerate(rule.conditions or []))
        self.chain = tuple(chain(rule, rulebook))
        self.assumptions = assumptions(rule, self.chain, rulebook.in_force)
        self.condition_params = condition_parameters(rule, self.chain)


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
        self.plans = {r.id: _Plan(r, self.rulebook) for r in self.rulebook.rules if r.kind != "county_budget"}
        self._benefit_plans = [self.plans[r.id] for r in self.rulebook.benefits]
        self._derived_plans = [self.plans[r.id] for r in self.rulebook.derived]
        self._condition_params = sorted({p for plan in self.plans.values() for p in plan.condition_params})
        index = {r.id: i for i, r in enumerate(self.rulebook.benefits)}
        self._same_payments = [tuple(index[b] for b in group) for group in same_payment_groups(self.rulebook)]
        # rules whose finding may hold only "upon" a prospective event, in dependency order
        prospective: set[str] = set()
        for rule in self.rulebook.rules:
            if any(c.upon or c.ref in prospective for c in rule.conditions or []):
                prospective.add(rule.id)
        self._prospective = [self.plans[r.id] for r in self.rulebook.rules if r.id in prospective]
        self._resolve = lru_cache(maxsize=4096)(self._resolve_uncached)

    @property
    def version(self) -> str:
        return self.rulebook.version

    def evaluate(self, data, as_of: dt.date | None = None, explain: bool = True) -> dict:
        """Validate ``data`` (JSON text or mapping) and determine every benefit.
        Raises InvalidApplicant with field-level messages for bad input."""
        return self.determine(parse_applicant(data), as_of, explain)

    def determine(self, record: Applicant, as_of: dt.date | None = None, explain: bool = True) -> dict:
        day = evaluation_day(record, as_of)
        in_force = self.rulebook.in_force
        facts = applicant_facts(record, day, in_force.from_ if in_force else None)
        early = not_in_force(self.rulebook, day)
        if early is not None:
            return self._not_in_force(record, facts, day, early, explain)
        for name in self._condition_params:
            value = self.parameter(name, day, facts)
            if value is not None:
                facts[param_fact(name)] = value
        reader = _Reader(self, self._session.run(facts), facts, day, certificate_categories(record),
                         record_has(record))
        reader.read_upon(self._prospective)
        lines = [reader.benefit_line(plan, explain) for plan in self._benefit_plans]
        mark_same_payments(lines, self._same_payments)
        result = self._result(record, facts, day, lines)
        if explain:
            result["concepts"] = [reader.concept_line(plan) for plan in self._derived_plans]
        return result

    def _result(self, record: Applicant, facts: dict, day: dt.date, lines: list[dict]) -> dict:
        summary = {ELIGIBLE: 0, INELIGIBLE: 0, UNDETERMINED: 0}
        for line in lines:
            summary[line["status"]] += 1
        return {
            "applicant": {"name": record.name, "id_number_masked": mask_id(record.id_number),
                          "age": facts["age"], "hukou_county": record.hukou_county,
                          "hukou_county_zh": county_name(record.hukou_county, day),
                          "residence": record.residence},
            "evaluation_date": day.isoformat(),
            "rulebook_version": self.version,
            "summary": summary,
            "benefits": lines,
        }

    def _not_in_force(self, record: Applicant, facts: dict, day: dt.date, early: dict, explain: bool) -> dict:
        """Before 63号 is in force no line applies: each is 不符合, with the
        in-force day as its one reason."""
        reason = {"status": FAILED, "in_force": early["from"], "condition": f"63号已施行（{early['from']}起）",
                  "value": day.isoformat()}
        lines = []
        for plan in self._benefit_plans:
            rule = plan.rule
            line = {"benefit": rule.id, "document": rule.document,
                    "label_zh": rule.label_zh, "label_en": rule.label_en,
                    "clause": rule.clause, "status": INELIGIBLE, "period": rule.outcome.period,
                    "amount": None, "payer_split": None, "duplicate_of": None, "upon": [],
                    "assumptions": [], "unverified": []}
            if explain:
                line["text"] = rule.text
                line["reasons"] = [reason]
            lines.append(line)
        result = self._result(record, facts, day, lines)
        result["not_in_force"] = early
        if explain:
            result["concepts"] = [{"concept": p.rule.id, "label_zh": p.rule.label_zh, "label_en": p.rule.label_en,
                                   "clause": p.rule.clause, "holds": None, "reasons": [],
                                   "assumption": p.rule.assumption, "upon": []} for p in self._derived_plans]
        return result

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


class _Reader:
    """Turns one evaluation's firings into condition statuses and lines."""

    def __init__(self, engine: Engine, firings: Firings, facts: dict, day: dt.date, categories: tuple = (),
                 recorded=lambda path: True):
        self.recorded = recorded
        self.engine, self.rulebook, self.plans = engine, engine.rulebook, engine.plans
        self.verdicts, self.branches = firings.verdicts, firings.branches
        self.facts, self.day, self.categories = facts, day, categories
        self._statuses: dict[str, list[str]] = {}
        self.upon: dict[str, tuple] = {}

    def read_upon(self, plans: list[_Plan]) -> None:
        """The 依纳入… labels of every rule that holds only upon a prospective
        event (plans in dependency order)."""
        for plan in plans:
            if self.verdicts.get(plan.rule.id) is True:
                labels = upon_labels(plan.rule, self.statuses(plan), self.upon)
                if labels:
                    self.upon[plan.rule.id] = labels

    def statuses(self, plan: _Plan) -> list[str]:
        """Status of each condition, read off the firings: the branch aliases
        name the conditions that fired; the others follow from the mode."""
        rule_id = plan.rule.id
        cached = self._statuses.get(rule_id)
        if cached is not None:
            return cached
        named = self.branches.get(rule_id, ())
        facts, verdicts = self.facts, self.verdicts
        out = []
        for cond in plan.conditions:
            if cond.derived is not None:
                sub = verdicts.get(cond.derived)
                out.append(UNKNOWN if sub is None else HELD if sub else FAILED)
            elif cond.fact not in facts or (cond.param_fact is not None and cond.param_fact not in facts):
                out.append(UNKNOWN)
            elif plan.mode_all:
                # only failing branches are named; every other present test held
                out.append(FAILED if cond.index in named else HELD)
            else:
                # only holding branches are named; every other present test failed
                out.append(HELD if cond.index in named else FAILED)
        self._statuses[rule_id] = out
        return out

    def missing(self, plan: _Plan, seen: set | None = None) -> list[dict]:
        """The facts that would settle an undetermined rule."""
        seen = set() if seen is None else seen
        out = []
        for cond, status in zip(plan.conditions, self.statuses(plan)):
            if status != UNKNOWN:
                continue
            if cond.derived is not None:
                out += self.missing(self.plans[cond.derived], seen)
                continue
            names = [cond.fact]
            if cond.param is not None:
                names += self.rulebook.parameters[cond.param].by
            absent = [n for n in names if n not in self.facts]
            for name in absent:
                if name not in seen:
                    seen.add(name)
                    out.append(missing_entry(name, self.recorded))
            if cond.param is not None and not absent:
                out.append({"fact": None, "field": None, "parameter": cond.param,
                            "label_zh": f"参数{cond.param}在{self.day}尚无生效值"})
        return out

    def reasons(self, plan: _Plan) -> list[dict]:
        out = []
        facts = self.facts
        for cond, status in zip(plan.conditions, self.statuses(plan)):
            if cond.derived is not None:
                out.append({"status": status, **cond.reason})
                continue
            reason = {"status": status, **cond.reason, "value": facts.get(cond.fact)}
            if cond.param is not None:
                spec = self.rulebook.parameters[cond.param]
                reason["parameter"] = {"name": spec.name, "label_zh": spec.label_zh,
                                       "value": facts.get(cond.param_fact), "verified": spec.verified}
            out.append(reason)
        return out

    def concept_line(self, plan: _Plan) -> dict:
        rule = plan.rule
        return {"concept": rule.id, "label_zh": rule.label_zh, "label_en": rule.label_en,
                "clause": rule.clause, "holds": self.verdicts.get(rule.id), "reasons": self.reasons(plan),
                "assumption": rule.assumption, "upon": list(self.upon.get(rule.id, ()))}

    def benefit_line(self, plan: _Plan, explain: bool) -> dict:
        rule = plan.rule
        verdict = self.verdicts.get(rule.id)
        status = UNDETERMINED if verdict is None else ELIGIBLE if verdict else INELIGIBLE
        line = {"benefit": rule.id, "document": rule.document,
                    "label_zh": rule.label_zh, "label_en": rule.label_en,
                "clause": rule.clause, "status": status, "period": rule.outcome.period,
                "amount": None, "payer_split": None, "duplicate_of": None,
                "upon": list(self.upon.get(rule.id, ()))}
        used: dict[str, object] = {}
        if status == ELIGIBLE:
            line["amount"] = self.amount(rule, used)
            line["payer_split"] = self.payer_split(rule, line["amount"], used)
            if line["amount"] and line["amount"]["kind"] == "unresolved":
                line["missing_facts"] = self.missing_for_parameters(used)
        elif status == UNDETERMINED:
            line["missing_facts"] = self.missing(plan)
        for name in plan.condition_params:
            value = self.facts.get(param_fact(name))
            if value is not None:
                used[name] = value
        line["assumptions"] = plan.assumptions
        parameters = self.rulebook.parameters
        line["unverified"] = [
            {"parameter": name, "label_zh": parameters[name].label_zh, "value": value,
             "source": parameters[name].source}
            for name, value in used.items() if not parameters[name].verified]
        if explain:
            line["text"] = rule.text
            line["reasons"] = self.reasons(plan)
            if rule.notes:
                line["notes"] = rule.notes
        return line

    def _param(self, name: str, used: dict):
        value = self.engine.parameter(name, self.day, self.facts)
        used[name] = value
        return value

    def amount(self, rule: Rule, used: dict) -> dict | None:
        spec = rule.outcome.amount
        form = spec.form
        kind = "at_least" if spec.at_least else "fixed"
        if form == "in_kind":
            return {"kind": "in_kind"}
        if form == "unstated":
            return {"kind": "unstated"}
        if form == "priority":
            return {"kind": "priority"}
        if form == "observances":
            return {"kind": "days_off", "year": self.day.year,
                    "days": days_off(self.day.year, self.categories) if self.categories else []}
        if form == "param":
            value = self._param(spec.param, used)
        elif form == "table":
            table = self._param(spec.table, used)
            value = table.get(self.facts[spec.key_fact]) if table else None
        elif form == "share_of":
            base, ratio = self._param(spec.share_of, used), self._param(spec.ratio, used)
            value = None if base is None or ratio is None else round_fen(base * ratio)
        elif form == "difference":
            base = self._param(spec.difference, used)
            value = None if base is None else round_fen(max(base - self.facts[spec.minus_fact], 0))
        elif form == "range":
            bounds = self._param(spec.range, used)
            return None if bounds is None else {"kind": "range", "min": bounds["min"], "max": bounds["max"]}
        else:  # per_capita: county budgets, not applicant lines
            raise ValueError(f"amount form {form} is not for applicants")
        if value is None:
            return {"kind": "unresolved", "reason": "金额所依据的参数无法确定：" + "、".join(
                self.rulebook.parameters[name].label_zh for name, v in used.items() if v is None)}
        if spec.times_fact is not None:
            count = self.facts[spec.times_fact]
            return {"kind": kind, "value": round_fen(value * count), "per_unit": value, "count": count}
        return {"kind": kind, "value": value}

    def missing_for_parameters(self, used: dict) -> list[dict]:
        """What would settle parameters that did not resolve: the facts they
        vary by, or the date when none is in force yet."""
        out, seen = [], set()
        for name, value in used.items():
            if value is not None:
                continue
            spec = self.rulebook.parameters[name]
            absent = [dim for dim in spec.by if dim not in self.facts]
            for dim in absent:
                if dim not in seen:
                    seen.add(dim)
                    out.append(missing_entry(dim, self.recorded))
            if not absent:
                out.append({"fact": None, "field": None, "parameter": name,
                            "label_zh": f"参数{name}在{self.day}尚无生效值"})
        return out

    def payer_split(self, rule: Rule, amount: dict | None, used: dict) -> dict | None:
        payer = rule.outcome.payer
        if payer is None or amount is None or amount["kind"] not in ("fixed", "at_least", "range"):
            return None
        shares = self._param(payer.param, used) if payer.param else \
            {"city": payer.city, "county": payer.county, "unspecified": payer.unspecified}
        split = {}
        for who in ("city", "county", "unspecified"):
            share = (shares or {}).get(who, 0)
            if share:
                if amount["kind"] == "range":
                    split[who] = {"min": round_fen(amount["min"] * share), "max": round_fen(amount["max"] * share)}
                else:
                    split[who] = round_fen(amount["value"] * share)
        return split


_PER_YEAR = {"monthly": 12, "yearly": 1, "one_off": 1}


def _annual(line: dict) -> float | None:
    amount = line["amount"]
    if line["status"] != ELIGIBLE or not amount or amount["kind"] not in ("fixed", "at_least"):
        return None
    return amount["value"] * _PER_YEAR.get(line["period"], 0)


def mark_same_payments(lines: list[dict], groups: list[tuple[int, ...]]) -> None:
    """In each group of lines paying for the same need (same_payment_groups),
    every eligible line with a yearly value but the largest is marked
    ``duplicate_of`` the largest and left out of totals; a tie goes to the
    line first in rulebook order."""
    for group in groups:
        valued = [(i, _annual(lines[i])) for i in group]
        valued = [(i, v) for i, v in valued if v is not None]
        if len(valued) < 2:
            continue
        keep = max(valued, key=lambda iv: (iv[1], -iv[0]))[0]
        for i, _ in valued:
            if i != keep:
                lines[i]["duplicate_of"] = lines[keep]["benefit"]


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
