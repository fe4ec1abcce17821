"""Judging each county against 81号's targets (考核): a small evaluator over
the declarative targets, in three-valued (Kleene) logic — a condition whose
indicators are not all filled in is unknown, never failed; a target is met
when every condition is, not met when any condition is not, else unknown.

A target whose deadline is after the evaluation day is 未到期 (not due);
its current value is still worked out and shown."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

from ..engine.identity import CURRENT_COUNTIES, county_name
from .indicators import Indicators
from .targets import CITY, Condition, Target, Targets, shown

MET, NOT_MET, UNKNOWN, NOT_DUE = "met", "not_met", "unknown", "not_due"
STATUS_ZH = {MET: "达标", NOT_MET: "未达标", UNKNOWN: "未知", NOT_DUE: "未到期"}
CITY_ZH = "全市"


@dataclass(frozen=True)
class ConditionResult:
    condition: Condition
    holds: Optional[bool]              # None: unknown
    value: Optional[Fraction]          # the computed measure, None when unknown
    detail: str                        # e.g. "299 ÷ 10000 × 1000 = 29.9张" or "未填：养老床位数"
    assumptions: tuple[str, ...] = ()  # readings used only for this value (e.g. an empty whole)


@dataclass(frozen=True)
class TargetResult:
    target: Target
    county: str                        # a county code, or CITY
    county_zh: str
    status: str                        # MET / NOT_MET / UNKNOWN / NOT_DUE
    current: Optional[bool]            # the Kleene verdict on the data, due or not
    conditions: list[ConditionResult]

    @property
    def status_zh(self) -> str:
        if self.status == NOT_DUE:
            return f"未到期（当前{_verdict_zh(self.current)}）"
        return STATUS_ZH[self.status]


@dataclass
class Scorecard:
    as_of: dt.date
    targets: Targets
    results: list[TargetResult]
    source: str = ""
    counties: list[tuple[str, str]] = field(default_factory=list)   # (code, name on as_of), then 全市
    indicators: Optional[Indicators] = None

    def for_county(self, code: str) -> list[TargetResult]:
        return [r for r in self.results if r.county == code]

    def cell(self, code: str, target_id: str) -> Optional[TargetResult]:
        return next((r for r in self.results if r.county == code and r.target.id == target_id), None)

    def shown_cell(self, code: str, target: Target) -> str:
        """What the county × target cell says: the finding, or for a city
        target the county's own answer to it."""
        result = self.cell(code, target.id)
        if result is not None:
            return result.status_zh
        flag = target.all[0].counties_with
        if flag and self.indicators is not None:
            value = self.indicators.get(code, flag)
            return "（全市考核）本县：" + ("未填" if value is None else "是" if value else "否")
        if target.scope == "districts" and code != CITY:
            return "不考核（不是市辖区）"
        return "—"

    def counts(self, code: str) -> dict[str, int]:
        rows = self.for_county(code)
        return {status: sum(r.status == status for r in rows) for status in STATUS_ZH}


def _verdict_zh(value: Optional[bool]) -> str:
    return {True: "达标", False: "未达标", None: "未知"}[value]


def kleene_and(values) -> Optional[bool]:
    values = list(values)
    if any(v is False for v in values):
        return False
    if all(v is True for v in values):
        return True
    return None


def deadline_zh(target: Target) -> str:
    if target.deadline is None:
        return "未规定期限"
    return target.deadline.isoformat()


def is_district(code: str, day: dt.date) -> bool:
    """Whether a county is a 市辖区 on ``day``: its name then is a 区 (湖滨区;
    陕州区 from 2015-02-16, before which it was 陕县, a county)."""
    return (county_name(code, day) or "").endswith("区")


def evaluate(targets: Targets, indicators: Indicators, as_of: dt.date) -> Scorecard:
    counties = [(code, county_name(code, as_of)) for code in CURRENT_COUNTIES]
    results = []
    for target in targets.targets:
        if target.scope == "city":
            places = [(CITY, CITY_ZH)]
        elif target.scope == "districts":
            places = [(code, name) for code, name in counties if is_district(code, as_of)]
        else:
            places = counties
        for code, name in places:
            conditions = [_condition(c, targets, indicators, code) for c in target.all]
            current = kleene_and(c.holds for c in conditions)
            if target.deadline is not None and as_of < target.deadline:
                status = NOT_DUE
            else:
                status = {True: MET, False: NOT_MET, None: UNKNOWN}[current]
            results.append(TargetResult(target, code, name, status, current, conditions))
    return Scorecard(as_of, targets, results, indicators.source, counties + [(CITY, CITY_ZH)], indicators)


def _condition(condition: Condition, targets: Targets, indicators: Indicators, code: str) -> ConditionResult:
    label = lambda name: targets.indicators[name].label_zh  # noqa: E731
    if condition.counties_with:
        return _share_of_counties(condition, indicators, label(condition.counties_with))
    names = [condition.value or condition.flag] if condition.value or condition.flag \
        else [condition.part, *condition.whole]
    values = {name: indicators.get(code, name) for name in names}
    missing = [label(n) for n, v in values.items() if v is None]
    if missing:
        return ConditionResult(condition, None, None, "未填：" + "、".join(missing))
    if condition.flag:
        value = values[condition.flag]
        return ConditionResult(condition, value == 1, value, "是" if value == 1 else "否")
    if condition.value:
        value = values[condition.value]
        return ConditionResult(condition, value >= condition.at_least, value, f"{shown(value)}{condition.unit}")
    part, whole = values[condition.part], sum(values[n] for n in condition.whole)
    if whole == 0:
        return ConditionResult(condition, True, None, f"{'+'.join(map(label, condition.whole))}为0，无需覆盖",
                               ("empty_whole",))
    value = part * condition.per / whole
    scale = f" × {condition.per}" if condition.per != 1 else ""
    return ConditionResult(condition, value >= condition.at_least, value,
                           f"{shown(part)} ÷ {shown(whole)}{scale} = {shown(value)}{condition.unit}")


def _share_of_counties(condition: Condition, indicators: Indicators, label: str) -> ConditionResult:
    """A city target over the counties: judged as soon as the filled-in
    counties decide it, whatever the blank ones would say."""
    flags = [indicators.get(code, condition.counties_with) for code in CURRENT_COUNTIES]
    total, yes, blank = len(flags), sum(1 for f in flags if f == 1), sum(1 for f in flags if f is None)
    low, high = Fraction(yes * condition.per, total), Fraction((yes + blank) * condition.per, total)
    holds = True if low >= condition.at_least else False if high < condition.at_least else None
    detail = f"{total}个县（市、区）中{yes}个填“是”，{blank}个未填"
    value = low if blank == 0 else None
    if value is not None:
        detail += f"：{yes} ÷ {total} × {condition.per} = {shown(value)}{condition.unit}"
    return ConditionResult(condition, holds, value, detail)
