"""Run the feature files in a pytest subprocess against a rules directory and
read back what failed (the plugin writes it as JSON)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import BACK_ENDS, RulebookError, load_rulebook
from .plugin import REPORT_ENV

RULES_ENV = "BENEFITS_RULES"       # read by features/conftest.py
REFORM_ENV = "BENEFITS_REFORM"     # a reform file applied to those rules (features/conftest.py)
ENGINE_ENV = "BENEFITS_ENGINE"     # durable | columnar (features/conftest.py)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FEATURES_DIR = PROJECT_ROOT / "features"


class ScenarioRunError(RuntimeError):
    """The scenarios could not be run at all; message in Chinese."""


@dataclass
class ScenarioRun:
    rules_dir: str
    rulebook_version: str
    passed: int
    failed: int
    skipped: int
    failures: list[dict] = field(default_factory=list)
    reform: str = ""                  # the reform's label, when one was applied
    to_fix: int = 0                   # @待修: known to fail until the engine is changed (xfail, strict)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.failures


def run_scenarios(rules_dir: str | Path | None = None, features_dir: Path = FEATURES_DIR,
                  engine: str = "durable", reform: str | Path | None = None) -> ScenarioRun:
    """Run every scenario on one engine, on the rules with ``reform`` (a
    reform file or rules directory, benefits.policy) applied when given;
    raise ScenarioRunError if that is impossible."""
    if engine not in BACK_ENDS:
        raise ScenarioRunError(f"引擎应为 {'、'.join(BACK_ENDS)} 之一")
    if not (features_dir / "conftest.py").is_file():
        raise ScenarioRunError(f"找不到场景目录 {features_dir}（需要在项目源码目录中运行）")
    rules = Path(rules_dir).resolve() if rules_dir else None
    try:
        book = load_rulebook(rules)
    except RulebookError as exc:
        raise ScenarioRunError(f"规则文件错误（{rules or '项目内 rules/'}）：{exc}") from None
    label = ""
    if reform is not None:
        from ..policy import apply_reform, load_reform   # polars (benefits.policy): only for a reform run
        reform = Path(reform).resolve()
        try:
            book = apply_reform(book, load_reform(reform))
        except RulebookError as exc:
            raise ScenarioRunError(f"改革方案错误：{exc}") from None
        label = book.reform.label
    with tempfile.TemporaryDirectory(prefix="benefits-scenarios-") as tmp:
        report_path = Path(tmp) / "report.json"
        env = dict(os.environ)
        env[REPORT_ENV] = str(report_path)
        env.pop(RULES_ENV, None)
        env[ENGINE_ENV] = engine
        if rules:
            env[RULES_ENV] = str(rules)
        env.pop(REFORM_ENV, None)
        if reform is not None:
            env[REFORM_ENV] = str(reform)
        # the subprocess must import this very `benefits` package and the features' steps
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PROJECT_ROOT), str(features_dir.parent)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        # only pytest-bdd and the report plugin: the other installed plugins
        # (hypothesis, schemathesis, xdist, anyio) took most of a small run's time
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        command = [sys.executable, "-m", "pytest", str(features_dir), "-q", "--no-header",
                   "-p", "pytest_bdd.plugin", "-p", "benefits.scenarios.plugin", "-p", "no:cacheprovider",
                   "--rootdir", str(features_dir.parent)]
        proc = subprocess.run(command, cwd=features_dir.parent, env=env, capture_output=True,
                              text=True, encoding="utf-8", errors="replace")
        if not report_path.is_file():
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
            raise ScenarioRunError(f"场景没有运行完（pytest 退出码 {proc.returncode}）：\n{tail}")
        data = json.loads(report_path.read_text(encoding="utf-8"))
    counts = data["counts"]
    return ScenarioRun(rules_dir=str(rules or book.directory), rulebook_version=book.version,
                       passed=counts["passed"], failed=counts["failed"], skipped=counts["skipped"],
                       failures=data["failures"], reform=label, to_fix=counts.get("to_fix", 0))
