"""Loading the rulebook: rule files and the parameter tree under ``rules/``.

Both are validated on load; an error names the file, the entry and the field.
The rulebook version is a hash of every file read, so a determination can
say which text of the rules produced it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Mapping, Optional, Union

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError,
                      model_validator)
from pydantic_core import PydanticCustomError

from .facts import FACTS
from .vocabulary import PAYERS
from .yamlfile import MAX_BYTES, parse as parse_yaml

DEFAULT_RULES_DIR = Path(__file__).resolve().parents[2] / "rules"

# What a rulebook may hold (规则集规模上限), checked before it is compiled or
# run, so that a reform or a rules folder cannot make durable_rules spin
# (an `in:` of ~520 values never returned from create_ruleset, nor 8 sets of
# 64 in one rule), overflow it
# (3,000 conditions: "error code: 108"; 15 `in:` tests in one rule: 113) or
# make a comparison evaluate the caseload on hundreds of days. docs/policy.md
# lists them; tests/test_reform_bounds.py compiles a rule at every limit.
MAX_RULES = 300
"""Rules (derived concepts and benefit lines) in a rulebook (90 are shipped)."""
MAX_CONDITIONS = 48
"""Conditions of one rule (the most a shipped rule has is 8)."""
MAX_SET_TESTS = 8
"""`in:` conditions of one rule (shipped: 2)."""
MAX_SET_MEMBERS = 64
"""Values of one `in:` set (shipped: 6)."""
MAX_RULE_SET_MEMBERS = 256
"""Values of all the `in:` sets of one rule (shipped: 8): a rule's failing side
tests each value apart, in one conjunction; 512 there never returned."""
MAX_PARAMETERS = 200
"""Parameters in a rulebook (16 are shipped)."""
MAX_PARAMETER_VALUES = 120
"""Dated values of one parameter, over all its scopes (shipped: 7)."""
MAX_CHANGE_DAYS = 36
"""Distinct days on which some parameter value starts (shipped: 7): each is a
day on which a caseload is evaluated again."""

CONDITION_CEILING = 1_000_000_000_000
"""The largest number a condition may test against (money is at most 10,000,000)."""

Scalar = Union[bool, int, float, str]
Period = Literal["monthly", "yearly", "one_off", "ongoing"]


class RulebookError(ValueError):
    """A rule or parameter file that cannot be used; says where and why."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamRef(_Spec):
    param: str


class Condition(_Spec):
    """One test: a fact against a value or parameter, a derived concept, or
    another benefit's finding (``benefit``: holds when that benefit is
    eligible, fails when ineligible, unknown when undetermined).

    ``upon`` names a prospective condition (e.g. 依纳入低保): a rule that
    holds only through it holds "upon" that event, and says so."""
    fact: Optional[str] = None
    derived: Optional[str] = None
    benefit: Optional[str] = None
    upon: Optional[str] = Field(None, min_length=2)
    eq: Optional[Union[Scalar, ParamRef]] = None
    ne: Optional[Scalar] = None
    lt: Optional[Union[float, ParamRef]] = None
    lte: Optional[Union[float, ParamRef]] = None
    gt: Optional[Union[float, ParamRef]] = None
    gte: Optional[Union[float, ParamRef]] = None
    in_: Optional[list[Scalar]] = Field(None, alias="in", min_length=1)

    @model_validator(mode="after")
    def _shape(self):
        tests = [k for k in ("eq", "ne", "lt", "lte", "gt", "gte", "in_") if getattr(self, k) is not None]
        if self.derived is not None and self.benefit is not None:
            raise ValueError("a condition names one of `derived` or `benefit`, not both")
        if self.ref is not None:
            if self.fact is not None or tests:
                raise ValueError("a derived or benefit condition takes no fact and no test")
        elif self.fact is None:
            raise ValueError("a condition needs `fact` or `derived`")
        elif len(tests) != 1:
            raise ValueError("a fact condition needs exactly one test of eq, ne, lt, lte, gt, gte, in")
        elif self.fact not in FACTS:
            raise ValueError(f"unknown fact {self.fact!r}; known: {', '.join(sorted(FACTS))}")
        for value in self.value if self.op == "in" else [self.value]:
            if isinstance(value, float) and not math.isfinite(value):
                raise PydanticCustomError("benefits", f"条件的值应为有限的数，不能是 {value!r}")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > CONDITION_CEILING:
                # durable_rules cannot read 1e308 back ("error code: 204"); no fact comes near
                raise PydanticCustomError("benefits", f"条件的值 {value:g} 超出范围（绝对值不超过 "
                                                      f"{CONDITION_CEILING:,}）")
        if self.op == "in" and len(self.value) > MAX_SET_MEMBERS:
            raise PydanticCustomError("benefits", f"in: 集合有 {len(self.value)} 个值，超过上限 {MAX_SET_MEMBERS} 个"
                                                  f"（每个集合的值数）")
        return self

    @property
    def ref(self) -> Optional[str]:
        """The rule whose finding this condition tests (derived or benefit)."""
        return self.derived if self.derived is not None else self.benefit

    @property
    def op(self) -> Optional[str]:
        """The test's name (None for a derived condition)."""
        return next((k.rstrip("_") for k in ("eq", "ne", "lt", "lte", "gt", "gte", "in_")
                     if getattr(self, k) is not None), None)

    @property
    def value(self):
        op = self.op
        return None if op is None else getattr(self, "in_" if op == "in" else op)


