"""Issue 13 item 7: the real command in a subprocess — closed stdin, a full
disk, Ctrl-C and SIGTERM while worker processes run — ends with one Chinese
line and a distinct exit code, never a traceback."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .factories import applicant

COMMAND = [str(Path(sys.executable).with_name("benefits"))]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "applicants.jsonl"


def _clean(stderr: str) -> list[str]:
    assert "Traceback" not in stderr and "leaked" not in stderr and "Error" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.strip()]


def test_closed_stdin():
    proc = subprocess.run(COMMAND + ["evaluate", "-"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          preexec_fn=lambda: os.close(0))
    assert proc.returncode == 66
    assert _clean(proc.stderr) == ["无法读取标准输入：标准输入已关闭"]


def test_output_to_a_full_disk():
    with open("/dev/full", "w") as full:
        proc = subprocess.run(COMMAND + ["evaluate", str(FIXTURES)], stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 74
    assert _clean(proc.stderr) == ["无法写出结果：磁盘已满（标准输出）"]


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


@pytest.mark.parametrize("signum, code, message", [
    (signal.SIGINT, 130, "已中断（Ctrl-C），未完成的输出文件没有写出"),
    (signal.SIGTERM, 143, "已终止（SIGTERM），未完成的输出文件没有写出"),
])
def test_a_signal_while_workers_run_stops_everything_cleanly(tmp_path, signum, code, message):
    caseload = tmp_path / "c.jsonl"
    caseload.write_text((json.dumps(applicant(), ensure_ascii=False) + "\n") * 20_000, encoding="utf-8")
    proc = subprocess.Popen(COMMAND + ["estimate", str(caseload), "--year", "2013", "--out", str(tmp_path / "o.xlsx"),
                                       "--engine", "durable",
                                       "--workers", "2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            # as in a terminal: Ctrl-C not ignored (a test runner's background job ignores it)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    # the pool (2 workers + the resource tracker) is up and evaluating
    while len(_children(proc.pid)) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(1.0)
    assert proc.poll() is None, "the estimate ended before the signal: make the caseload longer"
    os.killpg(proc.pid, signum)         # as the terminal does: the whole process group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert _clean(stderr) == [message]
    time.sleep(0.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl"]


WORKER_PROBE = '''
import json, sys
from benefits.cli import main                      # what the console script imports
from benefits.finance.batch import run

WEB = {"flask", "werkzeug", "sqlite3", "_sqlite3", "_cffi_backend", "argon2", "sqlite_utils", "jinja2"}


def loaded(task):
    return sorted(m for m in sys.modules if m.split(".")[0] in WEB)


if __name__ == "__main__":
    print(json.dumps({"command": loaded(None), "workers": list(run(loaded, iter([1, 2]), None, None, workers=2))}))
'''


def test_the_command_and_its_worker_processes_do_not_load_the_web_stack(tmp_path):
    """A spawn worker re-imports the command's main module: before the
    subcommands loaded lazily, every worker carried Flask, sqlite and cffi."""
    script = tmp_path / "probe.py"
    script.write_text(WORKER_PROBE, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"command": [], "workers": [[], []]}


def test_kill_9_as_the_workbook_appears_never_leaves_a_broken_file(tmp_path):
    """Issue 13 item 3, as reported: kill -9 the moment the output appears
    under its final name. Written via a temporary file and a rename, a file
    under that name is always complete."""
    from openpyxl import load_workbook
    from PIL import Image
    caseload = tmp_path / "c.jsonl"
    caseload.write_text((json.dumps(applicant(), ensure_ascii=False) + "\n") * 50, encoding="utf-8")
    out, png = tmp_path / "o.xlsx", tmp_path / "o.png"
    for target in (png, out):
        proc = subprocess.Popen(COMMAND + ["estimate", str(caseload), "--year", "2013", "--out", str(out),
                                           "--workers", "1", "--quiet"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not target.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        proc.kill()
        proc.wait()
        assert target.exists(), "the run ended before the file appeared"
        if target == out:
            load_workbook(target).close()
        else:
            Image.open(target).verify()
        for path in (out, png):
            if path.exists():
                path.unlink()


def test_an_error_raised_while_a_stop_unwinds_is_the_stop_not_a_bug():
    """matplotlib, interrupted inside savefig, raises ValueError("Invalid
    bounding box") from its clean-up: the exit is the interrupt's (130/143)."""
    import signal as signals
    from benefits.cli import _stopped_by
    from benefits.cliutil import Terminated

    def raised(first):
        try:
            try:
                raise first
            finally:
                raise ValueError("Invalid bounding box")
        except ValueError as exc:
            return exc

    assert _stopped_by(raised(KeyboardInterrupt())) == signals.SIGINT
    assert _stopped_by(raised(Terminated())) == signals.SIGTERM
    assert _stopped_by(raised(OSError("x"))) is None
    assert _stopped_by(ValueError("a bug")) is None
