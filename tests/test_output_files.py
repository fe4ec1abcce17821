"""Issue 21 items 1–4 and 14: the real command in a subprocess with a closed
stdout or stderr, a closed pipe, a full disk (RLIMIT_FSIZE: the kernel's
own write error, on the real code path), stale temporaries of killed runs,
and an empty caseload for ``evaluate --batch``. Each hostile setting is
built in its test."""
import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benefits.caseload import STALE_AFTER, atomic_output, atomic_outputs, clean_stale_partials
from benefits.cli import main

from .factories import applicant

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "applicants.jsonl"
SCORECARD = ROOT / "fixtures" / "scorecard-demo.csv"
REFORM = ROOT / "reforms" / "topup-25.yaml"
# this checkout's code, whichever checkout the virtual environment was installed from
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
COMMAND = [sys.executable, "-m", "benefits.cli"]


def _run(args, cwd, closed=(), limit=None, **kw):
    def setup():
        for fd in closed:
            os.close(fd)
        if limit is not None:               # a full disk: writes past `limit` bytes fail with EFBIG
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run(COMMAND + [str(a) for a in args], cwd=cwd, env=ENV, capture_output=True, text=True,
                          preexec_fn=setup, timeout=300, **kw)


def _clean(stderr: str) -> list[str]:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "Error" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.strip()]


def _caseload(folder: Path, count=3) -> Path:
    path = folder / "c.jsonl"
    path.write_text("".join(json.dumps(applicant(), ensure_ascii=False) + "\n" for _ in range(count)),
                    encoding="utf-8")
    return path


COMMANDS = {
    "evaluate": lambda c: ["evaluate", c],
    "batch": lambda c: ["evaluate", "--batch", c, "--out", "o.parquet"],
    "estimate": lambda c: ["estimate", c, "--year", "2013", "--out", "o.xlsx", "--workers", "1", "--quiet"],
    "compare": lambda c: ["compare", c, "--reform", REFORM, "--year", "2013", "--out", "o.xlsx", "--examples", "0"],
    "scorecard": lambda c: ["scorecard", SCORECARD, "--as-of", "2015-12-31", "--out", "o.xlsx"],
    "generate": lambda c: ["generate", "--size", "5", "--out", "g.csv"],
}
FILES = {"evaluate": [], "batch": ["o.parquet"], "estimate": ["o.png", "o.xlsx"], "compare": ["o.xlsx"],
         "scorecard": ["o.xlsx"], "generate": ["g.csv"]}


# item 1
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_closed_stdout_loses_no_output_file_and_the_exit_code_says_text_was_not_shown(tmp_path, command):
    caseload = _caseload(tmp_path)
    proc = _run(COMMANDS[command](caseload), tmp_path, closed=(1,), stdout=None)
    # the files are written whole; what was to be shown on stdout was not: 74
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["c.jsonl"] + FILES[command])
    printed = command not in ("batch", "generate")           # these two print to stderr only
    assert proc.returncode == (74 if printed else 0), proc.stderr
    lines = _clean(proc.stderr)
    if printed:
        assert "标准输出已关闭" in lines[-1] and "未显示" in lines[-1]


@pytest.mark.parametrize("command", ["batch", "estimate", "generate"])
def test_a_closed_stderr_changes_nothing(tmp_path, command):
    caseload = _caseload(tmp_path)
    proc = _run(COMMANDS[command](caseload), tmp_path, closed=(2,), stderr=None)
    assert proc.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["c.jsonl"] + FILES[command])


def test_a_closed_stdout_and_nothing_to_show_is_fine(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("", encoding="utf-8")
    proc = _run(["evaluate", path], tmp_path, closed=(1,), stdout=None)
    assert proc.returncode == 3 and _clean(proc.stderr)[-1].startswith("没有记录")


# item 14
def test_a_reader_that_goes_away_is_a_quiet_exit_of_its_own(tmp_path):
    caseload = _caseload(tmp_path, 200)
    proc = subprocess.Popen(COMMAND + ["evaluate", str(caseload)], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.readline()                 # `| head -1`
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=300) == 141
    assert _clean(stderr) == []


# item 2
@pytest.mark.parametrize("command, name", [("estimate", "o."), ("batch", "o.parquet"), ("compare", "o.xlsx"),
                                           ("scorecard", "o.xlsx"), ("generate", "g.csv")])
def test_a_full_disk_names_the_file_and_leaves_nothing(tmp_path, command, name):
    caseload = _caseload(tmp_path, 40)
    args = COMMANDS[command](caseload)
    if command == "generate":
        args[2] = "400"
    proc = _run(args, tmp_path, limit=6_000)
    assert proc.returncode == 74, proc.stderr
    (line,) = _clean(proc.stderr)[-1:]
    assert line.startswith(f"无法读写文件 {name}") and "（标准输出）" not in line
    assert "文件超出允许的大小" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl"]


def test_the_workbook_failing_on_a_full_disk_takes_the_chart_with_it(tmp_path, monkeypatch):
    """The chart is complete, the workbook's write fails (ENOSPC, as a full
    disk gives it): neither appears, the message names the workbook, and
    the archive openpyxl leaves open prints nothing when collected."""
    import gc
    from benefits.caseload import writers
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    real = writers._OutputFile.write

    def full(self, data):
        if self.tell() + len(data) > 2_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)
    monkeypatch.setattr(writers._OutputFile, "write", full)
    out = tmp_path / "o.xlsx"
    result = CliRunner().invoke(main, ["estimate", str(_caseload(tmp_path)), "--year", "2013", "--out", str(out),
                                       "--workers", "1", "--quiet"])
    gc.collect()
    assert result.exit_code == 74
    assert result.stderr.strip().splitlines()[-1] == f"无法读写文件 {out}：磁盘已满"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl"]
    assert unraisable == []