class Amount(_Spec):
    """How much: exactly one of the forms below."""
    param: Optional[str] = None                   # the parameter's value
    table: Optional[str] = None                   # parameter mapping, keyed by key_fact
    key_fact: Optional[str] = None
    share_of: Optional[str] = None                # share_of × ratio
    ratio: Optional[str] = None
    difference: Optional[str] = None              # parameter − minus_fact
    minus_fact: Optional[str] = None
    range: Optional[str] = None                   # parameter {min, max}
    per_capita: Optional[str] = None              # per_capita × population (county budgets)
    population: Optional[str] = None
    in_kind: Optional[bool] = None                # a service, no money
    observances: Optional[bool] = None            # days off (五（三）)
    unstated: Optional[bool] = None               # the text gives no amount
    priority: Optional[bool] = None               # 优先: precedence in a service, no money of its own
    at_least: bool = False                        # the text sets a floor (不低于/以上)
    times_fact: Optional[str] = None              # × an integer fact (limbs: 每例; persons: 低保 per household)

    @model_validator(mode="after")
    def _one_form(self):
        forms = [k for k in ("param", "table", "share_of", "difference", "range", "per_capita",
                             "in_kind", "observances", "unstated", "priority") if getattr(self, k) is not None]
        if len(forms) != 1:
            raise ValueError("an amount has exactly one of param, table, share_of, difference, range, "
                             "per_capita, in_kind, observances, unstated, priority")
        pairs = {"table": "key_fact", "share_of": "ratio", "difference": "minus_fact", "per_capita": "population"}
        if forms[0] in pairs and getattr(self, pairs[forms[0]]) is None:
            raise ValueError(f"`{forms[0]}` needs `{pairs[forms[0]]}`")
        for fact in (self.key_fact, self.minus_fact, self.times_fact):
            if fact is not None and fact not in FACTS:
                raise ValueError(f"unknown fact {fact!r}")
        if self.times_fact is not None and (FACTS[self.times_fact].type is not int
                                            or forms[0] not in ("param", "table", "difference")):
            raise ValueError("`times_fact` takes an integer fact and a `param`, `table` or `difference` amount")
        return self

    @property
    def form(self) -> str:
        return next(k for k in ("param", "table", "share_of", "difference", "range", "per_capita",
                                "in_kind", "observances", "unstated", "priority") if getattr(self, k) is not None)

    def parameters(self) -> list[str]:
        return [p for p in (self.param, self.table, self.share_of, self.ratio, self.difference,
                            self.range, self.per_capita, self.population) if p is not None]


class Payer(_Spec):
    city: float = Field(0, ge=0, le=1)
    county: float = Field(0, ge=0, le=1)
    unspecified: float = Field(0, ge=0, le=1)
    param: Optional[str] = None

    @model_validator(mode="after")
    def _sums_to_one(self):
        if self.param is None and abs(self.city + self.county + self.unspecified - 1) > 1e-9:
            raise ValueError("payer shares city + county + unspecified must add up to 1")
        return self


