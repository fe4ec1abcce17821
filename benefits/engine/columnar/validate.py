"""Column-wise validation of a caseload (整表校验): raw text cells → the typed
applicant frame, accepting and rejecting exactly what the single-applicant
path (``unflatten`` + ``parse_applicant``) does, with the same messages.

How: vectorised checks decide which rows are *certainly* valid and compute
their typed values; every other row (a bad value, or a value written in a
form the checks do not cover, e.g. ``1,200``, ``5.0`` or full-width digits)
goes through the exact slow path, which gives its rejects or its record.
So a check here may be too strict (that only costs speed), never too lax.

The per-field checks are read off the pydantic model (type, Literal values,
ge/le, max_length, required). Validators are vectorised only when they are
in ``KNOWN_VALIDATORS`` *and* their source is unchanged since they were
vectorised (``FINGERPRINT``): a field with any other validator, or a changed
one, sends its non-blank rows down the slow path.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import json
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import AfterValidator, BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

from ...caseload import FALSE_WORDS, TRUE_WORDS, BadRow, cell_value, check_header, unflatten
from .. import applicant as model
from .. import identity
from ..applicant import Applicant, FieldError, InvalidApplicant, parse_applicant
from .schema import BIRTH, FIELDS, ROW, SCHEMA, frame_from_records

SOURCE = "_source"
"""Optional raw column: where non-null, a JSON array of the row's exact cell
values in column order, used instead of the cells, always by the slow path (a
reader puts here what a text column cannot hold: bytes that are not UTF-8,
typed spreadsheet cells; dates and times as {"$type": …, "value": …})."""

_TAGGED = {"datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat,
           "time": dt.time.fromisoformat, "timedelta": lambda seconds: dt.timedelta(seconds=seconds)}


def _untag(obj: dict):
    return _TAGGED[obj["$type"]](obj["value"]) if set(obj) == {"$type", "value"} else obj

# unflatten strips every cell with Python's str.strip(); polars' strip_chars()
# removes the same characters except these, so a text left starting or
# ending with one of them is not decided here
PY_SPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_NOT_STRIPPED = "".join(c for c, left in zip(PY_SPACE, pl.Series([f"a{c}" for c in PY_SPACE]).str.strip_chars())
                        if left != "a")
_JSON_WS = r"[ \t\n\r]*"
_MAX_DIGITS = 15          # integers below 2**53: float() and int() agree


# ---------------------------------------------------------------- the model

def _id_validator():
    return model.IdNumber.__metadata__[-1]


def _certificate_validator():
    return model.CertificateNumber.__metadata__[-1]


def _validator_source(validator) -> str:
    func = getattr(validator, "func", validator)
    func = getattr(func, "__func__", func)
    return inspect.getsource(func)


@functools.cache
def _fingerprint() -> str:
    """Source of every piece of the slow path that the checks here re-state."""
    parts = [inspect.getsource(f) for f in (
        identity.parse_id_number, identity.parse_certificate_number, identity.check_character,
        model._checked, model._cross_checks, model.parse_applicant, cell_value, unflatten,
        identity.normalise_number, model.in_date_window, model.invisible)]
    parts += [identity._ID_RE.pattern, identity._CERT_RE.pattern, repr(identity._WEIGHTS), identity._CHECK,
              repr(model.EARLIEST_DATE), repr(model.LATEST_DATE), repr(model._Strict.model_config),
              repr(sorted(model._HIDDEN)), repr(sorted(model._BLANK_SHAPES))]
    for name, deco in sorted(Applicant.__pydantic_decorators__.field_validators.items()):
        parts.append(name + repr(deco.info) + _validator_source(deco.func))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


FINGERPRINT = "896d67a7bbef3ce7"
"""``_fingerprint()`` when the vectorised checks below were last reviewed
against the slow path. If any of it changes, every row takes the slow path
(correct, slower; ``fallbacks()`` says so and a test fails) until someone
re-reads the change, updates the checks and this value."""

KNOWN_VALIDATORS = {"normalise_number", "id_number", "certificate_number", "_name", "_county", "_date"}
"""Validators with a vectorised twin below (``_validator_check``)."""


@dataclass
class Leaf:
    """One scalar field: where it is, its base type, constraints, validators."""
    path: str
    kind: str                         # bool int float str literal date list other
    required: bool
    literals: tuple = ()
    ge: Optional[float] = None
    le: Optional[float] = None
    min_len: Optional[int] = None
    max_len: Optional[int] = None
    finite: bool = False
    validators: list = field(default_factory=list)
    item: Optional["Group"] = None    # for a list of models
    scalar: Optional["Leaf"] = None   # for a list of plain values
    unknown: list = field(default_factory=list)   # why it cannot be decided column-wise


@dataclass
class Group:
    """A (nested) model: its own leaves and sub-models."""
    path: str
    required: bool
    leaves: list
    groups: list
    unknown: list


def _named_validator(meta) -> Optional[str]:
    if isinstance(meta, BeforeValidator) and meta.func is identity.normalise_number:
        # full-width digits become ASCII: the checks here take ASCII only, so
        # any text it would change goes down the exact path
        return "normalise_number"
    if meta is _id_validator() or (isinstance(meta, AfterValidator) and meta.func is _id_validator().func):
        return "id_number"
    if meta is _certificate_validator() or (isinstance(meta, AfterValidator)
                                            and meta.func is _certificate_validator().func):
        return "certificate_number"
    if isinstance(meta, AfterValidator) and meta.func is model.in_date_window:
        return "_date"            # the same window as the evaluation day's
    return None


def _absorb(leaf: Leaf, metadata) -> None:
    for meta in metadata:
        kind = type(meta).__name__
        if isinstance(meta, FieldInfo):
            _absorb(leaf, meta.metadata)
        elif kind == "Ge":
            leaf.ge = meta.ge
        elif kind == "Le":
            leaf.le = meta.le
        elif kind == "MinLen":
            leaf.min_len = meta.min_length
        elif kind == "MaxLen":
            leaf.max_len = meta.max_length
        elif kind == "AllowInfNan":
            leaf.finite = not meta.allow_inf_nan
        elif _named_validator(meta):
            leaf.validators.append(_named_validator(meta))
        else:
            leaf.unknown.append(f"{leaf.path}: {meta!r}")


def _leaf(path: str, info: FieldInfo) -> Leaf | Group:
    leaf = Leaf(path, "other", info.is_required())
    annotation = info.annotation
    _absorb(leaf, info.metadata)
    if not info.is_required() and info.default is not None:
        leaf.unknown.append(f"{path}: default {info.default!r}")
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *meta = typing.get_args(annotation)
            _absorb(leaf, meta)
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                leaf.unknown.append(f"{path}: union {annotation!r}")
                return leaf
            annotation = args[0]
        else:
            break
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _group(annotation, path, info.is_required())
    if origin is typing.Literal and all(isinstance(v, str) for v in typing.get_args(annotation)):
        leaf.kind, leaf.literals = "literal", typing.get_args(annotation)
    elif origin is list:
        (item,) = typing.get_args(annotation)
        leaf.kind = "list"
        if isinstance(item, type) and issubclass(item, BaseModel):
            leaf.item = _group(item, "", True)
        else:
            scalar = _leaf(path, FieldInfo.from_annotation(item))
            if isinstance(scalar, Leaf) and scalar.kind in ("bool", "int", "float", "literal", "str", "date"):
                leaf.scalar = scalar
            else:
                leaf.unknown.append(f"{path}: list of {item!r}")
    elif annotation in (bool, int, float, str):
        leaf.kind = annotation.__name__
    elif annotation is dt.date:
        leaf.kind = "date"
    else:
        leaf.unknown.append(f"{path}: type {annotation!r}")
    return leaf


def _group(cls: type[BaseModel], path: str, required: bool) -> Group:
    prefix = f"{path}." if path else ""
    group = Group(path, required, [], [], [])
    config = cls.model_config
    if config.get("strict") is not True or config.get("extra") != "forbid":
        group.unknown.append(f"{cls.__name__}: model_config {config!r}")
    decorators = cls.__pydantic_decorators__
    for kind in ("model_validators", "root_validators", "validators"):
        if getattr(decorators, kind, None):
            group.unknown.append(f"{cls.__name__}: {kind}")
    for name, info in cls.model_fields.items():
        node = _leaf(prefix + name, info)
        (group.groups if isinstance(node, Group) else group.leaves).append(node)
    for name, deco in decorators.field_validators.items():
        for field_name in deco.info.fields:
            target = next((leaf for leaf in group.leaves if leaf.path == prefix + field_name), None)
            if target is None:
                group.unknown.append(f"{cls.__name__}.{name} on {field_name}")
            elif cls is Applicant and name in KNOWN_VALIDATORS and deco.info.mode == "after":
                target.validators.append(name)
            else:
                target.unknown.append(f"{cls.__name__}.{name}")
    for leaf in group.leaves:
        leaf.unknown += [f"{leaf.path}: validator {v}" for v in leaf.validators if v not in KNOWN_VALIDATORS]
    return group


def _walk(group: Group):
    yield from group.leaves
    for sub in group.groups:
        yield from _walk(sub)


def plan() -> Group:
    """The model as seen by the vectorised checks (re-read on every call, so a
    changed model is never judged by a stale plan)."""
    return _group(Applicant, "", True)


def fallbacks(top: Optional[Group] = None) -> list[str]:
    """Why some fields cannot be decided column-wise (empty: all can)."""
    top = top or plan()
    out = []

    def visit(group: Group):
        out.extend(group.unknown)
        for leaf in group.leaves:
            out.extend(leaf.unknown)
            if leaf.item is not None:
                visit(leaf.item)
            if leaf.scalar is not None:
                out.extend(leaf.scalar.unknown)
        for sub in group.groups:
            visit(sub)
    visit(top)
    if _fingerprint() != FINGERPRINT:
        out.append(f"slow path changed since it was vectorised (fingerprint {_fingerprint()})")
    return out


# ------------------------------------------------------- vectorised checks

def _ascii_nocase(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isascii() and c.isalpha() else re.escape(c) for c in word)


@functools.cache
def _bool_words() -> tuple[str, list]:
    """(pattern of the words cell_value reads as a flag, the ones meaning true)."""
    words = TRUE_WORDS | FALSE_WORDS
    return "^(?:" + "|".join(_ascii_nocase(w) for w in sorted(words)) + ")$", sorted(TRUE_WORDS)


def _digits(expr: pl.Expr, start: int, length: int) -> pl.Expr:
    return expr.str.slice(start, length).cast(pl.Int32, strict=False)


def _id_int(value: pl.Expr) -> pl.Expr:
    """The first 17 characters as one integer (meaningful where the shape is
    right); the digits are taken from it arithmetically, which is far cheaper
    than 17 string slices."""
    return value.str.slice(0, 17).cast(pl.Int64, strict=False)


def _id_checks(value: pl.Expr, n: Optional[pl.Expr] = None) -> tuple[pl.Expr, pl.Expr]:
    """(ok, birth date) of an ID number in its plain ASCII form; anything
    else is 'not certainly valid' (the slow path decides). ``n``: a column
    holding ``_id_int(value)``, if there is one."""
    shape = value.str.contains(r"^[0-9]{17}[0-9Xx]$")
    n = _id_int(value) if n is None else n

    birth = pl.when(shape).then(value.str.slice(6, 8)).str.to_date("%Y%m%d", strict=False)  # null if no such day
    birth = pl.when(birth.dt.year() >= 1880).then(birth)
    total = sum((n // 10 ** (16 - i)) % 10 * w for i, w in enumerate(identity._WEIGHTS))
    written = value.str.slice(17, 1).str.to_uppercase().replace_strict(
        list(identity._CHECK), list(range(11)), default=-1, return_dtype=pl.Int64)
    ok = shape & birth.is_not_null() & (total % 11 == written)
    return ok.fill_null(False), birth


def id_number_ok(value: pl.Expr) -> pl.Expr:
    """Whether a stripped text cell is certainly a valid ID number (MOD 11-2
    check character, birth date), column-wise: for other readers (the roll,
    benefits/audit/roll.py); a false one goes to ``identity.parse_id_number``."""
    return _id_checks(value)[0]


def _validator_check(name: str, value: pl.Expr, n: Optional[pl.Expr] = None,
                     path: Optional[str] = None) -> tuple[pl.Expr, pl.Expr]:
    """(ok, typed value) for a known validator on an already stripped text
    cell (``n``: see ``_id_checks``)."""
    if name == "normalise_number":
        # ASCII digits and X/x only pass the checks below: normalising them
        # changes nothing the record keeps (upper case is applied there)
        return value.str.contains(r"^[0-9A-Za-z]*$").fill_null(False), value
    if name == "id_number":
        ok, _ = _id_checks(value, n)
        return ok, value.str.to_uppercase()
    if name == "certificate_number":
        shape = value.str.contains(r"^[0-9]{17}[0-9Xx][1-7][1-4](?:[Bb][1-9])?$")
        if path == "certificate.number":
            # the fast path requires its first 18 characters to equal the
            # applicant's checked ID number (cross-field checks in _fast)
            return shape.fill_null(False), value.str.to_uppercase()
        ok, _ = _id_checks(value.str.slice(0, 18), n)
        return (shape & ok).fill_null(False), value.str.to_uppercase()
    if name == "_name":
        # only characters certainly visible in every Unicode version (CJK,
        # ASCII letters and digits, space, middle dot); any other name takes
        # the exact path, which refuses control and zero-width characters
        plain = value.str.contains(r"^[\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}A-Za-z0-9 ·]+$")
        return (value.str.len_chars() > 0) & plain, value
    if name == "_county":
        return value.is_in(list(identity.CURRENT_COUNTIES)), value
    if name == "_date":
        return value.is_between(model.EARLIEST_DATE, model.LATEST_DATE), value
    raise KeyError(name)


def _date_of(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    shape = text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    day = pl.when(shape).then(text).str.to_date("%Y-%m-%d", strict=False)     # null if no such day
    day = pl.when(day.dt.year() >= 1000).then(day)
    return day.is_not_null(), day


def _bounds(leaf: Leaf, value: pl.Expr) -> pl.Expr:
    ok = value.is_not_null()
    if leaf.kind == "float":
        ok = ok & value.is_finite() if leaf.finite else ok
    if leaf.ge is not None:
        ok = ok & (value >= leaf.ge)
    if leaf.le is not None:
        ok = ok & (value <= leaf.le)
    if leaf.kind in ("str", "literal"):
        if leaf.min_len is not None:
            ok = ok & (value.str.len_chars() >= leaf.min_len)
        if leaf.max_len is not None:
            ok = ok & (value.str.len_chars() <= leaf.max_len)
    if leaf.kind == "list":
        if leaf.min_len is not None:
            ok = ok & (value.list.len() >= leaf.min_len)
        if leaf.max_len is not None:
            ok = ok & (value.list.len() <= leaf.max_len)
    return ok


def _cell_check(leaf: Leaf, text: pl.Expr, n: Optional[pl.Expr] = None) -> tuple[pl.Expr, pl.Expr]:
    """(ok, typed value) of one non-blank, stripped text cell as ``cell_value``
    and pydantic would read it; ok False where not certainly valid."""
    kind = leaf.kind
    if kind == "bool":
        pattern, true = _bool_words()
        return text.str.contains(pattern), text.str.to_lowercase().is_in(true)
    if kind == "int":
        shape = text.str.contains(rf"^[0-9]{{1,{_MAX_DIGITS}}}(?:\.0*)?$")
        value = text.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)   # exact below 2**53
        ok, typed = shape, value
    elif kind == "float":
        shape = text.str.contains(rf"^[0-9]{{1,{_MAX_DIGITS}}}(?:\.[0-9]{{1,{_MAX_DIGITS}}})?$")
        value = text.cast(pl.Float64, strict=False)
        ok, typed = shape, value
    elif kind == "literal":
        ok, typed = text.is_in(list(leaf.literals)), text
    elif kind == "str":
        edge = f"[{re.escape(_NOT_STRIPPED)}]"
        ok, typed = (~text.str.contains(f"^{edge}|{edge}$")) if _NOT_STRIPPED else pl.lit(True), text
    elif kind == "date":
        ok, typed = _date_of(text)
    else:
        raise KeyError(kind)
    ok = ok & _bounds(leaf, typed)
    for name in leaf.validators:
        v_ok, typed = _validator_check(name, typed, n, leaf.path)
        ok = ok & v_ok
    return ok.fill_null(False), typed


# JSON list cells: an exact grammar of the plain form (keys in model order,
# each at most once, no escapes), decoded by polars, then checked as cells.

def _json_value(leaf: Leaf) -> Optional[str]:
    if leaf.kind == "literal":
        pattern = "(?:" + "|".join(re.escape(json.dumps(v)) for v in leaf.literals) + ")"
    elif leaf.kind == "bool":
        pattern = "(?:true|false)"
    elif leaf.kind == "int":
        pattern = rf"(?:0|[1-9][0-9]{{0,{_MAX_DIGITS - 1}}})"
    elif leaf.kind == "float":
        pattern = rf"(?:0|[1-9][0-9]{{0,{_MAX_DIGITS - 1}}})(?:\.[0-9]{{1,{_MAX_DIGITS}}})?"
    elif leaf.kind in ("str", "date"):
        pattern = r'"[^"\\\x00-\x1f]*"'
    else:
        return None
    return pattern if leaf.required else f"(?:{pattern}|null)"


def _json_item(group: Group) -> Optional[str]:
    if group.groups or group.unknown or any(leaf.unknown or leaf.kind in ("list", "other") for leaf in group.leaves):
        return None
    ws = _JSON_WS
    entries = [f'"{re.escape(leaf.path)}"{ws}:{ws}{_json_value(leaf)}' for leaf in group.leaves]
    required = [leaf.required for leaf in group.leaves]
    alternatives = []
    for first in range(len(entries)):
        if any(required[:first]):
            break
        rest = "".join(f"{ws},{ws}{entries[j]}" if required[j] else f"(?:{ws},{ws}{entries[j]})?"
                       for j in range(first + 1, len(entries)))
        alternatives.append(entries[first] + rest)
    body = "(?:" + "|".join(alternatives) + ")"
    if not any(required):
        body += "?"
    return r"\{" + ws + body + ws + r"\}"


def _decode_dtype(group: Group) -> pl.Struct:
    kinds = {"bool": pl.Boolean, "int": pl.Int64, "float": pl.Float64}
    return pl.Struct({leaf.path: kinds.get(leaf.kind, pl.String) for leaf in group.leaves})


def _item_check(sub: Leaf, value: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(ok, typed) of one decoded JSON value (no stripping inside JSON)."""
    if sub.kind in ("str", "date", "literal"):
        ok, typed = _cell_check(sub, value)
    else:
        ok, typed = _bounds(sub, value), value
        for name in sub.validators:
            v_ok, typed = _validator_check(name, typed)
            ok = ok & v_ok
    present = value.is_not_null()
    return ((~present | ok) if not sub.required else ok), pl.when(present).then(typed)


