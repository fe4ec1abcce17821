"""Reforms (改革方案): what a policy office would change against the current
rulebook, written as a small YAML file under ``reforms/``, and applied to a
Rulebook to give a NEW Rulebook (the baseline is never touched).

Format (every key but ``label`` and ``reason`` is optional)::

    label: 低保重度残疾人定额补贴提高到25%          # 方案名称
    reason: 低保标准上调后，20% 的补贴……              # 提出理由
    author: 市残联政策科                               # 可选
    parameters:                # parameter values, by name (rules/parameters/*.yaml)
      dibao_topup_ratio:
        values:                # dated values, as in the parameter files
          - {from: 2013-01-01, value: 0.25}
        replace: false         # false (default): add these, replacing a value with
                               # the same from / hukou_county / residence;
                               # true: the parameter has exactly these values
      dibao_standard:
        values:
          - {from: 2013-07-01, hukou_county: "411282", residence: urban, value: 360}
    new_parameters:            # a parameter the rule edits need (never 已核实)
      new_grant: {label_zh: …, label_en: …, unit: 元, kind: money, range: [0, 10000], by: [], source: …,
                  values: [{from: 2013-01-01, value: 200}]}
    rules:                     # rule edits, applied in order
      - change_condition: {rule: severe, where: {fact: grade}, to: {lte: 1}}
      - add_condition: {rule: dibao_topup, condition: {fact: age, gte: 18}}
      - remove_condition: {rule: dibao_recipient, where: {benefit: dibao_single_person}}
      - remove_rule: {rule: dibao_single_person}
      - change_rule: {rule: severe, set: {label_zh: 重度残疾人（一级）}}
      - add_rule: {id: …, kind: benefit, label_zh: …, label_en: …, clause: 63号 …,
                   text: …, all: [...], outcome: {...}}

``where`` picks one condition of the rule by any of its keys (``{fact:
grade}``, ``{derived: severe}``, ``{fact: age, gte: 18}``); ``index`` (from 0)
is the alternative. ``change_condition.to``: its tests (eq ne lt lte gt gte
in) replace the condition's test, other keys (fact, derived, upon) replace
theirs. Removing a rule also drops ``any`` branches and ``same_payment_as``
that name it (the branch could never hold: the result is the same); a rule
that needs it in ``all`` must have that condition removed first.

Every change is checked when applied, in order, by the rulebook's own
validation; an error names the file and line, in Chinese, and nothing runs.
A parameter whose values a reform changes is no longer the quoted source:
it is marked ``verified: false`` and its source starts with "改革方案改动".

A copied rules directory is a reform too: ``load_reform(directory)``.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from ..engine.facts import FACTS
from ..engine.rulebook import (Condition, DatedValue, Number, Parameter, Rule, Rulebook, RulebookError, assemble,
                               load_rulebook, value_problem)
from .yamlfile import Lines, PolicyFileError, explain, parse

REFORMS_DIR = Path(__file__).resolve().parents[2] / "reforms"
CHANGED_MARK = "改革方案改动"
ADDED_MARK = "改革方案新增"
_TESTS = ("eq", "ne", "lt", "lte", "gt", "gte", "in")
MAX_EDITS = 100
"""Rule edits in one reform file (each is applied and the rulebook re-checked)."""


class ReformError(PolicyFileError):
    """A reform that cannot be loaded or applied: ``file:line：原因``."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterChange(_Spec):
    values: list[DatedValue] = Field(min_length=1)
    replace: bool = False


class NewParameter(_Spec):
    label_zh: str = Field(min_length=1)
    label_en: str = ""
    unit: str = Field(min_length=1)
    kind: Literal["money", "ratio", "count", "shares"]
    range: tuple[Number, Number]
    by: list[Literal["hukou_county", "residence"]] = []
    source: str = Field(min_length=2)
    values: list[DatedValue] = Field(min_length=1)


