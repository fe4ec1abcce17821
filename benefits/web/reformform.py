"""The rulebook's parameters as form fields (参数表单), and the fields an
officer changed as a reform (YAML in the reforms/*.yaml format).

One row per parameter and scope (户籍县区 × 城镇/农村, as its dated values
are written), one input per key of a mapping value (payer shares, tables).
The row shows the scope's latest value, its 已核实/未核实 mark, and takes a
new value that holds from the day the officer picks on: values of that
scope dated on or after that day are replaced by it, and it is restated on
each later day a value of the parameter starts (other scopes and earlier
values stay).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Optional

import yaml

from ..engine import value_problem
from ..report import key_zh
from .labels import COUNTIES

RESIDENCE_ZH = {"urban": "城镇", "rural": "农村"}
MAX_VALUE = 1e9


@dataclass(frozen=True)
class Field:
    name: str                  # the input's name: p.<parameter>.<scope>[.<key>]
    parameter: str
    scope_zh: str
    key: Optional[str]
    current: object
    since: dt.date
    hukou_county: Optional[str]
    residence: Optional[str]


def _scope_zh(v) -> str:
    parts = [COUNTIES.get(v.hukou_county, v.hukou_county)] if v.hukou_county else []
    parts += [RESIDENCE_ZH[v.residence]] if v.residence else []
    return " · ".join(parts) or "全市"


def fields(book) -> list[dict]:
    """Per parameter: name, label_zh, unit, verified, source and its input rows."""
    out = []
    for name, p in book.parameters.items():
        latest: dict[tuple, object] = {}   # scope → its latest dated value
        for v in sorted(p.values, key=lambda v: v.from_):
            latest[(v.hukou_county, v.residence)] = v
        rows = []
        for i, v in enumerate(latest.values()):
            keys = sorted(v.value) if isinstance(v.value, dict) else [None]
            for key in keys:
                current = v.value[key] if key is not None else v.value
                scope = _scope_zh(v) + (f" · {key_zh(key)}" if key is not None else "")
                rows.append(Field(f"p.{name}.{i}" + (f".{key}" if key is not None else ""), name, scope,
                                  key, current, v.from_, v.hukou_county, v.residence))
        out.append({"name": name, "label_zh": p.label_zh, "unit": p.unit, "verified": p.verified,
                    "source": p.source, "rows": rows, "hint": RATIO_HINT if p.unit in RATIO_UNITS else ""})
    return out


def _number(text: str) -> float | int:
    value = float(text.replace(",", "").replace("，", "").strip())
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise ValueError
    return int(value) if value == int(value) and "." not in text else value


# Parameters whose unit is a ratio take a fraction or a percentage: 0.25,
# 25% and 25 are all 25 % (a ratio above 1 can only mean per cent). Checked
# here, at the form, until the rulebook's parameters declare their ranges.
RATIO_UNITS = ("比例", "分担比例")
RATIO_HINT = "填 0.25、25% 或 25 均为 25%"


def _ratio(text: str, unit: str) -> float:
    """A ratio typed as 0.25, 25% or 25 → 0.25; ValueError outside 0–100 %
    (a 比例 must be above 0; a payer's share may be 0)."""
    shown = text.strip().replace("％", "%")
    value = _number(shown.removesuffix("%").strip())
    if shown.endswith("%") or value > 1:
        value = round(value / 100, 10)
    if not (0 <= value <= 1) or (unit == "比例" and value == 0):
        raise ValueError
    return int(value) if value in (0, 1) else value


def _value(text: str, unit: str) -> tuple[float | int | None, str | None]:
    """(the typed value, None) or (None, its Chinese error at the field)."""
    if unit in RATIO_UNITS:
        try:
            return _ratio(text[:40], unit), None
        except ValueError:
            lowest = "大于 0" if unit == "比例" else "不小于 0"
            return None, f"“{text[:20]}”不是有效的比例：应{lowest}、不超过 100%，如 0.25 或 25%"
    try:
        value = _number(text[:40])
    except ValueError:
        return None, f"“{text[:20]}”不是数字，请填写如 0.25 或 1200"
    if value < 0:
        return None, f"“{text[:20]}”为负数：不能小于 0"
    return value, None


def changes(book, form, since: dt.date) -> tuple[dict, dict[str, str]]:
    """(parameters section of a reform, {input name: Chinese error}) from the
    submitted ``form`` (a mapping); a field left as shown is no change."""
    section: dict[str, dict] = {}
    errors: dict[str, str] = {}
    for group in fields(book):
        entries: dict[tuple, dict] = {}
        for f in group["rows"]:
            text = (form.get(f.name) or "").strip()
            if not text:
                continue
            value, error = _value(text, group["unit"])
            if error:
                errors[f.name] = error
                continue
            spec = book.parameters[group["name"]]
            problem = value_problem(spec.kind, spec.range, value)
            if problem is not None:
                errors[f.name] = f"{problem}（单位：{spec.unit}）"
                continue
            if value == f.current:
                continue
            scope = (f.hukou_county, f.residence)
            entry = entries.setdefault(scope, {"from": since.isoformat(), **(
                {"hukou_county": f.hukou_county} if f.hukou_county else {}), **(
                {"residence": f.residence} if f.residence else {})})
            if f.key is None:
                entry["value"] = value
            else:
                entry.setdefault("value", {r.key: r.current for r in group["rows"]
                                           if (r.hukou_county, r.residence) == scope})[f.key] = value
        for scope, entry in entries.items():     # a payer split's shares add up to 100 %
            if group["unit"] == "分担比例" and isinstance(entry.get("value"), dict) \
                    and abs(sum(entry["value"].values()) - 1) > 1e-9:
                first = next(f.name for f in group["rows"] if (f.hukou_county, f.residence) == scope)
                total = sum(entry["value"].values())
                errors[first] = f"各出资方的比例之和应为 100%，现为 {total:.0%}"
        if entries:
            section[group["name"]] = {"replace": True, "values": _holding(book.parameters[group["name"]].values,
                                                                        entries, since)}
    return section, errors


def _holding(values: list, entries: dict[tuple, dict], since: dt.date) -> list[dict]:
    """The parameter's values with each new entry holding from ``since`` on:
    its scope's values dated on or after it go, and it is repeated on every
    later day some value starts (a later value of a wider scope, e.g. the
    city's, would otherwise win over an earlier one of the county)."""
    kept = [v.model_dump(mode="json", by_alias=True, exclude_none=True) for v in values
            if not ((v.hukou_county, v.residence) in entries and v.from_ >= since)]
    later = sorted({v.from_ for v in values if v.from_ > since})
    return kept + [{**entry, "from": day.isoformat()} for entry in entries.values()
                   for day in [since, *later]]


def reform_text(section: dict, label: str, reason: str) -> str:
    """A reform file (reforms/*.yaml format) of these parameter changes."""
    return yaml.safe_dump({"label": label, "reason": reason, "parameters": section},
                          allow_unicode=True, sort_keys=False)


def describe(section: dict, book) -> str:
    """A short Chinese label of the changes, e.g. 重度残疾人低保补贴比例 改为 0.25."""
    parts = []
    for name, change in section.items():
        old = [v.model_dump(mode="json", by_alias=True, exclude_none=True) for v in book.parameters[name].values]
        values = "、".join(dict.fromkeys(
            str(v["value"]) if not isinstance(v["value"], dict) else
            "，".join(f"{key_zh(k)} {x}" for k, x in v["value"].items())
            for v in change["values"] if v not in old))
        parts.append(f"{book.parameters[name].label_zh} 改为 {values}")
    return "；".join(parts)
