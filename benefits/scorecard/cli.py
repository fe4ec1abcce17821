"""``benefits scorecard``: judge each county against 81号's targets from an
indicators file, print a Chinese summary, write the workbook; or write the
blank template (--template)."""
from __future__ import annotations

from pathlib import Path

import click

from ..cliutil import EXIT_NO_INPUT, EXIT_REJECTED, Stop, parse_date
from ..tables import display_width, visible
from .evaluate import CITY, NOT_MET, STATUS_ZH, Scorecard, evaluate
from .indicators import IndicatorError, read_indicators
from .targets import TargetsError, load_targets, targets_dir
from .workbook import write_scorecard, write_template


def _xlsx_out(ctx, param, value):
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() != ".xlsx":
        raise click.BadParameter(f"输出文件应以 .xlsx 结尾，实际为 {value!r}")
    if not path.parent.is_dir():
        raise click.BadParameter(f"输出文件夹不存在：{path.parent}")
    return path


@click.command()
@click.argument("indicators", required=False)
@click.option("--as-of", callback=parse_date, help="评估日 YYYY-MM-DD：期限在此日之后的目标为“未到期”")
@click.option("--out", callback=_xlsx_out, help="考核工作簿 FILE.xlsx（不给则只在终端显示汇总）")
@click.option("--template", callback=_xlsx_out, help="只写出空白的指标填报模板 FILE.xlsx")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False),
              help="规则目录（默认项目内 rules/；读取其中的 targets/）")
def scorecard(indicators, as_of, out, template, rules_dir):
    """三政〔2012〕81号 县（市、区）工作目标考核：读取指标文件（CSV 或 XLSX），
    逐县判定达标、未达标、未知（指标未填）或未到期，写出考核工作簿。"""
    try:
        targets = load_targets(targets_dir(rules_dir))
    except TargetsError as exc:
        raise click.ClickException(f"目标规则文件错误：{exc}") from None
    if template:
        if indicators or out:
            raise click.UsageError("--template 只写模板：不要同时给指标文件或 --out")
        write_template(targets, template)
        click.echo(f"已写出指标填报模板：{template}（{len(targets.indicators)} 项指标，{len(targets.targets)} 项目标）")
        return
    if not indicators:
        raise click.UsageError("请给出指标文件（CSV 或 XLSX），或用 --template FILE.xlsx 生成模板")
    if as_of is None:
        raise click.UsageError("请用 --as-of YYYY-MM-DD 给出评估日")
    if not Path(indicators).exists():
        raise Stop(f"找不到指标文件：{visible(indicators)}", EXIT_NO_INPUT)
    if Path(indicators).is_dir():
        raise Stop(f"{visible(indicators)} 是文件夹，不是指标文件", EXIT_NO_INPUT)
    try:
        values = read_indicators(indicators, targets)
    except IndicatorError as exc:
        # one line per problem: the command's error line would escape a newline
        click.echo(f"指标文件 {visible(indicators)} 有误：", err=True)
        for line in str(exc).splitlines():
            click.echo(f"  {visible(line)}", err=True)
        raise Stop(f"错误：指标文件有 {len(exc.problems)} 处错误，未考核", EXIT_REJECTED) from None
    card = evaluate(targets, values, as_of)
    click.echo(summary(card))
    if out:
        write_scorecard(card, out)
        click.echo(f"已写出考核工作簿：{out}")


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - display_width(text), 0)


def summary(card: Scorecard) -> str:
    """The terminal summary in Chinese."""
    targets = card.targets
    lines = [f"三政〔2012〕81号 县（市、区）工作目标考核  评估日 {card.as_of.isoformat()}  目标规则版本 {targets.version}",
             f"指标文件 {visible(card.source)}：已填 {card.indicators.filled if card.indicators else 0} 项；"
             "空白指标按“未知”，不按0计", ""]
    lines.append(_pad("县（市、区）", 18) + "".join(_pad(s, 8) for s in STATUS_ZH.values()))
    for code, name in card.counties:
        counts = card.counts(code)
        label = name + ("（全市目标）" if code == CITY else "")
        lines.append(_pad(label, 18) + "".join(_pad(str(counts[s]), 8) for s in STATUS_ZH))
    order = [code for code, _ in card.counties]
    failed = sorted((r for r in card.results if r.status == NOT_MET), key=lambda r: order.index(r.county))
    if failed:
        lines += ["", "未达标："]
        for r in failed:
            why = "；".join(f"{c.condition.label_zh} {c.detail}（目标 {c.condition.threshold_zh()}）"
                           for c in r.conditions if c.holds is False)
            lines.append(f"  {r.county_zh} {r.target.clause} {r.target.label_zh}：{why}")
    assumed = [t for t in targets.targets if t.assumptions]
    lines += ["", f"⚠ {len(targets.targets)} 项目标中有 {len(assumed)} 项的期限或口径含假设（原文未写明），"
                  "详见工作簿“目标与原文”表或 docs/scorecard.md"]
    for t in targets.targets:
        if t.deadline is None:
            lines.append(f"⚠ {t.clause} {t.label_zh}：原文未规定期限，按评估日数据考核")
    return "\n".join(lines)