class _Pick(_Spec):
    rule: str
    where: Optional[dict] = None
    index: Optional[StrictInt] = Field(None, ge=0)


class ChangeCondition(_Pick):
    to: dict


class RemoveCondition(_Pick):
    pass


class AddCondition(_Spec):
    rule: str
    condition: dict


class RemoveRule(_Spec):
    rule: str


class ChangeRule(_Spec):
    rule: str
    set: dict = Field(min_length=1)


_EDITS = {"change_condition": ChangeCondition, "remove_condition": RemoveCondition,
          "add_condition": AddCondition, "remove_rule": RemoveRule, "change_rule": ChangeRule,
          "add_rule": dict}
EDIT_ZH = {"change_condition": "修改条件", "remove_condition": "删除条件", "add_condition": "增加条件",
           "remove_rule": "删除规则", "change_rule": "修改规则", "add_rule": "增加规则"}


class _File(_Spec):
    label: str = Field(min_length=2, max_length=200)
    reason: str = Field(min_length=2, max_length=5000)
    author: Optional[str] = Field(None, max_length=200)
    parameters: dict[str, ParameterChange] = {}
    new_parameters: dict[str, NewParameter] = {}
    rules: list[dict] = []


@dataclass(frozen=True)
class Edit:
    """One rule edit: ``op`` (a key of EDIT_ZH), its validated body, and where
    it was written (``path`` into the file, for the line of an error)."""
    op: str
    body: Union[_Spec, dict]
    path: tuple


@dataclass(frozen=True)
class Reform:
    """A loaded reform. ``text`` is the file's exact content (for the audit
    and for replay); ``digest`` its SHA-256 (12 hex). A directory reform has
    ``directory`` set and nothing else to apply."""
    label: str
    reason: str
    where: str
    text: str = ""
    digest: str = ""
    author: Optional[str] = None
    parameters: dict = field(default_factory=dict)        # name → ParameterChange
    new_parameters: dict = field(default_factory=dict)    # name → NewParameter
    edits: tuple = ()                                     # Edit, in order
    directory: Optional[Path] = None
    lines: Optional[Lines] = field(default=None, repr=False, compare=False)

    def line(self, path=()) -> int:
        return self.lines.line(path) if self.lines else 1

    def error(self, path, message: str) -> ReformError:
        return ReformError(f"{self.where}:{self.line(path)}：{message}")


def load_reform(source: Union[str, Path], name: Optional[str] = None) -> Reform:
    """A reform from a YAML file path, a rules directory, or YAML text.

    ``source``: a Path (or str naming an existing file or directory) is read
    from disk; any other str is the YAML itself (``name`` is what errors call
    it, default "改革方案"). Raises ReformError ("file:line：原因") for a file
    that is not a valid reform; rule ids and parameter names are checked
    against a rulebook by ``apply_reform``."""
    # a one-line str without "key: value" is a path, not YAML
    if isinstance(source, str) and "\n" not in source and ": " not in source and len(source) < 4096:
        source = Path(source)
    path = source if isinstance(source, Path) else None
    if path is not None and not path.exists():
        raise ReformError(f"{path}:1：找不到改革方案文件或规则目录")
    if path is not None and path.is_dir():
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        return Reform(label=f"规则目录 {path.name}", reason=f"以目录 {path} 中的规则文件整体替换现行规则",
                      where=str(path), digest=digest, directory=path)
    if path is not None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ReformError(f"{path}:1：无法读取改革方案（{exc.strerror}）") from None
        where = name or str(path)
    else:
        raw = source if isinstance(source, (str, bytes)) else str(source)
        where = name or "改革方案"
    data, lines = _parse(raw, where)
    try:
        spec = _File.model_validate(data)
    except ValidationError as exc:
        loc, text = explain(exc)[0]
        raise ReformError(f"{where}:{lines.line(loc)}：{_field_name(loc)}{text}") from None
    if len(spec.rules) > MAX_EDITS:
        raise ReformError(f"{where}:{lines.line(('rules',))}：规则改动 {len(spec.rules):,} 项，超过上限 {MAX_EDITS} 项"
                          f"（改革方案规模上限，见 docs/policy.md）")
    edits = []
    for i, entry in enumerate(spec.rules):
        if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in _EDITS:
            raise ReformError(f"{where}:{lines.line(('rules', i))}：每项规则改动只写一种："
                              f"{'、'.join(_EDITS)}")
        op, body = next(iter(entry.items()))
        path = ("rules", i, op)
        if not isinstance(body, dict):
            raise ReformError(f"{where}:{lines.line(path)}：{op} 后应为映射（键: 值）")
        if _EDITS[op] is not dict:
            try:
                body = _EDITS[op].model_validate(body)
            except ValidationError as exc:
                loc, text = explain(exc)[0]
                raise ReformError(f"{where}:{lines.line(path + loc)}：{op} 的{_field_name(loc)}{text}") from None
            if isinstance(body, _Pick) and (body.where is None) == (body.index is None):
                raise ReformError(f"{where}:{lines.line(path)}：{op} 用 where 或 index 之一指明是哪个条件")
        edits.append(Edit(op, body, path))
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return Reform(label=spec.label, reason=spec.reason, author=spec.author, where=where, text=text,
                  digest=hashlib.sha256(text.encode()).hexdigest()[:12], parameters=dict(spec.parameters),
                  new_parameters=dict(spec.new_parameters), edits=tuple(edits), lines=lines)


