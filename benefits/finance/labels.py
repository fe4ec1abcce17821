"""Chinese labels shared by the estimate's table, workbook and chart."""
from __future__ import annotations

from ..costing import county_name
from ..engine.vocabulary import PAYER_ZH, PERIOD_ZH
from ..report import format_value

KIND_ZH = {"fixed": "定额", "at_least": "不低于（按下限计）", "range": "区间", "in_kind": "实物/服务（只计人数）",
           "unstated": "未规定金额（只计人数）",
           "priority": "优先待遇（只计人数）", "days_off": "放假（只计人数）", "unresolved": "参数未生效"}
COUNTY_EN = {"411202": "Hubin", "411203": "Shanzhou", "411221": "Mianchi", "411224": "Lushi",
             "411281": "Yima", "411282": "Lingbao", "": "(no county)"}
# 陕州区 was 陕县 until 2015-02-16 (engine/identity.py names it in Chinese)
_FORMER_EN = {"411203": (2015, "Shan County", "16 Feb")}
PAYER_EN = {"city": "City", "county": "County", "unspecified": "Unspecified"}


RESIDENCE_ZH = {"urban": "城镇", "rural": "农村"}
BY_ZH = {"hukou_county": "县区", "residence": "城乡"}


def kinds_zh(kinds: list[str]) -> str:
    return "、".join(KIND_ZH.get(k, k) for k in kinds) or "—"


def scope_zh(value: dict, year: int) -> str:
    """Where a dated parameter value applies: 湖滨区 城镇, or 全市; the county
    as named in the budget ``year`` (陕县 before 2015), as every sheet names it."""
    county = value.get("hukou_county")
    parts = [county_name(county, year) if county else "", RESIDENCE_ZH.get(value.get("residence"), "")]
    return " ".join(p for p in parts if p) or "全市"


def county_en(code: str, year: int) -> str:
    """The county in English (the chart without a CJK font), as named in ``year``."""
    former = _FORMER_EN.get(code)
    if former and year < former[0]:
        return former[1]
    if former and year == former[0]:
        return f"{COUNTY_EN[code]} ({former[1]} before {former[2]})"
    return COUNTY_EN.get(code, code)


def by_zh(by: list[str]) -> str:
    return "、".join(BY_ZH.get(b, b) for b in by) or "—"


__all__ = ["PAYER_ZH", "PERIOD_ZH", "KIND_ZH", "COUNTY_EN", "PAYER_EN", "RESIDENCE_ZH", "kinds_zh", "scope_zh",
           "county_en", "by_zh", "format_value"]