class Outcome(_Spec):
    amount: Amount
    period: Period
    # whom the amount is paid to: the person, or the household as a whole
    # (低保: 补差 × 共同生活人数)
    payee: Literal["person", "household"] = "person"
    # a yearly amount paid over the year (a living standard, 元/人·年): a
    # budget year with fewer months eligible (e.g. 2012, in force from
    # November) counts their share; false: paid whole once a year
    prorate: bool = False
    payer: Optional[Payer] = None
    # Another benefit line paying for the same need: a person gets one of
    # them, so only the larger counts in totals.
    same_payment_as: Optional[str] = None


class Rule(_Spec):
    """One entry of a rule file: a clause of the law, in its own words."""
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["derived", "benefit", "county_budget"]
    label_zh: str
    label_en: str
    clause: str = Field(pattern=r"^(63|81)号 ")
    text: str = Field(min_length=4)
    all: Optional[list[Condition]] = Field(None, min_length=1)
    any: Optional[list[Condition]] = Field(None, min_length=1)
    outcome: Optional[Outcome] = None
    notes: Optional[str] = None
    assumption: Optional[str] = None
    # what the text only promises to build (逐步建立), worded as the condition
    # not yet met: the line is 不符合 with this one reason until the rule says
    # otherwise (81号 第3条 困境儿童分类保障机制)
    pending: Optional[str] = None
    source_file: str = ""

    @model_validator(mode="after")
    def _shape(self):
        if self.kind == "county_budget":
            if self.all or self.any or self.outcome is None:
                raise ValueError("a county_budget has an outcome and no conditions")
            return self
        if (self.all is None) == (self.any is None):
            raise ValueError("a rule has exactly one of `all` or `any`")
        if (self.kind == "benefit") != (self.outcome is not None):
            raise ValueError("a benefit has an outcome; a derived concept has none")
        return self

    @property
    def document(self) -> str:
        """The document the rule applies: 63号 or 81号 (its clause's prefix)."""
        return self.clause.split(" ", 1)[0]

    @property
    def mode(self) -> str:
        return "all" if self.all is not None else "any"

    @property
    def conditions(self) -> list[Condition]:
        return self.all if self.all is not None else self.any


PARAMETER_DAYS = (dt.date(2012, 1, 1), dt.date(2100, 12, 31))
"""The days a parameter value may start on, and a document take effect
(参数日期窗口): 0001-01-01 or 9999-12-31 is a typing slip, not a policy."""
MONEY_CEILING = 10_000_000
"""The largest money range a parameter may declare (元, as a record's money)."""
COUNT_CEILING = 1_000_000_000
"""The largest count range a parameter may declare (persons, years)."""
KINDS = {"money": "金额", "ratio": "比例", "count": "计数", "shares": "分担比例"}
"""What a parameter's numbers are (参数类别): money ≥ 0 (元); a ratio 0–1; a
count, a whole number ≥ 0 (persons, 周岁); shares, a payer split whose
shares (0–1) add up to 1."""

Number = Union[StrictInt, StrictFloat]
"""A number as YAML writes it: ``true`` is not 1."""


def _in_window(day: dt.date) -> dt.date:
    first, last = PARAMETER_DAYS
    if not first <= day <= last:
        raise PydanticCustomError("benefits", f"日期 {day.isoformat()} 不在 {first.isoformat()} 至 "
                                              f"{last.isoformat()} 之间")
    return day


Day = Annotated[dt.date, AfterValidator(_in_window)]


class DatedValue(_Spec):
    from_: Day = Field(alias="from")
    value: Union[Number, dict[str, Number]]
    hukou_county: Optional[str] = None
    residence: Optional[Literal["urban", "rural"]] = None

    @model_validator(mode="after")
    def _finite(self):
        for number in self.value.values() if isinstance(self.value, dict) else [self.value]:
            if not math.isfinite(number):
                raise PydanticCustomError("benefits", f"参数值应为有限的数，不能是 {number!r}")
        return self


