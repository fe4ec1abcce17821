"""Chinese labels shared by the estimate's table, workbook and chart."""
from __future__ import annotations

from ..engine.vocabulary import PAYER_ZH, PERIOD_ZH
from ..engine.identity import CURRENT_COUNTIES
from ..report import format_value

KIND_ZH = {"fixed": "定额", "at_least": "不低于（按下限计）", "range": "区间", "in_kind": "实物/服务（只计人数）",
           "unstated": "未规定金额（只计人数）",
           "priority": "优先待遇（只计人数）", "days_off": "放假（只计人数）", "unresolved": "参数未生效"}
COUNTY_EN = {"411202": "Hubin", "411203": "Shanzhou", "411221": "Mianchi", "411224": "Lushi",
             "411281": "Yima", "411282": "Lingbao", "": "(no county)"}
PAYER_EN = {"city": "City", "county": "County", "unspecified": "Unspecified"}


RESIDENCE_ZH = {"urban": "城镇", "rural": "农村"}
BY_ZH = {"hukou_county": "县区", "residence": "城乡"}


def kinds_zh(kinds: list[str]) -> str:
    return "、".join(KIND_ZH.get(k, k) for k in kinds) or "—"


def scope_zh(value: dict) -> str:
    """Where a dated parameter value applies: 湖滨区 城镇, or 全市."""
    county = value.get("hukou_county")
    parts = [CURRENT_COUNTIES.get(county, county) if county else "", RESIDENCE_ZH.get(value.get("residence"), "")]
    return " ".join(p for p in parts if p) or "全市"


def by_zh(by: list[str]) -> str:
    return "、".join(BY_ZH.get(b, b) for b in by) or "—"


__all__ = ["PAYER_ZH", "PERIOD_ZH", "KIND_ZH", "COUNTY_EN", "PAYER_EN", "RESIDENCE_ZH", "kinds_zh", "scope_zh",
           "by_zh", "format_value"]
