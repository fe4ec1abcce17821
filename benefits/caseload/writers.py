"""Writing a caseload (台账) as JSON Lines, CSV or XLSX in the flat column
layout of columns.py, one record at a time; and the two rules every output
file of the project follows: written atomically, and user text never
becomes a spreadsheet formula."""
from __future__ import annotations

import csv
import json
import os
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterable, Iterator

from .columns import COLUMNS, flatten
from .readers import detect_format

# OWASP CSV injection: a cell starting with one of these is a formula to
# Excel or LibreOffice (a TAB or CR is stripped before the next one is read).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _umask() -> int:
    """The process umask, read without changing it (os.umask would, for a moment, in every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        return 0o022


LIVE_TEMPORARIES: set[str] = set()
"""The temporary files atomic_output holds right now: a stop that cannot wait
for the block to unwind (cliutil.stop_promptly) removes them itself."""


@contextmanager
def atomic_output(path) -> Iterator[Path]:
    """A temporary path in ``path``'s folder, renamed to ``path`` only once
    the block completes: a killed or failed run never leaves a partial file
    under the name the user asked for (nor replaces a good one)."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".part{path.suffix}")
    LIVE_TEMPORARIES.add(name)
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())      # mkstemp makes it 0600; the final file gets the usual mode
    try:
        yield Path(name)
        with open(name, "rb") as done:
            os.fsync(done.fileno())
        os.replace(name, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(name)
        raise
    finally:
        LIVE_TEMPORARIES.discard(name)


@contextmanager
def write_only_book():
    """An openpyxl write-only workbook that, if the block fails before it is
    saved, closes its sheets and removes their temporary files at once
    (openpyxl would leave them until the process exits)."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    try:
        yield book
    except BaseException:
        for sheet in book.worksheets:
            with suppress(Exception):
                if not sheet.closed:
                    sheet.close()
                if sheet._writer is not None:
                    sheet._writer.cleanup()
        raise


def text_cell(sheet, value: str, **style):
    """A write-only cell that holds ``value`` as text, whatever it starts with.
    Characters XML cannot carry are shown escaped (\\x00) instead of failing."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", value))
    cell.data_type = "s"                  # openpyxl would make "=…" a formula and "#N/A" an error
    if value.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True           # Excel's own mark for "typed as text": kept so on editing
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def write_caseload(records: Iterable[dict], path) -> int:
    """Write records to ``path`` (format from its suffix); returns the count."""
    fmt = detect_format(str(path))
    with atomic_output(path) as partial:
        return _write(records, partial, fmt)


def _write(records: Iterable[dict], path: Path, fmt: str) -> int:
    count = 0
    if fmt == "xlsx":
        with write_only_book() as book:
            sheet = book.create_sheet("台账")
            sheet.append([c.path for c in COLUMNS])
            for record in records:
                flat = flatten(record)
                sheet.append([text_cell(sheet, v) if isinstance(v, str) else v
                              for v in (flat.get(c.path) for c in COLUMNS)])
                count += 1
            book.save(path)
        return count
    with open(path, "w", encoding="utf-8", newline="") as out:
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