def value_problem(kind: Optional[str], bounds: Optional[tuple], value) -> Optional[str]:
    """Why ``value`` (a number, or a mapping of numbers) is not a value of a
    parameter of this kind and range, in Chinese; None when it is. Without a
    kind (a kept version's parameter), only that it is a finite number."""
    numbers = list(value.values()) if isinstance(value, dict) else [value]
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            return f"应为数字，不是 {number!r}"
        if not math.isfinite(number):
            return f"应为有限的数，不是 {number!r}"
        if kind is None:
            continue
        if kind == "count" and number != int(number):
            return f"应为整数，不是 {number!r}"
        low, high = bounds
        if not low <= number <= high:
            shown = f"{number:,.6g}" if isinstance(number, float) else f"{number:,}"
            hint = f"（{shown}% 写作 {number / 100:g}）" if kind == "ratio" and 1 < number <= 100 else ""
            return f"{shown} 超出{KINDS[kind]}范围 {low:g}—{high:g}{hint}"
    return None


class InForce(_Spec):
    """When a document takes effect (施行), with where that date comes from.
    Before it its lines are 不符合 "尚未施行"; its dated events before it are
    not covered (``assumption``: the text has no commencement clause). Each
    document's rule files may set it once."""
    from_: Day = Field(alias="from")
    source: str = Field(min_length=4)
    assumption: str = Field(min_length=4)


class Parameter(_Spec):
    """A dated, possibly per-county value with its source and verified flag."""
    name: str = ""
    source_file: str = ""
    label_zh: str
    label_en: str
    unit: str
    # what its numbers are and the range they must lie in (both declared in
    # the parameter file): KINDS; money within 0..MONEY_CEILING, a ratio or
    # shares within 0..1, a count within 0..COUNT_CEILING. A rules folder
    # must declare them (load_rulebook); the files of a rulebook version kept
    # before they existed still load (replay), their values checked as finite
    kind: Optional[Literal["money", "ratio", "count", "shares"]] = None
    range: Optional[tuple[Number, Number]] = None
    by: list[Literal["hukou_county", "residence"]]
    verified: bool
    source: str
    values: list[DatedValue] = Field(min_length=1)

    @model_validator(mode="after")
    def _in_range(self):
        if (self.kind is None) != (self.range is None):
            raise PydanticCustomError("benefits", "kind 和 range 要一起写")
        if self.kind is None:
            return self
        low, high = self.range
        ceiling = {"money": MONEY_CEILING, "count": COUNT_CEILING}.get(self.kind, 1)
        if not 0 <= low <= high <= ceiling:
            raise PydanticCustomError("benefits", f"range 应为 [下限, 上限]，在 0 至 {ceiling:,} 之间"
                                                  f"（{KINDS[self.kind]}）")
        for entry in self.values:
            problem = value_problem(self.kind, self.range, entry.value)
            if problem is not None:
                raise PydanticCustomError("benefits", f"{entry.from_.isoformat()} 起的值：{problem}")
        return self

    def resolve(self, day: dt.date, facts: dict):
        """The value in force on ``day`` for these facts; None if unknown."""
        if any(dim not in facts for dim in self.by):
            return None
        best, best_key = None, None
        for entry in self.values:
            if entry.from_ > day:
                continue
            specific = 0
            for dim in ("hukou_county", "residence"):
                wanted = getattr(entry, dim)
                if wanted is not None:
                    if facts.get(dim) != wanted:
                        break
                    specific += 1
            else:
                key = (entry.from_, specific)
                if best_key is None or key > best_key:
                    best, best_key = entry.value, key
        return best


DOCUMENTS = ("63号", "81号")
"""The documents a rule may cite, in the order determinations group their lines."""


