"""The roll's benefit names (名册项目名称对照): which lines the audit checks,
the rules each line stands for, and the names the counties write for them.

The file (``line-names.yaml`` beside this module, or another given with
``--names``) lists each audited line (核对项目) with its rule ids and the
counties' synonyms. A roll cell may hold a rule id, a rule's Chinese name
(``label_zh`` from the rule files) or one of the synonyms; the file adds
only the synonyms. A line holds the rules that pay the same money under
63号 and 81号 (低保: 二（一） and 第2条). Errors name ``file:line`` in Chinese.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..caseload import BY_PATH
from ..engine.rulebook import Rule, Rulebook, RulebookError
from ..policy.yamlfile import PolicyFileError, explain, parse

DEFAULT_NAMES = Path(__file__).resolve().parent / "line-names.yaml"
ROLL_PERIODS = ("monthly", "yearly")
"""A roll pays a sum each month: lines paid monthly, or yearly (五保) shown per month."""
MONEY = ("param", "table", "share_of", "difference")


def name_key(name: str) -> str:
    """A benefit name as the roll may write it, compared in NFKC without
    white space: （） and (), full-width letters and digits read alike."""
    return "".join(unicodedata.normalize("NFKC", name).split())


class MappingError(RulebookError):
    """A names file that cannot be used: ``file:line：原因``."""


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = Field(min_length=1, max_length=64)
    rules: list[str] = Field(min_length=1)
    names: list[str] = []
    register_: Optional[str] = Field(None, alias="register")


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[_Line] = Field(min_length=1)


@dataclass(frozen=True)
class AuditLine:
    """One audited line (核对项目): its rules in rulebook order."""
    id: str
    label_zh: str
    rules: tuple[str, ...]
    household: bool             # paid to the household (低保): audited once per household
    register: Optional[str] = None   # the caseload's yes/no field this line's roll registers (status.dibao)


@dataclass
class LineNames:
    """The audited lines and every name a roll may write for each."""
    lines: dict[str, AuditLine]
    names: dict[str, str]       # name as written (rule id, label_zh, synonym) → line id
    where: str

    def line_of(self, name: str) -> Optional[str]:
        """The line a name as written stands for (full- and half-width forms alike, spaces ignored)."""
        return self.names.get(name_key(name)) if isinstance(name, str) else None

    def of_rule(self, rule_id: str) -> Optional[AuditLine]:
        return next((line for line in self.lines.values() if rule_id in line.rules), None)

    @property
    def rule_ids(self) -> list[str]:
        return [r for line in self.lines.values() for r in line.rules]


def load_names(rulebook: Rulebook, path=None) -> LineNames:
    """Read and check a names file against the rulebook (MappingError)."""
    path = Path(path or DEFAULT_NAMES)
    where = path.name if path == DEFAULT_NAMES else str(path)
    try:
        data, lines = parse(path.read_bytes(), where)
    except FileNotFoundError:
        raise MappingError(f"{where}:1：找不到项目名称对照文件") from None
    except OSError as exc:
        raise MappingError(f"{where}:1：无法读取项目名称对照文件（{exc.strerror}）") from None
    except PolicyFileError as exc:
        raise MappingError(str(exc)) from None
    try:
        spec = _File.model_validate(data if data is not None else {})
    except ValidationError as exc:
        loc, text = explain(exc)[0]
        raise MappingError(f"{where}:{lines.line(loc)}：{'.'.join(map(str, loc)) or '文件'} {text}") from None
    return _checked(spec, rulebook, lines, where)


def _checked(spec: _File, book: Rulebook, lines, where: str) -> LineNames:
    out: dict[str, AuditLine] = {}
    names: dict[str, str] = {}
    owner: dict[str, str] = {}

    def error(loc, message):
        return MappingError(f"{where}:{lines.line(loc)}：{message}")

    for i, entry in enumerate(spec.lines):
        if entry.line in out:
            raise error(("lines", i, "line"), f"项目编号“{entry.line}”重复出现")
        for j, rule_id in enumerate(entry.rules):
            rule = book.by_id.get(rule_id)
            if rule is None:
                raise error(("lines", i, "rules", j), f"不认识的规则编号“{rule_id}”（规则编号见 benefits rules）")
            problem = _not_for_a_roll(rule)
            if problem:
                raise error(("lines", i, "rules", j), f"规则“{rule_id}”（{rule.label_zh}）{problem}，不能作为名册项目")
            if rule_id in owner:
                raise error(("lines", i, "rules", j), f"规则“{rule_id}”已属于项目“{owner[rule_id]}”")
            owner[rule_id] = entry.line
        ordered = tuple(r.id for r in book.benefits if r.id in entry.rules)
        household = {book.by_id[r].outcome.payee == "household" for r in ordered}
        if len(household) > 1:
            raise error(("lines", i, "rules"), "同一项目的规则应都按户发放，或都按人发放")
        if entry.register_ is not None and (entry.register_ not in BY_PATH or BY_PATH[entry.register_].kind != "bool"):
            raise error(("lines", i, "register"), f"register 应为台账中是/否的一列（如 status.dibao），实际为“{entry.register_}”")
        out[entry.line] = AuditLine(entry.line, entry.label_zh, ordered, household.pop(), entry.register_)
    # every rule id and Chinese name of an audited rule reads as its line, then the synonyms
    for line in out.values():
        for rule_id in line.rules:
            for name in (rule_id, book.by_id[rule_id].label_zh):
                names.setdefault(name_key(name), line.id)
        names.setdefault(name_key(line.label_zh), line.id)
    for i, entry in enumerate(spec.lines):
        for j, name in enumerate(entry.names):
            name = name_key(name)
            if not name:
                raise error(("lines", i, "names", j), "名称不能为空")
            if names.get(name, entry.line) != entry.line:
                raise error(("lines", i, "names", j), f"名称“{name}”已用于项目“{names[name]}”")
            names[name] = entry.line
    return LineNames(out, names, where)


def _not_for_a_roll(rule: Rule) -> Optional[str]:
    if rule.kind != "benefit":
        return "不是救助项目（是概念或县区预算）"
    if rule.outcome.amount.form not in MONEY:
        return "没有确定的现金金额"
    if rule.outcome.period not in ROLL_PERIODS:
        return "不是按月或按年发放"
    return None
