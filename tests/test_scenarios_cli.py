"""`benefits scenarios`: a changed rule makes exactly the dependent scenarios
fail, with a readable report; an unknown step fails with the step catalogue.

Each check runs a small scenario set built here (`--features DIR`, a copy of
features/' machinery with two short feature files), not the whole of
features/: every scenario there already runs once per engine in the test
suite itself (features/test_policy_63.py)."""
from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from benefits.cli import main
from benefits.scenarios import cli as scenarios_cli
from benefits.scenarios.report import render_run, scenario_title
from benefits.scenarios.runner import FEATURES_DIR, PROJECT_ROOT, ScenarioRun, ScenarioRunError, run_scenarios

TOPUP = """# language: zh-CN
功能: 63号 二 基本生活救助（节选）
  背景:
    假如申请人户籍为灵宝市城镇
    并且持有二级肢体残疾人证

  场景: 低保对象中的重度残疾人获定额补贴，不少于低保标准的20%
    假如家庭共2人，月总收入300元
    并且已纳入低保
    当按2013年3月1日评估
    那么「低保重度残疾人定额补贴」应为符合
    并且金额为每月不少于60元
    并且出资为未指明60元

  场景大纲: 定额补贴随评估日、户籍地和城乡的低保标准变化
    假如申请人户籍为<县>
    并且为<城乡>户籍
    并且已纳入低保
    当按<日期>评估
    那么「低保重度残疾人定额补贴」金额为每月不少于<补贴>元

    例子: 低保标准 × 20%
      | 县     | 城乡 | 日期          | 补贴 |
      | 灵宝市 | 城镇 | 2013年6月30日 | 60   |
      | 湖滨区 | 城镇 | 2013年7月1日  | 66   |

  场景: 定额补贴只给重度残疾人
    假如申请人持有三级肢体残疾人证
    并且已纳入低保
    当按2013年3月1日评估
    那么「低保重度残疾人定额补贴」应为不符合
"""

SCOPE = """# language: zh-CN
功能: 63号 一 救助保障对象（节选）
  场景: 本市户籍并持证的残疾人是救助保障对象
    假如申请人户籍为湖滨区城镇
    并且持有四级肢体残疾人证
    当按2013年3月1日评估
    那么「免费乘坐辖区内公交」应为符合
"""

TOPUP_FEATURE = "63号 二 基本生活救助（节选）"
# The scenarios above whose expected value is 20% of the 低保 standard (63号 二（一））.
TOPUP_SCENARIOS = {
    "低保对象中的重度残疾人获定额补贴，不少于低保标准的20%",
    "定额补贴随评估日、户籍地和城乡的低保标准变化［县=灵宝市，城乡=城镇，日期=2013年6月30日，补贴=60］",
    "定额补贴随评估日、户籍地和城乡的低保标准变化［县=湖滨区，城乡=城镇，日期=2013年7月1日，补贴=66］",
}
SCENARIO_COUNT = 5


def _features(directory, **files):
    """features/' conftest, steps and test module, with only the given feature files."""
    shutil.copytree(FEATURES_DIR, directory, ignore=shutil.ignore_patterns("__pycache__", "*.feature"))
    for name, text in files.items():
        (directory / f"{name}.feature").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def features(tmp_path):
    return _features(tmp_path / "features", **{"63-2-topup": TOPUP, "63-1-scope": SCOPE})


def _copy_rules(tmp_path):
    rules = tmp_path / "myrules"
    shutil.copytree(PROJECT_ROOT / "rules", rules)
    return rules


def _set_topup(rules, old: str, new: str):
    path = rules / "parameters" / "amounts-63.yaml"
    text = path.read_text(encoding="utf-8")
    line = f"- {{from: 2012-11-01, value: {old}}}"
    assert text.count(line) == 1       # the dibao_topup_ratio entry, the file's only 0.20
    path.write_text(text.replace(line, f"- {{from: 2012-11-01, value: {new}}}"), encoding="utf-8")


