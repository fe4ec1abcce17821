"""A scenario run as a Chinese report: one block per failing scenario."""
from __future__ import annotations

from .runner import ScenarioRun


def scenario_title(failure: dict) -> str:
    """Scenario name, with the example row of an outline (场景名［列=值，…］)."""
    example = failure.get("example") or {}
    row = "，".join(f"{k}={v}" for k, v in example.items())
    return failure["scenario"] + (f"［{row}］" if row else "")


def render_run(run: ScenarioRun) -> str:
    lines = [f"规则目录：{run.rules_dir}（规则版本 {run.rulebook_version}）"]
    if run.reform:
        lines.append(f"改革方案：{run.reform}")
    lines += [
             f"场景：共 {run.passed + run.failed + run.skipped + run.to_fix} 个，通过 {run.passed} 个，"
             f"未通过 {run.failed} 个" + (f"，跳过 {run.skipped} 个" if run.skipped else "")
             + (f"，待修 {run.to_fix} 个（标 @待修，引擎修改前预期不通过）" if run.to_fix else "")]
    if run.ok:
        lines.append("全部场景通过。")
        return "\n".join(lines)
    lines += ["", "未通过的场景："]
    catalogue = None
    for number, failure in enumerate(run.failures, 1):
        lines.append("")
        if failure["kind"] in ("error", "collect"):
            lines.append(f"【{number}】{failure['nodeid']}")
            lines.append("    运行出错：")
            lines += ["      " + line for line in failure["message"].splitlines()[-15:]]
            continue
        lines.append(f"【{number}】功能：{failure['feature']}（{failure['file']}）")
        lines.append(f"    场景：{scenario_title(failure)}")
        lines.append(f"    步骤：{failure['step']}（第{failure['line']}行）")
        if failure["kind"] == "unknown_step":
            lines.append("    问题：没有与这一步匹配的步骤定义（步骤文字须与步骤库一致，见文末列表）")
            catalogue = failure["message"]
        elif failure.get("expected") is not None:
            lines.append(f"    检查：{failure['what']}")
            lines.append(f"    期望：{failure['expected']}")
            lines.append(f"    实际：{failure['actual']}")
            if failure.get("clause"):
                lines.append(f"    条款：{failure['clause']}")
        else:
            lines.append("    问题：" + failure["message"].replace("\n", "\n          "))
    if catalogue:
        lines += ["", catalogue[catalogue.index("可用的步骤"):] if "可用的步骤" in catalogue else catalogue]
    return "\n".join(lines)
