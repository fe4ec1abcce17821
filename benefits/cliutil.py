"""What every sub-command of ``benefits`` shares, below all of them: the
exit codes, ``Stop`` (end with a Chinese message and a code), and the
option callbacks for a date and an output file. benefits/cli.py imports the
sub-commands and this; a sub-command imports this, never benefits/cli.py."""
from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Optional

import click

from .caseload.writers import LIVE_TEMPORARIES, STOPPING
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


STOP_GRACE = 1.5
"""Seconds a run has, after Ctrl-C or SIGTERM, to unwind on its own."""
STOP_SAID = threading.Event()
"""Set once the command has said why it stopped (the watcher then does not say it again)."""
STOP_REQUESTED: list = []
"""The stop signals received (the watcher of stop_promptly notes each):
an error after one is the stop's, even where a library swallowed the
KeyboardInterrupt itself (in a ``__del__`` or a callback)."""

STOPPED_ZH = {signal.SIGINT: ("已中断（Ctrl-C），未完成的输出文件没有写出", EXIT_INTERRUPTED),
              signal.SIGTERM: ("已终止（SIGTERM），未完成的输出文件没有写出", EXIT_TERMINATED)}


@contextmanager
def stop_promptly():
    """Ctrl-C and SIGTERM end the run within STOP_GRACE seconds (及时停止),
    wherever its time goes.

    Python runs a signal handler in the main thread only, between two
    bytecodes: while the main thread is inside native code (a Polars
    ``collect`` over a large chunk, writing a workbook, durable_rules'
    create_ruleset) ``KeyboardInterrupt``/``Terminated`` wait for that call to
    return, and an exit also waits for worker threads still in native code.
    The C-level handler writes the signal's number to a wakeup fd at once
    (``signal.set_wakeup_fd``): a watcher thread reads it and, if the process
    is still there STOP_GRACE seconds later, says what the orderly path would
    have said, removes the temporary files atomic_output holds, kills the
    run's worker processes and exits with 130/143. The orderly path (the
    exception unwinding every ``with``) is what normally happens first."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read, write = os.pipe()
    os.set_blocking(write, False)
    try:
        previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except ValueError:
        os.close(read)
        os.close(write)
        yield
        return
    watcher = threading.Thread(target=_watch, args=(read,), name="stop-promptly", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        # no signal came: the watcher reads end-of-file and returns; after a
        # signal it is already counting down, to the process's very end
        os.close(write)


def _watch(read: int) -> None:
    with suppress(OSError):
        while True:
            data = os.read(read, 64)
            if not data:
                os.close(read)
                return
            signum = next((b for b in data if b in STOPPED_ZH), None)
            if signum is not None:
                STOP_REQUESTED.append(signal.Signals(signum))
                threading.Event().wait(STOP_GRACE)
                _stop_now(signal.Signals(signum))


def _stop_now(signum: signal.Signals) -> None:
    """The run did not end by itself in time: end it from here."""
    message, code = STOPPED_ZH[signum]
    if not STOP_SAID.is_set():
        with suppress(OSError):
            os.write(2, (message + "\n").encode())
    STOPPING.set()
    _remove_temporaries()
    for child in _children():
        with suppress(OSError):
            os.kill(child, signal.SIGKILL)
    # the main thread may have been inside an open() of one (a chart's
    # savefig) while they were removed: once more, right before the end
    _remove_temporaries()
    os._exit(code)


def _remove_temporaries() -> None:
    for name in list(LIVE_TEMPORARIES):
        with suppress(OSError):
            os.unlink(name)


def _children() -> list[int]:
    pids = []
    with suppress(OSError):
        for task in os.listdir("/proc/self/task"):
            with suppress(OSError), open(f"/proc/self/task/{task}/children", encoding="ascii") as children:
                pids += [int(pid) for pid in children.read().split()]
    return pids


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
