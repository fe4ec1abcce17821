"""An independent reading of the rule files: plain three-valued (Kleene)
logic in Python, with no durable_rules. The engine must agree with it on
every record; where they differ, one of them misreads the rules."""
from __future__ import annotations

import operator

from benefits.engine.rulebook import ParamRef, Rulebook

_OPS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lte": operator.le,
        "gt": operator.gt, "gte": operator.ge}


def reference_verdicts(rulebook: Rulebook, facts: dict, params: dict, without_upon: bool = False):
    """(verdict per rule id, condition values per rule id). ``without_upon``
    reads every prospective (``upon``) condition as failed: a rule that holds
    only with them holds "upon" that event."""
    verdicts: dict[str, bool | None] = {}
    conditions: dict[str, list[bool | None]] = {}

    def condition(cond) -> bool | None:
        if without_upon and cond.upon:
            return False
        if cond.ref is not None:          # a derived concept or another benefit's finding
            return verdicts[cond.ref]
        if cond.fact not in facts:
            return None
        value = facts[cond.fact]
        if cond.op == "in":
            return value in cond.value
        target = cond.value
        if isinstance(target, ParamRef):
            if target.param not in params:
                return None
            target = params[target.param]
        return _OPS[cond.op](value, target)

    for rule in rulebook.rules:          # dependency order
        if rule.kind == "county_budget":
            continue
        values = conditions[rule.id] = [condition(c) for c in rule.conditions]
        if rule.mode == "all":
            verdicts[rule.id] = False if False in values else None if None in values else True
        else:
            verdicts[rule.id] = True if True in values else None if None in values else False
    return verdicts, conditions
