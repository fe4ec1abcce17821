"""What a rule carries besides its verdict, shared by both back ends: the
concepts it rests on, the assumptions they make and the parameters its
conditions compare against."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from .facts import DATED_FACTS, FACTS
from .rulebook import Condition, InForce, ParamRef, Rule, Rulebook
from .vocabulary import FAILED

_OP_ZH = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "in": "∈"}


def chain(rule: Rule, rulebook: Rulebook, seen: set | None = None) -> list[Rule]:
    """The derived concepts and benefits a rule rests on, transitively, each once."""
    seen = set() if seen is None else seen
    out = []
    for cond in rule.conditions or []:
        if cond.ref is not None and cond.ref not in seen:
            seen.add(cond.ref)
            target = rulebook.by_id[cond.ref]
            out += [target] + chain(target, rulebook, seen)
    return out


def assumptions(rule: Rule, concepts: list[Rule], in_force_of: dict[str, InForce] | None = None) -> list[str]:
    """The rule's own assumption, those of the concepts it rests on, and each
    document's in-force reading where it reads that document's dated facts."""
    out = ([f"{rule.clause}：{rule.assumption}"] if rule.assumption else []) + [
        f"{c.clause}「{c.label_zh}」：{c.assumption}" for c in concepts if c.assumption]
    for document, in_force in (in_force_of or {}).items():
        if uses_dated_facts(rule, concepts, document):
            out.append(in_force_assumption(in_force))
    return out


def condition_parameters(rule: Rule, concepts: list[Rule]) -> tuple[str, ...]:
    """Parameters the rule's conditions (and its concepts') compare against."""
    return tuple(dict.fromkeys(c.value.param for r in (rule, *concepts) for c in (r.conditions or [])
                               if isinstance(c.value, ParamRef)))


def describe(cond: Condition, rulebook: Rulebook) -> str:
    """A fact condition as a clerk reads it: 下肢缺肢 ∈ 单侧、双侧."""
    fact = FACTS[cond.fact]
    names = dict(fact.values_zh)   # coded values read as the clerk's words (单侧, 本科…)
    value = cond.value
    if isinstance(value, ParamRef):
        value = rulebook.parameters[value.param].label_zh
    elif isinstance(value, list):
        value = "、".join(str(names.get(v, v)) for v in value)
    elif isinstance(value, bool):
        value = "是" if value else "否"
    else:
        value = names.get(value, value)
    return f"{fact.label_zh} {_OP_ZH[cond.op]} {value}"


def fact_reason(cond: Condition, rulebook: Rulebook) -> dict:
    """The parts of a fact condition's reason that do not depend on the
    applicant; op, target and field let a page word it in another language."""
    param = cond.value.param if isinstance(cond.value, ParamRef) else None
    return {"fact": cond.fact, "condition": describe(cond, rulebook), "op": cond.op,
            "target": {"param": param} if param else cond.value, "field": FACTS[cond.fact].field}

def uses_dated_facts(rule: Rule, chain, document: str) -> bool:
    """Whether a rule (or what it rests on) reads a fact dated against the
    document's in-force day (facts.DATED_FACTS)."""
    dated = DATED_FACTS.get(document, frozenset())
    return any(c.fact in dated for r in (rule, *chain) for c in (r.conditions or []))


def in_force_assumption(in_force: InForce) -> str:
    return f"施行日期 {in_force.from_}（{in_force.source}）：{in_force.assumption}"


def not_in_force(rulebook: Rulebook, day: dt.date) -> dict | None:
    """Before the first document is in force: what the determination says
    instead of applying the rules (None when some rules apply)."""
    in_force = rulebook.in_force
    if in_force is None or day >= in_force.from_:
        return None
    return {"from": in_force.from_.isoformat(), "source": in_force.source,
            "message": f"评估日{day}时63号尚未施行（{in_force.from_}起施行）"}


def rule_not_in_force(rulebook: Rulebook, rule: Rule, day: dt.date) -> dict | None:
    """Why a rule does not apply on ``day``, or None when it does: its
    document is not yet in force (81号 before 2012-11-13), or the text only
    promises to build what it describes (``pending``: 逐步建立). The reason
    is the line's one failed condition."""
    in_force = rulebook.in_force_of.get(rule.document)
    if in_force is not None and day < in_force.from_:
        return {"status": FAILED, "in_force": in_force.from_.isoformat(),
                "condition": f"{rule.document}已施行（{in_force.from_}起施行，评估日尚未施行）", "value": day.isoformat()}
    if rule.pending:
        return {"status": FAILED, "in_force": None, "condition": rule.pending, "value": day.isoformat()}
    return None


@lru_cache(maxsize=32)
def same_payment_groups(rulebook: Rulebook) -> list[tuple[str, ...]]:
    """Benefits that pay for the same need, grouped transitively through
    ``same_payment_as`` (A~B and C~B: one group A, B, C), in rulebook order."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    linked: set[str] = set()
    for rule in rulebook.benefits:
        other = rule.outcome.same_payment_as
        if other:
            linked |= {rule.id, other}
            a, b = root(rule.id), root(other)
            if a != b:
                parent[a] = b
    groups: dict[str, list[str]] = {}
    for rule in rulebook.benefits:
        if rule.id in linked:
            groups.setdefault(root(rule.id), []).append(rule.id)
    return [tuple(g) for g in groups.values()]
