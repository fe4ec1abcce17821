"""``benefits estimate``: the finance office's command (财政测算)."""
from __future__ import annotations

import json
import tempfile

import click

from ..caseload import CaseloadError, LayoutError, atomic_outputs, caseload_encoding, encoding_zh
from ..cliutil import EXIT_NO_RECORDS, EXIT_UNAVAILABLE, Stop, output_file, refused
from ..distributed import ClusterError, scheduler_option
from ..engine import BACK_ENDS, RulebookError
from .estimate import estimate as run_estimate
from .table import render
from .workbook import write_workbook

_SHOWN_REJECTS = 10


@click.command()
@click.argument("caseload_file", metavar="CASELOAD", type=click.Path())
@click.option("--year", type=click.IntRange(2012, 2100), required=True, help="预算年度，如 2013")
@click.option("--out", type=click.Path(dir_okay=False), required=True, callback=output_file,
              help="输出工作簿 FILE.xlsx（图表另存为同名 .png）")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="进程数（默认为CPU核数）")
@click.option("--rules", "rules_dir", type=click.Path(file_okay=False), help="规则目录（默认项目内 rules/）")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl", "parquet"]), default=None,
              help="台账格式（默认按文件后缀判断）")
@click.option("--quiet", is_flag=True, help="不显示进度条")
@click.option("--engine", type=click.Choice(BACK_ENDS), default="columnar", show_default=True,
              help="columnar：列式引擎（快）；durable：逐人 durable_rules 引擎（参照）")
@click.option("--scheduler", callback=scheduler_option, default=None,
              help="在 Dask 集群上按分区计算：tcp://主机:8786，或 local:N（本机 N 个工作进程）；台账须为分区文件夹")
def estimate(caseload_file, year, out, workers, rules_dir, fmt, quiet, engine, scheduler):
    """Estimate a caseload's yearly cost (CSV, XLSX, JSON Lines, Parquet, or a folder of Parquet partitions) into an XLSX workbook."""
    if scheduler is not None and engine != "columnar":
        raise click.BadParameter("分布式测算只用列式引擎", param_hint="--engine")
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("输出文件应以 .xlsx 结尾", param_hint="--out")
    shown: list[dict] = []
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        def keep(reject):
            try:
                spool.write(json.dumps(reject, ensure_ascii=False) + "\n")
            except OSError as exc:       # the temporary folder is full: say which
                raise OSError(exc.errno, exc.strerror, tempfile.gettempdir()) from None
            if len(shown) < _SHOWN_REJECTS:
                shown.append(reject)
        try:
            result = run_estimate(caseload_file, year, rules_dir=rules_dir, workers=workers, fmt=fmt,
                                  progress=not quiet, on_reject=keep, engine=engine, scheduler=scheduler)
        except RulebookError as exc:
            raise click.ClickException(f"规则文件错误：{exc}") from None
        except (CaseloadError, LayoutError) as exc:
            raise refused(exc) from None
        except ClusterError as exc:
            raise Stop(f"错误：{exc}，未写出工作簿", EXIT_UNAVAILABLE) from None
        if not result["counts"]["total"]:
            raise Stop(f"没有记录：台账 {caseload_file} 中没有申请人记录，未写出工作簿", EXIT_NO_RECORDS)
        encoding = caseload_encoding(caseload_file)
        if encoding is not None:
            result["encoding_zh"] = encoding_zh(encoding)
            if encoding != "utf-8-sig":
                click.echo(f"台账编码：{encoding_zh(encoding)}", err=True)
        png = out.with_suffix(".png")
        from .chart import county_chart          # matplotlib: only when a chart is drawn, not for --help
        with atomic_outputs(out, png) as (book_part, png_part):     # both files, or neither
            chinese = county_chart(result, png_part)
            spool.seek(0)
            write_workbook(result, book_part, rejects=(json.loads(line) for line in spool), chart_png=str(png_part))
    click.echo(render(dict(result, rejects=shown)))
    click.echo("")
    click.echo(f"工作簿：{out}")
    click.echo(f"图表：{png}" + ("" if chinese else "（未找到中文字体，图中用英文标注）"))

