"""What every sub-command of ``benefits`` shares, below all of them: the
exit codes, ``Stop`` (end with a Chinese message and a code), and the
option callbacks for a date and an output file. benefits/cli.py imports the
sub-commands and this; a sub-command imports this, never benefits/cli.py."""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Optional

import click

from .dates import DATE_OUT_OF_RANGE, EARLIEST_DATE, LATEST_DATE

EXIT_REJECTED, EXIT_NO_RECORDS, EXIT_NO_INPUT, EXIT_UNAVAILABLE = 1, 3, 66, 69
EXIT_INTERNAL, EXIT_OUTPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 70, 74, 130, 143
EXIT_PIPE = 141
"""The reader of the output went away (``benefits evaluate … | head``): the
shell's code for a death by SIGPIPE (128 + 13), quiet, distinct from 1
(records rejected) and 74 (a write failed)."""


class ClosedStream:
    """Stands for a standard stream whose file descriptor was closed
    (``>&-``, ``2>&-``): takes the writes, keeps only how many lines were
    lost, so that the command still writes its files and the exit code can
    say that text was not shown."""

    def __init__(self):
        self.lost = 0

    def write(self, text: str) -> int:
        self.lost += text.count("\n") or 1
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    closed = False


def guard_standard_streams() -> Optional[ClosedStream]:
    """Run before anything opens a file. A closed descriptor 0, 1 or 2 gets
    /dev/null, so that no output file (nor a worker process) is handed one
    of them by accident; a closed stdout or stderr is replaced by a
    ClosedStream. Returns the stand-in of stdout, if it was closed."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:          # the lowest free descriptor: fd, unless another was closed below it
                os.dup2(null, fd)
                os.close(null)
    stand_in = None
    if sys.stdout is None:
        sys.stdout = stand_in = ClosedStream()
    if sys.stderr is None:
        sys.stderr = ClosedStream()
    return stand_in


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that ``with`` blocks clean up
    (worker processes stopped, temporary files removed); exit 143."""


def raise_terminated(signum, frame):
    raise Terminated


class Stop(Exception):
    """End the command with a Chinese message and an exit code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def refused(exc: Exception) -> click.ClickException:
    """A refused input file as the command's error line, with the exit code
    the error carries (CaseloadError: 1; a damaged file: 66)."""
    error = click.ClickException(str(exc))
    error.exit_code = getattr(exc, "exit_code", 1)
    return error


def parse_date(ctx, param, value):
    """Option callback: YYYY-MM-DD → a date (None stays None), inside the
    one date window (benefits/dates.py); ASCII digits only (``２０１３`` or
    ``٢٠١٣`` is no date here)."""
    if value is None:
        return None
    try:
        if not value.isascii():
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"应为日期 YYYY-MM-DD，实际为 {value!r}") from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise click.BadParameter(f"{DATE_OUT_OF_RANGE}，实际为 {value}")
    return day


def output_file(ctx, param, value):
    """Option callback: an output file whose folder exists, checked before any work starts."""
    path = Path(value)
    if not path.parent.is_dir():
        raise click.BadParameter(f"输出文件夹不存在：{path.parent}")
    return path
