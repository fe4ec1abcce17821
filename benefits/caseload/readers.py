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
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..engine.applicant import MAX_DEPTH, json_depth_exceeds
from .columns import MAX_CELL, BadRow, check_header, empty_cell

FORMATS = ("jsonl", "csv", "xlsx")


class CaseloadError(ValueError):
    """A caseload file that cannot be read at all; message in Chinese."""
    exit_code = 1


def encoding_note(path) -> Optional[str]:
    """The line that tells the clerk a caseload was not read as UTF-8
    (台账编码：…), or None."""
    encoding = caseload_encoding(path)
    return None if encoding in (None, "utf-8-sig") else f"台账编码：{encoding_zh(encoding)}"


class DamagedFile(CaseloadError):
    """A file whose bytes are broken (a flipped byte in an XLSX, a truncated
    zip): the input cannot be read, exit 66, "文件已损坏"."""
    exit_code = 66


def caseload_encoding(path) -> Optional[str]:
    """The encoding a CSV or JSON Lines caseload is read in (None for XLSX,
    Parquet or a file that is not there)."""
    try:
        if detect_format(str(path)) in ("csv", "jsonl") and Path(path).is_file():
            return file_encoding(path)
    except (CaseloadError, OSError):
        pass
    return None


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


ENCODING_ZH = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16（带BOM）", "utf-32": "UTF-32（带BOM）",
               "gb18030": "GB18030（中文Windows/Excel“CSV（逗号分隔）”的默认编码，含GBK）"}


