"""Steps over the county entity (县区工作目标, 三政〔2012〕81号): what a
county reported, the day of the check, and each target's finding. An
indicator is named by its Chinese label, a target by its label in 「」;
an indicator no step fills in is unknown, never 0."""
from __future__ import annotations

import os
from fractions import Fraction
from functools import lru_cache

import pytest

from benefits.engine.identity import CURRENT_COUNTIES
from benefits.scorecard import STATUS_ZH, Indicators, evaluate, load_targets
from benefits.scorecard.evaluate import CITY_ZH
from benefits.scorecard.indicators import parse_value
from benefits.scorecard.targets import targets_dir

from .base import DATE, NUM, Mismatch, StepUsageError, norm, parse_date, step

_CODES = {name: code for code, name in CURRENT_COUNTIES.items()}
_COUNTY = "|".join(_CODES)
_STATUS = {zh: status for status, zh in STATUS_ZH.items()}
_VERDICT = {"达标": True, "未达标": False, "未知": None}


@lru_cache(maxsize=None)
def _targets(rules_dir: str | None):
    return load_targets(targets_dir(rules_dir))


def targets():
    return _targets(os.environ.get("BENEFITS_RULES") or None)


class CountySheet:
    """What the counties reported (indicator id → value by county), and the scorecard."""

    def __init__(self):
        self.values = {code: {} for code in CURRENT_COUNTIES}
        self.card = None

    def indicator(self, label: str):
        for indicator in targets().indicators.values():
            if norm(indicator.label_zh) == norm(label) or indicator.id == label:
                return indicator
        raise StepUsageError(f"没有名为“{label}”的指标。可用的指标：\n  "
                             + "\n  ".join(f"{i.label_zh}（{i.unit}，{i.clause}）" for i in targets().indicators.values()))


@pytest.fixture
def county_sheet():
    return CountySheet()


@step("假如", rf"(?P<counties>(?:{_COUNTY})(?:、(?:{_COUNTY}))*)填报(?P<label>.+?)为(?P<value>{NUM}|是|否)[^\d]*",
      pattern="假如{县（市、区）[、县（市、区）…]}填报{指标}为{数量|是|否}[单位]",
      example="假如湖滨区填报养老床位数为299张",
      meaning="81号县区目标：这些县（市、区）填报的指标值（指标名见指标填报模板；未写的指标为“未填”，按未知处理，不按0计）")
def report(county_sheet, counties, label, value):
    indicator = county_sheet.indicator(label)
    try:
        parsed = parse_value(value, indicator)
    except ValueError as exc:
        raise StepUsageError(f"“{label}”不能填 {value}：{exc}") from None
    for name in counties.split("、"):
        county_sheet.values[_CODES[name]][indicator.id] = parsed


@step("假如", rf"(?P<counties>(?:{_COUNTY})(?:、(?:{_COUNTY}))*)未填报(?P<label>.+)",
      pattern="假如{县（市、区）[、县（市、区）…]}未填报{指标}", example="假如义马市未填报养老床位数",
      meaning="81号县区目标：该指标留空（未知，不按0计）")
def not_reported(county_sheet, counties, label):
    indicator = county_sheet.indicator(label)
    for name in counties.split("、"):
        county_sheet.values[_CODES[name]][indicator.id] = None


@step("当", rf"(?:当)?按(?P<day>{DATE})考核(?:各县\(市、区\))?",
      pattern="当按{日期}考核[各县（市、区）]", example="当按2015年12月31日考核各县（市、区）",
      meaning="81号县区目标：以该日为评估日，期限在此日之后的目标为“未到期”")
def check(county_sheet, day):
    values = {code: {name: county_sheet.values[code].get(name) for name in targets().indicators}
              for code in CURRENT_COUNTIES}
    county_sheet.card = evaluate(targets(), Indicators(values), parse_date(day))


_SCOPE_ZH = {"city": "全市考核", "county": "逐县考核", "districts": "只考核市辖区"}