def _parse(raw, where: str):
    try:
        data, lines = parse(raw, where)
    except PolicyFileError as exc:
        raise ReformError(str(exc)) from None
    if not isinstance(data, dict):
        raise ReformError(f"{where}:{lines.line()}：改革方案应是一个映射，至少写 label: 和 reason:")
    return data, lines


def _field_name(loc: tuple) -> str:
    return f"“{'.'.join(str(p) for p in loc)}”" if loc else ""


# -- applying ---------------------------------------------------------------------


def apply_reform(rulebook: Rulebook, reform: Reform) -> Rulebook:
    """A NEW Rulebook: ``rulebook`` with the reform applied; ``rulebook``
    itself is left exactly as it was (everything is copied).

    The result is validated by the rulebook's own checks after every change,
    has ``version`` = a hash of the baseline version and the reform's text
    (never the baseline's), ``reform`` = the Reform, and ``changes`` = one
    dict per change {kind, target, line, text_zh} in the order applied.
    Raises ReformError (file:line, Chinese) on the first change that cannot
    be applied; nothing is returned then."""
    if reform.directory is not None:
        return _apply_directory(rulebook, reform)
    parameters = {name: copy.deepcopy(spec) for name, spec in rulebook.parameters.items()}
    rules = {rule.id: copy.deepcopy(rule) for rule in rulebook.rules}
    changes: list[dict] = []
    for name, change in reform.parameters.items():
        path = ("parameters", name)
        if name not in parameters:
            raise reform.error(path, f"未知参数“{name}”{_suggest(name, parameters)}")
        _check_values(reform, path, parameters[name], change.values)
        old = parameters[name]
        values = list(change.values) if change.replace else _merge(old.values, change.values)
        if _plain(values) != _plain(old.values):
            parameters[name] = Parameter.model_validate({
                **old.model_dump(by_alias=True), "verified": False,
                "source": f"{CHANGED_MARK}（{reform.label}）；原出处：{old.source}",
                "values": [v.model_dump(by_alias=True) for v in values]})
        changes.append(_change("parameter", name, reform.line(path), _describe_values(old, change)))
        _validate(reform, path, rules, parameters)
    for name, spec in reform.new_parameters.items():
        path = ("new_parameters", name)
        if name in parameters:
            raise reform.error(path, f"参数“{name}”已存在；修改已有参数请写在 parameters: 下")
        try:
            parameters[name] = Parameter.model_validate({
                **spec.model_dump(by_alias=True), "name": name, "source_file": Path(reform.where).name,
                "label_en": spec.label_en or name, "verified": False,
                "source": f"{ADDED_MARK}（{reform.label}）：{spec.source}"})
        except ValidationError as exc:
            loc, text = explain(exc)[0]
            raise reform.error(path + loc, f"新参数“{name}”{_field_name(loc)}{text}") from None
        changes.append(_change("new_parameter", name, reform.line(path), f"新增参数 {name}（{spec.label_zh}）"))
        _validate(reform, path, rules, parameters)
    for edit in reform.edits:
        text = _EDIT_APPLY[edit.op](reform, edit, rules, parameters)
        target = edit.body.rule if not isinstance(edit.body, dict) else edit.body.get("id", "")
        changes.append(_change(edit.op, target, reform.line(edit.path), text))
        _validate(reform, edit.path, rules, parameters)
    version = hashlib.sha256(f"{rulebook.version}\0{reform.text}".encode()).hexdigest()[:12]
    # ``files`` stays empty: the version is not a hash of rule files, so no
    # file set may claim it (a determination made under a reform is not a
    # kept rulebook version; Reform.text is what reproduces it)
    book = assemble(list(rules.values()), parameters, version, rulebook.directory, copy.deepcopy(rulebook.in_force_of),
                    dict(rulebook.documents))
    book.reform, book.changes = reform, changes
    return book