class Rulebook:
    """Every rule and parameter, validated and cross-checked."""

    def __init__(self, rules: list[Rule], parameters: dict[str, Parameter], version: str, directory: Path,
                 in_force: Optional[dict[str, InForce]] = None, documents: Optional[dict[str, str]] = None,
                 files: Optional[dict[str, bytes]] = None):
        self.rules = rules
        # each rule file's `document:` heading (e.g. 三政办〔2012〕63号 四、教育培训救助), by file name
        self.documents = documents or {}
        # exactly the bytes the version hashes (kept with saved determinations)
        self.files = files or {}
        # per document (63号, 81号), its in-force day
        self.in_force_of: dict[str, InForce] = dict(in_force or {})
        self.by_id = {r.id: r for r in rules}
        self.parameters = parameters
        self.version = version
        self.directory = directory
        # set by benefits.policy.apply_reform on a reformed copy: the Reform
        # that made it and what each change did (None / [] for rule files)
        self.reform = None
        self.changes: list[dict] = []

    @property
    def in_force(self) -> Optional[InForce]:
        """The first document's in-force day: before it no rule applies."""
        return min(self.in_force_of.values(), key=lambda f: f.from_, default=None)

    def event_days(self, events_from: Optional[dt.date] = None) -> dict[str, dt.date]:
        """Per document, the first day its dated events count from: its
        in-force day, or ``events_from`` where later (a budget year's first)."""
        return {doc: f.from_ if events_from is None else max(f.from_, events_from)
                for doc, f in self.in_force_of.items()}

    # a Rulebook is not changed once assembled (a reform assembles a new one):
    # what every determination reads is computed once
    @cached_property
    def derived(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "derived"]

    @cached_property
    def benefits(self) -> list[Rule]:
        """Benefit lines grouped by document (63号, then 81号), each group in rule order."""
        lines = [r for r in self.rules if r.kind == "benefit"]
        return sorted(lines, key=lambda r: DOCUMENTS.index(r.document))

    @cached_property
    def condition_parts(self) -> dict[str, tuple[tuple[Optional[str], Optional[str], Optional[str]], ...]]:
        """Per rule, each condition as (ref, fact, param): the rule it tests,
        or the fact and the parameter it compares against (None for a fixed
        value). Read on every evaluation, so computed once."""
        return {r.id: tuple((c.ref, c.fact, c.value.param if isinstance(c.value, ParamRef) else None)
                            for c in r.conditions or []) for r in self.rules}

    @cached_property
    def rules_of(self) -> dict[str, frozenset[str]]:
        """The rule ids of each document."""
        out: dict[str, set[str]] = {}
        for rule in self.rules:
            out.setdefault(rule.document, set()).add(rule.id)
        return {doc: frozenset(ids) for doc, ids in out.items()}

    def not_applying(self, day: dt.date) -> frozenset[str]:
        """Rules that do not apply on ``day``: those of a document not yet in
        force, and pending ones (marks.rule_not_in_force gives the reason)."""
        out = {r.id for r in self.rules if r.pending}
        for doc, in_force in self.in_force_of.items():
            if day < in_force.from_:
                out |= self.rules_of.get(doc, frozenset())
        return frozenset(out)

    @property
    def county_budgets(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "county_budget"]


def _where(exc: ValidationError) -> str:
    return "; ".join(": ".join(filter(None, ('.'.join(str(p) for p in e['loc']), e['msg']))) for e in exc.errors())


def _parse_yaml(path: Path, raw: bytes) -> object:
    """A rule or parameter file through the project's one YAML loader."""
    return parse_yaml(raw, str(path), RulebookError)[0]


PARAMETERS_DIR = "parameters/"
MAX_RULE_FILES = 100
"""Rule and parameter files in one rules directory (17 are shipped)."""


def read_rule_files(directory: Path | str | None = None) -> dict[str, bytes]:
    """Every file the rulebook version covers (规则文件), by path relative to
    the rules directory, in the order they are hashed: parameters/*.yaml, then *.yaml."""
    directory = Path(directory or DEFAULT_RULES_DIR)
    if not directory.is_dir():
        raise RulebookError(f"{directory}: rules directory not found")
    paths = [(PARAMETERS_DIR + p.name, p) for p in sorted((directory / "parameters").glob("*.yaml"))]
    paths += [(p.name, p) for p in sorted(directory.glob("*.yaml"))]
    if len(paths) > MAX_RULE_FILES:
        raise RulebookError(f"{directory}：规则文件过多（{len(paths)} 个，上限 {MAX_RULE_FILES} 个）")
    files = {}
    for name, path in paths:
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:    # not read at all (parse says the same of bytes given to it)
                raise RulebookError(f"{path}:1：文件过大（{size:,} 字节，上限 {MAX_BYTES:,} 字节），未读取")
            files[name] = path.read_bytes()
        except OSError as exc:
            raise RulebookError(f"{path}:1：无法读取规则文件（{exc.strerror}）") from None
    return files


