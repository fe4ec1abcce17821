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
from .facts import FACTS, applicant_facts, evaluation_day
from .observances import days_off
from .rulebook import Condition, ParamRef, Rule, Rulebook, load_rulebook
from .runtime import DurableSession, Firings

ELIGIBLE, INELIGIBLE, UNDETERMINED = "eligible", "ineligible", "undetermined"
STATUS_ZH = {ELIGIBLE: "符合", INELIGIBLE: "不符合", UNDETERMINED: "待定（缺少信息）"}
PERIOD_ZH = {"monthly": "每月", "yearly": "每年", "one_off": "一次性", "ongoing": "长期"}
PAYER_ZH = {"city": "市级财政", "county": "县级财政", "unspecified": "未指明"}
_OP_ZH = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "in": "∈"}
HELD, FAILED, UNKNOWN = "held", "failed", "unknown"


def mask_id(id_number: str) -> str:
    """Show the place code and the last four characters only."""
    return id_number[:6] + "*" * 8 + id_number[-4:]


class Engine:
    """A loaded rulebook compiled into durable_rules; thread-safe."""

    def __init__(self, rules_dir: Path | str | None = None):
        self.rulebook: Rulebook = load_rulebook(rules_dir)
        self._session = DurableSession(compile_ruleset(self.rulebook),
                                       {r.id for r in self.rulebook.derived})
        self._condition_params = sorted({
            c.value.param for r in self.rulebook.rules for c in (r.conditions or [])
            if isinstance(c.value, ParamRef)})
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
        facts = applicant_facts(record, day)
        params = {}
        for name in self._condition_params:
            value = self.parameter(name, day, facts)
            if value is not None:
                params[name] = value
                facts[param_fact(name)] = value
        firings = self._session.run(facts)
        reader = _Reader(self, firings, facts, day)
        lines = [reader.benefit_line(rule, explain) for rule in self.rulebook.benefits]
        result = {
            "applicant": {"name": record.name, "id_number_masked": mask_id(record.id_number),
                          "age": facts["age"], "hukou_county": record.hukou_county,
                          "residence": record.residence},
            "evaluation_date": day.isoformat(),
            "rulebook_version": self.version,
            "summary": {s: sum(1 for line in lines if line["status"] == s)
                        for s in (ELIGIBLE, INELIGIBLE, UNDETERMINED)},
            "benefits": lines,
        }
        if explain:
            result["concepts"] = [reader.concept_line(rule) for rule in self.rulebook.derived]
        return result

    def parameter(self, name: str, day: dt.date, facts: dict):
        spec = self.rulebook.parameters[name]
        key = tuple(facts.get(dim) for dim in spec.by)
        return self._resolve(name, day, key)

    def _resolve_uncached(self, name: str, day: dt.date, key: tuple):
        spec = self.rulebook.parameters[name]
        if None in key:
            return None
        return spec.resolve(day, dict(zip(spec.by, key)))

    def close(self) -> None:
        self._session.close()


