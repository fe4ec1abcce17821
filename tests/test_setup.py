"""A fresh machine (issue 20 item 16): `make test` and .ci/run install the
Debian packages the tests need through one script, as root; anyone else
is stopped at once with the one command to run. apt-get is replaced by a
recorder here: nothing is installed by these tests."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "system-packages.sh"


def run(tmp_path, *args, **env):
    """The script with a recording apt-get first on PATH; (result, apt-get calls)."""
    log = tmp_path / "apt-get.log"
    fake = tmp_path / "bin" / "apt-get"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}", **env})
    return result, (log.read_text().splitlines() if log.exists() else [])


def test_as_root_a_missing_chromium_is_installed_after_one_update(tmp_path):
    result, calls = run(tmp_path, CHROMIUM_BIN=str(tmp_path / "no-chromium"), SETUP_UID="0")
    assert result.returncode == 0, result.stderr
    assert calls[0] == "update -qq" and calls[1].startswith("install -y -qq") and "chromium" in calls[1].split()
    assert len(calls) == 2 and "安装缺少的系统软件包" in result.stderr


def test_anyone_else_is_stopped_at_once_with_the_command_to_run(tmp_path):
    result, calls = run(tmp_path, CHROMIUM_BIN=str(tmp_path / "no-chromium"), SETUP_UID="1000")
    assert result.returncode == 1 and calls == []
    assert "缺少系统软件包" in result.stderr and "chromium" in result.stderr
    assert "sudo apt-get update && sudo apt-get install -y" in result.stderr


def test_nothing_missing_is_silent_and_the_build_step_asks_no_browser(tmp_path):
    result, calls = run(tmp_path, "build", CHROMIUM_BIN=str(tmp_path / "no-chromium"), SETUP_UID="1000")
    assert (result.returncode, calls, result.stderr) == (0, [], "")     # gcc and Python.h are here


def test_make_test_and_ci_call_the_script_before_the_tests():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    dry = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "test"], cwd=ROOT,
                         capture_output=True, text=True, check=True, env=env).stdout.splitlines()
    assert "bash scripts/system-packages.sh" in dry[0] and "pytest" in dry[-1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/system-packages.sh" in ci and ci.rstrip().endswith("make test")
    assert "apt-get" not in ci.replace("# ", "").split("set -euo pipefail")[1]   # the logic lives in the script only
