"""Which benefit lines a reform can change (改革影响的项目), from the two
rulebooks' IR alone: the compare evaluates only those on the reform side and
takes every other line's columns and totals from the baseline, which are
exactly what a full evaluation would give.

A line is affected when its rule, or any rule it rests on (``derived`` /
``benefit`` conditions, transitively), differs between the rulebooks or reads
a parameter whose definition differs (condition values, amount, payer); and
every line of a same-payment group (``same_payment_as``) in which one line is
affected, or whose group differs between the rulebooks, since the duplicate
marking compares the group's amounts. Anything the analysis cannot vouch
for (a different in-force day) gives ``None``: evaluate everything.
"""
from __future__ import annotations

from typing import Optional

from ..engine.marks import same_payment_groups
from ..engine.rulebook import ParamRef, Rule, Rulebook


def _parameters(rule: Rule) -> set[str]:
    """Every parameter the rule itself reads (not through the rules it rests on)."""
    names = {c.value.param for c in rule.conditions if isinstance(c.value, ParamRef)} if rule.conditions else set()
    if rule.outcome is not None:
        names |= set(rule.outcome.amount.parameters())
        if rule.outcome.payer is not None and rule.outcome.payer.param:
            names.add(rule.outcome.payer.param)
    return names


def affected_lines(baseline: Rulebook, reform: Rulebook) -> Optional[set[str]]:
    """The reform's benefit ids whose results may differ from the baseline's
    (None: all of them)."""
    if baseline.in_force_of != reform.in_force_of:
        return None
    changed_params = {n for n in set(baseline.parameters) | set(reform.parameters)
                      if baseline.parameters.get(n) != reform.parameters.get(n)}
    changed: set[str] = set()
    for rule in reform.rules:               # dependency order: what a rule rests on comes first
        if (baseline.by_id.get(rule.id) != rule or _parameters(rule) & changed_params
                or any(c.ref in changed for c in rule.conditions or [])):
            changed.add(rule.id)
    ids = {r.id for r in reform.benefits}
    groups_b = {b: frozenset(g) for g in same_payment_groups(baseline) for b in g}
    groups_r = {b: frozenset(g) for g in same_payment_groups(reform) for b in g}
    out = changed & ids
    for b in ids:
        group = groups_r.get(b, frozenset({b}))
        if group != groups_b.get(b, frozenset({b})) or group & out:
            out |= group
    return out

