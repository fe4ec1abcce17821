"""``benefits recheck``: the 动态管理 re-check list of a caseload (动态复核清单)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from ..caseload import CaseloadError, LayoutError
from ..cliutil import EXIT_NO_INPUT, EXIT_NO_RECORDS, Stop, output_file, parse_date
from ..engine import RulebookError, load_rulebook
from .recheck import MAX_MONTHS, RecheckError, check_county, render, run_recheck, write_recheck_workbook


def _months(ctx, param, value):
    """Option callback: a whole number of months, 1 to MAX_MONTHS, with a Chinese message."""
    if value is None:
        return None
    try:
        months = int(value)
    except ValueError:
        raise click.BadParameter(f"月数应为 1 到 {MAX_MONTHS} 之间的整数，实际为 {value!r}") from None
    if not 1 <= months <= MAX_MONTHS:
        raise click.BadParameter(f"月数应为 1 到 {MAX_MONTHS} 之间的整数，实际为 {value!r}")
    return months


def _county(ctx, param, value):
    try:
        return check_county(value)
    except RecheckError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.argument("caseload_file", metavar="CASELOAD", required=False)
@click.option("--as-of", "as_of", callback=parse_date, help="核对日 YYYY-MM-DD（必填）")
@click.option("--months", callback=_months, help=f"向后看的月数（1–{MAX_MONTHS}，必填）")
@click.option("--out", type=click.Path(dir_okay=False), callback=lambda c, p, v: v and output_file(c, p, v),
              help="输出工作簿 FILE.xlsx（汇总、动态复核、参数与假设、拒绝记录）")
@click.option("--county", callback=_county, help="只列这个县区（县区代码，如 411202）")
@click.option("--full-ids", is_flag=True, help="工作簿中显示完整身份证号（默认隐去中间8位）")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="规则目录（默认项目内 rules/）")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl", "parquet"]), default=None,
              help="台账格式（默认按文件后缀判断）")
@click.option("--quiet", is_flag=True, help="不显示进度条")
def recheck(caseload_file, as_of, months, out, county, full_ids, rules_dir, fmt, quiet):
    """List who will change status, amount or payer in the next N months (动态复核清单)."""
    if caseload_file is None:
        raise click.UsageError("请给出台账文件 CASELOAD（CSV、XLSX、Parquet 或 JSON Lines）")
    if as_of is None:
        raise click.BadParameter("请用 --as-of YYYY-MM-DD 给出核对日", param_hint="--as-of")
    if months is None:
        raise click.BadParameter(f"请用 --months N 给出向后看的月数（1–{MAX_MONTHS}）", param_hint="--months")
    if out is not None and out.suffix.lower() != ".xlsx":
        raise click.BadParameter("输出文件应以 .xlsx 结尾", param_hint="--out")
    if not Path(caseload_file).is_file():
        raise Stop(f"找不到台账文件：{caseload_file}", EXIT_NO_INPUT)
    try:
        rulebook = load_rulebook(rules_dir)
    except RulebookError as exc:
        raise click.ClickException(f"规则文件错误：{exc}") from None
    with tqdm(unit="人", desc="动态复核", file=sys.stderr, disable=quiet, dynamic_ncols=True) as bar:
        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()
        try:
            run = run_recheck(caseload_file, as_of, months, rulebook, county, fmt, on_progress=progress)
        except RecheckError as exc:
            raise click.BadParameter(str(exc), param_hint="--as-of") from None
        except (CaseloadError, LayoutError) as exc:
            raise click.ClickException(str(exc)) from None
    if not run.rows:
        raise Stop(f"没有记录：台账 {caseload_file} 中没有申请人记录", EXIT_NO_RECORDS)
    if out is not None:
        write_recheck_workbook(run, out, full_ids)
    click.echo(render(run))
    if out is not None:
        click.echo(f"\n工作簿：{out}" + ("（含完整身份证号）" if full_ids else "（身份证号已隐去中间8位）"))