def _apply_directory(rulebook: Rulebook, reform: Reform) -> Rulebook:
    """A copied rules directory: loaded as it is, except that any parameter
    whose values differ from the baseline's loses 已核实."""
    try:
        book = load_rulebook(reform.directory)
    except RulebookError as exc:
        raise ReformError(f"{reform.where}：规则目录不能使用：{exc}") from None
    changes = []
    for name, spec in list(book.parameters.items()):
        old = rulebook.parameters.get(name)
        if old is not None and _plain(old.values) == _plain(spec.values):
            continue
        mark = CHANGED_MARK if old is not None else ADDED_MARK
        book.parameters[name] = Parameter.model_validate({
            **spec.model_dump(by_alias=True), "verified": False,
            "source": f"{mark}（{reform.label}）；原出处：{spec.source}"})
        changes.append(_change("parameter" if old else "new_parameter", name, 1,
                               f"参数 {name}（{spec.label_zh}）与现行规则不同"))
    before, after = {r.id: r for r in rulebook.rules}, {r.id: r for r in book.rules}
    for rule_id in before.keys() - after.keys():
        changes.append(_change("remove_rule", rule_id, 1, f"删除规则 {rule_id}（{before[rule_id].label_zh}）"))
    for rule_id, rule in after.items():
        if rule_id not in before:
            changes.append(_change("add_rule", rule_id, 1, f"增加规则 {rule_id}（{rule.label_zh}）"))
        elif _rule_data(rule) != _rule_data(before[rule_id]):
            changes.append(_change("change_rule", rule_id, 1, f"修改规则 {rule_id}（{rule.label_zh}）"))
    book.reform, book.changes = reform, changes
    return book


def _change(kind: str, target: str, line: int, text: str) -> dict:
    return {"kind": kind, "target": target, "line": line, "text_zh": text}


def _rule_data(rule: Rule) -> dict:
    return rule.model_dump(by_alias=True, exclude={"source_file"})


def _plain(values) -> list:
    return [v.model_dump(by_alias=True) for v in values]


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f"（是不是：{'、'.join(close)}？）" if close else ""


def _scope(v: DatedValue) -> tuple:
    return v.from_, v.hukou_county, v.residence


def _merge(old: list[DatedValue], new: list[DatedValue]) -> list[DatedValue]:
    replaced = {_scope(v) for v in new}
    return [v for v in old if _scope(v) not in replaced] + list(new)


