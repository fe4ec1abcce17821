"""``benefits audit`` (名册核对) and ``benefits generate --roll`` (a generated
roll with planted errors beside the generated caseload)."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from tqdm import tqdm

from ..caseload import CaseloadError, LayoutError
from ..caseload.cli import generate as generate_caseload
from ..cliutil import EXIT_NO_RECORDS, EXIT_REJECTED, EXIT_UNAVAILABLE, Stop, output_file, parse_date
from ..distributed import ClusterError, scheduler_option
from ..engine.identity import CURRENT_COUNTIES, county_name
from ..engine.rulebook import RulebookError, load_rulebook
from ..tables import grid, visible
from .api import caseload_frame, run_audit
from .findings import KINDS
from .mapping import load_names
from .planted import planted_roll, write_planted, write_roll
from .workbook import findings_csv, write_audit_workbook

_SHOWN_REJECTS = 10


@click.command()
@click.argument("caseload_file", metavar="CASELOAD", type=click.Path())
@click.option("--roll", "roll_file", type=click.Path(dir_okay=False), required=True,
              help="名册：.csv、.xlsx 或 .parquet（身份证号、救助项目、月发放金额、起始日期）")
@click.option("--as-of", callback=parse_date, required=True, help="核对日 YYYY-MM-DD")
@click.option("--out", type=click.Path(dir_okay=False), callback=output_file, default="audit.xlsx",
              show_default=True, help="输出工作簿 FILE.xlsx（图表另存为同名 .png）")
@click.option("--county", type=click.Choice(list(CURRENT_COUNTIES)), default=None, help="只核对这个县区（代码）")
@click.option("--full-ids", is_flag=True, help="工作簿中显示完整身份证号（默认隐去中间8位）")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="规则目录（默认项目内 rules/）")
@click.option("--names", "names_file", type=click.Path(dir_okay=False), help="项目名称对照文件（默认内置）")
@click.option("--quiet", is_flag=True, help="不显示进度")
@click.option("--scheduler", callback=scheduler_option, default=None,
              help="在 Dask 集群上按分区核对：tcp://主机:8786，或 local:N（本机 N 个工作进程）")
def audit(caseload_file, roll_file, as_of, out, county, full_ids, rules_dir, names_file, quiet, scheduler):
    """Check a county's roll (名册) against the rules on a day: 漏保, 错保, 差额, 待核, 重复发放."""
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("输出文件应以 .xlsx 结尾", param_hint="--out")
    bar = tqdm(total=3, unit="步", file=sys.stderr, disable=quiet, dynamic_ncols=True)

    def stage(name, done, total):
        bar.set_description(f"{name} {done}/{total}" if total > 1 else name)
        if done == total:
            bar.update(1)
    try:
        with bar:
            book = load_rulebook(rules_dir)
            names = load_names(book, names_file)
            result = run_audit(caseload_file, roll_file, as_of, rulebook=book, county=county, names=names,
                               on_stage=stage, scheduler=scheduler)
    except RulebookError as exc:          # the names file's MappingError too
        raise click.ClickException(f"规则或项目名称文件错误：{exc}") from None
    except (CaseloadError, LayoutError) as exc:
        raise click.ClickException(str(exc)) from None
    except ClusterError as exc:
        raise Stop(f"错误：{exc}，未写出工作簿", EXIT_UNAVAILABLE) from None
    if not result.counts["caseload_rows"]:
        raise Stop(f"没有记录：台账 {caseload_file} 中没有记录，未写出工作簿", EXIT_NO_RECORDS)
    if not result.counts["roll_rows"]:
        raise Stop(f"没有记录：名册 {roll_file} 中没有记录，未写出工作簿", EXIT_NO_RECORDS)
    png = out.with_suffix(".png")
    from .chart import audit_chart        # matplotlib: only when a chart is drawn, not for --help
    chinese = audit_chart(result, png)
    write_audit_workbook(result, out, full_ids=full_ids, chart_png=str(png))
    listing = out.with_suffix(".findings.csv")
    findings_csv(result, listing, full_ids=full_ids)
    click.echo(render(result))
    click.echo(f"\n工作簿：{out}")
    click.echo(f"全部发现（CSV）：{listing}")
    click.echo(f"图表：{png}" + ("" if chinese else "（未找到中文字体，图中用英文标注）"))
    if result.roll_rejects or result.rejects:
        sys.exit(EXIT_REJECTED)


