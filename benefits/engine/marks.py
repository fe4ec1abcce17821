"""What a rule carries besides its verdict, shared by both back ends: the
concepts it rests on, the assumptions they make and the parameters its
conditions compare against."""
from __future__ import annotations

from .facts import FACTS
from .rulebook import Condition, ParamRef, Rule, Rulebook

_OP_ZH = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "in": "∈"}


def chain(rule: Rule, rulebook: Rulebook, seen: set | None = None) -> list[Rule]:
    """The derived concepts a rule rests on, transitively, each once."""
    seen = set() if seen is None else seen
    out = []
    for cond in rule.conditions or []:
        if cond.derived is not None and cond.derived not in seen:
            seen.add(cond.derived)
            target = rulebook.by_id[cond.derived]
            out += [target] + chain(target, rulebook, seen)
    return out


def assumptions(rule: Rule, concepts: list[Rule]) -> list[str]:
    """The rule's own assumption and those of the concepts it rests on."""
    return ([f"{rule.clause}：{rule.assumption}"] if rule.assumption else []) + [
        f"{c.clause}「{c.label_zh}」：{c.assumption}" for c in concepts if c.assumption]


def condition_parameters(rule: Rule, concepts: list[Rule]) -> tuple[str, ...]:
    """Parameters the rule's conditions (and its concepts') compare against."""
    return tuple(dict.fromkeys(c.value.param for r in (rule, *concepts) for c in (r.conditions or [])
                               if isinstance(c.value, ParamRef)))


def describe(cond: Condition, rulebook: Rulebook) -> str:
    """A fact condition as a clerk reads it: 残疾等级 ≤ 2."""
    label = FACTS[cond.fact].label_zh
    value = cond.value
    if isinstance(value, ParamRef):
        value = rulebook.parameters[value.param].label_zh
    elif isinstance(value, list):
        value = "、".join(map(str, value))
    elif isinstance(value, bool):
        value = "是" if value else "否"
    return f"{label} {_OP_ZH[cond.op]} {value}"