class _Reader:
    """Turns one evaluation's firings into condition statuses and lines."""

    def __init__(self, engine: Engine, firings: Firings, facts: dict, day: dt.date):
        self.engine, self.rulebook = engine, engine.rulebook
        self.firings, self.facts, self.day = firings, facts, day

    def verdict(self, rule_id: str):
        return self.firings.verdicts.get(rule_id)

    def statuses(self, rule: Rule) -> list[str]:
        """Status of each condition, read off the firings: the branch aliases
        name the conditions that fired; the others follow from the mode."""
        named = self.firings.branches.get(rule.id, ())
        out = []
        for i, cond in enumerate(rule.conditions):
            if cond.derived is not None:
                sub = self.verdict(cond.derived)
                out.append(UNKNOWN if sub is None else HELD if sub else FAILED)
            elif not self._present(cond):
                out.append(UNKNOWN)
            elif rule.mode == "all":
                # only failing branches are named; every other present test held
                out.append(FAILED if i in named else HELD)
            else:
                # only holding branches are named; every other present test failed
                out.append(HELD if i in named else FAILED)
        return out

    def _present(self, cond: Condition) -> bool:
        if cond.fact not in self.facts:
            return False
        return not isinstance(cond.value, ParamRef) or param_fact(cond.value.param) in self.facts

    def missing(self, rule: Rule, seen: set | None = None) -> list[dict]:
        """The facts that would settle an undetermined rule."""
        seen = set() if seen is None else seen
        out = []
        for cond, status in zip(rule.conditions, self.statuses(rule)):
            if status != UNKNOWN:
                continue
            if cond.derived is not None:
                out += self.missing(self.rulebook.by_id[cond.derived], seen)
                continue
            names = [cond.fact]
            if isinstance(cond.value, ParamRef):
                names += self.rulebook.parameters[cond.value.param].by
            for name in names:
                if name not in self.facts and name not in seen:
                    seen.add(name)
                    fact = FACTS[name]
                    out.append({"fact": name, "field": fact.field, "label_zh": fact.label_zh})
            if isinstance(cond.value, ParamRef) and all(n in self.facts for n in names[1:]) \
                    and param_fact(cond.value.param) not in self.facts:
                out.append({"fact": None, "field": None, "parameter": cond.value.param,
                            "label_zh": f"参数{cond.value.param}在{self.day}尚无生效值"})
        return out

    def reasons(self, rule: Rule) -> list[dict]:
        out = []
        for cond, status in zip(rule.conditions, self.statuses(rule)):
            if cond.derived is not None:
                target = self.rulebook.by_id[cond.derived]
                out.append({"status": status, "derived": target.id, "condition": target.label_zh,
                            "clause": target.clause})
                continue
            reason = {"status": status, "fact": cond.fact, "value": self.facts.get(cond.fact),
                      "condition": _describe(cond)}
            if isinstance(cond.value, ParamRef):
                spec = self.rulebook.parameters[cond.value.param]
                reason["parameter"] = {"name": spec.name, "label_zh": spec.label_zh,
                                       "value": self.facts.get(param_fact(spec.name)),
                                       "verified": spec.verified}
            out.append(reason)
        return out

    def status(self, rule: Rule) -> str:
        verdict = self.verdict(rule.id)
        return UNDETERMINED if verdict is None else ELIGIBLE if verdict else INELIGIBLE

    def concept_line(self, rule: Rule) -> dict:
        verdict = self.verdict(rule.id)
        return {"concept": rule.id, "label_zh": rule.label_zh, "label_en": rule.label_en,
                "clause": rule.clause, "holds": verdict, "reasons": self.reasons(rule),
                "assumption": rule.assumption}

    def chain(self, rule: Rule, seen: set | None = None) -> list[Rule]:
        """The derived concepts a rule rests on, transitively."""
        seen = set() if seen is None else seen
        out = []
        for cond in rule.conditions:
            if cond.derived is not None and cond.derived not in seen:
                seen.add(cond.derived)
                target = self.rulebook.by_id[cond.derived]
                out += [target] + self.chain(target, seen)
        return out

    def benefit_line(self, rule: Rule, explain: bool) -> dict:
        status = self.status(rule)
        outcome = rule.outcome
        line = {"benefit": rule.id, "label_zh": rule.label_zh, "label_en": rule.label_en,
                "clause": rule.clause, "status": status, "period": outcome.period,
                "amount": None, "payer_split": None}
        used: dict[str, object] = {}
        if status == ELIGIBLE:
            line["amount"] = self.amount(rule, used)
            line["payer_split"] = self.payer_split(rule, line["amount"], used)
        if status == UNDETERMINED:
            line["missing_facts"] = self.missing(rule)
        assumptions = [f"{rule.clause}：{rule.assumption}"] if rule.assumption else []
        chain = self.chain(rule)
        assumptions += [f"{c.clause}「{c.label_zh}」：{c.assumption}" for c in chain if c.assumption]
        for r in [rule] + chain:
            for cond in r.conditions:
                if isinstance(cond.value, ParamRef) and param_fact(cond.value.param) in self.facts:
                    used[cond.value.param] = self.facts[param_fact(cond.value.param)]
        line["assumptions"] = assumptions
        line["unverified"] = [
            {"parameter": name, "label_zh": self.rulebook.parameters[name].label_zh, "value": value,
             "source": self.rulebook.parameters[name].source}
            for name, value in used.items() if not self.rulebook.parameters[name].verified]
        if explain:
            line["text"] = rule.text
            line["reasons"] = self.reasons(rule)
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
        if form == "observances":
            category = self.facts.get("category")
            return {"kind": "days_off", "year": self.day.year,
                    "days": days_off(self.day.year, category) if category else []}
        if form == "param":
            value = self._param(spec.param, used)
        elif form == "table":
            table = self._param(spec.table, used)
            value = table.get(self.facts[spec.key_fact]) if table else None
        elif form == "share_of":
            base, ratio = self._param(spec.share_of, used), self._param(spec.ratio, used)
            value = None if base is None or ratio is None else round(base * ratio, 2)
        elif form == "difference":
            base = self._param(spec.difference, used)
            value = None if base is None else round(max(base - self.facts[spec.minus_fact], 0), 2)
        elif form == "range":
            bounds = self._param(spec.range, used)
            return None if bounds is None else {"kind": "range", "min": bounds["min"], "max": bounds["max"]}
        else:  # per_capita: county budgets, not applicant lines
            raise ValueError(f"amount form {form} is not for applicants")
        if value is None:
            return {"kind": "unresolved", "reason": "参数在评估日尚无生效值"}
        return {"kind": kind, "value": value}

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
                    split[who] = {"min": round(amount["min"] * share, 2), "max": round(amount["max"] * share, 2)}
                else:
                    split[who] = round(amount["value"] * share, 2)
        return split


def _describe(cond: Condition) -> str:
    label = FACTS[cond.fact].label_zh
    value = cond.value
    if isinstance(value, ParamRef):
        value = f"参数 {value.param}"
    elif isinstance(value, list):
        value = "、".join(map(str, value))
    elif isinstance(value, bool):
        value = "是" if value else "否"
    return f"{label} {_OP_ZH[cond.op]} {value}"


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