def test_shipped_rules_pass_every_scenario(features):
    result = CliRunner().invoke(main, ["scenarios", "--features", str(features)])
    assert result.exit_code == 0, result.output
    assert f"场景：共 {SCENARIO_COUNT} 个，通过 {SCENARIO_COUNT} 个，未通过 0 个" in result.output
    assert "全部场景通过" in result.output


def test_without_features_the_command_runs_the_projects_features(monkeypatch):
    """The whole of features/ is not run here (the suite runs it): only that
    the command passes features/ and its options on."""
    calls = []

    def fake(rules_dir, **options):
        calls.append((rules_dir, options))
        return ScenarioRun(rules_dir="rules", rulebook_version="v", passed=1, failed=0, skipped=0)

    monkeypatch.setattr(scenarios_cli, "run_scenarios", fake)
    result = CliRunner().invoke(main, ["scenarios", "--engine", "columnar"])
    assert result.exit_code == 0, result.output
    assert calls == [(None, {"engine": "columnar", "reform": None, "features_dir": FEATURES_DIR})]
    assert FEATURES_DIR == PROJECT_ROOT / "features" and (FEATURES_DIR / "conftest.py").is_file()
    assert inspect.signature(run_scenarios).parameters["features_dir"].default == FEATURES_DIR


def test_topup_25_percent_fails_exactly_the_topup_scenarios(tmp_path, features):
    rules = _copy_rules(tmp_path)
    _set_topup(rules, "0.20", "0.25")
    run = run_scenarios(rules, features_dir=features)
    assert (run.failed, run.passed) == (len(TOPUP_SCENARIOS), SCENARIO_COUNT - len(TOPUP_SCENARIOS))
    # the columnar engine gives the same report (test ids name the engine)
    columnar = run_scenarios(rules, features_dir=features, engine="columnar")
    assert render_run(columnar) == render_run(run)
    assert [{k: v for k, v in f.items() if k != "nodeid"} for f in columnar.failures] == \
        [{k: v for k, v in f.items() if k != "nodeid"} for f in run.failures]
    assert {f["feature"] for f in run.failures} == {TOPUP_FEATURE}
    assert {scenario_title(f) for f in run.failures} == TOPUP_SCENARIOS

    report = render_run(run)
    assert f"场景：共 {SCENARIO_COUNT} 个，通过 2 个，未通过 3 个" in report
    block = report[report.index("低保对象中的重度残疾人获定额补贴"):].split("\n\n")[0]
    assert f"功能：{TOPUP_FEATURE}（features/63-2-topup.feature）" in report
    assert "步骤：并且金额为每月不少于60元（第12行）" in block
    assert "检查：「低保重度残疾人定额补贴」的金额" in block
    assert "期望：每月不少于60元" in block
    assert "实际：每月不少于75元" in block          # 300 × 25%
    assert "条款：63号 二（一）" in block
    assert "［县=湖滨区，城乡=城镇，日期=2013年7月1日，补贴=66］" in report
    assert "实际：每月不少于82.5元" in report       # 330 × 25%


def test_cli_exit_code_and_report_for_changed_rules(tmp_path, features):
    rules = _copy_rules(tmp_path)
    _set_topup(rules, "0.20", "0.30")
    result = CliRunner().invoke(main, ["scenarios", "--rules", str(rules), "--features", str(features)])
    assert result.exit_code == 1
    assert f"规则目录：{rules}" in result.output
    assert f"未通过 {len(TOPUP_SCENARIOS)} 个" in result.output
    assert "实际：每月不少于90元" in result.output    # 300 × 30%


def test_broken_rule_file_gives_a_chinese_error(tmp_path, features):
    rules = _copy_rules(tmp_path)
    path = rules / "parameters" / "amounts-63.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 0.20", "value: 二成"), encoding="utf-8")
    result = CliRunner().invoke(main, ["scenarios", "--rules", str(rules), "--features", str(features)])
    assert result.exit_code == 1
    assert "规则文件错误" in result.output and "Traceback" not in result.output
    with pytest.raises(ScenarioRunError):
        run_scenarios(rules, features_dir=features)