def _hash_order(files: Mapping[str, bytes]) -> list[str]:
    """The paths in hashing order; a path that no rules directory could hold is refused."""
    for name in files:
        base = name[len(PARAMETERS_DIR):] if name.startswith(PARAMETERS_DIR) else name
        if not base.endswith(".yaml") or "/" in base or "\\" in base or base in (".yaml", "..yaml"):
            raise RulebookError(f"{name}：不是规则目录中的文件名（应为 *.yaml 或 parameters/*.yaml）")
    return (sorted(n for n in files if n.startswith(PARAMETERS_DIR))
            + sorted(n for n in files if not n.startswith(PARAMETERS_DIR)))


def rulebook_version(files: Mapping[str, bytes]) -> str:
    """The rulebook version (规则版本): a hash of every file's name and bytes."""
    digest = hashlib.sha256()
    for name in _hash_order(files):
        digest.update(name.rsplit("/", 1)[-1].encode() + b"\0" + files[name])
    return digest.hexdigest()[:12]


def load_rulebook(directory: Path | str | None = None) -> Rulebook:
    """The rulebook of a rules folder; each of its parameters declares its kind and range."""
    directory = Path(directory or DEFAULT_RULES_DIR)
    book = rulebook_from_files(read_rule_files(directory), directory)
    for spec in book.parameters.values():
        if spec.kind is None:
            raise RulebookError(f"{directory / PARAMETERS_DIR / spec.source_file}: parameter {spec.name}："
                                f"缺少 kind 和 range（参数类别与取值范围，见 docs/policy.md）")
    return book


def rulebook_from_files(files: Mapping[str, bytes], directory: Path | str) -> Rulebook:
    """The rulebook of these files (as read_rule_files gives them); ``directory``
    only names where they came from in error messages."""
    directory = Path(directory)
    order = _hash_order(files)
    parameters: dict[str, Parameter] = {}
    for name in (n for n in order if n.startswith(PARAMETERS_DIR)):
        path = directory / name
        data = _parse_yaml(path, files[name])
        if not isinstance(data, dict):
            raise RulebookError(f"{path}: expected a mapping of parameter names")
        for pname, spec in data.items():
            if pname in parameters:
                raise RulebookError(f"{path}: parameter {pname}: defined twice")
            try:
                parameters[pname] = Parameter.model_validate({**(spec or {}), "name": pname,
                                                              "source_file": path.name})
            except ValidationError as exc:
                raise RulebookError(f"{path}: parameter {pname}: {_where(exc)}") from None

    rules: list[Rule] = []
    documents: dict[str, str] = {}
    in_force: dict[str, InForce] = {}
    for name in (n for n in order if not n.startswith(PARAMETERS_DIR)):
        path = directory / name
        data = _parse_yaml(path, files[name])
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            raise RulebookError(f"{path}: expected `document:` and a list under `rules:`")
        if isinstance(data.get("document"), str):
            documents[path.name] = data["document"]
        file_rules: list[Rule] = []
        for index, spec in enumerate(data["rules"]):
            rule_id = spec.get("id", f"#{index}") if isinstance(spec, dict) else f"#{index}"
            try:
                file_rules.append(Rule.model_validate({**spec, "source_file": path.name}))
            except (ValidationError, TypeError) as exc:
                detail = _where(exc) if isinstance(exc, ValidationError) else "entry is not a mapping"
                raise RulebookError(f"{path}: rule {rule_id}: {detail}") from None
        rules += file_rules
        if "in_force" in data:
            document = {r.document for r in file_rules}
            if len(document) != 1:
                raise RulebookError(f"{path}: in_force: the file's rules must cite one document")
            document = document.pop()
            if document in in_force:
                raise RulebookError(f"{path}: in_force: set for {document} in more than one rule file")
            try:
                in_force[document] = InForce.model_validate(data["in_force"])
            except ValidationError as exc:
                raise RulebookError(f"{path}: in_force: {_where(exc)}") from None
    if not rules:
        # an empty folder would determine nothing and cost nothing, silently
        raise RulebookError(f"{directory}：目录中没有规则文件（*.yaml，含 rules: 列表）")
    return assemble(rules, parameters, rulebook_version(files), directory, in_force,
                    documents, {n: files[n] for n in order})


