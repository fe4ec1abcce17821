"""Streaming readers for a caseload file (台账): CSV, XLSX or JSON Lines.

Each yields (row number, payload) one row at a time, never the whole file:
a payload is JSON text (JSON Lines), a tuple of cell values in header order
(CSV/XLSX; the header is returned separately) or a record dict (an iterable
given directly). Row numbers are what the clerk sees: the line number of a
JSON Lines file, the spreadsheet row (header = row 1) of a CSV or XLSX.
Blank lines and wholly blank rows are not records and are skipped.

A text file's encoding is read from its byte-order mark (UTF-8, UTF-16 or
UTF-32); without one it is UTF-8. JSON Lines are split on "\n" only (a
U+2028 inside a name is not a line end); a file whose first line is not a
whole JSON value is read as one JSON document — a record, an array of
records, or several records one after another — each numbered by the line
it starts on.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..engine.applicant import MAX_DEPTH, json_depth_exceeds
from .columns import MAX_CELL, BadRow, check_header, empty_cell

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
    return all(empty_cell(v) for v in row)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def encoding_of(head: bytes) -> str:
    """The encoding a file's first bytes announce (UTF-8 when no BOM)."""
    return next((name for bom, name in _BOMS if head.startswith(bom)), "utf-8-sig")


def _keep_bad_bytes(exc: UnicodeDecodeError):
    """Like surrogateescape, but for any byte (a UTF-16 file can end in half a
    character, a byte below 0x80): each becomes a lone surrogate."""
    return "".join(chr(0xDC00 + b) for b in exc.object[exc.start:exc.end]), exc.end


codecs.register_error("benefits-keep", _keep_bad_bytes)


def text_stream(binary, newline: str) -> io.TextIOWrapper:
    """A binary stream as text in the encoding its BOM names. A byte that
    does not decode is kept (as a lone surrogate) so that it rejects its row
    only (see parse_applicant), never the file."""
    if not isinstance(binary, io.BufferedReader):
        binary = io.BufferedReader(binary) if isinstance(binary, io.RawIOBase) else _Peekable(binary)
    return io.TextIOWrapper(binary, encoding=encoding_of(binary.peek(4)[:4]), errors="benefits-keep",
                            newline=newline)


class _Peekable(io.BufferedIOBase):
    """Any binary stream, with ``peek`` (for the BOM)."""
    def __init__(self, raw):
        self.raw, self.head = raw, b""

    def readable(self):
        return True

    def peek(self, size=1):
        if len(self.head) < size:
            self.head += self.raw.read(size - len(self.head))
        return self.head

    def read(self, size=-1):
        if size is None or size < 0:
            data, self.head = self.head + self.raw.read(), b""
            return data
        data, self.head = self.head[:size], self.head[size:]
        if len(data) < size:
            data += self.raw.read(size - len(data))
        return data

    read1 = read


_NOT_UTF8_FILE = "文件不是UTF-8编码的文本（可能是UTF-16无BOM或其他编码）：请另存为 UTF-8"
_DOCUMENT = "文件应为每行一条JSON记录（JSON Lines），或一份JSON文档（一条记录或记录数组）"


def _whole_json(line: str) -> bool:
    try:
        json.loads(line)
        return True
    except (ValueError, RecursionError):
        return False


def json_records(lines) -> Iterator[tuple[int, object]]:
    """JSON Lines or one JSON document → (line number, JSON text or record).

    ``lines``: text lines split on "\n" only. JSON Lines are yielded one
    line at a time, as text; a document is read whole (it is one value) and
    yields each record as a dict, numbered by the line it starts on."""
    lines = iter(lines)
    seen: list[str] = []
    for line in lines:
        seen.append(line)
        if line.strip():
            break
    else:
        return
    first = seen[-1]
    if "\x00" in first:
        raise CaseloadError(_NOT_UTF8_FILE)
    if _whole_json(first) or first.lstrip()[:1] not in ("{", "["):
        yield from _numbered_lines(seen, lines)
        return
    rest = list(lines)
    try:
        records = list(_document("".join(seen + rest)))
    except CaseloadError:
        # a JSON Lines file whose first line is broken: its second line stands alone
        second = next((line for line in rest if line.strip()), "")
        if not _whole_json(second):
            raise
        records = _numbered_lines(seen, iter(rest))
    yield from records


def _numbered_lines(seen: list, lines) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(_chain(seen, lines), 1):
        if line.strip():
            yield number, line


def _chain(seen: list, lines):
    yield from seen
    yield from lines


