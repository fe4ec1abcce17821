"""Writing a caseload (台账) as JSON Lines, CSV or XLSX in the flat column
layout of columns.py, one record at a time."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable

from .columns import COLUMNS, flatten
from .readers import detect_format


def write_caseload(records: Iterable[dict], path) -> int:
    """Write records to ``path`` (format from its suffix); returns the count."""
    fmt = detect_format(str(path))
    count = 0
    if fmt == "xlsx":
        from openpyxl import Workbook
        book = Workbook(write_only=True)
        sheet = book.create_sheet("台账")
        sheet.append([c.path for c in COLUMNS])
        for record in records:
            flat = flatten(record)
            sheet.append([flat.get(c.path) for c in COLUMNS])
            count += 1
        book.save(path)
        return count
    with open(Path(path), "w", encoding="utf-8", newline="") as out:
        if fmt == "jsonl":
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
            return count
        writer = csv.writer(out)
        writer.writerow([c.path for c in COLUMNS])
        for record in records:
            flat = flatten(record)
            writer.writerow(["" if flat.get(c.path) is None else _cell(flat[c.path]) for c in COLUMNS])
            count += 1
    return count


def _cell(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)