def test_a_features_directory_without_the_steps_is_refused_in_chinese(tmp_path):
    bare = (tmp_path / "only-features").resolve()
    bare.mkdir()
    (bare / "scope.feature").write_text(SCOPE, encoding="utf-8")
    result = CliRunner().invoke(main, ["scenarios", "--features", str(bare)])
    assert result.exit_code == 1
    assert f"找不到场景目录 {bare}" in result.output and "Traceback" not in result.output


BOGUS = """# language: zh-CN
功能: 虚构的功能
  场景: 含有不存在的步骤
    假如申请人户籍为灵宝市城镇
    并且申请人会飞
    当按2013年3月1日评估
    那么「免费乘坐辖区内公交」应为符合
"""


@pytest.fixture
def features_with_bogus_step(tmp_path):
    return _features(tmp_path / "features", **{"63-1-scope": SCOPE, "zz-bogus": BOGUS})


def _pytest(features, *args):
    """Plain pytest on a feature directory, with the project's pytest settings
    (pyproject.toml) and, for speed, no plugin but pytest-bdd."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(features), "-p", "pytest_bdd.plugin", "-p", "no:cacheprovider",
         "-c", str(PROJECT_ROOT / "pyproject.toml"), "--rootdir", str(features.parent), *args],
        cwd=features.parent, capture_output=True, text=True, encoding="utf-8",
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})


def test_unknown_step_fails_with_the_catalogue_in_pytest_output(features_with_bogus_step):
    proc = _pytest(features_with_bogus_step, "-q", "-k", "不存在的步骤")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 failed" in proc.stdout            # the scenario runs on both engines
    assert "没有与这一步匹配的步骤定义：并且申请人会飞" in proc.stdout
    assert "可用的步骤如下" in proc.stdout
    assert "申请人持有{一|二|三|四}级{类别}残疾人证" in proc.stdout
    assert "当按{日期}评估" in proc.stdout


def test_unknown_step_in_the_scenarios_report(features_with_bogus_step):
    run = run_scenarios(features_dir=features_with_bogus_step)
    assert (run.passed, run.failed) == (1, 1)
    assert [(f["kind"], f["scenario"], f["step"]) for f in run.failures] == \
        [("unknown_step", "含有不存在的步骤", "并且申请人会飞")]
    report = render_run(run)
    assert "没有与这一步匹配的步骤定义" in report
    assert "那么「{待遇}」应为{符合|不符合|待定}" in report


def test_scenario_names_are_readable_in_pytest_output(features):
    proc = _pytest(features, "--collect-only", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for engine in ("durable", "columnar"):
        assert f"test_定额补贴随评估日户籍地和城乡的低保标准变化[{engine}-湖滨区-城镇-2013年7月1日-66]" in proc.stdout
    assert f"{2 * SCENARIO_COUNT} tests collected" in proc.stdout
    assert "\\u" not in proc.stdout


def test_a_reform_file_fails_the_same_scenarios_as_the_edited_copy(tmp_path, features):
    """``--reform`` applies a reform file to the rules: 25 % from the in-force
    day fails exactly the top-up scenarios, as the edited copy above does."""
    reform = tmp_path / "topup.yaml"
    reform.write_text("label: 补贴25%\nreason: 与编辑规则副本相同\nparameters:\n  dibao_topup_ratio:\n"
                      "    values: [{from: 2012-11-01, value: 0.25}]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scenarios", "--reform", str(reform), "--features", str(features)])
    assert result.exit_code == 1
    assert "改革方案：补贴25%" in result.output
    assert f"未通过 {len(TOPUP_SCENARIOS)} 个" in result.output
    for name in TOPUP_SCENARIOS:
        assert name in result.output
    assert "实际：每月不少于75元" in result.output


def test_a_bad_reform_file_is_refused_before_any_scenario_runs(tmp_path):
    reform = tmp_path / "bad.yaml"
    reform.write_text("label: 错误\nreason: 测试\nrules:\n  - remove_rule: {rule: nope}\n", encoding="utf-8")
    with pytest.raises(ScenarioRunError, match=rf"改革方案错误：{reform}:4：未知规则“nope”"):
        run_scenarios(reform=reform)
