"""Issue 21 item 12: every long run stops soon after Ctrl-C or SIGTERM, even
while its time goes inside native code (Polars, durable_rules' C engine),
where Python cannot run its signal handler. The real command in a
subprocess; the bound (5 s, against a grace of 1.5 s) is on responsiveness,
generous for a loaded machine: it is not a benchmark."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benefits.cliutil import STOP_GRACE

from .factories import applicant

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
COMMAND = [sys.executable, "-c", "from benefits.cli import main; main()"]
BOUND = 5.0
MESSAGES = {signal.SIGINT: (130, "已中断（Ctrl-C），未完成的输出文件没有写出"),
            signal.SIGTERM: (143, "已终止（SIGTERM），未完成的输出文件没有写出")}

# The main thread sits in one native call that releases the GIL and never
# returns to Python (a mutex locked twice: as a long Polars ``collect`` would
# hold it, but for ever), so the Python handler cannot run. An atomic_output
# temporary is open, and a child process runs. (A native loop that HOLDS the
# GIL, like durable_rules' C engine, stops every thread: no thread can help
# there, which is why a rulebook's size is bounded before it is compiled and
# each durable call stays short: tests/test_reform_bounds.py.)
STUCK = '''
import ctypes, signal, subprocess, sys
from benefits.caseload.writers import atomic_output
from benefits.cliutil import raise_terminated, stop_promptly
signal.signal(signal.SIGTERM, raise_terminated)
libc = ctypes.CDLL(None)
mutex = ctypes.create_string_buffer(64)          # zeroed: PTHREAD_MUTEX_INITIALIZER
with stop_promptly():
    with atomic_output(sys.argv[1]) as part:
        part.write_text("half")
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print(child.pid, flush=True)
        libc.pthread_mutex_lock(mutex)
        libc.pthread_mutex_lock(mutex)           # never returns
'''


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stuck_in_native_code_stops_within_the_grace(tmp_path, signum):
    script = tmp_path / "stuck.py"
    script.write_text(STUCK, encoding="utf-8")
    out = tmp_path / "out.xlsx"
    proc = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    child = int(proc.stdout.readline())
    time.sleep(0.3)                              # inside the sum
    started = time.monotonic()
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    took = time.monotonic() - started
    code, message = MESSAGES[signum]
    assert proc.returncode == code and stderr.strip() == message
    assert STOP_GRACE <= took < BOUND, took     # the grace was given, and no more
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stuck.py"]     # no partial file, no temporary
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    path = tmp_path_factory.mktemp("stop") / "c.jsonl"
    record = applicant(household={"members": [], "monthly_income": 100, "assets_within_limit": True})
    path.write_text((json.dumps(record, ensure_ascii=False) + "\n") * 100_000, encoding="utf-8")
    return path


@pytest.mark.parametrize("command, signum", [
    (["evaluate", "--batch", "{caseload}", "--out", "{out}.parquet"], signal.SIGINT),
    (["estimate", "{caseload}", "--year", "2013", "--out", "{out}.xlsx", "--quiet"], signal.SIGTERM),
    (["compare", "{caseload}", "--reform", str(ROOT / "reforms" / "topup-25.yaml"), "--year", "2013",
      "--out", "{out}.xlsx"], signal.SIGTERM),
    (["compare", "{caseload}", "--reform", str(ROOT / "reforms" / "severe-grade-1.yaml"), "--year", "2013",
      "--out", "{out}.xlsx"], signal.SIGINT),
])
def test_a_long_run_stops_soon_after_a_signal(caseload, tmp_path, command, signum):
    args = [a.format(caseload=caseload, out=tmp_path / "out") for a in command]
    proc = subprocess.Popen(COMMAND + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
                            cwd=tmp_path, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(3.0)                              # past start-up, into reading and evaluating 100,000 records
    assert proc.poll() is None, "the run ended before the signal: make the caseload longer"
    started = time.monotonic()
    os.killpg(proc.pid, signum)                  # as a terminal or a service manager does
    _, stderr = proc.communicate(timeout=60)
    took = time.monotonic() - started
    code, message = MESSAGES[signum]
    assert proc.returncode == code, stderr
    assert [line for line in stderr.splitlines() if line.strip() and "it/s]" not in line and "人/s]" not in line
            and "%|" not in line] == [message]
    assert took < BOUND, took
    assert list(tmp_path.iterdir()) == []