def _check_values(reform: Reform, path: tuple, spec: Parameter, values: list[DatedValue]) -> None:
    """Dimensions the parameter varies by, and a value of the same shape."""
    shape = next((v.value for v in spec.values), None)
    for i, entry in enumerate(values):
        where = path + ("values", i)
        for dim in ("hukou_county", "residence"):
            if getattr(entry, dim) is not None and dim not in spec.by:
                raise reform.error(where, f"参数“{spec.name}”不按{'户籍县区' if dim == 'hukou_county' else '城镇/农村'}"
                                          f"区分，不能写 {dim}")
        if isinstance(shape, dict):
            if not isinstance(entry.value, dict) or set(entry.value) != set(shape):
                raise reform.error(where + ("value",), f"参数“{spec.name}”的值是映射，键应为 "
                                                       f"{'、'.join(shape)}")
        elif isinstance(entry.value, dict):
            raise reform.error(where + ("value",), f"参数“{spec.name}”的值是一个数，不是映射")
        problem = value_problem(spec.kind, spec.range, entry.value)
        if problem is not None:
            raise reform.error(where + ("value",), f"参数“{spec.name}”（{spec.unit}）的值 {problem}")


def _describe_values(old: Parameter, change: ParameterChange) -> str:
    parts = []
    for v in change.values:
        scope = "、".join(x for x in (v.hukou_county, {"urban": "城镇", "rural": "农村"}.get(v.residence)) if x)
        before = old.resolve(v.from_, {"hukou_county": v.hukou_county, "residence": v.residence})
        parts.append(f"{v.from_.isoformat()} 起{('（' + scope + '）') if scope else ''} "
                     f"{_show(before)} → {_show(v.value)}")
    verb = "改为只有" if change.replace else ""
    return f"参数 {old.name}（{old.label_zh}）{verb}：" + "；".join(parts)


def _show(value) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, dict):
        return "{" + "、".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _validate(reform: Reform, path: tuple, rules: dict, parameters: dict) -> None:
    """The rulebook's own cross-checks after each change."""
    try:
        assemble(list(rules.values()), parameters, "", Path("."))
    except RulebookError as exc:
        raise reform.error(path, f"改动后规则集校验不通过：{exc}") from None


def _rule(reform: Reform, edit: Edit, rules: dict) -> Rule:
    rule_id = edit.body.rule
    if rule_id not in rules:
        raise reform.error(edit.path + ("rule",), f"未知规则“{rule_id}”{_suggest(rule_id, rules)}")
    return rules[rule_id]


def _data(rule: Rule) -> dict:
    return rule.model_dump(by_alias=True, exclude_none=True)


def _conditions(data: dict) -> tuple[str, list]:
    mode = "all" if "all" in data else "any"
    return mode, data.get(mode) or []


def _pick(reform: Reform, edit: Edit, rule: Rule) -> int:
    conditions = rule.conditions or []
    body = edit.body
    if body.index is not None:
        if body.index >= len(conditions):
            raise reform.error(edit.path + ("index",), f"规则“{rule.id}”只有 {len(conditions)} 个条件"
                                                       f"（index 从 0 数）")
        return body.index
    wanted = {k: v for k, v in body.where.items()}
    found = [i for i, c in enumerate(conditions)
             if all(c.model_dump(by_alias=True, exclude_none=True).get(k) == v for k, v in wanted.items())]
    if len(found) != 1:
        shown = "；".join(f"[{i}] {_show_condition(c)}" for i, c in enumerate(conditions))
        what = "没有" if not found else f"有 {len(found)} 个"
        raise reform.error(edit.path + ("where",), f"规则“{rule.id}”中{what}符合 where 的条件"
                                                   f"（现有条件：{shown}）")
    return found[0]


def _show_condition(cond: Condition) -> str:
    data = cond.model_dump(by_alias=True, exclude_none=True)
    return ", ".join(f"{k}: {v}" for k, v in data.items())


