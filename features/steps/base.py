"""The machinery of the step library (步骤库): a forgiving parser, the
catalogue every step is registered in, and the mismatch error a failed
check raises.

Step text is normalised before matching (NFKC, whitespace removed), so
"持有 二级 肢体残疾人证", full-width digits "６０元" and half-/full-width
punctuation all match the same step. Patterns are therefore written against
the normalised form: ASCII digits, "," ":" "(" ")" instead of "，" "：" "（" "）".
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from pytest_bdd import given, then, when
from pytest_bdd.parsers import StepParser

_SPACE = re.compile(r"\s+")
_KEYWORD = re.compile(r"^(?:假如|当|那么|并且|而且|但是)")


def norm(text: str) -> str:
    """The form both step text and patterns are compared in."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


class Forgiving(StepParser):
    """Regex parser on normalised text; ``name`` is the readable pattern."""

    def __init__(self, regex: str, readable: str):
        super().__init__(readable)
        self.regex = re.compile(regex)

    def parse_arguments(self, name: str):
        match = self.regex.fullmatch(norm(name))
        return None if match is None else match.groupdict()

    def is_matching(self, name: str) -> bool:
        return self.regex.fullmatch(norm(name)) is not None


@dataclass(frozen=True)
class StepDoc:
    kind: str        # 假如 / 当 / 那么
    pattern: str     # readable, with {占位}
    example: str
    meaning: str
    parser: Forgiving = field(compare=False, repr=False)


CATALOGUE: list[StepDoc] = []
_DECORATORS = {"假如": given, "当": when, "那么": then}


def step(kind: str, regex: str, *, pattern: str, example: str, meaning: str):
    """Register a step function under ``kind`` (假如/当/那么) and document it.

    The pytest-bdd fixture is injected into the module that uses this
    decorator (stacklevel=2), so conftest.py only has to import those modules.
    """
    parser = Forgiving(regex, pattern)
    doc = StepDoc(kind, pattern, example, meaning, parser)
    if not parser.is_matching(without_keyword(example)):
        raise ValueError(f"step example does not match its own pattern: {example!r}")

    def decorate(func):
        CATALOGUE.append(doc)
        return _DECORATORS[kind](parser, stacklevel=2)(func)
    return decorate


def without_keyword(text: str) -> str:
    return _KEYWORD.sub("", text, count=1)


def catalogue_text() -> str:
    """Every step, for the message shown when a step matches none."""
    lines = []
    for kind in ("假如", "当", "那么"):
        lines.append(f"【{kind}】")
        for doc in CATALOGUE:
            if doc.kind == kind:
                lines.append(f"  {doc.pattern}\n      例：{doc.example}\n      说明：{doc.meaning}")
    return "\n".join(lines)


class Mismatch(AssertionError):
    """A checked value differs from the expected one (期望 vs 实际)."""

    def __init__(self, what: str, expected, actual, clause: str | None = None):
        self.what, self.expected, self.actual, self.clause = what, expected, actual, clause
        where = f"（条款：{clause}）" if clause else ""
        super().__init__(f"{what}{where}\n  期望：{expected}\n  实际：{actual}")


class StepUsageError(AssertionError):
    """A scenario that uses steps wrongly (e.g. checks before evaluating)."""


# Shared pieces of patterns (after normalisation).
NUM = r"\d+(?:\.\d+)?"
DATE = r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}"
BENEFIT = r"(?:「(?P<benefit>[^」]+)」)?"
CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


def parse_date(text: str) -> dt.date:
    parts = [int(p) for p in re.findall(r"\d+", text)]
    try:
        return dt.date(*parts)
    except (TypeError, ValueError):
        raise StepUsageError(f"不是有效日期：{text}") from None


def number(text: str) -> float:
    return float(text)