_DECODED = {"bool": pl.Boolean, "int": pl.Int64, "float": pl.Float64}


def _list_mapping(leaf: Leaf, keys: pl.DataFrame, key: str, dtype: pl.DataType) -> pl.DataFrame:
    """Distinct stripped JSON cells ``keys[key]`` → (key, ``__ok``, ``__v``)."""
    if leaf.scalar is not None and not leaf.scalar.unknown:
        item = _json_value(leaf.scalar)
        element = _DECODED.get(leaf.scalar.kind, pl.String)
    else:
        item = _json_item(leaf.item) if leaf.item is not None else None
        element = _decode_dtype(leaf.item) if item is not None else None
    if item is None:
        return keys.with_columns(__ok=pl.lit(False), __v=pl.lit(None, dtype))
    ws = _JSON_WS
    grammar = rf"^(?:null|\[{ws}(?:{item}(?:{ws},{ws}{item})*)?{ws}\])$"
    keys = keys.with_columns(__shape=pl.col(key).str.contains(grammar))
    keys = keys.with_columns(__d=pl.when("__shape").then(pl.col(key)).str.json_decode(pl.List(element)))
    if leaf.scalar is not None:
        item_ok, typed = _item_check(leaf.scalar, pl.element())
    else:
        checks = [_item_check(sub, pl.element().struct.field(sub.path)) for sub in leaf.item.leaves]
        item_ok = pl.all_horizontal(ok for ok, _ in checks)
        typed = pl.struct(value.alias(sub.path) for sub, (_, value) in zip(leaf.item.leaves, checks))
    decoded = pl.col("__d")
    items_ok = decoded.list.eval(item_ok.fill_null(False)).list.all()
    ok = pl.col("__shape") & (decoded.is_null() | (items_ok & _bounds(leaf, decoded)))
    return keys.select(key, __ok=ok.fill_null(False), __v=decoded.list.eval(typed).cast(dtype))