def _check_condition(reform: Reform, path: tuple, data: dict, rules: dict) -> Condition:
    """A condition as the rulebook validates it, with the common mistakes
    (unknown fact, unknown rule, a value of the wrong type) said in Chinese."""
    fact = data.get("fact")
    if fact is not None and fact not in FACTS:
        raise reform.error(path + ("fact",), f"未知事实“{fact}”{_suggest(str(fact), FACTS)}")
    for key in ("derived", "benefit"):
        ref = data.get(key)
        if ref is not None and ref not in rules:
            raise reform.error(path + (key,), f"未知规则“{ref}”{_suggest(str(ref), rules)}")
    if fact is not None:
        expected = FACTS[fact].type
        for op in _TESTS:
            if op not in data or (isinstance(data[op], dict) and "param" in data[op]):
                continue
            for value in data[op] if op == "in" and isinstance(data[op], list) else [data[op]]:
                ok = (isinstance(value, bool) if expected is bool else
                      isinstance(value, (int, float)) and not isinstance(value, bool) if expected in (int, float)
                      else isinstance(value, expected))
                if not ok:
                    kind = {bool: "true 或 false", int: "数字", float: "数字", str: "文字"}.get(expected, expected.__name__)
                    raise reform.error(path + (op,), f"事实“{fact}”的值应为{kind}，不是 {value!r}")
    try:
        return Condition.model_validate(data)
    except ValidationError as exc:
        loc, text = explain(exc)[0]
        raise reform.error(path + loc, f"条件{_field_name(loc) or '：'}{text}") from None


def _rebuild(reform: Reform, path: tuple, data: dict) -> Rule:
    try:
        return Rule.model_validate(data)
    except ValidationError as exc:
        loc, text = explain(exc)[0]
        raise reform.error(path, f"规则“{data.get('id')}”{_field_name(loc)}{text}") from None


def _change_condition(reform: Reform, edit: Edit, rules: dict, parameters: dict) -> str:
    rule = _rule(reform, edit, rules)
    index = _pick(reform, edit, rule)
    data = _data(rule)
    mode, conditions = _conditions(data)
    old = dict(conditions[index])
    new = {k: v for k, v in old.items() if not (k in _TESTS and any(t in edit.body.to for t in _TESTS))}
    new.update(edit.body.to)
    if "derived" in edit.body.to or "benefit" in edit.body.to or "fact" in edit.body.to:
        for key in ("fact", "derived", "benefit"):
            if key not in edit.body.to:
                new.pop(key, None)
    _check_condition(reform, edit.path + ("to",), new, rules)
    conditions[index] = new
    rules[rule.id] = _rebuild(reform, edit.path, data)
    return (f"修改规则 {rule.id}（{rule.label_zh}）的条件 {mode}[{index}]："
            f"{_show_condition(rule.conditions[index])} → {_show_condition(rules[rule.id].conditions[index])}")


def _remove_condition(reform: Reform, edit: Edit, rules: dict, parameters: dict) -> str:
    rule = _rule(reform, edit, rules)
    index = _pick(reform, edit, rule)
    data = _data(rule)
    mode, conditions = _conditions(data)
    if len(conditions) == 1:
        raise reform.error(edit.path, f"规则“{rule.id}”只有这一个条件，不能删除；要取消这项规则请用 remove_rule")
    removed = conditions.pop(index)
    rules[rule.id] = _rebuild(reform, edit.path, data)
    return f"删除规则 {rule.id}（{rule.label_zh}）的条件 {mode}[{index}]：{_show_condition(Condition.model_validate(removed))}"


