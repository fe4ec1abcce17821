"""`benefits scenarios`: a changed rule makes exactly the dependent scenarios
fail, with a readable report; an unknown step fails with the step catalogue."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from benefits.cli import main
from benefits.scenarios.report import render_run, scenario_title
from benefits.scenarios.runner import FEATURES_DIR, PROJECT_ROOT, ScenarioRunError, run_scenarios

TOPUP_FEATURE = "63号 二 基本生活救助"
# Every scenario whose expected value is 20% of the 低保 standard (63号 二（一）).
TOPUP_SCENARIOS = {
    "低保对象中的重度残疾人获定额补贴，不少于低保标准的20%",
    "靠父母供养的成年重度残疾人直接纳入低保，同时是“低保对象中的重度残疾人”",
    *(f"定额补贴随评估日、户籍地和城乡的低保标准变化［县={county}，城乡={residence}，日期={day}，补贴={topup}］"
      for county, residence, day, topup in [
          ("灵宝市", "城镇", "2013年6月30日", 60), ("灵宝市", "城镇", "2013年7月1日", 68),
          ("湖滨区", "城镇", "2013年7月1日", 66), ("灵宝市", "农村", "2013年3月1日", 28),
          ("卢氏县", "农村", "2013年7月1日", 32), ("灵宝市", "城镇", "2014年7月1日", 72),
          ("渑池县", "农村", "2014年7月1日", 36)]),
}


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


def test_shipped_rules_pass_every_scenario():
    result = CliRunner().invoke(main, ["scenarios"])
    assert result.exit_code == 0, result.output
    assert "未通过 0 个" in result.output and "全部场景通过" in result.output


def test_topup_25_percent_fails_exactly_the_topup_scenarios(tmp_path):
    rules = _copy_rules(tmp_path)
    _set_topup(rules, "0.20", "0.25")
    run = run_scenarios(rules)
    assert run.failed == len(TOPUP_SCENARIOS) and run.passed > 100
    # the columnar engine gives the same report (test ids name the engine)
    columnar = run_scenarios(rules, engine="columnar")
    assert render_run(columnar) == render_run(run)
    assert [{k: v for k, v in f.items() if k != "nodeid"} for f in columnar.failures] == \
        [{k: v for k, v in f.items() if k != "nodeid"} for f in run.failures]
    assert {f["feature"] for f in run.failures} == {TOPUP_FEATURE}
    assert {scenario_title(f) for f in run.failures} == TOPUP_SCENARIOS

    report = render_run(run)
    block = report[report.index("低保对象中的重度残疾人获定额补贴"):].split("\n\n")[0]
    assert "步骤：并且金额为每月不少于60元" in block
    assert "期望：每月不少于60元" in block
    assert "实际：每月不少于75元" in block          # 300 × 25%
    assert "条款：63号 二（一）" in block
    assert "［县=湖滨区，城乡=城镇，日期=2013年7月1日，补贴=66］" in report
    assert "实际：每月不少于82.5元" in report       # 330 × 25%


def test_cli_exit_code_and_report_for_changed_rules(tmp_path):
    rules = _copy_rules(tmp_path)
    _set_topup(rules, "0.20", "0.30")
    result = CliRunner().invoke(main, ["scenarios", "--rules", str(rules)])
    assert result.exit_code == 1
    assert f"未通过 {len(TOPUP_SCENARIOS)} 个" in result.output
    assert "实际：每月不少于90元" in result.output    # 300 × 30%


def test_broken_rule_file_gives_a_chinese_error(tmp_path):
    rules = _copy_rules(tmp_path)
    path = rules / "parameters" / "amounts-63.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 0.20", "value: 二成"), encoding="utf-8")
    result = CliRunner().invoke(main, ["scenarios", "--rules", str(rules)])
    assert result.exit_code == 1
    assert "规则文件错误" in result.output and "Traceback" not in result.output
    with pytest.raises(ScenarioRunError):
        run_scenarios(rules)


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
    features = tmp_path / "features"
    shutil.copytree(FEATURES_DIR, features, ignore=shutil.ignore_patterns("__pycache__"))
    (features / "zz-bogus.feature").write_text(BOGUS, encoding="utf-8")
    return features


def test_unknown_step_fails_with_the_catalogue_in_pytest_output(features_with_bogus_step):
    features = features_with_bogus_step
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(features), "-q", "-p", "no:cacheprovider",
         "--rootdir", str(features.parent), "-k", "不存在的步骤"],
        cwd=features.parent, capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 failed" in proc.stdout            # the scenario runs on both engines
    assert "没有与这一步匹配的步骤定义：并且申请人会飞" in proc.stdout
    assert "可用的步骤如下" in proc.stdout
    assert "申请人持有{一|二|三|四}级{类别}残疾人证" in proc.stdout
    assert "当按{日期}评估" in proc.stdout


def test_unknown_step_in_the_scenarios_report(features_with_bogus_step):
    run = run_scenarios(features_dir=features_with_bogus_step)
    assert [(f["kind"], f["scenario"], f["step"]) for f in run.failures] == \
        [("unknown_step", "含有不存在的步骤", "并且申请人会飞")]
    report = render_run(run)
    assert "没有与这一步匹配的步骤定义" in report
    assert "那么「{待遇}」应为{符合|不符合|待定}" in report


def test_scenario_names_are_readable_in_pytest_output():
    proc = subprocess.run([sys.executable, "-m", "pytest", "features", "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for engine in ("durable", "columnar"):
        assert f"test_定额补贴随评估日户籍地和城乡的低保标准变化[{engine}-灵宝市-城镇-2013年7月1日-68]" in proc.stdout
    assert "\\u" not in proc.stdout


def test_a_reform_file_fails_the_same_scenarios_as_the_edited_copy(tmp_path):
    """``--reform`` applies a reform file to the rules: 25 % from the in-force
    day fails exactly the top-up scenarios, as the edited copy above does."""
    reform = tmp_path / "topup.yaml"
    reform.write_text("label: 补贴25%\nreason: 与编辑规则副本相同\nparameters:\n  dibao_topup_ratio:\n"
                      "    values: [{from: 2012-11-01, value: 0.25}]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scenarios", "--reform", str(reform)])
    assert result.exit_code == 1
    assert "改革方案：补贴25%" in result.output
    assert f"未通过 {len(TOPUP_SCENARIOS)} 个" in result.output
    for name in TOPUP_SCENARIOS:
        assert name in result.output


def test_a_bad_reform_file_is_refused_before_any_scenario_runs(tmp_path):
    reform = tmp_path / "bad.yaml"
    reform.write_text("label: 错误\nreason: 测试\nrules:\n  - remove_rule: {rule: nope}\n", encoding="utf-8")
    with pytest.raises(ScenarioRunError, match=rf"改革方案错误：{reform}:4：未知规则“nope”"):
        run_scenarios(reform=reform)
