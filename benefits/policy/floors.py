"""The law's floors (法定底线): the minimums and fixed amounts 63号 sets,
kept as data in ``rules/floors/*.yaml`` (each with its clause and quoted
text), checked against a rulebook — the current one or a reformed copy.

A broken floor never stops a run (the office may be drafting a new
document); the check is marked, e.g. "违反 63号 二（一）：补贴标准应高于低保
标准的 20% 以上。（改后 15%，2013-01-01 起）".

Floor file format (see rules/floors/63-floors.yaml)::

    document: 三政办〔2012〕63号
    floors:
      - id: dibao_topup_ratio
        clause: 63号 二（一）
        text: 补贴标准应高于低保标准的 20% 以上。     # verbatim from policy/
        rule: dibao_topup           # the benefit line (or county budget) it governs
        of: ratio                   # ratio | param | table | range | per_capita | payer
        key: null                   # for a mapping (table: thigh, calf …)
        gte: 0.20                   # one of gte, gt, lte, eq, between: [lo, hi],
                                    # shares: {city: 0.5, county: 0.5} (of: payer)
        from: 2013-01-01            # optional: values in force from this day on
        unit: 比例                  # 比例 shows as a percentage
        assumption: …               # how the text is read, shown with the check
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..engine.rulebook import DEFAULT_RULES_DIR, DatedValue, Rule, Rulebook
from .yamlfile import PolicyFileError, explain, parse

FLOORS_DIR = DEFAULT_RULES_DIR / "floors"
OK, VIOLATED, UNCHECKED = "ok", "violated", "unchecked"
STATUS_ZH = {OK: "符合", VIOLATED: "违反", UNCHECKED: "无法核对"}
_OPS = ("gte", "gt", "lte", "eq", "between", "shares")
_SYMBOL = {"gte": "≥", "gt": ">", "lte": "≤", "eq": "="}
_PAYER_ZH = {"city": "市级", "county": "县级", "unspecified": "未指明"}


class Floor(BaseModel):
    """One floor or fixed amount of the law (see the module docstring)."""
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    clause: str = Field(pattern=r"^(63|81)号 ")
    text: str = Field(min_length=4)
    rule: str
    of: Literal["ratio", "param", "table", "range", "per_capita", "payer"]
    key: Optional[str] = None
    gte: Optional[float] = None
    gt: Optional[float] = None
    lte: Optional[float] = None
    eq: Optional[float] = None
    between: Optional[tuple[float, float]] = None
    shares: Optional[dict[Literal["city", "county", "unspecified"], float]] = None
    from_: Optional[dt.date] = Field(None, alias="from")
    unit: str = ""
    assumption: Optional[str] = None
    source_file: str = ""

    @model_validator(mode="after")
    def _one_test(self):
        tests = [op for op in _OPS if getattr(self, op) is not None]
        if len(tests) != 1:
            raise ValueError("a floor has exactly one test of gte, gt, lte, eq, between, shares")
        if (self.of == "payer") != (tests[0] == "shares"):
            raise ValueError("`shares` goes with `of: payer`, and only there")
        return self

    @property
    def op(self) -> str:
        return next(op for op in _OPS if getattr(self, op) is not None)

    def expected_zh(self) -> str:
        """The test as a reader sees it: "≥ 20%", "= 1000 元", "500—1000 元"."""
        op = self.op
        if op == "shares":
            return "、".join(f"{_PAYER_ZH[w]} {_fmt(s, '比例')}" for w, s in self.shares.items())
        if op == "between":
            return f"{_fmt(self.between[0], self.unit)}—{_fmt(self.between[1], self.unit)}"
        return f"{_SYMBOL[op]} {_fmt(getattr(self, op), self.unit)}"

    def holds(self, value) -> bool:
        op = self.op
        if op == "shares":
            shares = {k: v for k, v in (value or {}).items() if v}
            return set(shares) == set(self.shares) and all(abs(shares[k] - v) < 1e-9 for k, v in self.shares.items())
        if op == "between" and isinstance(value, dict):     # a range: both bounds inside
            return bool(value) and all(self.holds(v) for v in value.values())
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        if op == "between":
            return self.between[0] - 1e-9 <= value <= self.between[1] + 1e-9
        bound = getattr(self, op)
        return {"gte": value >= bound - 1e-9, "gt": value > bound + 1e-9, "lte": value <= bound + 1e-9,
                "eq": abs(value - bound) < 1e-9}[op]


@dataclass(frozen=True)
class FloorCheck:
    """One floor tested against one value: each dated value of the
    parameter (each scope: county, 城镇/农村), or the rule's own payer split.
    ``status``: ok / violated / unchecked (the rule no longer has that part,
    or the parameter no value in force); ``message`` says it in Chinese."""
    floor: str
    clause: str
    text: str
    rule: str
    parameter: Optional[str]
    key: Optional[str]
    from_: Optional[dt.date]
    hukou_county: Optional[str]
    residence: Optional[str]
    value: object
    expected: str
    status: str
    message: str
    assumption: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    def as_dict(self) -> dict:
        return {"floor": self.floor, "clause": self.clause, "text": self.text, "rule": self.rule,
                "parameter": self.parameter, "key": self.key,
                "from": self.from_.isoformat() if self.from_ else None, "hukou_county": self.hukou_county,
                "residence": self.residence, "value": self.value, "expected": self.expected,
                "status": self.status, "status_zh": STATUS_ZH[self.status], "message": self.message,
                "assumption": self.assumption}


def _fmt(value, unit: str) -> str:
    if value is None:
        return "（无）"
    if unit == "比例":
        return f"{value * 100:.4g}%"
    text = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip() if unit else text


def load_floors(path: Path | str | None = None) -> list[Floor]:
    """Every floor in a floors file, or in every ``*.yaml`` of a folder
    (default ``rules/floors/``). PolicyFileError with file:line otherwise."""
    path = Path(path) if path is not None else FLOORS_DIR
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    floors: list[Floor] = []
    seen: set[str] = set()
    for file in files:
        data, lines = parse(file.read_bytes(), str(file))
        if not isinstance(data, dict) or not isinstance(data.get("floors"), list):
            raise PolicyFileError(f"{file}:{lines.line()}：底线文件应有 document: 和 floors: 列表")
        for i, spec in enumerate(data["floors"]):
            try:
                floor = Floor.model_validate({**(spec if isinstance(spec, dict) else {}), "source_file": file.name})
            except ValidationError as exc:
                loc, text = explain(exc)[0]
                raise PolicyFileError(f"{file}:{lines.line(('floors', i) + loc)}：底线"
                                      f"{'.'.join(map(str, loc))} {text}") from None
            if floor.id in seen:
                raise PolicyFileError(f"{file}:{lines.line(('floors', i, 'id'))}：底线 {floor.id} 重复")
            seen.add(floor.id)
            floors.append(floor)
    return floors


def _target(rule: Rule, floor: Floor) -> Optional[str]:
    """The parameter the floor reads off the rule's outcome (None: the rule
    no longer has that part; "" for a payer split written in the rule)."""
    outcome = rule.outcome
    if outcome is None:
        return None
    if floor.of == "payer":
        if outcome.payer is None:
            return None
        return outcome.payer.param or ""
    return getattr(outcome.amount, floor.of)


def _in_force(values: list[DatedValue], since: Optional[dt.date]) -> list[DatedValue]:
    """Dated values in force at some time on or after ``since``: a value
    replaced, for its scope, on or before that day is not tested."""
    if since is None:
        return list(values)
    out = []
    for v in values:
        scope = (v.hukou_county, v.residence)
        replaced = any((w.hukou_county, w.residence) == scope and v.from_ < w.from_ <= since for w in values)
        if not replaced:
            out.append(v)
    return out


def check_floors(rulebook: Rulebook, floors: Optional[list[Floor]] = None) -> list[FloorCheck]:
    """Every floor against the rulebook: one FloorCheck per dated value
    tested (or per rule payer split). Never raises for a broken floor."""
    floors = load_floors() if floors is None else floors
    word = "改后" if rulebook.reform is not None else "现为"
    out: list[FloorCheck] = []
    for floor in floors:
        base = dict(floor=floor.id, clause=floor.clause, text=floor.text, rule=floor.rule, key=floor.key,
                    expected=floor.expected_zh(), assumption=floor.assumption)
        head = f"{floor.clause}：{floor.text}"
        rule = rulebook.by_id.get(floor.rule)
        if rule is None:
            out.append(FloorCheck(**base, parameter=None, from_=None, hukou_county=None, residence=None, value=None,
                                  status=VIOLATED, message=f"违反 {head}（{word}已无规则 {floor.rule}）"))
            continue
        name = _target(rule, floor)
        if name is None:
            out.append(FloorCheck(**base, parameter=None, from_=None, hukou_county=None, residence=None, value=None,
                                  status=UNCHECKED, message=f"无法核对 {head}（规则 {rule.id} 的金额或出资方"
                                                           f"不再按“{floor.of}”计算，请人工核对）"))
            continue
        if name == "":      # a payer split written in the rule itself
            payer = rule.outcome.payer
            value = {w: getattr(payer, w) for w in _PAYER_ZH if getattr(payer, w)}
            out.append(_check(floor, base, head, word, None, None, value))
            continue
        spec = rulebook.parameters[name]
        for entry in _in_force(spec.values, floor.from_):
            value = entry.value
            if floor.key is not None:
                value = value.get(floor.key) if isinstance(value, dict) else None
            out.append(_check(floor, base, head, word, spec.name, entry, value))
    return out


def _check(floor: Floor, base: dict, head: str, word: str, parameter: Optional[str], entry: Optional[DatedValue],
           value) -> FloorCheck:
    scope = []
    if entry is not None:
        scope.append(f"{entry.from_.isoformat()} 起")
        if entry.hukou_county:
            scope.append(entry.hukou_county)
        if entry.residence:
            scope.append({"urban": "城镇", "rural": "农村"}[entry.residence])
    if value is None:
        status, shown = UNCHECKED, "（无值）"
    else:
        status = OK if floor.holds(value) else VIOLATED
        if floor.op == "shares":
            shown = "、".join(f"{_PAYER_ZH.get(w, w)} {_fmt(s, '比例')}" for w, s in value.items())
        elif isinstance(value, dict):
            shown = "—".join(_fmt(v, "") for v in value.values()) + f" {floor.unit}".rstrip()
        else:
            shown = _fmt(value, floor.unit)
    where = "，".join([f"{word} {shown}"] + scope)
    prefix = {OK: "符合", VIOLATED: "违反", UNCHECKED: "无法核对"}[status]
    return FloorCheck(**base, parameter=parameter, from_=entry.from_ if entry else None,
                      hukou_county=entry.hukou_county if entry else None,
                      residence=entry.residence if entry else None, value=value, status=status,
                      message=f"{prefix} {head}（{where}）")


def violations(checks: list[FloorCheck]) -> list[FloorCheck]:
    """The checks that are not met (违反 or 无法核对)."""
    return [c for c in checks if not c.ok]
