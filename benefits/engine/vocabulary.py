"""The determination's vocabulary, defined once: statuses (符合/不符合/待定),
condition statuses, payers (市级/县级/未指明), periods, amount kinds, and the
typed determination itself (Pydantic), which both back ends produce through
``determination.py`` and which the API's schema, the report, the page and the
workbook read.
"""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict

BACK_ENDS = ("durable", "columnar")
"""The two back ends that evaluate a rulebook: durable_rules, one applicant
with full reasons (the reference), and the columnar (Polars) engine, a
caseload at once (engine/columnar/). Estimates and scenario runs take either."""

# 符合 / 不符合 / 待定: a rule's Kleene verdict true / false / null
ELIGIBLE, INELIGIBLE, UNDETERMINED = "eligible", "ineligible", "undetermined"
STATUSES = (ELIGIBLE, INELIGIBLE, UNDETERMINED)
STATUS_ZH = {ELIGIBLE: "符合", INELIGIBLE: "不符合", UNDETERMINED: "待定（缺少信息）"}


def status_of(verdict: bool | None) -> str:
    return UNDETERMINED if verdict is None else ELIGIBLE if verdict else INELIGIBLE


# a condition: held / failed / unknown
HELD, FAILED, UNKNOWN = "held", "failed", "unknown"


def condition_status(value: bool | None) -> str:
    return UNKNOWN if value is None else HELD if value else FAILED


# who pays: 市级财政 / 县级财政 / 未指明 (the text names no payer)
PAYERS = ("city", "county", "unspecified")
PAYER_ZH = {"city": "市级财政", "county": "县级财政", "unspecified": "未指明"}

PERIODS = ("monthly", "yearly", "one_off", "ongoing")
PERIOD_ZH = {"monthly": "每月", "yearly": "每年", "one_off": "一次性", "ongoing": "长期"}
PER_YEAR = {"monthly": 12, "yearly": 1, "one_off": 1}
"""Payments a year of a period (``ongoing`` has no money per year)."""

# what an eligible line's amount is (outcome.py defines how each is computed)
AMOUNT_KINDS = ("fixed", "at_least", "range", "in_kind", "unstated", "priority", "days_off", "unresolved")
MONEY_KINDS = ("fixed", "at_least", "range")
"""Kinds that carry yuan, and so a payer split."""

Status = Literal["eligible", "ineligible", "undetermined"]
ConditionStatus = Literal["held", "failed", "unknown"]
Payer = Literal["city", "county", "unspecified"]
Period = Literal["monthly", "yearly", "one_off", "ongoing"]
AmountKind = Literal["fixed", "at_least", "range", "in_kind", "unstated", "priority", "days_off", "unresolved"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Amount(_Model):
    """An eligible line's amount, in yuan per ``period``, for the person
    (or the household, where ``payee`` says so)."""
    kind: AmountKind
    value: Optional[float] = None       # fixed, at_least
    per_unit: Optional[float] = None    # value = per_unit × count (每例; 低保: 每人 × 共同生活人数)
    count: Optional[int] = None
    unit_zh: Optional[str] = None       # what count counts: 例, 人
    payee: Optional[Literal["household"]] = None   # paid to the household as a whole (else the person)
    min: Optional[float] = None         # range
    max: Optional[float] = None
    year: Optional[int] = None          # days_off
    days: Optional[list[dict]] = None
    reason: Optional[str] = None        # unresolved


class Range(_Model):
    min: float
    max: float


class MissingFact(_Model):
    """A fact to ask for (and the form field still blank), or a parameter
    with no value in force on the day."""
    fact: Optional[str]
    field: Optional[str]
    label_zh: str
    parameter: Optional[str] = None


class Unverified(_Model):
    parameter: str
    label_zh: str
    value: object
    source: str


class Reason(_Model):
    """One condition of the rule and its status; ``derived``/``benefit``
    points to a concept or line with its own reasons."""
    status: ConditionStatus
    condition: str
    clause: Optional[str] = None
    derived: Optional[str] = None
    benefit: Optional[str] = None
    fact: Optional[str] = None
    op: Optional[str] = None
    target: object = None
    field: Optional[str] = None
    value: object = None
    parameter: Optional[dict] = None
    upon: Optional[str] = None
    in_force: Optional[str] = None


class Line(_Model):
    """One benefit line of a determination."""
    benefit: str
    document: Literal["63号", "81号"]
    label_zh: str
    label_en: str
    clause: str
    status: Status
    period: Period
    amount: Optional[Amount]
    payer_split: Optional[dict[Payer, Union[float, Range]]]
    duplicate_of: Optional[str]
    duplicate_note: Optional[str] = None     # the same payment as duplicate_of, said in the line itself
    upon: list[str]
    missing_facts: Optional[list[MissingFact]] = None
    assumptions: list[str]
    unverified: list[Unverified]
    text: Optional[str] = None
    reasons: Optional[list[Reason]] = None
    notes: Optional[str] = None


class Concept(_Model):
    concept: str
    label_zh: str
    label_en: str
    clause: str
    holds: Optional[bool]
    reasons: list[Reason]
    assumption: Optional[str]
    upon: list[str]


class ApplicantSummary(_Model):
    name: str
    id_number_masked: str
    age: int
    hukou_county: Optional[str]
    hukou_county_zh: Optional[str]
    residence: Optional[str]


class Determination(_Model):
    """What the engine says of one applicant on one day."""
    applicant: ApplicantSummary
    evaluation_date: str
    rulebook_version: str
    summary: dict[Status, int]
    benefits: list[Line]
    concepts: Optional[list[Concept]] = None
    not_in_force: Optional[dict] = None


def check(determination: dict) -> Determination:
    """The typed determination of a dict the engine produced (raises on a
    field the vocabulary does not know)."""
    return Determination.model_validate(determination)
