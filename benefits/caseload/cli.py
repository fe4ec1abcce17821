"""``benefits generate``: a synthetic caseload (模拟台账) for tests, demos and benchmarks."""
from __future__ import annotations

import click

from ..cliutil import output_file
from .partitions import write_partitioned
from .readers import CaseloadError
from .synthetic import SEED, caseload
from .writers import write_caseload


@click.command()
@click.option("--size", type=click.IntRange(1, 100_000_000), default=140_000, show_default=True,
              help="申请人数")
@click.option("--seed", type=int, default=SEED, show_default=True, help="随机种子（相同种子得相同台账）")
@click.option("--bad", type=click.IntRange(0), default=0, show_default=True, help="故意加入的错误记录数")
@click.option("--year", type=click.IntRange(2012, 2100), default=2013, show_default=True,
              help="年龄按此年1月1日计算")
@click.option("--partitions", type=click.IntRange(1, 100_000), default=None,
              help="分区数：写成分区台账文件夹（每区一个 Parquet 文件，按记录顺序分段，另有 manifest.json）")
@click.option("--out", type=click.Path(), required=True, callback=output_file,
              help="输出 .jsonl、.csv 或 .xlsx；给出 --partitions 时为文件夹")
def generate(size, seed, bad, year, partitions, out):
    """Write a synthetic caseload for the six counties (fixed seed, no real people)."""
    if bad > size:
        raise click.BadParameter("错误记录数不能多于申请人数", param_hint="--bad")
    if partitions is None and out.is_dir():
        raise click.BadParameter(f"{out} 是文件夹：写分区台账请给出 --partitions", param_hint="--out")
    records = caseload(size, seed=seed, bad=bad, year=year)
    try:
        if partitions is None:
            count = write_caseload(records, out)
        else:
            about = {"generator": "benefits generate", "seed": seed, "bad": bad, "year": year}
            count = sum(p.rows for p in write_partitioned(records, size, partitions, out, about))
    except CaseloadError as exc:
        raise click.ClickException(str(exc)) from None
    where = f"{out}（{partitions} 个分区）" if partitions else str(out)
    click.echo(f"已生成 {count} 条模拟记录（其中故意错误 {bad} 条）：{where}", err=True)