def test_outputs_of_one_run_appear_together_or_not_at_all(tmp_path):
    class Boom(Exception):
        pass
    first, second = tmp_path / "a.xlsx", tmp_path / "a.png"
    with pytest.raises(Boom):
        with atomic_outputs(first, second) as (one, two):
            one.write_bytes(b"1")
            two.write_bytes(b"2")
            raise Boom
    assert list(tmp_path.iterdir()) == []
    with atomic_outputs(first, second) as (one, two):
        one.write_bytes(b"1")
        two.write_bytes(b"2")
    assert first.read_bytes() == b"1" and second.read_bytes() == b"2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.xlsx"]


def test_a_signal_near_the_end_leaves_both_files_or_neither(tmp_path):
    caseload = _caseload(tmp_path, 30)
    seen = set()
    for signum, code, delay in ((signal.SIGINT, 130, 0.0), (signal.SIGTERM, 143, 0.0), (signal.SIGINT, 130, 0.03)):
        proc = subprocess.Popen(COMMAND + ["estimate", str(caseload), "--year", "2013", "--out", "o.xlsx",
                                           "--workers", "1", "--quiet"], cwd=tmp_path, env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 120
        # the chart's temporary appears first: the run is at its end
        while proc.poll() is None and time.monotonic() < deadline and not any(
                p.name.startswith(".o.") for p in tmp_path.iterdir()):
            time.sleep(0.002)
        time.sleep(delay)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=120)
        names = sorted(p.name for p in tmp_path.iterdir() if p.name != "c.jsonl")
        assert names in ([], ["o.png", "o.xlsx"]), names
        assert proc.returncode in (0, code) and "Traceback" not in stderr
        seen.add(proc.returncode)
        for p in tmp_path.iterdir():
            if p.name != "c.jsonl":
                p.unlink()
    assert seen & {130, 143}, "no run was caught before its end: the signal came too late every time"


# item 3
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_of_killed_runs_are_cleaned_never_a_live_ones(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    old = time.time() - STALE_AFTER - 60
    names = {"stale": f".o.{dead}.abcd1234.part.xlsx", "recent": f".o.{dead}.efgh5678.part.png",
             "alive": f".o.{alive}.ijkl9012.part.xlsx", "other": f".notes.{dead}.txt", "mine": "o.part.xlsx"}
    for key, name in names.items():
        path = tmp_path / name
        path.write_bytes(b"x")
        if key != "recent":
            os.utime(path, (old, old))
    with atomic_output(tmp_path / "new.jsonl") as partial:
        partial.write_text("{}\n", encoding="utf-8")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["new.jsonl"] + [n for k, n in names.items() if k != "stale"])
    assert clean_stale_partials(tmp_path, now=time.time() + STALE_AFTER + 60) == [names["recent"]]


def test_a_temporary_names_its_process(tmp_path):
    with atomic_output(tmp_path / "o.xlsx") as partial:
        assert partial.name.startswith(f".o.{os.getpid()}.") and partial.name.endswith(".part.xlsx")


# item 4
@pytest.mark.parametrize("name, content", [("c.csv", "id_number,name\n"), ("c.csv", "id_number,name\n,\n\n"),
                                           ("c.jsonl", ""), ("c.json", "[]"), ("c.json", "[\n]\n"),
                                           ("c.parquet", None)])
def test_batch_on_an_empty_caseload_says_no_records_and_writes_nothing(tmp_path, name, content):
    path = tmp_path / name
    if content is None:
        import polars as pl
        pl.DataFrame({"id_number": [], "name": []}, schema={"id_number": pl.String, "name": pl.String}) \
            .write_parquet(path)
    else:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "o.parquet"
    result = CliRunner().invoke(main, ["evaluate", "--batch", str(path), "--out", str(out)])
    assert result.exit_code == 3 and "没有记录" in result.stderr, result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("text", ["[]", "[\n]", "[ ]\n", "\n[\n\n]\n"])
def test_an_empty_array_is_no_records_however_it_is_laid_out(text):
    result = CliRunner().invoke(main, ["evaluate", "-"], input=text)
    assert result.exit_code == 3 and "没有记录" in result.stderr and result.stdout == ""
