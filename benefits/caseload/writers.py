"""Writing a caseload (台账) as JSON Lines, CSV or XLSX in the flat column
layout of columns.py, one record at a time; and the two rules every output
file of the project follows: written atomically, and user text never
becomes a spreadsheet formula."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterable, Iterator, Optional

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


STALE_AFTER = 3600
"""Seconds after which a hidden temporary of a run that is no longer alive
is removed by the next run writing into the same folder."""

# .{stem}.{pid}.{8 random characters}.part{suffix} (mkstemp's random part)
_PARTIAL = re.compile(r"^\.(?P<stem>.*)\.(?P<pid>[0-9]+)\.[a-z0-9_]{8}\.part(?:\.[^.]*)?$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:                 # EPERM: someone else's process
        return True
    return True


def clean_stale_partials(folder, now: Optional[float] = None) -> list[str]:
    """Remove the hidden temporaries (``.NAME.PID.XXXXXXXX.part.EXT``) that
    killed runs left in ``folder``: only where the process named in the file
    is gone and the file is older than STALE_AFTER, so never a live run's.
    Returns the names removed."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL.match(entry.name)
        if match is None or _alive(int(match["pid"])):
            continue
        with suppress(OSError):
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER:
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed


LIVE_TEMPORARIES: set[str] = set()
"""The temporary files atomic_outputs holds right now: a stop that cannot wait
for the block to unwind (cliutil.stop_promptly) removes them itself."""

STOPPING = threading.Event()
"""Set by that stop before it removes them: an output file opened after it
would outlive the removal, so opening one then waits for the process's end."""


def _partial(path: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.{os.getpid()}.", suffix=f".part{path.suffix}")
    LIVE_TEMPORARIES.add(name)
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())      # mkstemp makes it 0600; the final file gets the usual mode
    return Path(name)


def _named(exc: OSError, finals: list[Path]) -> OSError:
    """The error, naming the file the user asked for (not our temporary, and
    not nothing: a write deep in a library often names no file)."""
    if exc.filename:
        name = Path(os.fsdecode(exc.filename)).name
        shown = next((final for final in finals if name == final.name
                      or (name.startswith(".") and name.lstrip(".").startswith(f"{final.stem}."))), None)
    else:
        shown = finals[0] if len(finals) == 1 else None
    if shown is None or str(shown) == exc.filename:
        return exc
    return OSError(exc.errno, exc.strerror or str(exc), str(shown))


@contextmanager
def _signals_held():
    """Ctrl-C and SIGTERM wait while the finished files take their names, so
    that the outputs of one run appear together or not at all."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # Not a signal mask: the kernel may hand the signal to any other thread
    # (Polars' pool, a read-ahead), whose Python handler still runs here.
    # The handlers only note it; it is raised again once the block is done.
    caught: list[int] = []
    previous = {}
    for held in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(held)
        if handler is not None:          # None: set outside Python, cannot be put back
            previous[held] = signal.signal(held, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


def _remove(paths: list[Path]) -> None:
    """Unlink every path, even if Ctrl-C or SIGTERM strikes meanwhile (a
    signal that arrived just before the mask still raises inside it): the
    removal is done again, then the signal's exception raised."""
    interrupted = None
    for _ in range(5):
        try:
            with _signals_held():
                for path in paths:
                    with suppress(OSError):
                        os.unlink(path)
                    LIVE_TEMPORARIES.discard(str(path))
            break
        except BaseException as exc:        # KeyboardInterrupt, Terminated
            interrupted = exc
    if interrupted is not None:
        raise interrupted


@contextmanager
def atomic_outputs(*paths) -> Iterator[list[Path]]:
    """Temporary paths in each output's folder, renamed to the outputs only
    once the block completes, all of them together: a killed or failed run
    never leaves a partial file under a name the user asked for, nor one
    output of the run without the others (nor replaces a good one). Stale
    temporaries of killed runs in those folders are removed first
    (clean_stale_partials). An OSError names the output it concerns."""
    finals = [Path(p) for p in paths]
    for folder in dict.fromkeys(p.parent for p in finals):
        clean_stale_partials(folder)
    partials: list[Path] = []
    try:
        with _signals_held():           # a temporary made is a temporary known, to be removed
            for final in finals:
                partials.append(_partial(final))
        yield list(partials)
        for partial in partials:
            with open(partial, "rb") as done:
                os.fsync(done.fileno())
        with _signals_held():
            renamed = []
            try:
                for partial, final in zip(partials, finals):
                    os.replace(partial, final)
                    renamed.append(final)
            except BaseException:
                _remove(renamed)
                raise
    except OSError as exc:
        named = _named(exc, finals)
        if named is exc:
            raise
        raise named from None
    finally:
        _remove(partials)


@contextmanager
def atomic_output(path) -> Iterator[Path]:
    """atomic_outputs for one file."""
    with atomic_outputs(path) as (partial,):
        yield partial


class _OutputFile(io.FileIO):
    """A file that, once given up (its write failed), takes any later write
    silently, only counting where it would be: zipfile's ZipFile, left open
    by openpyxl when the disk fills, tries to finish the archive when
    garbage-collected and would print a traceback from ``ZipFile.__del__``."""
    given_up = False
    _at = 0

    def __init__(self, *args, **kwargs):
        if STOPPING.is_set():
            threading.Event().wait()
        super().__init__(*args, **kwargs)

    def give_up(self) -> None:
        with suppress(OSError, ValueError):
            self._at = super().tell()
        self.given_up = True

    def write(self, data):
        if not self.given_up:
            return super().write(data)
        size = memoryview(data).nbytes
        self._at += size
        return size

    def seek(self, offset, whence=0):
        if not self.given_up:
            return super().seek(offset, whence)
        self._at = offset if whence == 0 else self._at + offset
        return self._at

    def tell(self):
        return self._at if self.given_up else super().tell()

    def flush(self):
        if not self.given_up:
            super().flush()


def save_book(book, path) -> None:
    """``book.save(path)``, leaving nothing behind when it fails."""
    with _OutputFile(path, "wb") as out:
        try:
            book.save(out)
        except BaseException:
            out.give_up()
            raise


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
            save_book(book, path)
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
            writer.writerow(["" if flat.get(c.path) is None else cell_text(flat[c.path]) for c in COLUMNS])
            count += 1
    return count


def cell_text(value) -> str:
    """A flat cell's value as the text a CSV or Parquet caseload holds."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)
