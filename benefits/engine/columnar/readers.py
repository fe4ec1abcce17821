"""Caseload files (台账) → the raw frame ``validate_frame`` takes: ``row`` (the
spreadsheet row, header = row 1) and one text column per named header,
wholly blank rows skipped, exactly as ``benefits.caseload.readers`` reads
them for the single-applicant path.

CSV is parsed by polars where that is certainly the same parse as Python's
``csv`` module (UTF-8, no blank lines, no lone carriage returns, a header
polars splits the same way, and no parse error: polars refuses the loose
quoting Python accepts); any other file is read by the ``csv`` module
itself, bytes that are not UTF-8 kept for the row's rejection.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from ...caseload import (BY_PATH, MAX_CELL, BadRow, CaseloadError, cell_value, check_header, csv_rows, empty_cell,
                         detect_encoding, file_encoding, text_stream, xlsx_rows)
from .schema import ROW
from .validate import PY_SPACE, SOURCE

_BOM = b"\xef\xbb\xbf"


@functools.cache
def _blank_cell() -> str:
    return "^[" + re.escape(PY_SPACE) + "]*$"


def _bytes_like_csv(data: bytes) -> bool:
    """Whether polars can split these bytes into the rows the csv module
    reads: no lone carriage return, no blank line (csv counts one as a row;
    polars skips it)."""
    if data.count(b"\r") not in (0, data.count(b"\r\n")):
        return False
    return not (b"\n\n" in data or b"\n\r\n" in data or data.startswith((b"\n", b"\r\n")))


def _lines(data: bytes) -> int:
    """Lines in ``_bytes_like_csv`` bytes (the last one may lack its line end)."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _polars_cells(frame: pl.DataFrame, names: list, first_row: int, lines: int) -> pl.DataFrame | None:
    """A frame polars parsed (text cells, the header's width) from ``lines``
    lines of ``_bytes_like_csv`` bytes → the raw frame, rows numbered from
    ``first_row``; None where the csv module's parse may differ."""
    if frame.width != len(names) or None in names:
        return None           # a value under a blank header is the exact path's to reject
    # a record read from more than one line has a cell with a line end: the exact reader rejects it
    # (and with no blank line and no lone carriage return, that is the only way to fewer records)
    if frame.height != lines:
        return None
    # a cell over the size limit, likewise; a cell has at least as many bytes as characters
    limit = MAX_CELL
    longest = frame.select(pl.max_horizontal(pl.col(c).str.len_bytes().max() for c in frame.columns)).item()
    if (longest or 0) > limit and frame.select(pl.any_horizontal(
            pl.col(c).str.len_chars() > limit for c in frame.columns).any()).item():
        return None
    cells = [f"__c{i}" for i in range(frame.width)]
    frame = frame.rename(dict(zip(frame.columns, cells))).with_row_index(ROW, offset=first_row)
    # wholly blank rows are rare: look at every cell only where the first is blank
    maybe = frame.select(pl.col(cells[0]).is_null() | pl.col(cells[0]).str.contains(_blank_cell())).to_series()
    if maybe.any():
        suspects = frame.filter(maybe)
        blank = suspects.select(pl.all_horizontal(pl.col(c).is_null() | pl.col(c).str.contains(_blank_cell())
                                                  for c in cells)).to_series()
        frame = frame.filter(~pl.col(ROW).is_in(suspects.filter(blank)[ROW].implode()))
    return frame.select(pl.col(ROW).cast(pl.Int64),
                        *[pl.col(c).alias(n) for c, n in zip(cells, names) if n is not None])


