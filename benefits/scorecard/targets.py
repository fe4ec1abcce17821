"""81号's county targets (县区工作目标) as loaded from rules/targets/*.yaml:
indicators a county reports, and targets that test them. Validated on load;
an error names the file, the entry and the field."""
from __future__ import annotations

import datetime as dt
import hashlib
from fractions import Fraction
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..engine.rulebook import DEFAULT_RULES_DIR
from ..engine.yamlfile import parse as parse_yaml

DEFAULT_TARGETS_DIR = DEFAULT_RULES_DIR / "targets"
# fictional county figures with blanks, for the demo page and the docs
DEMO_INDICATORS = DEFAULT_RULES_DIR.parent / "fixtures" / "scorecard-demo.csv"
CITY = "411200"          # 三门峡市: the row a city-scope target is judged on


class TargetsError(ValueError):
    """A target file that cannot be used; says where and why."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Indicator(_Spec):
    id: str
    label_zh: str
    unit: str
    clause: str
    kind: Literal["count", "number", "flag"] = "count"
    positive: bool = False                 # 0 is not a possible value (a denominator)
    part_of: list[str] = Field(default_factory=list)   # value ≤ the sum of these


def _fraction(value) -> Optional[Fraction]:
    if value is None:
        return None
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"not a number or fraction: {value!r}") from None


class Condition(_Spec):
    label_zh: str
    unit: str = ""
    at_least: Optional[Fraction] = None
    value: Optional[str] = None
    part: Optional[str] = None
    whole: list[str] = Field(default_factory=list)
    per: int = 1
    counties_with: Optional[str] = None
    flag: Optional[str] = None             # a 是/否 indicator that must be 是

    _at_least = field_validator("at_least", mode="before")(_fraction)

    @model_validator(mode="after")
    def _shape(self):
        shapes = [self.value is not None, self.part is not None, self.counties_with is not None,
                  self.flag is not None]
        if sum(shapes) != 1:
            raise ValueError("a condition has exactly one of `value`, `part` (with `whole`), `counties_with` "
                             "or `flag`")
        if (self.part is not None) != bool(self.whole):
            raise ValueError("`part` and `whole` go together")
        if (self.flag is None) != (self.at_least is not None):
            raise ValueError("`at_least` is needed, except by a `flag` condition (which holds on 是)")
        return self

    @property
    def indicators(self) -> list[str]:
        return [n for n in (self.value, self.part, self.counties_with, self.flag) if n] + self.whole

    def threshold_zh(self) -> str:
        if self.flag:
            return "为“是”"
        return f"≥ {shown(self.at_least)}{self.unit}"


class Target(_Spec):
    id: str
    label_zh: str
    clause: str = Field(pattern=r"^81号 第\d+条$")
    text: str
    deadline: Optional[dt.date]
    deadline_text: Optional[str] = None
    # county: each county; city: the 全市 row only; districts: each 市辖区 (as on the evaluation day)
    scope: Literal["county", "city", "districts"] = "county"
    assumptions: list[str] = Field(default_factory=list)
    all: list[Condition] = Field(min_length=1)

    @model_validator(mode="after")
    def _deadline(self):
        if (self.deadline is None) != (self.deadline_text is None):
            raise ValueError("`deadline` and `deadline_text` go together (null when the text sets none)")
        city = [c.counties_with is not None for c in self.all]
        if any(city) and (self.scope != "city" or not all(city)):
            raise ValueError("`counties_with` is for scope: city only, and the other way round")
        return self


class Targets(BaseModel):
    model_config = ConfigDict(frozen=True)
    document: str
    indicators: dict[str, Indicator]
    assumptions: dict[str, str]
    targets: list[Target]
    version: str

    def assumption_texts(self, target: Target) -> list[str]:
        return [self.assumptions[name] for name in target.assumptions]


def shown(value: Fraction | int | float) -> str:
    """A number for people: at most two decimals, cut (not rounded) so that
    29.996 beds never shows as the 30 it falls short of."""
    value = Fraction(value)
    whole = Fraction(int(value * 100), 100) if value >= 0 else -Fraction(int(-value * 100), 100)
    text = f"{float(whole):.2f}".rstrip("0").rstrip(".")
    return text + ("…" if whole != value else "")


def targets_dir(rules_dir: Path | str | None) -> Path:
    """The targets folder of a rules folder (as --rules and BENEFITS_RULES name it)."""
    return Path(rules_dir) / "targets" if rules_dir else DEFAULT_TARGETS_DIR


def load_targets(directory: Path | str | None = None) -> Targets:
    directory = Path(directory or DEFAULT_TARGETS_DIR)
    paths = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    if not paths:
        raise TargetsError(f"{directory}：没有县区目标文件（*.yaml）")
    digest = hashlib.sha256()
    document, indicators, assumptions, targets = None, {}, {}, []
    for path in paths:
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw)
        data, _ = parse_yaml(raw, str(path), TargetsError)
        if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
            raise TargetsError(f"{path}: expected `indicators:`, `assumptions:` and a list under `targets:`")
        document = document or data.get("document")
        for name, spec in (data.get("indicators") or {}).items():
            if name in indicators:
                raise TargetsError(f"{path}: indicator {name}: defined twice")
            indicators[name] = _valid(Indicator, {**(spec or {}), "id": name}, path, f"indicator {name}")
        assumptions.update(data.get("assumptions") or {})
        for index, spec in enumerate(data["targets"]):
            name = spec.get("id", f"#{index}") if isinstance(spec, dict) else f"#{index}"
            targets.append(_valid(Target, spec, path, f"target {name}"))
    _cross_check(indicators, assumptions, targets, directory)
    return Targets(document=document or "", indicators=indicators, assumptions=assumptions,
                   targets=targets, version=digest.hexdigest()[:12])


def _valid(model, spec, path, where):
    try:
        return model.model_validate(spec)
    except (ValidationError, TypeError) as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()) \
            if isinstance(exc, ValidationError) else "entry is not a mapping"
        raise TargetsError(f"{path}: {where}: {detail}") from None


def _cross_check(indicators, assumptions, targets, where) -> None:
    seen = set()
    for target in targets:
        if target.id in seen:
            raise TargetsError(f"{where}: target {target.id}: defined twice")
        seen.add(target.id)
        for name in target.assumptions:
            if name not in assumptions:
                raise TargetsError(f"{where}: target {target.id}: unknown assumption {name}")
        for condition in target.all:
            for name in condition.indicators:
                if name not in indicators:
                    raise TargetsError(f"{where}: target {target.id}: unknown indicator {name}")
            flags = [n for n in (condition.counties_with, condition.flag) if n]
            if any(indicators[n].kind != "flag" for n in flags):
                raise TargetsError(f"{where}: target {target.id}: counties_with and flag need a 是/否 indicator")
            if any(indicators[n].kind == "flag" for n in condition.indicators if n not in flags):
                raise TargetsError(f"{where}: target {target.id}: a 是/否 indicator is tested with `flag`")
    for indicator in indicators.values():
        for name in indicator.part_of:
            if name not in indicators:
                raise TargetsError(f"{where}: indicator {indicator.id}: part_of unknown indicator {name}")
