"""The applicant frame (申请人数据表): one row per applicant, one typed
column per leaf of the applicant record, named by its dotted path as in the
caseload layout (``certificate.grade``, ``status.dibao`` …). List fields are
list-of-struct columns. A null is an absent fact, exactly as ``None`` is in
the record.

The layout is read off the pydantic model, so it cannot drift from what the
single-applicant engine accepts. ``frame_from_records`` builds the frame from
records that already passed ``parse_applicant``.
"""
from __future__ import annotations

import datetime as dt
import types
import typing

import polars as pl
from pydantic import BaseModel

from ..applicant import Applicant

ROW = "row"                 # the source row number (what the clerk sees)
BIRTH = "birth_date"        # from the ID number


def _base(annotation):
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _base(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return _base(next(a for a in typing.get_args(annotation) if a is not type(None)))
    return annotation


def _dtype(annotation) -> pl.DataType:
    base = _base(annotation)
    if typing.get_origin(base) is typing.Literal or base is str:
        return pl.String()
    if base is bool:
        return pl.Boolean()
    if base is int:
        return pl.Int64()
    if base is float:
        return pl.Float64()
    if base is dt.date:
        return pl.Date()
    if typing.get_origin(base) is list:
        item = _base(typing.get_args(base)[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return pl.List(pl.Struct({n: _dtype(f.annotation) for n, f in item.model_fields.items()}))
        return pl.List(_dtype(item))
    raise TypeError(f"no column type for {annotation!r}")


def _leaves(model: type[BaseModel], prefix: str = "") -> dict[str, pl.DataType]:
    out: dict[str, pl.DataType] = {}
    for name, field in model.model_fields.items():
        base = _base(field.annotation)
        if isinstance(base, type) and issubclass(base, BaseModel):
            out.update(_leaves(base, f"{prefix}{name}."))
        else:
            out[prefix + name] = _dtype(field.annotation)
    return out


FIELDS: dict[str, pl.DataType] = _leaves(Applicant)
SCHEMA: dict[str, pl.DataType] = {ROW: pl.Int64(), **FIELDS, BIRTH: pl.Date()}


def _get(record: BaseModel, path: str):
    node = record
    for part in path.split("."):
        node = getattr(node, part, None)
        if node is None:
            return None
    if isinstance(node, list):
        return [item.model_dump() if isinstance(item, BaseModel) else item for item in node]
    return node


def frame_from_records(records: list[Applicant], rows: list[int] | None = None) -> pl.DataFrame:
    """Validated records → the applicant frame (the slow, exact path)."""
    data = {path: [_get(r, path) for r in records] for path in FIELDS}
    data[ROW] = rows if rows is not None else list(range(1, len(records) + 1))
    data[BIRTH] = [r.birth_date for r in records]
    return pl.DataFrame(data, schema=SCHEMA)
