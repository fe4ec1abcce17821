"""The flat column layout of a caseload sheet (台账列): one column per leaf of
the nested applicant record, named by its dotted path (``certificate.number``,
``household.monthly_income``, ``status.dibao`` …). List fields
(``household.members``, ``hardship_events``) are one column holding JSON.

A blank cell is an absent fact, never false or zero. The layout is read off
the applicant model itself, so it cannot drift from what the engine accepts.
"""
from __future__ import annotations

import datetime as dt
import json
import types
import typing
from dataclasses import dataclass

from pydantic import BaseModel

from ..engine import Applicant, FieldError, InvalidApplicant
from ..engine.applicant import TOO_DEEP, json_depth_exceeds

MAX_CELL = 128 * 1024
"""Characters in one cell (the csv module's own limit): a longer cell rejects its row."""

# the words a flag cell may hold (any letter case)
TRUE_WORDS = {"true", "1", "是", "y", "yes", "t"}
FALSE_WORDS = {"false", "0", "否", "n", "no", "f"}


@dataclass(frozen=True)
class Column:
    path: str          # dotted path into the record
    kind: str          # bool | int | float | str | date | json
    label_zh: str


def _unwrap(annotation):
    """Optional[X] / Annotated[X, …] / Literal[…] → the base type."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0])
    if origin is typing.Literal:
        return str
    return annotation


def _columns(model: type[BaseModel], prefix: str = "") -> list[Column]:
    out = []
    for name, field in model.model_fields.items():
        path = prefix + name
        base = _unwrap(field.annotation)
        label = field.description or path
        if isinstance(base, type) and issubclass(base, BaseModel):
            out += _columns(base, path + ".")
        elif typing.get_origin(base) is list:
            out.append(Column(path, "json", label))
        elif base is bool:
            out.append(Column(path, "bool", label))
        elif base is int:
            out.append(Column(path, "int", label))
        elif base is float:
            out.append(Column(path, "float", label))
        elif base is dt.date:
            out.append(Column(path, "date", label))
        else:
            out.append(Column(path, "str", label))
    return out


COLUMNS: list[Column] = _columns(Applicant)
BY_PATH: dict[str, Column] = {c.path: c for c in COLUMNS}


class LayoutError(ValueError):
    """A header that does not match the layout; message in Chinese."""


class BadRow(tuple):
    """A row the reader could not split into cells: (field, Chinese message).
    It travels like any row and is rejected with its row number."""

    def __new__(cls, field: str, message: str):
        return super().__new__(cls, (field, message))

    def __getnewargs__(self):
        return tuple(self)


def _not_text(name: str) -> bool:
    """NUL or undecodable bytes: UTF-16 without a BOM, or another encoding."""
    return "\x00" in name or any("\udc00" <= ch <= "\udcff" for ch in name)


def check_header(header: list) -> list[str]:
    """Validate a header row; returns the column paths (blank headers kept as None)."""
    names = [None if h is None or str(h).strip() == "" else str(h).strip() for h in header]
    if any(n is not None and _not_text(n) for n in names):
        raise LayoutError("第1行（列名）不是UTF-8编码的文本：请把文件另存为 UTF-8（如Excel的“CSV UTF-8”）")
    unknown = [n for n in names if n is not None and n not in BY_PATH]
    if unknown:
        raise LayoutError("不认识的列：" + "、".join(unknown) + "。列名应为记录字段路径，见 docs/finance.md")
    seen = set()
    for n in names:
        if n is not None and n in seen:
            raise LayoutError(f"列“{n}”重复出现")
        seen.add(n)
    if "id_number" not in seen:
        raise LayoutError("缺少必需的列 id_number（身份证号码）")
    return names


def cell_value(column: Column, value):
    """One cell → a JSON value, or raise FieldError-worthy ValueError.
    Values that do not fit are passed on unchanged so that the model's own
    check reports them in its words."""
    if isinstance(value, str):
        value = value.strip()
    kind = column.kind
    if kind == "json":
        if not isinstance(value, str):
            return value
        if json_depth_exceeds(value):
            raise ValueError(TOO_DEEP)
        try:
            return json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            raise ValueError("不是有效的JSON（应为列表，如 [{\"relation\": \"spouse\", \"age\": 40}]）") from None
    if kind == "bool":
        if isinstance(value, (bool, int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
            return value.lower() in TRUE_WORDS
        return value
    if kind in ("int", "float"):
        if isinstance(value, str):
            try:
                number = float(value.replace(",", ""))
            except ValueError:
                return value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value
        else:
            return value
        if kind == "int":
            return int(number) if float(number).is_integer() else number
        return float(number)
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return value
    # text: a number typed into a spreadsheet cell comes back as int/float
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def unflatten(names: list, row) -> dict:
    """A sheet row (values in header order) → nested record dict.
    Raises InvalidApplicant naming every cell that cannot be read."""
    if isinstance(row, BadRow):
        raise InvalidApplicant([FieldError(field=row[0], message=row[1])])
    record: dict = {}
    errors = []
    extra = [i for i, value in enumerate(row[len(names):], len(names) + 1) if not empty_cell(value)]
    if extra:
        errors.append(FieldError(field="(记录)", message=f"本行有{len(row)}个单元格，多于列名的{len(names)}个"
                                 f"（第{extra[0]}列有值）：单元格中的逗号须加引号"))
    for index, (name, value) in enumerate(zip(names, row), 1):
        if empty_cell(value):
            continue
        if name is None:
            errors.append(FieldError(field=f"(第{index}列)", message="此列没有列名，却填了值"))
            continue
        if isinstance(value, str) and len(value) > MAX_CELL:
            errors.append(FieldError(field=name, message=f"单元格超过{MAX_CELL // 1024} KB"))
            continue
        column = BY_PATH[name]
        try:
            parsed = cell_value(column, value)
        except ValueError as exc:
            errors.append(FieldError(field=name, message=str(exc)))
            continue
        node = record
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = parsed
    if errors:
        raise InvalidApplicant(errors)
    return record


def empty_cell(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def flatten(record: dict) -> dict:
    """Nested record → {column path: cell value} (inverse of unflatten)."""
    out = {}
    for column in COLUMNS:
        node = record
        for part in column.path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        if node is None:
            continue
        out[column.path] = json.dumps(node, ensure_ascii=False) if column.kind == "json" else node
    return out
