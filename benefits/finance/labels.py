"""Chinese labels shared by the estimate's table, workbook and chart, and
the chart's figures in 万元."""
from __future__ import annotations

from ..costing import county_name
from ..costing.fen import apportion, rescale, to_fen, yuan
from ..engine.vocabulary import PAYER_ZH, PAYERS, PERIOD_ZH
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


WAN = 1_000_000     # fen in a 万元 (10,000 yuan)


def county_wan(result: dict) -> list[tuple[dict, dict, float]]:
    """The chart's figures: per county, (county, {payer: 万元}, total 万元),
    中值 to two decimals of 万元. The total is the county's 中值 in yuan
    rounded to 万元; the payers' figures are apportioned to add up to it
    (costing/fen.py), so the chart's table adds up across and matches 按县区."""
    out = []
    for county in result["counties"]:
        total = rescale(to_fen(county["cost"]["mid"]), WAN // 100)
        parts = apportion(total, {p: to_fen(county["payers"][p]["mid"]) for p in PAYERS},
                          rounded=lambda fen: rescale(fen, WAN // 100))
        out.append((county, {p: yuan(v) for p, v in parts.items()}, yuan(total)))
    return out


def by_zh(by: list[str]) -> str:
    return "、".join(BY_ZH.get(b, b) for b in by) or "—"


__all__ = ["PAYER_ZH", "PERIOD_ZH", "KIND_ZH", "COUNTY_EN", "PAYER_EN", "RESIDENCE_ZH", "kinds_zh", "scope_zh",
           "county_en", "county_wan", "by_zh", "format_value"]