def render(result) -> str:
    """The terminal summary: per kind, counts and yuan; then rejects."""
    c = result.counts
    head = [f"名册核对（应保尽保、按标施保） 核对日 {result.as_of}  规则版本 {result.rulebook_version}"
            + (f"  县区 {county_name(result.county, result.as_of)}" if result.county else ""),
            f"台账 {c['caseload_rows']:,} 行，核对 {c['persons']:,} 人；名册 {c['roll_rows']:,} 行，"
            f"拒绝 {c['roll_rejected_rows']:,} 行", ""]
    totals = {k: [0, 0, 0] for k in KINDS}
    for _, _, kind, count, month, year in result.summary.iter_rows():
        totals[kind][0] += count
        totals[kind][1] += month
        totals[kind][2] += year
    rows = [[k, f"{t[0]:,}", f"{t[1] / 100:,.2f}", f"{t[2] / 100:,.2f}"] for k, t in totals.items()]
    lines = head + [grid(["发现", "人（户）次", "元/月", "元/年"], rows)]
    lines.append("（差额为实发−应发，负数为少发；漏保为应发，其余为名册上的实发金额）")
    shown = result.roll_rejects[:_SHOWN_REJECTS]
    if shown:
        lines.append(f"\n名册被拒绝的行（前{len(shown)}条，全部见工作簿“名册拒绝”表）：")
        lines += [f"  第{r['row']}行 {visible(r['field'])}：{visible(r['message'])}" for r in shown]
    if result.rejects:
        lines.append(f"\n台账被拒绝 {len({r['row'] for r in result.rejects}):,} 行（未核对），如：")
        lines += [f"  第{r['row']}行 {visible(r['field'])}：{visible(r['message'])}" for r in result.rejects[:_SHOWN_REJECTS]]
    return "\n".join(lines)


def _write_roll(ctx, param, value):
    return None if value is None else output_file(ctx, param, value)


@click.pass_context
def _generate(ctx, roll, roll_as_of, **options):
    ctx.invoke(generate_caseload, **options)
    if roll is None:
        return
    if Path(roll).suffix.lower() not in (".csv", ".xlsx", ".parquet"):
        raise click.BadParameter("名册应为 .csv、.xlsx 或 .parquet", param_hint="--roll")
    as_of = roll_as_of or dt.date(options["year"], 7, 1)
    try:
        frame, _, _ = caseload_frame(options["out"], None)
    except (CaseloadError, LayoutError) as exc:
        raise click.ClickException(str(exc)) from None
    book = load_rulebook()
    rows, planted = planted_roll(frame, book, load_names(book), as_of, seed=options["seed"])
    write_roll(rows, roll)
    sidecar = Path(roll).with_suffix(".planted.json")
    write_planted(planted, as_of, sidecar)
    click.echo(f"已生成名册 {len(rows)} 行（核对日 {as_of}，植入错误 {len(planted)} 处，见 {sidecar}）：{roll}",
               err=True)


generate = click.Command(
    "generate", callback=_generate, help=generate_caseload.help, params=[
        *generate_caseload.params,
        click.Option(["--roll"], type=click.Path(dir_okay=False), callback=_write_roll, default=None,
                     help="另写出与台账对应的名册（.csv/.xlsx/.parquet），植入已知错误，清单另存为 .planted.json"),
        click.Option(["--roll-as-of"], callback=parse_date, default=None,
                     help="名册的核对日 YYYY-MM-DD（默认 --year 的7月1日）")])