def _document(text: str) -> Iterator[tuple[int, object]]:
    """One or more JSON values; an array's elements are records."""
    if json_depth_exceeds(text, MAX_DEPTH + 1):
        raise CaseloadError(f"JSON文档的嵌套层数超过{MAX_DEPTH}层：{_DOCUMENT}")
    decoder = json.JSONDecoder()

    def value_at(pos: int):
        try:
            return decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise CaseloadError(f"第{exc.lineno}行第{exc.colno}列不是有效的JSON（{exc.msg}）：{_DOCUMENT}") from None

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    def line(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    pos = skip(0)
    while pos < len(text):
        if text[pos] != "[":
            value, end = value_at(pos)
            yield line(pos), value
            pos = skip(end)
            continue
        pos = skip(pos + 1)
        if text[pos:pos + 1] == "]":
            pos = skip(pos + 1)
            continue
        while True:
            value, end = value_at(pos)
            yield line(pos), value
            pos = skip(end)
            if text[pos:pos + 1] == ",":
                pos = skip(pos + 1)
            elif text[pos:pos + 1] == "]":
                pos = skip(pos + 1)
                break
            else:
                raise CaseloadError(f"第{line(pos)}行：JSON数组中此处应为“,”或“]”：{_DOCUMENT}")


def csv_rows(stream, header_check=check_header) -> tuple[list, Iterator]:
    """A CSV text stream → (column paths of the header, (row number, cells or
    BadRow) one row at a time). ``header_check``: the header row → its
    column names (raises LayoutError); the caseload's layout by default."""
    # strict: a stray quote inside a cell is an error of that row, not silently merged
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise CaseloadError("CSV文件为空：第1行应为列名") from None
    except csv.Error as exc:
        raise CaseloadError(f"CSV第1行（列名）无法读取：{_csv_error_zh(exc)}") from None
    names = header_check(header)

    def rows():
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # the reader goes on at the next line: this row alone is rejected
                lines = f"第{start}–{reader.line_num}行" if reader.line_num > start else "此行"
                yield start, BadRow("(记录)", f"CSV{lines}无法读取：{_csv_error_zh(exc)}")
                start = reader.line_num + 1
                continue
            end, number, start = reader.line_num, start, reader.line_num + 1
            if end > number and any("\n" in cell or "\r" in cell for cell in row):
                yield number, BadRow("(记录)", f"第{number}–{end}行被读成了一条记录：某个单元格的引号未闭合")
            elif not _blank(row):
                yield number, tuple(row)
    return names, rows()


def _csv_error_zh(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"有单元格超过{MAX_CELL // 1024} KB"
    if "unexpected end of data" in text:
        return "文件末尾的引号未闭合"
    if "expected after" in text:
        return "引号后面应紧跟逗号（单元格内的引号应写成两个引号）"
    return f"CSV格式错误（{text}）"


def xlsx_rows(source, header_check=check_header) -> tuple[list, Iterator, Optional[int]]:
    """An XLSX file's first sheet → (column paths of the header, (row number,
    typed cells) one row at a time, rows expected); ``header_check`` as for csv_rows."""
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
    names = header_check(list(header))
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
            names, rows, total = xlsx_rows(path)
            return Caseload(rows, names, total, fmt)
        total = _count_lines(path)
        stream = text_stream(open(path, "rb"), newline="\n" if fmt == "jsonl" else "")
        if fmt == "jsonl":
            return Caseload(_closing(json_records(stream), stream), None, total, fmt)
        try:
            names, rows = csv_rows(stream)
        except Exception:
            stream.close()
            raise
        return Caseload(_closing(rows, stream), names, max(total - 1, 0), fmt)
    if hasattr(source, "read"):
        if fmt not in FORMATS:
            raise CaseloadError("读取数据流时须指明格式：csv、xlsx 或 jsonl")
        if fmt == "xlsx":
            data = source.read()
            names, rows, total = xlsx_rows(io.BytesIO(data) if isinstance(data, bytes) else data)
            return Caseload(rows, names, total, fmt)
        if isinstance(source.read(0), bytes):
            source = text_stream(source, newline="\n" if fmt == "jsonl" else "")
        if fmt == "jsonl":
            return Caseload(json_records(source), None, None, fmt)
        names, rows = csv_rows(source)
        return Caseload(rows, names, None, fmt)
    if isinstance(source, Iterable):
        return Caseload(enumerate(source, 1), None, getattr(source, "__len__", lambda: None)(), "records")
    raise CaseloadError("台账应为文件路径、数据流或记录列表")
