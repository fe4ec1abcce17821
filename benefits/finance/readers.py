"""Streaming readers for a caseload file (台账): CSV, XLSX or JSON Lines.

Each yields (row number, payload) one row at a time, never the whole file:
a payload is JSON text (JSON Lines), a tuple of cell values in header order
(CSV/XLSX; the header is returned separately) or a record dict (an iterable
given directly). Row numbers are what the clerk sees: the line number of a
JSON Lines file, the spreadsheet row (header = row 1) of a CSV or XLSX.
Blank lines and wholly blank rows are not records and are skipped.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .columns import check_header

FORMATS = ("jsonl", "csv", "xlsx")


class CaseloadError(ValueError):
    """A caseload file that cannot be read at all; message in Chinese."""


@dataclass
class Caseload:
    rows: Iterator[tuple[int, object]]
    names: Optional[list]            # column paths for sheet rows, else None
    total: Optional[int]             # rows expected, when cheap to know (for the progress bar)
    format: str


def detect_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".xlsx", ".parquet"):
        return suffix[1:]
    raise CaseloadError(f"无法从文件名{name}判断格式：应为 .csv、.xlsx、.jsonl 或 .parquet")


def _blank(row) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def _jsonl(stream) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, 1):
        if line.strip():
            yield number, line


def _csv_rows(stream) -> tuple[list, Iterator]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise CaseloadError("CSV文件为空：第1行应为列名") from None
    except csv.Error as exc:
        raise CaseloadError(f"CSV第1行无法读取：{exc}") from None
    names = check_header(header)

    def rows():
        number = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CaseloadError(f"CSV第{number + 1}行无法读取：{exc}") from None
            number += 1
            if not _blank(row):
                yield number, tuple(row)
    return names, rows()


def _xlsx_rows(source) -> tuple[list, Iterator, Optional[int]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    from zipfile import BadZipFile
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError) as exc:
        raise CaseloadError(f"无法打开XLSX文件：{exc}") from None
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = next(values, None)
    if header is None:
        raise CaseloadError("XLSX第一个工作表为空：第1行应为列名")
    names = check_header(list(header))
    total = (sheet.max_row - 1) if sheet.max_row else None

    def rows():
        for number, row in enumerate(values, 2):
            if not _blank(row):
                yield number, tuple(row)
        book.close()
    return names, rows(), total


def _closing(rows: Iterator, stream) -> Iterator:
    with stream:
        yield from rows


def open_caseload(source, fmt: Optional[str] = None) -> Caseload:
    """``source``: a path, a binary/text stream (give ``fmt``), or an
    iterable of record dicts."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise CaseloadError(f"找不到台账文件：{path}")
        fmt = fmt or detect_format(path.name)
        if fmt == "xlsx":
            names, rows, total = _xlsx_rows(path)
            return Caseload(rows, names, total, fmt)
        total = _count_lines(path)
        # a bad byte must reject its row, not stop the file (see parse_applicant)
        stream = open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
        if fmt == "jsonl":
            return Caseload(_closing(_jsonl(stream), stream), None, total, fmt)
        try:
            names, rows = _csv_rows(stream)
        except Exception:
            stream.close()
            raise
        return Caseload(_closing(rows, stream), names, max(total - 1, 0), fmt)
    if hasattr(source, "read"):
        if fmt not in FORMATS:
            raise CaseloadError("读取数据流时须指明格式：csv、xlsx 或 jsonl")
        if fmt == "xlsx":
            data = source.read()
            names, rows, total = _xlsx_rows(io.BytesIO(data) if isinstance(data, bytes) else data)
            return Caseload(rows, names, total, fmt)
        if isinstance(source.read(0), bytes):
            source = io.TextIOWrapper(source, encoding="utf-8-sig", errors="surrogateescape", newline="")
        if fmt == "jsonl":
            return Caseload(_jsonl(source), None, None, fmt)
        names, rows = _csv_rows(source)
        return Caseload(rows, names, None, fmt)
    if isinstance(source, Iterable):
        return Caseload(enumerate(source, 1), None, getattr(source, "__len__", lambda: None)(), "records")
    raise CaseloadError("台账应为文件路径、数据流或记录列表")