def _decodes(binary, encoding: str) -> bool:
    """Whether the rest of ``binary`` decodes strictly (GB18030: and holds no
    NUL, which no GB text has but UTF-16 without a mark is full of)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for chunk in iter(lambda: binary.read(1 << 20), b""):
            if encoding == "gb18030" and b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(binary) -> str:
    """The one encoding of a whole file: ``binary``, a seekable binary
    stream, is read from where it is and put back there. The byte-order
    mark if there is one; else UTF-8 if every byte decodes strictly as
    UTF-8; else GB18030 (what Chinese Excel's “CSV（逗号分隔）” writes, a
    superset of GBK) if every byte decodes as that; else UTF-8, the bytes
    that do not decode rejecting their rows only. Never a mix."""
    start = binary.tell()
    try:
        head = binary.read(4)
        marked = encoding_of(head)
        if marked != "utf-8-sig" or head.startswith(codecs.BOM_UTF8):
            return marked
        for encoding in ("utf-8", "gb18030"):
            binary.seek(start)
            if _decodes(binary, encoding):
                return "utf-8-sig" if encoding == "utf-8" else encoding
        return "utf-8-sig"
    finally:
        binary.seek(start)


def file_encoding(path) -> str:
    """detect_encoding of the file at ``path``."""
    with open(path, "rb") as binary:
        return detect_encoding(binary)


def encoding_zh(encoding: str) -> str:
    """How the encoding is named to the clerk."""
    return ENCODING_ZH.get(encoding, encoding)


def _keep_bad_bytes(exc: UnicodeDecodeError):
    """Like surrogateescape, but for any byte (a UTF-16 file can end in half a
    character, a byte below 0x80): each becomes a lone surrogate."""
    return "".join(chr(0xDC00 + b) for b in exc.object[exc.start:exc.end]), exc.end


codecs.register_error("benefits-keep", _keep_bad_bytes)


def text_stream(binary, newline: str) -> io.TextIOWrapper:
    """A binary stream as text in its encoding (detect_encoding: the whole
    file where it can be read twice, else the first bytes a pipe shows). A
    byte that does not decode is kept (as a lone surrogate) so that it
    rejects its row only (see parse_applicant), never the file."""
    seekable = False
    with suppress(Exception):
        seekable = binary.seekable()
    if seekable:
        encoding = detect_encoding(binary)
    if not isinstance(binary, io.BufferedReader):
        binary = io.BufferedReader(binary) if isinstance(binary, io.RawIOBase) else _Peekable(binary)
    if not seekable:
        encoding = detect_encoding(_Prefix(binary.peek(1 << 16)))
    return io.TextIOWrapper(binary, encoding=encoding, errors="benefits-keep", newline=newline)


class _Prefix(io.BytesIO):
    """The first bytes of a pipe: a character cut at their end is no error."""

    def __init__(self, data: bytes):
        cut = len(data)
        while cut > max(len(data) - 4, 0) and data[cut - 1] >= 0x80:
            cut -= 1
        super().__init__(data if len(data) < 4 else data[:cut] if cut else data)


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
    opening = first.lstrip()[:1]
    # an array is a document however it is laid out ("[]" on one line or "[\n]" on two)
    if opening not in ("{", "[") or (opening == "{" and _whole_json(first)):
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


class _Lines:
    """The lines a csv reader reads, with the quotes seen since a record
    began: after a cell over the size limit, the reader would go on in the
    middle of that cell; this says whether a quoted cell is still open, so
    that its remaining lines can be passed over."""

    def __init__(self, stream):
        self.stream, self.count, self.quotes = iter(stream), 0, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.stream)
        self.count += 1
        self.quotes += line.count('"')
        return line

    def skip_open_cell(self) -> None:
        """Pass the lines up to the one closing the open quoted cell (in
        CSV a cell is open while the count of quotes is odd: "" inside a
        cell counts two)."""
        while self.quotes % 2:
            try:
                next(self)
            except StopIteration:
                return


def csv_rows(stream, header_check=check_header) -> tuple[list, Iterator]:
    """A CSV text stream → (column paths of the header, (row number, cells or
    BadRow) one row at a time). ``header_check``: the header row → its
    column names (raises LayoutError); the caseload's layout by default."""
    lines = _Lines(stream)
    # strict: a stray quote inside a cell is an error of that row, not silently merged
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise CaseloadError("CSV文件为空：第1行应为列名") from None
    except csv.Error as exc:
        raise CaseloadError(f"CSV第1行（列名）无法读取：{_csv_error_zh(exc)}") from None
    names = header_check(header)

    def rows():
        start = lines.count + 1
        lines.quotes = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    lines.skip_open_cell()      # the rest of the huge cell is not a row of its own
                # the reader goes on at the next line: this row alone is rejected
                where = f"第{start}–{lines.count}行" if lines.count > start else "此行"
                yield start, BadRow("(记录)", f"CSV{where}无法读取：{_csv_error_zh(exc)}")
                start, lines.quotes = lines.count + 1, 0
                continue
            end, number, start = lines.count, start, lines.count + 1
            lines.quotes = 0
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
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, *_BROKEN) as exc:
        raise _damaged(exc) from None
    try:
        sheet = book.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = next(values, None)
    except (*_BROKEN, KeyError, OSError) as exc:
        raise _damaged(exc) from None
    if header is None:
        raise CaseloadError("XLSX第一个工作表为空：第1行应为列名")
    names = header_check(list(header))
    total = (sheet.max_row - 1) if sheet.max_row else None

    def rows():
        try:
            for number, row in enumerate(values, 2):
                if not _blank(row):
                    yield number, tuple(row)
        except (*_BROKEN, OSError) as exc:       # found part-way: the rows before it were good
            raise _damaged(exc) from None
        finally:
            book.close()
    return names, rows(), total


def _broken() -> tuple:
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError
    errors = [zipfile.BadZipFile, zlib.error, EOFError, ParseError, UnicodeDecodeError, ValueError, TypeError]
    try:
        from lxml.etree import LxmlError
        errors.append(LxmlError)
    except ImportError:
        pass
    return tuple(errors)


_BROKEN = _broken()


def _damaged(exc: Exception) -> DamagedFile:
    reason = {"BadZipFile": "不是完整的XLSX（zip）文件", "error": "压缩数据出错"}.get(type(exc).__name__, type(exc).__name__)
    return DamagedFile(f"XLSX文件已损坏，无法读取（{reason}：{exc}）：请用 Excel 打开后另存，或换用完好的文件")


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