def _target(county_sheet, label: str):
    if county_sheet.card is None:
        raise StepUsageError("请先写「当按{日期}考核」，再检查结果")
    target = next((t for t in targets().targets if norm(t.label_zh) == norm(label) or t.id == label), None)
    if target is None:
        raise StepUsageError(f"没有名为「{label}」的目标。可用的目标：\n  "
                             + "\n  ".join(f"{t.label_zh}（{t.clause}）" for t in targets().targets))
    return target


def _result(county_sheet, county: str, label: str):
    target = _target(county_sheet, label)
    code = "411200" if county == CITY_ZH else _CODES[county]
    result = county_sheet.card.cell(code, target.id)
    if result is None:
        if target.scope == "districts" and county != CITY_ZH:
            raise Mismatch(f"{county}「{label}」", "考核", "不考核（评估日不是市辖区）", target.clause)
        raise StepUsageError(f"「{label}」是{_SCOPE_ZH[target.scope]}的目标，不能按{county}检查")
    return result


def _expect(county_sheet, county, label, expected: str, holds, what: str = "") -> None:
    result = _result(county_sheet, county, label)
    if not holds(result):
        raise Mismatch(f"{county}「{label}」{what}", expected, _why(result), result.target.clause)


def _why(result) -> str:
    return result.status_zh + "（" + "；".join(f"{c.condition.label_zh} {c.detail}" for c in result.conditions) + "）"


@step("那么", rf"(?P<county>{_COUNTY}|{CITY_ZH})的「(?P<label>[^」]+)」应为(?P<status>达标|未达标|未知|未到期)",
      pattern="那么{县（市、区）|全市}的「{目标}」应为{达标|未达标|未知|未到期}",
      example="那么湖滨区的「每千名老年人拥有养老床位数不低于30张」应为未达标",
      meaning="81号县区目标的考核结果（目标名见 benefits scorecard 的工作簿或 rules/targets/）")
def target_status(county_sheet, county, label, status):
    _expect(county_sheet, county, label, status, lambda r: r.status == _STATUS[status])


@step("那么", rf"(?P<county>{_COUNTY}|{CITY_ZH})的「(?P<label>[^」]+)」当前应为(?P<verdict>达标|未达标|未知)",
      pattern="那么{县（市、区）|全市}的「{目标}」当前应为{达标|未达标|未知}",
      example="那么卢氏县的「2014年10月1日前完成零散烈士纪念设施抢救保护工程」当前应为未达标",
      meaning="按已填报的数据，目标现在是否达到（未到期的目标也判定）")
def target_now(county_sheet, county, label, verdict):
    _expect(county_sheet, county, label, verdict, lambda r: r.current is _VERDICT[verdict], "当前")


@step("那么", rf"(?P<county>{_COUNTY})的「(?P<label>[^」]+)」不考核",
      pattern="那么{县（市、区）}的「{目标}」不考核",
      example="那么灵宝市的「市辖区普遍建立社会捐赠接收站（点）」不考核",
      meaning="这个县（市、区）不在该目标的考核范围：只考核市辖区的目标（以评估日的区划为准）不考核县和县级市")
def not_judged(county_sheet, county, label):
    target = _target(county_sheet, label)
    result = county_sheet.card.cell(_CODES[county], target.id)
    if result is not None:
        raise Mismatch(f"{county}「{label}」", "不考核", _why(result), target.clause)


@step("那么", rf"(?P<county>{_COUNTY})的「(?P<label>[^」]+)」的(?P<what>.+?)应为(?P<value>{NUM})(?P<unit>[^\d]*)",
      pattern="那么{县（市、区）}的「{目标}」的{考核项}应为{数值}[单位]",
      example="那么湖滨区的「每千名老年人拥有养老床位数不低于30张」的每千名老年人养老床位数应为29.9张",
      meaning="考核项按填报数据算出的值（不四舍五入比较：差0.01也不相等）")
def measure(county_sheet, county, label, what, value, unit):
    result = _result(county_sheet, county, label)
    condition = next((c for c in result.conditions if norm(c.condition.label_zh) == norm(what)), None)
    if condition is None:
        raise StepUsageError(f"「{label}」没有考核项“{what}”：有 "
                             + "、".join(c.condition.label_zh for c in result.conditions))
    if condition.value != Fraction(value):
        raise Mismatch(f"{county}「{label}」{what}", f"{value}{unit}", condition.detail, result.target.clause)
