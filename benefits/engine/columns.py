"""Names of the columns the columnar lowering writes (one per fact,
parameter, condition, verdict and outcome), kept apart from the expressions
so that the outcome operations (outcome.py) and the columnar plan can both
name them without importing each other."""
from __future__ import annotations

DAY = "__day"
"""The evaluation day of each row."""


def fact_column(name: str) -> str:
    return f"fact.{name}"


def param_column(name: str, key: str | None = None) -> str:
    return f"param.{name}" if key is None else f"param.{name}.{key}"


def rule_column(rule_id: str) -> str:
    return f"rule.{rule_id}"


def condition_column(rule_id: str, index: int) -> str:
    return f"cond.{rule_id}.{index}"


def amount_column(benefit: str, bound: str | None = None) -> str:
    return f"amount.{benefit}" if bound is None else f"amount.{benefit}.{bound}"


def payer_column(benefit: str, who: str, bound: str | None = None) -> str:
    return f"payer.{benefit}.{who}" if bound is None else f"payer.{benefit}.{who}.{bound}"


def duplicate_column(benefit: str) -> str:
    return f"duplicate_of.{benefit}"


def missing_column(benefit: str, word: int) -> str:
    return f"missing.{benefit}.{word}"


def upon_column(rule_id: str) -> str:
    return f"upon.{rule_id}"


def plain(value):
    """A value read back from a Float64 column as the rule files write it
    (300.0 → 300)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def keys(spec) -> list[str] | None:
    """The keys of a mapping-valued parameter (table, range, payer split), or None."""
    if not any(isinstance(v.value, dict) for v in spec.values):
        return None
    return list(dict.fromkeys(k for v in spec.values if isinstance(v.value, dict) for k in v.value))