def _add_condition(reform: Reform, edit: Edit, rules: dict, parameters: dict) -> str:
    rule = _rule(reform, edit, rules)
    if rule.kind == "county_budget":
        raise reform.error(edit.path, f"“{rule.id}”是县级预算，没有条件")
    cond = _check_condition(reform, edit.path + ("condition",), dict(edit.body.condition), rules)
    data = _data(rule)
    mode, conditions = _conditions(data)
    conditions.append(dict(edit.body.condition))
    data[mode] = conditions
    rules[rule.id] = _rebuild(reform, edit.path, data)
    return f"规则 {rule.id}（{rule.label_zh}）增加条件 {mode}[{len(conditions) - 1}]：{_show_condition(cond)}"


def _remove_rule(reform: Reform, edit: Edit, rules: dict, parameters: dict) -> str:
    rule = _rule(reform, edit, rules)
    notes = []
    for other in list(rules.values()):
        if other.id == rule.id:
            continue
        data = _data(other)
        mode, conditions = _conditions(data)
        refs = [i for i, c in enumerate(conditions) if rule.id in (c.get("derived"), c.get("benefit"))]
        changed = False
        if refs:
            if mode == "all" or len(refs) == len(conditions):
                raise reform.error(edit.path, f"规则“{other.id}”的条件 {mode}{refs} 要求“{rule.id}”成立，"
                                              f"请先用 remove_condition 删除这些条件（或一并删除“{other.id}”）")
            data[mode] = [c for i, c in enumerate(conditions) if i not in refs]
            notes.append(f"同时删除 {other.id} 的条件 any{refs}（引用已删除的规则，永不成立）")
            changed = True
        outcome = data.get("outcome") or {}
        if outcome.get("same_payment_as") == rule.id:
            del outcome["same_payment_as"]
            notes.append(f"{other.id} 不再与之同一笔款项")
            changed = True
        if changed:
            rules[other.id] = _rebuild(reform, edit.path, data)
    del rules[rule.id]
    return f"删除规则 {rule.id}（{rule.label_zh}）" + (f"；{'；'.join(notes)}" if notes else "")


def _change_rule(reform: Reform, edit: Edit, rules: dict, parameters: dict) -> str:
    rule = _rule(reform, edit, rules)
    if "id" in edit.body.set or "kind" in edit.body.set:
        raise reform.error(edit.path + ("set",), "change_rule 不能改 id 或 kind；请删除旧规则再增加新规则")
    data = _data(rule)
    for key, value in edit.body.set.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    for mode in ("all", "any"):
        for i, cond in enumerate(edit.body.set.get(mode) or []):
            _check_condition(reform, edit.path + ("set", mode, i), dict(cond) if isinstance(cond, dict) else {}, rules)
    rules[rule.id] = _rebuild(reform, edit.path + ("set",), data)
    return f"修改规则 {rule.id}（{rule.label_zh}）：{'、'.join(edit.body.set)}"


def _add_rule(reform: Reform, edit: Edit, rules: dict, parameters: dict) -> str:
    data = dict(edit.body)
    rule_id = data.get("id")
    if rule_id in rules:
        raise reform.error(edit.path + ("id",), f"规则“{rule_id}”已存在；修改已有规则请用 change_rule 等")
    for mode in ("all", "any"):
        for i, cond in enumerate(data.get(mode) or []):
            _check_condition(reform, edit.path + (mode, i), dict(cond) if isinstance(cond, dict) else {}, rules)
    data["source_file"] = Path(reform.where).name
    rule = _rebuild(reform, edit.path, data)
    rules[rule.id] = rule
    return f"增加规则 {rule.id}（{rule.label_zh}，{rule.clause}）"


_EDIT_APPLY = {"change_condition": _change_condition, "remove_condition": _remove_condition,
               "add_condition": _add_condition, "remove_rule": _remove_rule, "change_rule": _change_rule,
               "add_rule": _add_rule}


def reform_files(directory: Path = REFORMS_DIR) -> list[Path]:
    """The reform files shipped under ``reforms/``."""
    return sorted(directory.glob("*.yaml"))


__all__ = ["Reform", "ReformError", "load_reform", "apply_reform", "reform_files", "CHANGED_MARK", "ADDED_MARK"]
