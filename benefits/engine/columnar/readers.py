"""Caseload files (台账) → the raw frame ``validate_frame`` takes: ``row`` (the
spreadsheet row, header = row 1) and one text column per named header,
wholly blank rows skipped, exactly as ``benefits.finance.readers`` reads
them for the single-applicant path.

CSV is parsed by polars where that is certainly the same parse as Python's
``csv`` module (UTF-8, no blank lines, no lone carriage returns, a header
polars splits the same way, and no parse error: polars refuses the loose
quoting Python accepts); any other file is read by the ``csv`` module
itself, bytes that are not UTF-8 kept for the row's rejection.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl

from ...finance.columns import check_header
from ...finance.readers import CaseloadError, _csv_rows
from .schema import ROW
from .validate import PY_SPACE, SOURCE

_BOM = b"\xef\xbb\xbf"
_BLANK_CELL = "^[" + re.escape(PY_SPACE) + "]*$"


def _polars_csv(data: bytes, names: list) -> pl.DataFrame | None:
    """The parse of polars, or None where it may differ from the csv module's."""
    if data.count(b"\r") not in (0, data.count(b"\r\n")):
        return None
    if b"\n\n" in data or b"\n\r\n" in data or data.startswith((b"\n", b"\r\n")):
        return None        # csv counts a blank line as a row; polars skips it
    try:
        frame = pl.read_csv(data, infer_schema=False, has_header=True, truncate_ragged_lines=True,
                            raise_if_empty=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        return None
    if frame.width != len(names):
        return None
    cells = [f"__c{i}" for i in range(frame.width)]
    frame = frame.rename(dict(zip(frame.columns, cells))).with_row_index(ROW, offset=2)
    # wholly blank rows are rare: look at every cell only where the first is blank
    maybe = frame.select(pl.col(cells[0]).is_null() | pl.col(cells[0]).str.contains(_BLANK_CELL)).to_series()
    if maybe.any():
        suspects = frame.filter(maybe)
        blank = suspects.select(pl.all_horizontal(pl.col(c).is_null() | pl.col(c).str.contains(_BLANK_CELL)
                                                  for c in cells)).to_series()
        frame = frame.filter(~pl.col(ROW).is_in(suspects.filter(blank)[ROW].implode()))
    return frame.select(pl.col(ROW).cast(pl.Int64),
                        *[pl.col(c).alias(n) for c, n in zip(cells, names) if n is not None])


def _python_csv(text: str) -> pl.DataFrame:
    """The single-applicant reader's own parse, row by row (slower)."""
    names, rows = _csv_rows(io.StringIO(text, newline=""))
    named = [i for i, n in enumerate(names) if n is not None]
    numbers, columns, sources = [], {i: [] for i in named}, []
    for number, row in rows:
        cells = [row[i] if i < len(row) and row[i] != "" else None for i in named]
        bad = any(c is not None and _undecodable(c) for c in cells)
        sources.append(json.dumps(cells) if bad else None)   # ASCII: keeps the bad bytes exactly
        numbers.append(number)
        for i, c in zip(named, cells):
            columns[i].append(c.encode("utf-8", "replace").decode() if bad and c is not None else c)
    data = {ROW: pl.Series(numbers, dtype=pl.Int64),
            **{names[i]: pl.Series(v, dtype=pl.String) for i, v in columns.items()}}
    if any(s is not None for s in sources):
        data[SOURCE] = pl.Series(sources, dtype=pl.String)
    return pl.DataFrame(data)


def _undecodable(cell: str) -> bool:
    try:
        cell.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def read_csv_frame(path) -> pl.DataFrame:
    """A CSV caseload (UTF-8, with or without BOM) → the raw frame."""
    path = Path(path)
    if not path.is_file():
        raise CaseloadError(f"找不到台账文件：{path}")
    data = path.read_bytes()
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    header_line = data.split(b"\n", 1)[0]
    if header_line.strip() and b'"' not in header_line:
        try:
            first = next(csv.reader([header_line.decode("utf-8")]))
        except (UnicodeDecodeError, csv.Error, StopIteration):
            first = None
        if first is not None:
            frame = _polars_csv(data, check_header(first))
            if frame is not None:
                return frame
    return _python_csv(data.decode("utf-8", errors="surrogateescape"))