# ----------------------------------------------------------------- the frame

def _gather_lists(values: pl.Series, at: pl.Series) -> pl.Series:
    """``values.gather(at)`` for a list column, through arrow offsets: polars'
    own gather of a list of structs costs several times more."""
    lists = values.to_arrow()
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    lists = lists.cast(pa.large_list(lists.type.value_type))
    offsets = lists.offsets.to_numpy()
    where = at.fill_null(0).to_numpy().astype(np.int64)
    valid = at.is_not_null().to_numpy() & values.is_not_null().gather(at.fill_null(0)).to_numpy()
    start = offsets[where]
    length = np.where(valid, offsets[where + 1] - start, 0)
    new_offsets = np.zeros(len(at) + 1, dtype=np.int64)
    np.cumsum(length, out=new_offsets[1:])
    items = lists.values.take(pa.array(np.repeat(start - new_offsets[:-1], length) + np.arange(new_offsets[-1])))
    out = pa.LargeListArray.from_arrays(pa.array(new_offsets), items, mask=pa.array(~valid))
    return pl.Series(values.name, out).cast(values.dtype)


def _stripped(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars()


_SHAPED = {"id_number", "certificate_number", "_county"}


def _text(leaf: Leaf) -> pl.Expr:
    """The cell as the checks see it. Only free text is stripped: every other
    check matches the whole cell, so a cell with spaces around it fails the
    check and its row takes the slow path, which strips it (rare; stripping
    every column costs more than all the checks)."""
    if leaf.kind == "str" and not _SHAPED & set(leaf.validators):
        return _stripped(leaf.path)
    return pl.col(leaf.path)


def _fast(raw: pl.DataFrame, top: Group) -> pl.DataFrame:
    """Every row with ``__fast`` (certainly valid) and its typed columns.
    Staged so that each text, flag and value is computed once."""
    # a column with no cell at all (rare fields) is the same as no column
    leaves = [leaf for leaf in _walk(top) if leaf.path in raw.columns and raw[leaf.path].null_count() < len(raw)]
    text = {leaf.path: pl.col(f"__t.{leaf.path}") for leaf in leaves}
    present = {leaf.path: pl.col(f"__p.{leaf.path}") for leaf in leaves}
    decoded = []
    for leaf in leaves:
        if leaf.kind == "list" and not leaf.unknown:
            # cells repeat ([], common households): decode each distinct text once,
            # joined back on a narrow frame (a join on the wide one is slow)
            path, key = leaf.path, f"__t.{leaf.path}"
            cells = raw.select(_text(leaf).alias(key))
            mapping = _list_mapping(leaf, cells.unique().drop_nulls(), key, FIELDS[path]).with_row_index("__i")
            at = cells.join(mapping.select(key, "__i"), on=key, how="left", maintain_order="left")["__i"]
            decoded += [mapping["__ok"].gather(at).alias(f"__ok.{path}"),
                        _gather_lists(mapping["__v"], at).alias(f"__v.{path}")]
    lazy = raw.hstack(decoded).lazy().with_columns(_text(leaf).alias(f"__t.{leaf.path}") for leaf in leaves)
    lazy = lazy.with_columns((t.fill_null("") != "").alias(f"__p.{path}") for path, t in text.items())
    numbered = [leaf.path for leaf in leaves if {"id_number", "certificate_number"} & set(leaf.validators)]
    lazy = lazy.with_columns(_id_int(text[path]).alias(f"__n.{path}") for path in numbered)
    oks, typed = [], {}
    for leaf in leaves:
        path, dtype = leaf.path, FIELDS[leaf.path]
        if leaf.unknown:
            ok, value = pl.lit(False), pl.lit(None, dtype)
        elif leaf.kind == "list":
            ok, value = pl.col(f"__ok.{path}"), pl.col(f"__v.{path}")
        else:
            ok, value = _cell_check(leaf, text[path], pl.col(f"__n.{path}") if path in numbered else None)
        oks.append((~present[path] | ok.fill_null(False)).alias(f"__ok.{path}"))
        typed[path] = pl.when(present[path]).then(value).cast(dtype).alias(path)
    lazy = lazy.with_columns(*oks, *typed.values())

    def group_present(group: Group) -> pl.Expr:
        parts = [present[leaf.path] for leaf in group.leaves if leaf.path in present]
        parts += [group_present(g) for g in group.groups]
        return pl.any_horizontal(parts) if parts else pl.lit(False)

    checks = [pl.col(f"__ok.{leaf.path}") for leaf in leaves]

    def require(group: Group, here: pl.Expr):
        for leaf in group.leaves:
            if leaf.required:
                checks.append(~here | present.get(leaf.path, pl.lit(False)))
        for sub in group.groups:
            sub_here = group_present(sub)
            if sub.required:
                checks.append(~here | sub_here)
            require(sub, sub_here)
        if group.unknown:
            checks.append(~here)
    require(top, pl.lit(True))

    missing = [pl.lit(None, FIELDS[path]).alias(path) for path in FIELDS if path not in typed]
    _, birth = _id_checks(pl.col("id_number"), pl.col("__n.id_number") if "id_number" in numbered else None)
    lazy = lazy.with_columns(*missing, __cert=group_present(_find(top, "certificate")), **{BIRTH: birth})
    cert = pl.col("certificate.number")
    cross = (
        ~pl.col("__cert")
        | ((cert.str.slice(0, 18) == pl.col("id_number"))
           & (_digits(cert, 18, 1) == pl.col("certificate.category"))
           & (_digits(cert, 19, 1) == pl.col("certificate.grade")))
    ).fill_null(False)
    if "certificate.multiple_categories" in FIELDS:     # 多重残疾所含类别 only with category 7
        cross = cross & ~(pl.col("certificate.multiple_categories").is_not_null()
                          & pl.col("certificate.category").ne_missing(7))
    cross = (cross & ~(pl.col("holds_certificate").eq_missing(False) & pl.col("__cert"))
             & ~(pl.col("hukou_local").eq_missing(False) & pl.col("hukou_county").is_not_null())
             & ~(pl.col(BIRTH) > pl.col("evaluation_date")).fill_null(False))
    # 81号: placement facts only for government placement; no disaster date when not affected
    not_placed = pl.col("military.retired_soldier").is_not_null() & (
        pl.col("military.retired_soldier") != "government_placement")
    cross = (cross & ~(not_placed & (pl.col("military.awaiting_placement").eq_missing(True)
                                     | pl.col("military.placement_referred").eq_missing(True)))
             & ~(pl.col("disaster.affected").eq_missing(False) & pl.col("disaster.date").is_not_null())
             & ~(pl.col("military.placed_date").is_not_null()
                 & ~(pl.col("military.placed_date") >= pl.col("military.referral_date")).fill_null(False)))
    fast = (pl.all_horizontal(checks) & cross).fill_null(False)
    return lazy.select(*SCHEMA, __fast=fast).collect()


def _find(group: Group, path: str) -> Group:
    return next(g for g in group.groups if g.path == path)


def slow_row(names: list, cells) -> Applicant | list[FieldError]:
    """The single-applicant path for one sheet row: the record, or its errors."""
    try:
        return parse_applicant(unflatten(names, cells))
    except InvalidApplicant as exc:
        return exc.errors
    except RecursionError as exc:     # json.loads on a deeply nested cell
        return [FieldError(field="(记录)", message=f"无法读取记录：{exc}")]


def validate_frame(raw: pl.DataFrame) -> tuple[pl.DataFrame, list[dict]]:
    """Raw text cells (``row`` + caseload columns) → (the applicant frame of
    the valid rows in input order, rejects ``{"row", "field", "message"}``)."""
    names = [c for c in raw.columns if c not in (ROW, SOURCE)]
    check_header(names)
    bad_types = [c for c in names + ([SOURCE] if SOURCE in raw.columns else []) if raw.schema[c] not in (pl.String, pl.Null)]
    if bad_types:
        raise TypeError(f"raw cells must be text: {bad_types}")
    raw = raw.with_columns(pl.col(ROW).cast(pl.Int64), pl.col(names).cast(pl.String))
    if _fingerprint() == FINGERPRINT:
        fast = _fast(raw, plan())
    else:                                   # the slow path changed: it alone is right
        fast = pl.DataFrame({"__fast": [False] * len(raw)}, schema={"__fast": pl.Boolean}).select(
            *[pl.lit(None, dtype).alias(c) for c, dtype in SCHEMA.items()], "__fast")
    is_fast = fast["__fast"]
    if SOURCE in raw.columns:
        is_fast = is_fast & raw[SOURCE].is_null()
    slow_at = (~is_fast).arg_true().to_list()
    if not slow_at:
        return fast.drop("__fast"), []
    records, record_at, rejects = [], [], []
    slow = raw[slow_at]
    sources = slow[SOURCE].to_list() if SOURCE in raw.columns else [None] * len(slow_at)
    for at, number, cells, source in zip(slow_at, slow[ROW].to_list(), slow.select(names).iter_rows(), sources):
        exact = json.loads(source, object_hook=_untag) if source is not None else cells
        if isinstance(exact, dict) and "$row" in exact:     # the whole row as the reader split it
            row = exact["$row"]
            cells = BadRow(*row["cells"]) if row["bad"] else tuple(row["cells"])
            result = slow_row(row["names"], cells)
        else:
            result = slow_row(names, exact)
        if isinstance(result, list):
            rejects += [{"row": number, "field": e.field, "message": e.message} for e in result]
        else:
            records.append(result)
            record_at.append(at)
    frame = fast.with_row_index("__at").filter(is_fast).select("__at", *SCHEMA)
    if records:
        extra = frame_from_records(records, rows=[raw[ROW][i] for i in record_at])
        frame = pl.concat([frame, extra.with_columns(__at=pl.Series(record_at, dtype=pl.UInt32)).select(frame.columns)])
        frame = frame.sort("__at")
    return frame.drop("__at"), rejects