def _polars_csv(data: bytes, names: list) -> pl.DataFrame | None:
    """The parse of polars, or None where it may differ from the csv module's."""
    if not _bytes_like_csv(data):
        return None
    try:
        frame = pl.read_csv(data, infer_schema=False, has_header=True, truncate_ragged_lines=False,
                            raise_if_empty=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        return None
    return _polars_cells(frame, names, 2, _lines(data) - 1)


def _python_csv(text: str, header_check=check_header) -> pl.DataFrame:
    """The single-applicant reader's own parse, row by row (slower). A row
    the text columns cannot carry as it is (bytes that are not UTF-8, a row
    the reader could not split, cells beyond the header or under a blank
    one, a cell over the size limit) keeps the whole row for the exact path."""
    names, rows = csv_rows(io.StringIO(text, newline=""), header_check)
    named = [i for i, n in enumerate(names) if n is not None]
    numbers, columns, sources = [], {i: [] for i in named}, []
    for number, row in rows:
        bad_row = isinstance(row, BadRow)
        cells = [None] * len(named) if bad_row else [row[i] if i < len(row) and row[i] != "" else None for i in named]
        unusual = bad_row or len(row) > len(names) or any(
            (names[i] is None and not empty_cell(v)) or (isinstance(v, str) and len(v) > MAX_CELL)
            for i, v in enumerate(row))
        undecodable = any(c is not None and _undecodable(c) for c in cells)
        if unusual:
            sources.append(json.dumps({"$row": {"names": names, "cells": list(row), "bad": bad_row}}))
        else:
            sources.append(json.dumps(cells) if undecodable else None)   # ASCII: keeps the bad bytes exactly
        numbers.append(number)
        for i, c in zip(named, cells):
            columns[i].append(c.encode("utf-8", "replace").decode() if c is not None and (unusual or undecodable)
                              else c)
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


def _exact_csv(data: bytes, header_check=check_header) -> pl.DataFrame:
    with text_stream(io.BytesIO(data), newline="") as stream:
        return _python_csv(stream.read(), header_check)


def _header_names(plain: bytes, header_check=check_header) -> list | None:
    """The header's column names (``header_check``) when polars splits the
    header line as the csv module does (no quote in it); None otherwise."""
    header_line = plain.split(b"\n", 1)[0]
    if not header_line.strip() or b'"' in header_line:
        return None
    try:
        first = next(csv.reader([header_line.decode("utf-8")]))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    return header_check(first)


def read_csv_frame(path, header_check=check_header) -> pl.DataFrame:
    """A CSV caseload → the raw frame: parsed by polars where that is
    certainly the single-applicant reader's parse, else by that reader
    (the file's one encoding, ``detect_encoding``). ``header_check``: the header
    row → column names (the caseload's layout by default; the roll has its own)."""
    path = Path(path)
    if not path.is_file():
        raise CaseloadError(f"找不到台账文件：{path}")
    data = path.read_bytes()
    if detect_encoding(io.BytesIO(data)) == "utf-8-sig":
        plain = data[len(_BOM):] if data.startswith(_BOM) else data
        names = _header_names(plain, header_check)
        if names is not None:
            frame = _polars_csv(plain, names)
            if frame is not None:
                return frame
    return _exact_csv(data, header_check)


_BLOCK = 1 << 24          # bytes a scan reads at once
_MIN_READ = 1 << 16      # bytes a piece reads at least


def _scan(path: Path) -> tuple[int, list, int] | None:
    """One pass over a CSV file in blocks, holding none of it: (bytes before
    the first record, the header's column paths, line ends) when polars can
    read it piece by piece as ``read_csv_frame`` would read it whole
    (``_bytes_like_csv`` over the whole file); None when the whole file must
    go the exact way."""
    if file_encoding(path) != "utf-8-sig":        # a file of another encoding is read whole
        return None
    with path.open("rb") as f:
        block = f.read(_BLOCK)
        bom = len(_BOM) if block.startswith(_BOM) else 0
        block = block[bom:]
        if b"\n" not in block or not _bytes_like_csv(block):
            return None
        names = _header_names(block)
        if names is None:
            return None
        body = bom + block.index(b"\n") + 1
        lines = crs = crlfs = 0
        carry = b""
        while block:
            joined = carry + block      # a pattern across two blocks
            if b"\n\n" in joined or b"\n\r\n" in joined:
                return None
            crs += block.count(b"\r")
            crlfs += joined.count(b"\r\n") - carry.count(b"\r\n")
            lines += block.count(b"\n")
            carry, block = block[-2:], f.read(_BLOCK)
        if crs not in (0, crlfs):
            return None
    return body, names, lines


def _pieces(path: Path, body: int, names: list, size: int, line_bytes: int) -> Iterator[pl.DataFrame]:
    """Raw frames of about ``size`` rows: the file cut at line ends where no
    quoted cell is open (an even count of quote characters), each piece parsed
    by polars. From a piece polars may parse otherwise on (an open quote, a
    cell with a line end or over the size limit, a row polars refuses), the
    rest of the file is the exact reader's, rows numbered as it numbers them."""
    row = 2
    with path.open("rb") as f:
        f.seek(body)
        buffer = b""
        while True:
            block = f.read(max(size * line_bytes, _MIN_READ))
            buffer += block
            cut = len(buffer) if not block else buffer.rfind(b"\n") + 1
            if block and cut == 0:
                continue
            piece, buffer = buffer[:cut], buffer[cut:]
            if piece:
                frame = None
                if piece.count(b'"') % 2 == 0:
                    try:
                        frame = pl.read_csv(piece, infer_schema=False, has_header=False, truncate_ragged_lines=False,
                                            raise_if_empty=False)
                    except (pl.exceptions.PolarsError, UnicodeDecodeError):
                        frame = None
                    frame = None if frame is None else _polars_cells(frame, names, row, _lines(piece))
                if frame is None:
                    break
                yield frame
                row += piece.count(b"\n")
            if not block:
                return
    # rows before ``row`` were single lines read alike by both: the exact reader numbers its rows by line
    rest = _exact_csv(path.read_bytes())
    rest = rest.filter(pl.col(ROW) >= row)
    for start in range(0, rest.height, size):
        yield rest.slice(start, size)


def csv_frames(path, rows: Callable[[int], int]) -> tuple[int, Iterator[pl.DataFrame]]:
    """A CSV caseload → (rows expected, raw frames one after another), the
    same rows ``read_csv_frame`` gives, read piece by piece so that the
    whole file is never held: a piece of ``rows(expected)`` rows is
    evaluated while the next is read. Files the polars parse may read
    otherwise (another encoding, a quoted header, blank lines, lone
    carriage returns) are read whole, by ``read_csv_frame``."""
    path = Path(path)
    if not path.is_file():
        raise CaseloadError(f"找不到台账文件：{path}")
    scanned = _scan(path)
    if scanned is None:
        raw = read_csv_frame(path)
        size = rows(raw.height)
        return raw.height, (raw.slice(start, size) for start in range(0, raw.height, size))
    body, names, lines = scanned
    expected = max(lines - 1, 0)
    line_bytes = max(1, (path.stat().st_size - body) // max(lines, 1))
    return expected, _pieces(path, body, names, rows(expected), line_bytes)


# --------------------------------------------------------------------- XLSX

def _as_text(name: str, value):
    """The text a typed spreadsheet cell can be replaced by without changing
    what the single-applicant path makes of it (``unflatten`` reads each cell
    through ``cell_value`` alone), or None where there is no such text."""
    column = BY_PATH[name]
    try:
        read = cell_value(column, value)
    except ValueError:
        return None
    candidates = [read] if isinstance(read, str) else []     # e.g. a number in a text column
    if isinstance(value, bool):
        candidates.append("true" if value else "false")
    elif isinstance(value, (int, float)):
        candidates.append(repr(value))
    elif isinstance(value, (dt.datetime, dt.date)):
        candidates.append(value.isoformat()[:10])
    for text in candidates:
        try:
            again = cell_value(column, text)
        except ValueError:
            continue
        if type(again) is type(read) and again == read:
            return text
    return None


def _tag(value):
    """JSON for a typed cell kept as it is (see ``SOURCE``)."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return {"$type": type(value).__name__, "value": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$type": "timedelta", "value": value.total_seconds()}
    return value


def read_xlsx_frame(source) -> pl.DataFrame:
    """The first sheet of an XLSX caseload → the raw frame. A typed cell
    (number, date, flag) becomes text where that reads the same; a row with
    any other typed cell keeps its exact cells for the slow path."""
    names, rows, _ = xlsx_rows(source)
    named = [i for i, n in enumerate(names) if n is not None]
    numbers, columns, sources = [], {i: [] for i in named}, []
    for number, row in rows:
        cells = [row[i] if i < len(row) else None for i in named]
        texts, exact = [], True
        for i, cell in zip(named, cells):
            if cell is None or isinstance(cell, str):
                texts.append(cell if cell != "" else None)
                continue
            text = _as_text(names[i], cell)
            exact = exact and text is not None
            texts.append(text if text is not None else str(cell))
        if exact and any(isinstance(c, str) and _undecodable(c) for c in cells):
            exact = False
        sources.append(None if exact else json.dumps([_tag(c) for c in cells], default=str))
        numbers.append(number)
        for i, text in zip(named, texts):
            columns[i].append(text.encode("utf-8", "replace").decode() if text is not None else None)
    data = {ROW: pl.Series(numbers, dtype=pl.Int64),
            **{names[i]: pl.Series(v, dtype=pl.String) for i, v in columns.items()}}
    if any(s is not None for s in sources):
        data[SOURCE] = pl.Series(sources, dtype=pl.String)
    return pl.DataFrame(data)


# ------------------------------------------------------------------ Parquet

def read_parquet_frame(path) -> pl.DataFrame:
    """A Parquet caseload of text columns named like the CSV layout → the raw
    frame; ``row`` is the record's position (1 = first), wholly blank records
    skipped as in a sheet."""
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise CaseloadError(f"无法读取Parquet文件：{exc}") from None
    names = check_header(frame.columns)
    typed = [n for n in frame.columns if frame.schema[n] not in (pl.String, pl.Null)]
    if typed:
        raise CaseloadError("Parquet台账的列应为文本（与CSV相同），这些列不是：" + "、".join(typed))
    cells = [pl.col(n).cast(pl.String) for n in frame.columns]
    blank = pl.all_horizontal(c.is_null() | c.str.contains(_blank_cell()) for c in cells)
    return (frame.with_row_index(ROW, offset=1).filter(~blank)
            .select(pl.col(ROW).cast(pl.Int64), *[pl.col(n).cast(pl.String) for n in names if n is not None]))
