"""Chinese labels shared by the estimate's table, workbook and chart."""
from __future__ import annotations

from ..engine.evaluate import PAYER_ZH, PERIOD_ZH

KIND_ZH = {"fixed": "定额", "at_least": "不低于（按下限计）", "range": "区间", "in_kind": "实物/服务（只计人数）",
           "unstated": "未规定金额（只计人数）", "days_off": "放假（只计人数）", "unresolved": "参数未生效"}
COUNTY_EN = {"411202": "Hubin", "411203": "Shanzhou", "411221": "Mianchi", "411224": "Lushi",
             "411281": "Yima", "411282": "Lingbao", "": "(no county)"}
PAYER_EN = {"city": "City", "county": "County", "unspecified": "Unspecified"}


def kinds_zh(kinds: list[str]) -> str:
    return "、".join(KIND_ZH.get(k, k) for k in kinds) or "—"


__all__ = ["PAYER_ZH", "PERIOD_ZH", "KIND_ZH", "COUNTY_EN", "PAYER_EN", "kinds_zh"]