def assemble(rules: list[Rule], parameters: dict[str, Parameter], version: str, directory: Path,
             in_force: Optional[dict[str, InForce]] = None, documents: Optional[dict[str, str]] = None,
             files: Optional[dict[str, bytes]] = None) -> Rulebook:
    """A Rulebook from validated rules and parameters: cross-checked and put
    in dependency order, exactly as rule files are (reforms build on this)."""
    _check_size(rules, parameters)
    _cross_check(rules, parameters)
    ordered = _dependency_order(rules)
    _check_amount_facts(ordered)
    return Rulebook(ordered, parameters, version, directory, in_force, documents, files)


def _check_size(rules: list[Rule], parameters: dict[str, Parameter]) -> None:
    """The limits above, each error naming the limit it breaks (超过规模上限)."""
    def refuse(where: str, what: str, count: int, limit: int):
        raise RulebookError(f"{where}：{what} {count:,} 个，超过上限 {limit:,} 个（规则集规模上限，见 docs/policy.md）")
    if len(rules) > MAX_RULES:
        refuse("规则集", "规则", len(rules), MAX_RULES)
    if len(parameters) > MAX_PARAMETERS:
        refuse("规则集", "参数", len(parameters), MAX_PARAMETERS)
    for rule in rules:
        conditions = rule.conditions or []
        where = f"{rule.source_file}: rule {rule.id}"
        if len(conditions) > MAX_CONDITIONS:
            refuse(where, "条件", len(conditions), MAX_CONDITIONS)
        sets = sum(1 for c in conditions if c.op == "in")
        if sets > MAX_SET_TESTS:
            refuse(where, "in: 条件", sets, MAX_SET_TESTS)
        members = sum(len(c.value) for c in conditions if c.op == "in")
        if members > MAX_RULE_SET_MEMBERS:
            refuse(where, "in: 集合的值共", members, MAX_RULE_SET_MEMBERS)
    for spec in parameters.values():
        if len(spec.values) > MAX_PARAMETER_VALUES:
            refuse(f"{spec.source_file}: parameter {spec.name}", "带日期的值", len(spec.values), MAX_PARAMETER_VALUES)
    days = {v.from_ for spec in parameters.values() for v in spec.values}
    if len(days) > MAX_CHANGE_DAYS:
        refuse("规则集", "参数值的起始日期（不同的日子）", len(days), MAX_CHANGE_DAYS)


def _sources(fact: str) -> frozenset[str]:
    spec = FACTS[fact]
    return frozenset(spec.inputs or (spec.field,))


def _check_amount_facts(ordered: list[Rule]) -> None:
    """Every fact a line's amount reads (金额所用事实: ``key_fact``,
    ``minus_fact``, ``times_fact``) is known whenever the line holds: its
    conditions test it, or a fact computed from the same record fields
    (household_size with per_capita_income). A reform that removes 低保's
    income condition would otherwise leave a 符合 line whose amount cannot be
    computed; it is refused here, naming the rule and the fact."""
    known: dict[str, frozenset[str]] = {}      # rule → record fields present whenever it holds
    for rule in ordered:
        parts = [_sources(c.fact) if c.fact is not None else known[c.ref] for c in rule.conditions or []]
        if not parts:
            known[rule.id] = frozenset()
        elif rule.mode == "all":
            known[rule.id] = frozenset().union(*parts)
        else:
            known[rule.id] = frozenset.intersection(*parts)
        amount = rule.outcome.amount if rule.outcome is not None else None
        for fact in (amount.key_fact, amount.minus_fact, amount.times_fact) if amount is not None else ():
            if fact is not None and not _sources(fact) <= known[rule.id]:
                raise RulebookError(f"{rule.source_file}: rule {rule.id}：金额要用事实“{fact}”"
                                    f"（{FACTS[fact].label_zh}），但规则的条件没有检验它（缺这个事实时规则仍可能成立）；"
                                    f"请保留检验它的条件，或改用不读这个事实的金额")


