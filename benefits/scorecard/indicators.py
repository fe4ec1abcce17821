"""The indicators file (指标填报表): CSV or XLSX, one row per indicator
(column 指标代码), one column per county headed "411202 湖滨区". A blank
cell is unknown, never 0. Anything else that is not a usable value stops
the read with a Chinese message naming row, indicator and county; the
file's size, rows, columns and (XLSX) unpacked size are bounded first.
"""
from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional

from ..engine.identity import CURRENT_COUNTIES
from ..caseload import encoding_of
from .targets import Indicator, Targets

MAX_BYTES = 2 * 1024 * 1024          # the template is ~10 KB; this is generous
MAX_UNPACKED = 20 * 1024 * 1024      # an XLSX is a zip: bound what it expands to
MAX_ROWS, MAX_COLUMNS = 500, 40
MAX_VALUE = 10 ** 9
SHEET = "指标"
ID_COLUMN = "指标代码"
NOTE_COLUMNS = {"指标", "单位", "条款", "说明", "填写说明"}
FORMATS = ("csv", "xlsx")
# 陕县 (411222) became 陕州区 (411203) on 2015-02-16 (国函〔2015〕39号): the same county.
_FORMER = {"411222": ("411203", "陕县")}
_COLUMN = re.compile(r"^(\d{6})\s*(.*)$")
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_THOUSANDS = re.compile(r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$")
# digits a Chinese input method types: ASCII and full-width ０–９; any other
# digit (superscript ¹², Arabic-Indic ١٢, circled ①) is refused, not read as 12
_TYPED_DIGITS = set("0123456789０１２３４５６７８９")


def _foreign_digit(text: str) -> Optional[str]:
    return next((ch for ch in text if (ch.isdigit() or ch.isnumeric()) and ch not in _TYPED_DIGITS), None)
_YES, _NO = {"是", "有", "1", "y", "yes", "true"}, {"否", "无", "没有", "0", "n", "no", "false"}


class IndicatorError(ValueError):
    """An indicators file that cannot be used; the message is Chinese and
    lists up to ten problems."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else problems
        more = f"\n……另有 {len(self.problems) - 10} 处错误" if len(self.problems) > 10 else ""
        super().__init__("\n".join(self.problems[:10]) + more)


@dataclass
class Indicators:
    """Values by county code, then indicator id; None = not filled in."""
    values: dict[str, dict[str, Optional[Fraction]]]
    source: str = ""
    filled: int = 0                   # cells with a value

    def get(self, county: str, indicator: str) -> Optional[Fraction]:
        return self.values.get(county, {}).get(indicator)


def county_list() -> str:
    return "、".join(f"{code} {name}" for code, name in CURRENT_COUNTIES.items())


def read_indicators(source, targets: Targets, name: Optional[str] = None) -> Indicators:
    """``source``: a path, or bytes with ``name`` (its file name, for the format)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise IndicatorError(f"{name} 不是文件")
            if size > MAX_BYTES:
                raise IndicatorError(_too_big(size))
            data = path.read_bytes()
        except FileNotFoundError:
            raise IndicatorError(f"找不到指标文件：{name}") from None
        except PermissionError:
            raise IndicatorError(f"没有权限读取指标文件：{name}") from None
    else:
        data = bytes(source)
    if len(data) > MAX_BYTES:
        raise IndicatorError(_too_big(len(data)))
    if not data:
        raise IndicatorError("指标文件是空的")
    fmt = Path(name or "").suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise IndicatorError(f"无法从文件名“{name}”判断格式：指标文件应为 .csv 或 .xlsx")
    grid = _xlsx_grid(data) if fmt == "xlsx" else _csv_grid(data)
    result = _parse(grid, targets)
    result.source = name or ""
    return result


def _too_big(size: int) -> str:
    return f"指标文件过大（{size / 1024 / 1024:.1f} MB）：不能超过 {MAX_BYTES // 1024 // 1024} MB，请使用模板填写"


def _xlsx_grid(data: bytes) -> list[tuple]:
    from openpyxl import load_workbook
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise IndicatorError("XLSX文件解压后过大，不像是指标填报表：请使用模板填写")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except IndicatorError:
        raise
    except Exception:          # openpyxl raises many kinds on a damaged file
        raise IndicatorError("无法打开XLSX文件：文件已损坏或不是Excel工作簿（.xlsx）") from None
    try:
        if SHEET not in book.sheetnames:
            raise IndicatorError(f"工作簿中没有名为“{SHEET}”的工作表（现有：{'、'.join(book.sheetnames)}）："
                                 "请在模板的“指标”表中填写")
        rows = []
        for row in book[SHEET].iter_rows(values_only=True, max_col=MAX_COLUMNS + 1):
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise IndicatorError(f"“{SHEET}”表超过 {MAX_ROWS} 行，不像是指标填报表：请使用模板填写")
        return rows
    except IndicatorError:
        raise
    except Exception:
        raise IndicatorError("无法读取XLSX文件：文件已损坏") from None
    finally:
        book.close()


def _csv_grid(data: bytes) -> list[tuple]:
    encoding = encoding_of(data[:4])
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        try:        # Excel in a Chinese locale saves CSV as GBK
            text = data.decode("gb18030") if encoding == "utf-8-sig" else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            raise IndicatorError("CSV文件不是UTF-8或GBK编码的文本：请另存为“CSV UTF-8”") from None
    if "\x00" in text:
        raise IndicatorError("CSV文件含有空字符（\\x00），不是文本文件：请另存为“CSV UTF-8”")
    rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append(tuple(row))
            if len(rows) > MAX_ROWS:
                raise IndicatorError(f"CSV文件超过 {MAX_ROWS} 行，不像是指标填报表：请使用模板填写")
    except csv.Error as exc:
        raise IndicatorError(f"CSV格式错误（第{len(rows) + 1}行）：{exc}") from None
    return rows


def _text(value) -> str:
    return "" if value is None else unicodedata.normalize("NFKC", str(value)).strip()


def _columns(header: tuple) -> tuple[int, dict[int, str]]:
    """The id column and {column index: county code}."""
    texts = [_text(v) for v in header]
    while texts and not texts[-1]:       # an XLSX row comes padded with empty cells
        texts.pop()
    if ID_COLUMN not in texts:
        raise IndicatorError(f"第1行没有“{ID_COLUMN}”列：请使用 benefits scorecard --template 生成的模板")
    if len(texts) > MAX_COLUMNS:
        raise IndicatorError(f"第1行有 {len(texts)} 列，超过 {MAX_COLUMNS} 列：请使用模板填写")
    counties: dict[int, str] = {}
    problems = []
    for index, text in enumerate(texts):
        if not text or text in NOTE_COLUMNS or text == ID_COLUMN:
            continue
        match = _COLUMN.match(text)
        if not match:
            problems.append(f"第1行第{index + 1}列：列名“{text[:40]}”既不是说明列，也不是县（市、区）"
                            f"（应写作“411202 湖滨区”：6位代码加名称）")
            continue
        code, given = match.groups()
        code, names = _county(code)
        if code is None:
            problems.append(f"第1行第{index + 1}列：县区代码 {match.group(1)} 不是三门峡市的县（市、区）"
                            f"（应为 {county_list()}）")
            continue
        if given and given not in names:
            problems.append(f"第1行第{index + 1}列：代码 {match.group(1)} 是{names[0]}，列名却写着“{given[:20]}”")
            continue
        if code in counties.values():
            problems.append(f"第1行第{index + 1}列：{names[0]}出现了两列")
            continue
        counties[index] = code
    if problems:
        raise IndicatorError(problems)
    if not counties:
        raise IndicatorError(f"第1行没有县（市、区）列（应为 {county_list()}）")
    return texts.index(ID_COLUMN), counties


def _county(code: str) -> tuple[Optional[str], tuple[str, ...]]:
    if code in _FORMER:
        current, old = _FORMER[code]
        return current, (old, CURRENT_COUNTIES[current])
    if code in CURRENT_COUNTIES:
        return code, (CURRENT_COUNTIES[code],) + tuple(old for c, old in _FORMER.values() if c == code)
    return None, ()


def _parse(grid: list[tuple], targets: Targets) -> Indicators:
    if not grid or all(not _text(v) for v in grid[0]):
        raise IndicatorError(f"文件第1行是空的：第1行应为列名（{ID_COLUMN}、指标、单位、条款、各县区）")
    id_column, counties = _columns(grid[0])
    values = {code: {name: None for name in targets.indicators} for code in CURRENT_COUNTIES}
    seen: dict[str, int] = {}
    problems: list[str] = []
    filled = 0
    for number, row in enumerate(grid[1:], 2):
        if all(not _text(v) for v in row):
            continue
        key = _text(row[id_column]) if id_column < len(row) else ""
        indicator = targets.indicators.get(key)
        if indicator is None:
            problems.append(f"第{number}行：未知的指标代码“{key[:40]}”" if key else f"第{number}行：缺少指标代码")
            continue
        if key in seen:
            problems.append(f"第{number}行：指标“{indicator.label_zh}”与第{seen[key]}行重复")
            continue
        seen[key] = number
        for index, code in counties.items():
            cell = row[index] if index < len(row) else None
            try:
                value = parse_value(cell, indicator)
            except ValueError as exc:
                problems.append(f"第{number}行（{indicator.label_zh}）{CURRENT_COUNTIES[code]}：{exc}")
                continue
            values[code][key] = value
            filled += value is not None
    problems += _consistency(values, targets) if not problems else []
    if problems:
        raise IndicatorError(problems)
    return Indicators(values, filled=filled)


def parse_value(cell, indicator: Indicator) -> Optional[Fraction]:
    """One cell: None when blank; ValueError (Chinese) when not a usable value."""
    if isinstance(cell, bool):
        raise ValueError(f"“{cell}”不是数字")
    if isinstance(cell, (int, float)):
        if isinstance(cell, float) and not math.isfinite(cell):
            raise ValueError("不是有限的数字")
        text = repr(cell)
    else:
        text = _text(cell)
        foreign = _foreign_digit(str(cell)) if text else None
        if foreign is not None:
            raise ValueError(f"“{str(cell).strip()[:20]}”含有非阿拉伯数字“{foreign}”（U+{ord(foreign):04X}）：请填写 0–9")
    if not text:
        return None
    if indicator.kind == "flag":
        if text.lower() in _YES:
            return Fraction(1)
        if text.lower() in _NO:
            return Fraction(0)
        raise ValueError(f"“{text[:20]}”应填“是”或“否”（未知则留空）")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if text.endswith("%"):
        raise ValueError(f"“{text[:20]}”：请填写数量（{indicator.unit}），不要填百分比")
    if not _NUMBER.match(text):
        raise ValueError(f"“{text[:20]}”不是数字（单位：{indicator.unit}；未知则留空，不要填0）")
    value = Fraction(text)
    if value < 0:
        raise ValueError(f"{text} 是负数：数量不能为负")
    if value > MAX_VALUE:
        raise ValueError(f"{text} 过大（不能超过 {MAX_VALUE:,}）")
    if indicator.kind == "count" and value.denominator != 1:
        raise ValueError(f"{text} 不是整数：{indicator.unit}数应为整数")
    if indicator.positive and value == 0:
        raise ValueError(f"应大于0（{indicator.label_zh}为0时无法计算；未知则留空）")
    return value


def _consistency(values: dict, targets: Targets) -> list[str]:
    """A part larger than its whole: a share over 100% is a typing error."""
    problems = []
    for code, row in values.items():
        for indicator in targets.indicators.values():
            part, wholes = row[indicator.id], [row[w] for w in indicator.part_of]
            if part is None or not wholes or any(w is None for w in wholes):
                continue
            if part > sum(wholes):
                labels = "与".join(targets.indicators[w].label_zh for w in indicator.part_of)
                problems.append(f"{CURRENT_COUNTIES[code]}：{indicator.label_zh}（{part}）大于{labels}"
                                f"（{sum(wholes)}），比例超过100%，请核对")
    return problems
