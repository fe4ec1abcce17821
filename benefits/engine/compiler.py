"""Compile a rulebook into a durable_rules ruleset (plain data).

Each derived concept and each benefit R becomes two durable rules:
``R.T`` fires when R holds and ``R.F`` when it fails; when neither fires R is
undetermined. A condition on a derived concept or on another benefit's
finding joins the ``derived`` fact asserted for that rule's verdict. A mode-``all`` rule holds when one applicant pattern (all its
fact tests) and one pattern per derived concept match; it fails on ANY branch
that negates one condition, each branch aliased ``c<i>`` so the firing names
the failing condition. A mode-``any`` rule is the mirror image.

Constraints from docs/durable-rules.md: every pattern carries a positive
discriminator (``kind``); a negated test never turns an absent field into "false"
(absent must stay "unknown", never "false": durable never matches a test on
a missing field); a ``$m`` reference to a parameter is guarded by ``$ex`` on
both sides; there is no ``$in``.
"""
from __future__ import annotations

from .rulebook import Condition, ParamRef, Rule, Rulebook

APPLICANT = {"kind": "applicant"}
END_RULE = "__end__"          # lowest priority: fires last, for every applicant
_NEGATE = {"lt": "gte", "lte": "gt", "gt": "lte", "gte": "lt"}
_DURABLE_OP = {"lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte", "ne": "$neq"}


def param_fact(name: str) -> str:
    """The field a resolved parameter is asserted under."""
    return f"param__{name}"


def _test(fact: str, op: str, value) -> list[dict]:
    """The durable atoms of ``fact op value``, to be AND-ed flat.

    Conjunctions stay flat: two ``any`` branches that share a nested ``$and``
    sub-expression lost the second branch (see tests/test_durable_quirks.py).
    A plain test on a missing field never matches, so it needs no guard.
    """
    if isinstance(value, ParamRef):
        ref = param_fact(value.param)
        test = {fact: {"$m": ref}} if op == "eq" else {_DURABLE_OP[op]: {fact: {"$m": ref}}}
        return [{"$ex": {fact: 1}}, {"$ex": {ref: 1}}, test]
    if op == "eq":
        return [{fact: value}]
    if op == "in":
        return [{"$or": [{fact: v} for v in value]}]
    return [{_DURABLE_OP[op]: {fact: value}}]


def positive(cond: Condition) -> list[dict]:
    return _test(cond.fact, cond.op, cond.value)


def negative(cond: Condition) -> list[dict]:
    """Present and not satisfying the test."""
    fact, op, value = cond.fact, cond.op, cond.value
    if op in _NEGATE:
        return _test(fact, _NEGATE[op], value)
    if op == "ne":
        return _test(fact, "eq", value)
    if isinstance(value, ParamRef):
        return _test(fact, "ne", value)
    values = value if op == "in" else [value]
    return [{"$neq": {fact: v}} for v in values]


def derived_pattern(name: str, value: bool) -> dict:
    return {"$and": [{"kind": "derived"}, {"name": name}, {"value": value}]}


def _applicant(tests: list[dict]) -> dict:
    return {"$and": [APPLICANT] + tests} if tests else APPLICANT


def _conjunction(rule: Rule, holds: bool) -> dict:
    """All conditions (or all negations) at once: one applicant pattern plus
    one pattern per derived concept."""
    tests, patterns = [], []
    for i, cond in enumerate(rule.conditions):
        if cond.ref is not None:
            patterns.append({f"c{i}": derived_pattern(cond.ref, holds)})
        else:
            tests += positive(cond) if holds else negative(cond)
    return {"all": [{"a": _applicant(tests)}] + patterns}


def _disjunction(rule: Rule, holds: bool) -> dict:
    """One branch per condition (or per negation); the alias names it."""
    branches = []
    for i, cond in enumerate(rule.conditions):
        if cond.ref is not None:
            branches.append({f"c{i}": derived_pattern(cond.ref, holds)})
        else:
            branches.append({f"c{i}": _applicant(positive(cond) if holds else negative(cond))})
    return {"any": branches}


def compile_ruleset(rulebook: Rulebook) -> dict:
    """The durable ruleset definition: {durable rule name: definition}."""
    ruleset = {}
    for rule in rulebook.rules:
        if rule.kind == "county_budget":
            continue
        if rule.mode == "all":
            ruleset[f"{rule.id}.T"] = _conjunction(rule, True)
            ruleset[f"{rule.id}.F"] = _disjunction(rule, False)
        else:
            ruleset[f"{rule.id}.T"] = _disjunction(rule, True)
            ruleset[f"{rule.id}.F"] = _conjunction(rule, False)
    # Every session dispatches at least one action before its state is
    # deleted (deleting a never-dispatched session segfaulted).
    ruleset[END_RULE] = {"all": [{"m": APPLICANT}], "pri": 1_000_000}
    return ruleset