def _cross_check(rules: list[Rule], parameters: dict[str, Parameter]) -> None:
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            raise RulebookError(f"{rule.source_file}: rule {rule.id}: id already used in {seen[rule.id].source_file}")
        seen[rule.id] = rule
    for rule in rules:
        where = f"{rule.source_file}: rule {rule.id}"
        for i, cond in enumerate(rule.conditions or []):
            if cond.ref is not None:
                kind = "derived" if cond.derived is not None else "benefit"
                target = seen.get(cond.ref)
                if target is None or target.kind != kind:
                    what = "derived concept" if kind == "derived" else "benefit"
                    raise RulebookError(f"{where}: {rule.mode}[{i}].{kind}: no {what} {cond.ref!r}")
            elif isinstance(cond.value, ParamRef):
                if cond.value.param not in parameters:
                    raise RulebookError(f"{where}: {rule.mode}[{i}].{cond.op}: unknown parameter {cond.value.param!r}")
            else:
                _check_type(cond, f"{where}: {rule.mode}[{i}].{cond.op}")
        if rule.outcome is not None:
            other = rule.outcome.same_payment_as
            if other is not None and (other not in seen or seen[other].kind != "benefit"):
                raise RulebookError(f"{where}: outcome.same_payment_as: no benefit {other!r}")
            names = rule.outcome.amount.parameters()
            if rule.outcome.payer is not None and rule.outcome.payer.param is not None:
                names.append(rule.outcome.payer.param)
            for name in names:
                if name not in parameters:
                    raise RulebookError(f"{where}: outcome: unknown parameter {name!r}")
            if rule.outcome.payer is not None and rule.outcome.payer.param is not None:
                _check_payer_values(parameters[rule.outcome.payer.param])
            if rule.outcome.amount.ratio is not None:
                _check_ratio_values(parameters[rule.outcome.amount.ratio])


def _check_payer_values(spec: Parameter) -> None:
    """A payer split kept in a parameter file is checked like one written in
    a rule: known payers only, each share 0–1, adding up to 1."""
    for entry in spec.values:
        where = f"{spec.source_file}: parameter {spec.name}: value from {entry.from_}"
        if not isinstance(entry.value, dict):
            raise RulebookError(f"{where}: a payer split is a mapping such as {{city: 0.5, county: 0.5}}")
        unknown = sorted(set(entry.value) - set(PAYERS))
        if unknown:
            raise RulebookError(f"{where}: unknown payer {', '.join(unknown)}; known: {', '.join(PAYERS)}")
        if any(not 0 <= share <= 1 for share in entry.value.values()):
            raise RulebookError(f"{where}: each share must be between 0 and 1")
        if abs(sum(entry.value.values()) - 1) > 1e-9:
            raise RulebookError(f"{where}: payer shares must add up to 1")


def _check_ratio_values(spec: Parameter) -> None:
    """A ratio is a fraction: 25 % is written 0.25, and 25 is refused."""
    for entry in spec.values:
        if isinstance(entry.value, dict) or not 0 < entry.value <= 1:
            raise RulebookError(f"{spec.source_file}: parameter {spec.name}: value from {entry.from_}: "
                                f"a ratio is a fraction between 0 and 1 (25 % is written 0.25)")


def _check_type(cond: Condition, where: str) -> None:
    """A value of the fact's own type: durable compares loosely ("2" vs 2,
    1 vs true), so a mistyped value would silently never match."""
    expected = FACTS[cond.fact].type
    for value in cond.value if cond.op == "in" else [cond.value]:
        if expected is bool:
            ok = isinstance(value, bool)
        elif expected in (int, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, expected)
        if not ok:
            raise RulebookError(f"{where}: {value!r} is not a {expected.__name__}, "
                                f"the type of fact {cond.fact!r}")
        if expected is int and cond.op in ("eq", "ne", "in") and not isinstance(value, int):
            # an integer fact is never 2.5; and Polars will not test Int64 against a Float64 list
            raise RulebookError(f"{where}：事实“{cond.fact}”是整数，{value!r} 不是整数")


def _dependency_order(rules: list[Rule]) -> list[Rule]:
    """Derived concepts before their users; a cycle is an error."""
    by_id = {r.id: r for r in rules}
    done: dict[str, bool] = {}
    ordered: list[Rule] = []

    def visit(rule: Rule, path: tuple):
        state = done.get(rule.id)
        if state is True:
            return
        if state is False:
            raise RulebookError(f"{rule.source_file}: rule {rule.id}: circular derivation {' → '.join(path)}")
        done[rule.id] = False
        for cond in rule.conditions or []:
            if cond.ref is not None:
                visit(by_id[cond.ref], path + (cond.ref,))
        done[rule.id] = True
        ordered.append(rule)

    for rule in rules:
        visit(rule, (rule.id,))
    return ordered
