"""What every sub-command of ``benefits`` shares, below all of them: the
exit codes, ``Stop`` (end with a Chinese message and a code), and the
option callbacks for a date and an output file. benefits/cli.py imports the
sub-commands and this; a sub-command imports this, never benefits/cli.py."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

EXIT_REJECTED, EXIT_NO_RECORDS, EXIT_NO_INPUT, EXIT_UNAVAILABLE = 1, 3, 66, 69
EXIT_INTERNAL, EXIT_OUTPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 70, 74, 130, 143


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


def parse_date(ctx, param, value):
    """Option callback: YYYY-MM-DD → a date (None stays None)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"应为日期 YYYY-MM-DD，实际为 {value!r}") from None


def output_file(ctx, param, value):
    """Option callback: an output file whose folder exists, checked before any work starts."""
    path = Path(value)
    if not path.parent.is_dir():
        raise click.BadParameter(f"输出文件夹不存在：{path.parent}")
    return path
