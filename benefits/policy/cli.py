"""``benefits compare``: baseline against a reform over a caseload (政策测算)."""
from __future__ import annotations

import click

from ..caseload import CaseloadError, LayoutError, encoding_note
from ..cliutil import EXIT_NO_RECORDS, EXIT_UNAVAILABLE, Stop, output_file, refused
from ..distributed import ClusterError, scheduler_option
from ..engine import RulebookError, load_rulebook
from . import apply_reform, compare as run_compare, load_reform
from .report import render
from .workbook import write_comparison


@click.command()
@click.argument("caseload_file", metavar="CASELOAD", type=click.Path())
@click.option("--reform", "reform_file", type=click.Path(), required=True,
              help="改革方案 FILE.yaml（见 reforms/），或整个规则目录")
@click.option("--year", type=click.IntRange(2012, 2100), required=True, help="预算年度，如 2013")
@click.option("--out", type=click.Path(dir_okay=False), required=True, callback=output_file,
              help="输出工作簿 FILE.xlsx")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="现行规则目录（默认项目内 rules/）")
@click.option("--examples", type=click.IntRange(0, 20), default=3, show_default=True,
              help="每种变化举几人为例（durable_rules 给出两种规则下的全部理由）")
@click.option("--scheduler", callback=scheduler_option, default=None,
              help="在 Dask 集群上按分区计算：tcp://主机:8786，或 local:N（本机 N 个工作进程）；台账须为分区文件夹")
@click.option("--quiet", is_flag=True, help="不显示分区进度条（--scheduler 时）")
def compare(caseload_file, reform_file, year, out, rules_dir, examples, scheduler, quiet):
    """Compare the current rules with a reform over a caseload (a file, or a folder of Parquet partitions), into an XLSX workbook."""
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("输出文件应以 .xlsx 结尾", param_hint="--out")
    try:
        baseline = load_rulebook(rules_dir)
        # a reform that cannot be used stops here, before the caseload is read
        reformed = apply_reform(baseline, load_reform(reform_file))
    except RulebookError as exc:
        raise click.ClickException(f"改革方案或规则文件错误：{exc}") from None
    try:
        result = run_compare(caseload_file, baseline, reformed, year, examples=examples, scheduler=scheduler,
                             progress_bar=not quiet)
    except (CaseloadError, LayoutError) as exc:
        raise refused(exc) from None
    except RulebookError as exc:       # a worker that holds another rulebook version
        raise click.ClickException(f"改革方案或规则文件错误：{exc}") from None
    except ClusterError as exc:
        raise Stop(f"错误：{exc}，未写出工作簿", EXIT_UNAVAILABLE) from None
    if not result.counts["total"]:
        raise Stop(f"没有记录：台账 {caseload_file} 中没有申请人记录，未写出工作簿", EXIT_NO_RECORDS)
    note = encoding_note(caseload_file)
    if note:
        click.echo(note, err=True)
    write_comparison(result, out)
    click.echo(render(result))
    click.echo("")
    click.echo(f"工作簿：{out}")
