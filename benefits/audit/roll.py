"""The roll (名册): who a county pays, on which line, how much a month, since
when — one row per person and line paid. CSV (UTF-8 with or without BOM, or
UTF-16/32 with one), XLSX (first sheet) or Parquet, read by the caseload's
readers (``benefits.caseload``, ``engine.columnar.readers``) with the
roll's own header, and validated column-wise: a row the vectorised checks
cannot pass goes through ``row_problem`` one by one, which names its fault
in Chinese. A file that cannot be read, or a bad header, is one
CaseloadError / LayoutError.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Optional

import polars as pl

from ..caseload import MAX_CELL, CaseloadError, LayoutError, detect_format, xlsx_rows
from ..engine.columnar.readers import read_csv_frame
from ..engine.columnar.schema import ROW
from ..engine.columnar.validate import SOURCE, id_number_ok
from ..engine.identity import CURRENT_COUNTIES, IdentityError, normalise_number, parse_id_number
from .mapping import LineNames

ID, LINE, WRITTEN, AMOUNT, SINCE, COUNTY, HOUSEHOLD = ("id_number", "line", "written", "amount", "since",
                                                       "county", "household")
FIELDS_ZH = {ID: "身份证号", LINE: "救助项目", AMOUNT: "月发放金额", SINCE: "起始日期", COUNTY: "县区",
             HOUSEHOLD: "户号"}
# the header may name a column in English or in Chinese
ALIASES = {ID: ("id_number", "身份证号", "身份证号码", "公民身份号码"),
           LINE: ("line", "救助项目", "项目", "救助类别"),
           AMOUNT: ("amount", "月发放金额", "发放金额", "月金额", "金额"),
           SINCE: ("since", "起始日期", "享受起始日期", "起始时间"),
           COUNTY: ("county", "县区", "县（市、区）", "县市区"),
           HOUSEHOLD: ("household", "户号", "户主身份证号")}
REQUIRED = (ID, LINE, AMOUNT, SINCE)
COLUMN_OF = {alias: column for column, names in ALIASES.items() for alias in names}
COUNTY_OF = {**{code: code for code in CURRENT_COUNTIES}, **{name: code for code, name in CURRENT_COUNTIES.items()}}
MAX_HOUSEHOLD = 64
ROLL_SCHEMA = {ROW: pl.Int64, ID: pl.String, LINE: pl.String, WRITTEN: pl.String, AMOUNT: pl.Float64,
               SINCE: pl.Date, COUNTY: pl.String, HOUSEHOLD: pl.String}
_AMOUNT_RE = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def roll_header(header: list) -> list[Optional[str]]:
    """The roll's header row → its columns (blank headers kept as None);
    LayoutError for an unknown, repeated or missing column."""
    names = [None if h is None or str(h).strip() == "" else str(h).strip().lstrip("\ufeff") for h in header]
    if any(n is not None and ("\x00" in n or any("\udc00" <= ch <= "\udcff" for ch in n)) for n in names):
        raise LayoutError("名册第1行（列名）不是UTF-8编码的文本：请把文件另存为 UTF-8（如Excel的“CSV UTF-8”）")
    unknown = [n for n in names if n is not None and n not in COLUMN_OF]
    if unknown:
        raise LayoutError("名册中不认识的列：" + "、".join(unknown) + "。应为 身份证号、救助项目、月发放金额、"
                          "起始日期（可加 县区、户号），见 docs/audit.md")
    columns = [None if n is None else COLUMN_OF[n] for n in names]
    seen = set()
    for n, c in zip(names, columns):
        if c is not None and c in seen:
            raise LayoutError(f"名册的列“{FIELDS_ZH[c]}”出现了两次（{n}）")
        seen.add(c)
    missing = [FIELDS_ZH[c] for c in REQUIRED if c not in seen]
    if missing:
        raise LayoutError("名册缺少必需的列：" + "、".join(missing))
    return columns


@dataclass
class Roll:
    """A validated roll: ``frame`` (ROLL_SCHEMA, valid rows in file order),
    ``rejects`` ({row, field, message}, in row order), ``rows`` read."""
    frame: pl.DataFrame
    rejects: list[dict]
    rows: int


def read_roll(path, names: LineNames, as_of: Optional[dt.date] = None, fmt: Optional[str] = None) -> Roll:
    """Read and validate a roll file; ``as_of``: a row paid only from a later day is rejected."""
    path = Path(path)
    if not path.is_file():
        raise CaseloadError(f"找不到名册文件：{path}")
    fmt = fmt or detect_format(path.name)
    if fmt == "csv":
        raw = read_csv_frame(path, roll_header)
    elif fmt == "xlsx":
        raw = _xlsx(path)
    elif fmt == "parquet":
        raw = _parquet(path)
    else:
        raise CaseloadError("名册应为 .csv、.xlsx 或 .parquet 文件")
    return validate_roll(raw, names, as_of)


def _xlsx(path) -> pl.DataFrame:
    columns, rows, _ = xlsx_rows(path, roll_header)
    named = [i for i, c in enumerate(columns) if c is not None]
    numbers, cells, sources = [], {i: [] for i in named}, []
    for number, row in rows:
        numbers.append(number)
        extra = any(v not in (None, "") for v in row[len(columns):]) or any(
            columns[i] is None and row[i] not in (None, "") for i in range(min(len(row), len(columns))))
        sources.append(json.dumps({"$row": {"cells": ["(记录)", _EXTRA], "bad": True}}) if extra else None)
        for i in named:
            cells[i].append(_sheet_text(row[i]) if i < len(row) else None)
    data = {ROW: pl.Series(numbers, dtype=pl.Int64),
            **{columns[i]: pl.Series(v, dtype=pl.String) for i, v in cells.items()}}
    if any(s is not None for s in sources):
        data[SOURCE] = pl.Series(sources, dtype=pl.String)
    return pl.DataFrame(data)


_EXTRA = "本行在列名以外的单元格里填了值：单元格中的逗号须加引号，或删去多余的单元格"


def _sheet_text(value) -> Optional[str]:
    """A typed spreadsheet cell as the text a CSV would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _parquet(path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise CaseloadError(f"无法读取Parquet名册：{exc}") from None
    columns = roll_header(frame.columns)
    out = [pl.col(n).cast(pl.String).alias(c) for n, c in zip(frame.columns, columns) if c is not None]
    blank = pl.all_horizontal(pl.col(n).cast(pl.String).str.strip_chars().fill_null("") == "" for n in frame.columns)
    return frame.with_row_index(ROW, offset=1).filter(~blank).select(pl.col(ROW).cast(pl.Int64), *out)


# ------------------------------------------------------------------ validation

def _cells(raw: pl.DataFrame) -> pl.DataFrame:
    """The raw text columns, stripped, every optional one present."""
    cols = []
    for c in (ID, LINE, AMOUNT, SINCE, COUNTY, HOUSEHOLD):
        cols.append((pl.col(c).str.strip_chars() if c in raw.columns else pl.lit(None, pl.String)).alias(c))
    return raw.select(pl.col(ROW), *cols, *([SOURCE] if SOURCE in raw.columns else []))


def validate_roll(raw: pl.DataFrame, names: LineNames, as_of: Optional[dt.date] = None) -> Roll:
    """Raw text cells (``row`` + roll columns) → valid rows and rejects."""
    cells = _cells(raw)
    id_ok = id_number_ok(pl.col(ID))
    line = pl.col(LINE).replace_strict(names.names, default=None, return_dtype=pl.String)
    amount_ok = pl.col(AMOUNT).str.contains(_AMOUNT_RE)
    since = pl.col(SINCE).str.to_date("%Y-%m-%d", strict=False)
    since_ok = pl.col(SINCE).str.contains(_DATE_RE) & since.is_not_null() & (since.dt.year() >= 1900)
    if as_of is not None:
        since_ok = since_ok & (since <= pl.lit(as_of))
    county = pl.col(COUNTY).replace_strict(COUNTY_OF, default=None, return_dtype=pl.String)
    county_ok = pl.col(COUNTY).is_null() | (pl.col(COUNTY) == "") | county.is_not_null()
    household_ok = pl.col(HOUSEHOLD).is_null() | (pl.col(HOUSEHOLD).str.len_chars() <= MAX_HOUSEHOLD)
    fast = (id_ok & line.is_not_null() & amount_ok & since_ok & county_ok & household_ok).fill_null(False)
    if SOURCE in cells.columns:
        fast = fast & pl.col(SOURCE).is_null()
    typed = cells.with_columns(
        __fast=fast, __line=line, __amount=pl.col(AMOUNT).cast(pl.Float64, strict=False), __since=since,
        __county=pl.when(pl.col(COUNTY) == "").then(None).otherwise(county),
        __household=pl.when(pl.col(HOUSEHOLD) == "").then(None).otherwise(pl.col(HOUSEHOLD)))
    good = typed.filter("__fast").select(
        ROW, pl.col(ID).str.to_uppercase(), pl.col("__line").alias(LINE), pl.col(LINE).alias(WRITTEN), pl.col("__amount").alias(AMOUNT),
        pl.col("__since").alias(SINCE), pl.col("__county").alias(COUNTY), pl.col("__household").alias(HOUSEHOLD))
    rejects, fixed = [], []
    slow = typed.filter(~pl.col("__fast"))
    for row in slow.iter_rows(named=True):
        problems, value = row_problem(row, names, as_of)
        if problems:
            rejects += [{"row": row[ROW], "field": f, "message": m} for f, m in problems]
        else:
            fixed.append(value)
    if fixed:
        good = pl.concat([good, pl.DataFrame(fixed, schema=ROLL_SCHEMA, orient="row")]).sort(ROW)
    good, copies = _copies(good)
    rejects = sorted(rejects + copies, key=lambda r: r["row"])
    return Roll(good, rejects, raw.height)


def _copies(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[dict]]:
    """A row the same in every cell as an earlier one is a copy: rejected
    (two rows of one line that differ in any cell, even in how the line is
    written, are two payments: 重复发放)."""
    key = [ID, WRITTEN, AMOUNT, SINCE, COUNTY, HOUSEHOLD]
    marked = frame.with_columns(__first=pl.col(ROW).min().over(key))
    copies = marked.filter(pl.col(ROW) != pl.col("__first"))
    rejects = [{"row": r, "field": "(记录)", "message": f"与第{first}行完全相同（重复的行），已略去"}
               for r, first in copies.select(ROW, "__first").iter_rows()]
    return marked.filter(pl.col(ROW) == pl.col("__first")).drop("__first"), rejects


def row_problem(row: dict, names: LineNames, as_of: Optional[dt.date]) -> tuple[list[tuple[str, str]], tuple]:
    """One row the column checks did not pass: ([(field, message)], the
    valid row as a tuple of ROLL_SCHEMA when there is no problem)."""
    source = row.get(SOURCE)
    if source is not None:
        kept = json.loads(source)
        if isinstance(kept, dict) and "$row" in kept:
            whole = kept["$row"]
            if whole.get("bad"):
                return [tuple(whole["cells"][:2])], ()
            cells, named = whole["cells"], whole.get("names") or []
            if len(cells) > len(named):
                return [("(记录)", f"本行有{len(cells)}个单元格，多于列名的{len(named)}个：单元格中的逗号须加引号")], ()
            if any(n is None and c not in (None, "") for n, c in zip(named, cells)):
                return [("(记录)", "某列没有列名，却填了值")], ()
            if any(isinstance(c, str) and len(c) > MAX_CELL for c in cells):
                return [("(记录)", f"有单元格超过{MAX_CELL // 1024} KB")], ()
        return [("(记录)", "此行有不是UTF-8编码的字符：请把文件另存为 UTF-8")], ()
    problems = []
    id_number = row[ID]
    if not id_number:
        problems.append((ID, "缺少身份证号"))
    else:
        try:
            id_number = normalise_number(id_number)
            parse_id_number(id_number)
        except IdentityError as exc:
            problems.append((ID, str(exc)))
    line = names.line_of(row[LINE]) if row[LINE] else None
    if not row[LINE]:
        problems.append((LINE, "缺少救助项目"))
    elif line is None:
        problems.append((LINE, f"不认识的救助项目“{_short(row[LINE])}”：应为规则编号、规则名称或"
                               f"{names.where}中列出的叫法"))
    amount, message = _amount(row[AMOUNT])
    if message:
        problems.append((AMOUNT, message))
    since = None
    if not row[SINCE]:
        problems.append((SINCE, "缺少起始日期"))
    else:
        try:
            since = dt.date.fromisoformat(row[SINCE]) if re.fullmatch(_DATE_RE, row[SINCE]) else None
        except ValueError:
            since = None
        if since is None or since.year < 1900:
            problems.append((SINCE, f"起始日期应为有效日期 YYYY-MM-DD，实际为“{_short(row[SINCE])}”"))
        elif as_of is not None and since > as_of:
            problems.append((SINCE, f"起始日期 {since} 晚于核对日 {as_of}：核对日尚未发放"))
    county = None
    if row[COUNTY]:
        county = COUNTY_OF.get(row[COUNTY])
        if county is None:
            problems.append((COUNTY, f"县区应为三门峡市现行县区的代码或名称，实际为“{_short(row[COUNTY])}”"))
    household = row[HOUSEHOLD] or None
    if household is not None and len(household) > MAX_HOUSEHOLD:
        problems.append((HOUSEHOLD, f"户号过长：最多 {MAX_HOUSEHOLD} 个字符"))
    if problems:
        return problems, ()
    return [], (row[ROW], id_number, line, row[LINE], amount, since, county, household)


def _amount(text: Optional[str]) -> tuple[Optional[float], Optional[str]]:
    if not text:
        return None, "缺少月发放金额"
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None, f"月发放金额应为数字（元），实际为“{_short(text)}”"
    if not value.is_finite():
        return None, f"月发放金额应为数字（元），实际为“{_short(text)}”"
    if value < 0:
        return None, f"月发放金额不能为负数：{_short(text)}"
    if value != value.quantize(Decimal("0.01")):
        return None, f"月发放金额最多两位小数（到分）：{_short(text)}"
    if value >= Decimal("1e9"):
        return None, f"月发放金额过大：{_short(text)}"
    return float(value), None


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
